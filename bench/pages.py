"""`make bench-pages`: server time of the read pages at 20,000 ideas / 1,000,000 votes.

1. A fresh database `ideas_bench_pages` (DATABASE_URL's server, else a throw-away embedded
   PostgreSQL), migrated and seeded with bench/dashboard.py's `load` (imported, not copied):
   5,000 participants over the 6 sectors, one process with 20,000 published ideas (6
   Handlungsfelder, 40 themes, 200 merged duplicates), 1,000,000 votes (a few ideas with
   thousands, a long tail), 50,000 comments, a frozen shortlist, measures and workshops; the
   collect and vote phases are open. `--reuse` measures again on the last run's data.
2. The real app as `ideas-platform serve` runs it (bench/votes.py's servers: 2 uvicorn workers,
   uvloop + httptools, APP_ENV=production with SECURE_COOKIES=0). wrk (else an asyncio load
   generator in this process) sends GET requests over 16 keep-alive connections for
   `--duration` seconds per page, after a warm-up, once as an anonymous visitor and once as a
   logged-in participant (session cookie of a real login). Each request picks one of the page's
   URLs at random:
   - list: /processes/<slug>/ideas sorted by votes (pages 1-5)
   - list filtered: the same with ?topic=<Handlungsfeld> or ?sector=<sector of the author>
   - list searched: ?q=<a word of the titles> (German full text, sorted by relevance)
   - idea: /ideas/<id> of 50 ideas with 3-20 comments
   - ranking: /processes/<slug>/ranking (most votes; pages 1-3)
   - ranking breadth: the same with ?method=breadth (every idea's votes by sector)
   Printed per page and visitor: requests/s, median and p95 latency (wrk's histogram: the time
   from sending the request to the whole answer, on localhost), non-200 answers, and the CPU of
   the app's workers per request.
3. Then every page once more inside this process, one request at a time (`create_app`, the ASGI
   app called directly, no HTTP): CPU ms per request and the SQL statements it sends.

The verdict: p95 < 30 ms for every page at 16 connections (issue 16).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx

from bench.dashboard import SLUG, STAFF, SqlLog, prepared_database
from bench.database import Embedded, log
from bench.export import SECTOR_WEIGHTS, texts
from bench.loadgen import percentile
from bench.profile_vote import asgi, lifespan
from bench.profile_vote import login as login_in_process
from bench.votes import (
    HOST,
    Servers,
    free_port,
    group_cpu_seconds,
    login_all,
    uvicorn_args,
    wait_ready,
)

BENCH_DB = "ideas_bench_pages"
TARGET_MS = 30.0
FLOOR = "floor:"
PARTICIPANT = next(email for email, _, role, _ in STAFF if role == "participant")

# wrk: a random URL of the page per request, the visitor's cookie, non-200 answers counted.
WRK_SCRIPT = """
local paths, cookie = {}, ""
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  cookie = args[2] or ""
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
bad, kept = 0, 0
function request()
  local headers = {}
  if cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
  if headers["x-page-cache"] == "hit" then kept = kept + 1 end
end
local threads = {}
function setup(thread) threads[#threads + 1] = thread end
function done(summary, latency, requests)
  local non200, hits = 0, 0
  for _, t in ipairs(threads) do
    non200 = non200 + t:get("bad")
    hits = hits + t:get("kept")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d non200=%d "
    .. "socket_errors=%d kept=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, non200,
    e.connect + e.read + e.write + e.timeout, hits))
end
"""


@dataclass
class Page:
    name: str
    paths: list[str]


@dataclass
class Run:
    page: str
    visitor: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    non200: int
    cpu_ms: float | None  # the app workers' CPU per request
    kept: int = 0  # answers from the page cache (core.page_cache)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class InProcess:
    cpu_ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)


# --------------------------------------------------------------------------- the pages


async def pages_of(params: dict[str, Any]) -> list[Page]:
    conn = await asyncpg.connect(**params)
    try:
        process_id = await conn.fetchval("SELECT id FROM processes WHERE slug = $1", SLUG)
        topics = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM topics WHERE process_id = $1 ORDER BY id", process_id
            )
        ]
        ideas = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM ideas WHERE process_id = $1 AND status = 'published' "
                "AND comment_count BETWEEN 3 AND 20 ORDER BY id",
                process_id,
            )
        ]
    finally:
        await conn.close()
    rng = random.Random(16)
    words = rng.sample(texts().words, 12)
    base = f"/processes/{SLUG}"
    filters = [f"topic={t}" for t in topics] + [f"sector={s}" for s in SECTOR_WEIGHTS]
    return [
        Page("list", [f"{base}/ideas"] + [f"{base}/ideas?page={n}" for n in range(2, 6)]),
        Page("list filtered", [f"{base}/ideas?{f}" for f in filters]),
        Page("list searched", [f"{base}/ideas?q={quote(w)}" for w in words]),
        Page("idea", [f"/ideas/{i}" for i in ideas[:: max(1, len(ideas) // 50)][:50]]),
        Page("ranking", [f"{base}/ranking"] + [f"{base}/ranking?page={n}" for n in (2, 3)]),
        Page("ranking breadth", [f"{base}/ranking?method=breadth"]),
        # Not a target: the least a page costs (no query of its own, never kept), the floor
        # under every page a participant gets built for them.
        Page(f"{FLOOR} legal page", ["/legal/impressum", "/legal/datenschutz"]),
    ]


# --------------------------------------------------------------------------- load


def parse_bench_line(output: str) -> dict[str, int]:
    match = re.search(r"^BENCH (.*)$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no BENCH line from the load generator:\n{output[-2000:]}")
    return {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}


def run_wrk(
    port: int, paths_file: Path, cookie: str, script: Path, seconds: float, connections: int
) -> dict[str, int]:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",  # wrk takes whole seconds
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}/",
        "--",
        str(paths_file),
        cookie,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return parse_bench_line(done.stdout + done.stderr)


async def run_python_load(
    port: int, paths: list[str], cookie: str, seconds: float, connections: int
) -> dict[str, int]:
    """The fallback without wrk: keep-alive GETs on asyncio (costs this process CPU)."""
    latencies: list[int] = []
    counts = {"non200": 0, "socket_errors": 0, "kept": 0}
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    started = time.perf_counter()
    deadline = started + seconds

    async def connection() -> None:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            counts["socket_errors"] += 1
            return
        try:
            while time.perf_counter() < deadline:
                path = random.choice(paths)
                begun = time.perf_counter()
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{extra}\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                else:  # chunked
                    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                        await reader.readexactly(size + 2)
                    await reader.readuntil(b"\r\n")
                latencies.append(int((time.perf_counter() - begun) * 1_000_000))
                counts["non200"] += status != 200
                counts["kept"] += b"\r\nx-page-cache: hit" in head.lower()
        except (asyncio.IncompleteReadError, ConnectionError):
            counts["socket_errors"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "duration_us": int((time.perf_counter() - started) * 1_000_000),
        "p50_us": percentile(ordered, 50),
        "p95_us": percentile(ordered, 95),
        **counts,
    }


class VoteWriter:
    """`--writes`: while a page is measured, the participant supports and withdraws support on
    a few ideas, `rate` times a second (htmx votes, as the page's button sends them). Each is a
    write, so each drops every kept page of every worker (core.page_cache)."""

    def __init__(self, port: int, session: tuple[str, str], idea_ids: list[int], rate: float):
        self.base, self.session, self.idea_ids, self.rate = (
            f"http://{HOST}:{port}",
            session,
            idea_ids,
            rate,
        )
        self.writes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> VoteWriter:
        if self.rate > 0:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        cookie, token = self.session
        headers = {"Cookie": cookie, "X-CSRFToken": token, "HX-Request": "true"}
        voted: dict[int, bool] = {}
        due = time.monotonic()
        with httpx.Client(base_url=self.base, headers=headers, timeout=30) as client:
            while not self._stop.is_set():
                idea = random.choice(self.idea_ids)
                action = "unvote" if voted.get(idea) else "vote"
                answer = client.post(f"/ideas/{idea}/{action}")
                now_voted = 'aria-pressed="true"' in answer.text
                self.writes += answer.status_code == 200 and now_voted != voted.get(idea, False)
                voted[idea] = now_voted
                due += 1 / self.rate
                self._stop.wait(max(0.0, due - time.monotonic()))


def drive(
    page: Page,
    visitor: str,
    cookie: str,
    port: int,
    pgid: int,
    work_dir: Path,
    args: argparse.Namespace,
    writer: VoteWriter,
) -> Run:
    paths_file = work_dir / "paths.txt"
    paths_file.write_text("\n".join(page.paths) + "\n")
    script = work_dir / "pages.lua"

    def once(seconds: float) -> dict[str, int]:
        if args.generator == "wrk":
            return run_wrk(port, paths_file, cookie, script, seconds, args.connections)
        return asyncio.run(run_python_load(port, page.paths, cookie, seconds, args.connections))

    once(args.warmup)
    with writer:
        cpu_before = group_cpu_seconds(pgid)
        result = once(args.duration)
        cpu_after = group_cpu_seconds(pgid)
    requests = result["requests"]
    cpu_ms = (
        1000 * (cpu_after - cpu_before) / requests
        if cpu_before is not None and cpu_after is not None and requests
        else None
    )
    return Run(
        page.name,
        visitor,
        requests,
        result["duration_us"] / 1_000_000,
        result["p50_us"] / 1000,
        result["p95_us"] / 1000,
        result["non200"] + result["socket_errors"],
        cpu_ms,
        result.get("kept", 0),
    )


def measure_server(
    url: str, pages: list[Page], args: argparse.Namespace, work_dir: Path
) -> list[Run]:
    servers = Servers(work_dir)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        # Production settings (no template mtime checks), but cookies over plain http.
        "APP_ENV": "production",
        "SECURE_COOKIES": "0",
        "AUTH_RATE_LIMIT_PER_MINUTE": "100000000",
        "MAIL_SENDER_ENABLED": "0",
        "PAGE_CACHE_HEADER": "1",  # counts the kept answers
    }
    if args.page_cache_seconds is not None:
        env["PAGE_CACHE_SECONDS"] = str(args.page_cache_seconds)
    (work_dir / "pages.lua").write_text(WRK_SCRIPT)
    servers.start(
        "app",
        uvicorn_args("ideas_platform.app:app_for_uvicorn", port, args.workers, factory=True),
        env,
    )
    runs: list[Run] = []
    try:
        wait_ready(servers, "app", port, "/login")
        session = asyncio.run(login_all(f"http://{HOST}:{port}", [PARTICIPANT], 1))[0]
        cookie = session[0]
        logged_in = httpx.get(
            f"http://{HOST}:{port}/processes/{SLUG}/ideas", headers={"Cookie": cookie}
        )
        if 'action="/logout"' not in logged_in.text:
            raise RuntimeError("the participant's session does not show on the idea list")
        pgid = servers.procs["app"].pid
        vote_on = [
            int(path.rsplit("/", 1)[1])
            for page in pages
            if page.name == "idea"
            for path in page.paths
        ][:5]
        for page in pages:
            for visitor, visitor_cookie in (("anonymous", ""), ("participant", cookie)):
                writer = VoteWriter(port, session, vote_on, args.writes)
                run = drive(page, visitor, visitor_cookie, port, pgid, work_dir, args, writer)
                log(
                    f"{page.name} ({visitor}): {run.rate:.0f} req/s, median {run.p50_ms:.1f} ms, "
                    f"p95 {run.p95_ms:.1f} ms"
                    + (
                        f", {writer.writes / args.duration:.1f} votes/s written"
                        if args.writes
                        else ""
                    )
                )
                runs.append(run)
    finally:
        servers.stop_all()
    return runs


# --------------------------------------------------------------------------- in-process


async def measure_in_process(
    url: str, pages: list[Page], requests: int
) -> dict[tuple[str, str], InProcess]:
    """Every page one request at a time, the ASGI app called directly: CPU and SQL."""
    from ideas_platform.app import create_app
    from ideas_platform.core.config import Settings

    app = create_app(
        Settings(
            database_url=url,
            environment="production",
            secure_cookies=False,
            secret_key="bench-pages-" + "x" * 40,
            auth_rate_limit_per_minute=10**8,
            mail_sender_enabled=False,
            page_cache_seconds=0,  # what building each page costs
        )
    )
    sql = SqlLog()
    sql.install()
    found: dict[tuple[str, str], InProcess] = {}
    async with lifespan(app):
        cookie, _ = await login_in_process(app, PARTICIPANT)
        for page in pages:
            for visitor, headers in (
                ("anonymous", []),
                ("participant", [(b"cookie", cookie.encode())]),
            ):
                seen = found.setdefault((page.name, visitor), InProcess())
                for n in range(requests + 3):
                    path = page.paths[n % len(page.paths)]
                    sql.take()
                    sql.active = True
                    started = time.process_time()
                    status, _, _ = await asgi(app, "GET", path, headers)
                    cpu = 1000 * (time.process_time() - started)
                    sql.active = False
                    statements = sql.take()
                    if status != 200:
                        raise RuntimeError(f"GET {path} ({visitor}) answered {status}")
                    if n >= 3:  # the first requests warm up the caches
                        seen.cpu_ms.append(cpu)
                        seen.statements.append(len(statements))
                        seen.sql_ms.append(sum(s.ms for s in statements))
    return found


# --------------------------------------------------------------------------- report


def report(
    runs: list[Run], local: dict[tuple[str, str], InProcess], counts: Any, generator: str
) -> bool:
    print(
        f"\nData: {counts['ideas']:,} published ideas, {counts['votes']:,} votes, "
        f"{counts['users']:,} users, {counts['comments']:,} comments (process '{SLUG}')"
    )
    print(
        f"Load: {generator}, 16 keep-alive connections unless --connections; latency = request "
        "sent to answer read (localhost). In-process: one request at a time, CPU of this "
        "process, SQL statements sent, page cache off. kept: answers from the page cache.\n"
    )
    header = (
        f"{'page':17} {'visitor':12} {'req/s':>7} {'median_ms':>9} {'p95_ms':>8} "
        f"{'non200':>6} {'cpu/req':>8} {'kept':>5} | "
        f"{'1-at-a-time cpu':>15} {'statements':>10} {'sql_ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        alone = local.get((run.page, run.visitor))
        tail = (
            f"{statistics.median(alone.cpu_ms):12.1f} ms "
            f"{statistics.median(alone.statements):10.0f} {statistics.median(alone.sql_ms):7.1f}"
            if alone and alone.cpu_ms
            else f"{'-':>15} {'-':>10} {'-':>7}"
        )
        cpu = f"{run.cpu_ms:5.1f} ms" if run.cpu_ms is not None else "-"
        kept = f"{100 * run.kept / run.requests:4.0f}%" if run.requests else "-"
        print(
            f"{run.page:17} {run.visitor:12} {run.rate:7.0f} {run.p50_ms:9.1f} "
            f"{run.p95_ms:8.1f} {run.non200:6d} {cpu:>8} {kept:>5} | {tail}"
        )
    print("\nSummary")
    ok = any(not run.page.startswith(FLOOR) for run in runs)
    for run in runs:
        if run.page.startswith(FLOOR):
            print(f"{run.page} ({run.visitor}): p95_ms: {run.p95_ms:.1f} (no target)")
            continue
        met = run.requests > 0 and run.p95_ms < TARGET_MS and run.non200 == 0
        ok &= met
        print(
            f"{run.page} ({run.visitor}): p95_ms: {run.p95_ms:.1f} median_ms: {run.p50_ms:.1f} "
            f"(target < {TARGET_MS:.0f} ms): {'met' if met else 'NOT met'}"
        )
    print(
        f"target p95 < {TARGET_MS:.0f} ms at {counts['ideas']:,} ideas / {counts['votes']:,} "
        f"votes: {'met' if ok else 'NOT met'}"
    )
    return ok


async def data_counts(params: dict[str, Any]) -> Any:
    conn = await asyncpg.connect(**params)
    try:
        return await conn.fetchrow(
            "SELECT (SELECT count(*) FROM ideas WHERE status = 'published') AS ideas, "
            "(SELECT count(*) FROM votes) AS votes, (SELECT count(*) FROM users) AS users, "
            "(SELECT count(*) FROM comments) AS comments"
        )
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--ideas", type=int, default=20_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--measures", type=int, default=500)
    parser.add_argument("--updates", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=36)
    parser.add_argument("--duration", type=float, default=10, help="seconds per page and visitor")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds before each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--in-process", type=int, default=20, help="requests per page one at a time (0: none)"
    )
    parser.add_argument("--only", help="measure only the pages whose name contains this")
    parser.add_argument(
        "--writes",
        type=float,
        default=0,
        help="votes per second written meanwhile (each drops the kept pages; default 0)",
    )
    parser.add_argument(
        "--page-cache-seconds",
        type=float,
        help="PAGE_CACHE_SECONDS of the app (default: the app's; 0: every page built anew)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure again on the last run's database"
    )
    args = parser.parse_args()
    args.generator = "wrk" if shutil.which("wrk") else "python"

    embedded: list[Embedded] = []
    work_dir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    try:
        prepared = prepared_database(BENCH_DB, args, embedded)
        if prepared is None:
            return 1
        url, params = prepared
        pages = [p for p in asyncio.run(pages_of(params)) if not args.only or args.only in p.name]
        counts = asyncio.run(data_counts(params))
        if args.generator == "python":
            log("wrk not found: the asyncio load generator runs in this process (more CPU)")
        log(
            f"{len(pages)} pages x 2 visitors, {args.warmup:g} s warm-up + {args.duration:g} s "
            f"each, {args.connections} connections, {args.workers} uvicorn workers"
        )
        runs = measure_server(url, pages, args, work_dir)
        local = (
            asyncio.run(measure_in_process(url, pages, args.in_process)) if args.in_process else {}
        )
        return 0 if report(runs, local, counts, args.generator) else 1
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
        for server in embedded:
            server.remove()


if __name__ == "__main__":
    sys.exit(main())
