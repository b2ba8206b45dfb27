"""`make bench-mail`: 10,000 notifications for 2,000 people through the outbox to a local SMTP
server, with 2 app workers, while the vote endpoint is under load.

1. A fresh database `ideas_mail` (on the server of DATABASE_URL, else on a throw-away embedded
   PostgreSQL), migrated, seeded as in bench-votes: one process "bench" (collect and vote open,
   no budget), 1,000 ideas, 2,000 users with an address and the current consent. The phases
   began 3 days ago, so that the sender does not announce them (it announces phases that began
   in the last 2 days, to all participants).
2. An SMTP server (aiosmtpd) in this process on 127.0.0.1 records every message's Message-ID,
   recipient and arrival time.
3. The real app, 2 uvicorn workers; each runs the mail sender (SMTP_HOST = that server,
   SMTP_STARTTLS=false, MAIL_POLL_SECONDS=0.5, NOTIFICATION_BUNDLE_SECONDS=5 instead of 60 so
   that the run is short). 200 of the users log in for the vote load (argon2: ~7 a second).
   `--sender separate` instead runs the sender in one process of its own under `nice`, and
   the workers without it (MAIL_SENDER_ENABLED=0).
4. Phase A, the sender idle (nothing pending): `POST /ideas/{id}/vote` as htmx sends it (the
   load of bench-votes: wrk with bench/vote.lua, else bench/loadgen.py in a child process),
   16 connections, 30 s.
5. Phase B, the same load for the same time. At its start this process writes 10,000
   notifications with `notifications.service.notify()` (50 transactions of 200 people over
   3 s: 5 for each person). The workers bundle each person's notifications (5 s after the
   first), write one outbox mail per person and deliver it over SMTP.
6. Wait until nothing is pending and every outbox mail is sent; then check exactly once:
   every notification mailed with a mail_id, that mail addressed to its person, every outbox
   row sent via SMTP, and the SMTP server got each Message-ID exactly once and nothing else.
   Also reported, not part of the check: people who got more than one mail (the bundling).
   Phase B's timeline by 5 s (notifications, outbox rows, SMTP receipts, stored votes/s) shows
   when the sender worked; `ratio_while_sending` compares the stored votes/s of A and B over
   the seconds when it did.
7. Phase A' = phase A once more (the sender idle again), so that a burst of other work on the
   shared machine during one baseline shows; `vote_rps_without` is the mean of A and A'.

The last lines are `delivered_once`, `notifications`, `mails`, `mails_per_s`,
`vote_rps_without`, `vote_rps_with` and `ratio` (target >= 0.9). Exit status 1 if exactly once
fails, the vote load had errors, or `ideas-platform check` fails.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
import os
import re
import resource
import secrets
import shutil
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench.database import Embedded, log, pg_params, recreate_database, server_url
from bench.loadgen import percentile
from bench.votes import (
    Load,
    Servers,
    drive,
    free_port,
    group_cpu_seconds,
    login_all,
    reset_votes,
    run_benchmark,
    run_check,
    sanity_vote,
    seed,
    uvicorn_args,
    wait_ready,
)
from bench.workshop import parent_pid, postgres_cpu

MAIL_DB = "ideas_mail"
HOST = "127.0.0.1"
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(\S[^\r\n]*)", re.IGNORECASE | re.MULTILINE)


# --- the SMTP server --------------------------------------------------------------------------


@dataclass
class Receipt:
    at: float  # time.time() when the DATA was complete
    message_id: str
    recipients: tuple[str, ...]


@dataclass
class MailSink:
    """aiosmtpd handler: accepts everything, records what came (its own thread and loop)."""

    receipts: list[Receipt] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content or b""
        head = content.split(b"\r\n\r\n", 1)[0]
        match = _MESSAGE_ID.search(head)
        message_id = match.group(1).decode("ascii", "replace").strip() if match else ""
        receipt = Receipt(time.time(), message_id, tuple(envelope.rcpt_tos))
        with self.lock:
            self.receipts.append(receipt)
        return "250 Message accepted for delivery"

    def snapshot(self) -> list[Receipt]:
        with self.lock:
            return list(self.receipts)


# --- database ---------------------------------------------------------------------------------


async def prepare(params: dict[str, Any], consent_version: str) -> None:
    """The seed of bench-votes, plus: phases that began 3 days ago (not announced by the
    sender), and every user with the current consent (no consent page after the login)."""
    conn = await asyncpg.connect(**params)
    try:
        await conn.execute(
            "UPDATE process_phases SET starts_at = now() - interval '3 days' "
            "WHERE starts_at > now() - interval '3 days'"
        )
        await conn.execute(
            "UPDATE users SET consent_version = $1, consent_at = now()", consent_version
        )
    finally:
        await conn.close()


async def mail_figures(params: dict[str, Any]) -> dict[str, int]:
    conn = await asyncpg.connect(**params)
    try:
        row = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM notifications) AS notifications,
                   (SELECT count(*) FROM notifications WHERE mail_state = 'pending') AS pending,
                   (SELECT count(*) FROM outbox_mails) AS mails,
                   (SELECT count(*) FROM outbox_mails
                     WHERE sent_at IS NULL AND failed_at IS NULL) AS unsent,
                   (SELECT count(*) FROM outbox_mails WHERE failed_at IS NOT NULL) AS failed
            """
        )
        return dict(row)
    finally:
        await conn.close()


async def vote_times(params: dict[str, Any]) -> list[float]:
    """created_at (epoch seconds) of every stored vote: the stored votes' timeline."""
    conn = await asyncpg.connect(**params)
    try:
        rows = await conn.fetch("SELECT extract(epoch FROM created_at)::float8 AS t FROM votes")
        return sorted(float(r["t"]) for r in rows)
    finally:
        await conn.close()


async def write_notifications(
    url: str,
    user_ids: list[int],
    ideas: list[tuple[int, str]],
    process_id: int,
    per_person: int,
    spread: float,
) -> tuple[int, float, float]:
    """`per_person` notifications for every user: one transaction per idea, each to one group
    of users, paced evenly over `spread` seconds. Answers (written, first, last) (time.time())."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from ideas_platform.notifications.models import NotificationKind
    from ideas_platform.notifications.service import notify

    groups = len(ideas) // per_person
    size = -(-len(user_ids) // groups)
    engine = create_async_engine(url, pool_size=2)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    written = 0
    first = last = 0.0
    started = time.perf_counter()
    try:
        for k, (idea_id, title) in enumerate(ideas):
            delay = started + k * spread / len(ideas) - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            group = k % groups
            people = user_ids[group * size : (group + 1) * size]
            async with factory() as session, session.begin():
                written += await notify(
                    session,
                    people,
                    kind=NotificationKind.COMMENT,
                    event="new",
                    idea_id=idea_id,
                    process_id=process_id,
                    data={
                        "actor": "Bench Kommentar",
                        "idea": title,
                        "excerpt": f"Kommentar {k + 1} zu dieser Idee, für den Lasttest.",
                    },
                )
            last = time.time()
            first = first or last
    finally:
        await engine.dispose()
    return written, first, last


@dataclass
class Check:
    ok: bool
    lines: list[str]
    mails: int
    notifications: int


async def verify(params: dict[str, Any], receipts: list[Receipt], expected: int) -> Check:
    conn = await asyncpg.connect(**params)
    lines: list[str] = []
    try:
        n = await conn.fetchrow(
            """
            SELECT count(*) AS total,
                   count(*) FILTER (WHERE mail_state = 'mailed' AND mail_id IS NOT NULL) AS mailed,
                   count(*) FILTER (WHERE mail_state = 'pending') AS pending,
                   count(*) FILTER (WHERE mail_state = 'none') AS no_mail,
                   count(DISTINCT user_id) AS people
            FROM notifications
            """
        )
        # every notification's mail goes to its own person
        wrong_person = await conn.fetchval(
            """
            SELECT count(*) FROM notifications n JOIN outbox_mails m ON m.id = n.mail_id
            WHERE m.to_user_id IS DISTINCT FROM n.user_id
            """
        )
        outbox = await conn.fetch(
            "SELECT id, message_id, to_address, kind, sent_at IS NOT NULL AS sent, "
            "delivered_via, failed_at IS NOT NULL AS failed, attempts, "
            "(SELECT count(*) FROM notifications n WHERE n.mail_id = m.id) AS carried "
            "FROM outbox_mails m"
        )
    finally:
        await conn.close()
    total, mailed = int(n["total"]), int(n["mailed"])
    counts = Counter(r.message_id for r in receipts)
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    by_id = {row["message_id"]: row for row in outbox}
    unknown = [mid for mid in counts if mid not in by_id]
    missing = [mid for mid in by_id if mid not in counts]
    wrong_rcpt = sum(
        1
        for r in receipts
        if r.message_id in by_id and r.recipients != (by_id[r.message_id]["to_address"],)
    )
    not_smtp = sum(1 for row in outbox if not row["sent"] or row["delivered_via"] != "smtp")
    failed = sum(1 for row in outbox if row["failed"])
    empty = sum(1 for row in outbox if row["carried"] == 0)
    retried = sum(1 for row in outbox if row["attempts"] != 1)
    kinds = Counter(row["kind"] for row in outbox)
    carried = sorted(int(row["carried"]) for row in outbox)

    checks = [
        (f"notifications written: {total} (expected {expected})", total == expected),
        (
            f"notifications mailed with a mail_id: {mailed} of {total} "
            f"(pending {n['pending']}, no mail {n['no_mail']})",
            mailed == total,
        ),
        (f"notifications whose mail goes to another person: {wrong_person}", wrong_person == 0),
        (
            f"outbox mails sent via smtp: {len(outbox) - not_smtp} of {len(outbox)} "
            f"(failed {failed}, attempts != 1: {retried})",
            not_smtp == 0 and failed == 0,
        ),
        (f"outbox mails carrying no notification: {empty}", empty == 0),
        (
            f"SMTP messages received: {len(receipts)}, distinct Message-IDs {len(counts)}, "
            f"outbox rows {len(outbox)}",
            len(receipts) == len(outbox) == len(counts),
        ),
        (f"Message-IDs received more than once: {duplicates}", duplicates == 0),
        (
            f"outbox mails never received: {len(missing)}; received but not in the outbox: "
            f"{len(unknown)}",
            not missing and not unknown,
        ),
        (f"received with another recipient than the outbox row's: {wrong_rcpt}", wrong_rcpt == 0),
    ]
    for text, ok in checks:
        lines.append(f"  [{'ok' if ok else 'FAIL'}] {text}")
    lines.append(f"  outbox kinds: {dict(kinds)}; people notified: {n['people']}")
    if carried:
        lines.append(
            f"  notifications per mail: min {carried[0]}, median {carried[len(carried) // 2]}, "
            f"max {carried[-1]}"
        )
    return Check(all(ok for _, ok in checks), lines, len(outbox), total)


async def outbox_created(params: dict[str, Any]) -> dict[str, float]:
    conn = await asyncpg.connect(**params)
    try:
        rows = await conn.fetch(
            "SELECT message_id, extract(epoch FROM created_at)::float8 AS t FROM outbox_mails"
        )
        return {r["message_id"]: float(r["t"]) for r in rows}
    finally:
        await conn.close()


async def notification_times(params: dict[str, Any]) -> list[float]:
    conn = await asyncpg.connect(**params)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM created_at)::float8 AS t FROM notifications"
        )
        return sorted(float(r["t"]) for r in rows)
    finally:
        await conn.close()


async def split_bundles(params: dict[str, Any]) -> list[str]:
    """People who got more than one mail: when each was written, and how many it carried."""
    conn = await asyncpg.connect(**params)
    try:
        rows = await conn.fetch(
            """
            SELECT m.to_user_id AS uid,
                   array_agg(extract(epoch FROM m.created_at)::float8 ORDER BY m.id) AS at,
                   array_agg((SELECT count(*) FROM notifications n WHERE n.mail_id = m.id)
                             ORDER BY m.id) AS carried,
                   (SELECT extract(epoch FROM max(n.created_at) - min(n.created_at))::float8
                      FROM notifications n WHERE n.user_id = m.to_user_id) AS spread
            FROM outbox_mails m GROUP BY m.to_user_id HAVING count(*) > 1 ORDER BY m.to_user_id
            """
        )
    finally:
        await conn.close()
    return [
        f"user {r['uid']}: {len(r['at'])} mails carrying "
        f"{' + '.join(str(c) for c in r['carried'])}, written "
        f"{(max(r['at']) - min(r['at'])) * 1000:.0f} ms apart; their notifications were "
        f"written within {r['spread']:.1f} s"
        for r in rows
    ]


# --- figures ----------------------------------------------------------------------------------


def machine_busy() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot (Linux /proc/stat)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle) / tick, sum(fields) / tick


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def drive_counted(*args: Any) -> tuple[dict[str, int], float]:
    """bench.votes.drive in the generator's process; also answers that process's CPU seconds
    (with wrk's, when wrk runs)."""
    before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    stats = drive(*args)
    after = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(
        a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime
        for a, b in zip(after, before, strict=True)
    )
    return stats, cpu


@dataclass
class Phase:
    name: str
    stats: dict[str, int]
    started: float  # time.time() of the start of the load
    app_cpu: float | None  # both workers (and a separate sender process)
    app_cpu_at_start: float | None
    pg_cpu: float | None  # the local PostgreSQL server, None when not on this machine
    gen_cpu: float  # the load generator's process
    own_cpu: float  # this process: SMTP server, notification writes
    busy: float | None  # CPU-seconds the whole machine was busy
    total: float | None

    @property
    def seconds(self) -> float:
        return self.stats["duration_us"] / 1e6

    @property
    def rps(self) -> float:
        return self.stats["requests"] / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        keys = ("non2xx", "nonfragment", "connect", "read", "write", "timeout")
        return sum(self.stats.get(k, 0) for k in keys)

    @property
    def other(self) -> float | None:
        """CPU seconds of other work on the machine (PostgreSQL counts as other if remote)."""
        if self.busy is None:
            return None
        ours = (self.app_cpu or 0) + (self.pg_cpu or 0) + self.gen_cpu + self.own_cpu
        return max(0.0, self.busy - ours)

    def row(self) -> str:
        s = self.stats

        def sec(value: float | None) -> str:
            return "?" if value is None else f"{value:.1f}"

        machine = "?"
        if self.busy is not None and self.total:
            machine = f"{self.busy:.0f}/{self.total:.0f}"
        return (
            f"{self.name:32} {self.rps:8.1f} {s['p50_us'] / 1000:7.2f} {s['p99_us'] / 1000:7.2f} "
            f"{s['requests']:8d} {self.errors:6d} {sec(self.app_cpu):>6} {sec(self.pg_cpu):>6} "
            f"{sec(self.gen_cpu):>6} {sec(self.own_cpu):>6} {sec(self.other):>6} {machine:>8}"
        )


def rate_in(times: list[float], origin: float, lo: float, hi: float) -> float:
    """Stored votes a second between `lo` and `hi` seconds after `origin`."""
    if hi <= lo:
        return 0.0
    return sum(1 for t in times if lo <= t - origin < hi) / (hi - lo)


# --- the run ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=2000, help="people notified")
    parser.add_argument("--per-person", type=int, default=5, help="notifications per person")
    parser.add_argument("--ideas", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=3.0, help="s to write the notifications")
    parser.add_argument("--bundle-seconds", type=int, default=5, help="NOTIFICATION_BUNDLE_SECONDS")
    parser.add_argument("--poll-seconds", type=float, default=0.5, help="MAIL_POLL_SECONDS")
    parser.add_argument("--voters", type=int, default=200, help="users logged in for the load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of each phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--pool-size", type=int, default=10, help="DB pool per worker")
    parser.add_argument("--login-concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=300.0, help="s to wait for delivery")
    parser.add_argument(
        "--sender",
        choices=("workers", "separate"),
        default="workers",
        help="workers: every app worker runs the sender (the default deployment); separate: the "
        "workers do not (MAIL_SENDER_ENABLED=0), one process of its own runs it under nice",
    )
    parser.add_argument("--nice", type=int, default=10, help="niceness of --sender separate")
    return parser.parse_args(argv)


def run(
    args: argparse.Namespace, work_dir: Path, servers: Servers, embedded: list[Embedded]
) -> int:
    from aiosmtpd.controller import Controller

    from ideas_platform.core.config import Settings

    url = server_url(embedded)
    admin = pg_params(url)
    params = {**admin, "database": MAIL_DB}
    bench_url = url.set(database=MAIL_DB).render_as_string(hide_password=False)
    where = f"{admin['host']}:{admin['port']}"
    expected = args.users * args.per_person
    n_ideas_notified = args.per_person * 10  # 10 groups of people, each hears of per_person ideas
    if args.ideas < n_ideas_notified:
        raise SystemExit(f"--ideas must be at least {n_ideas_notified}")

    version = asyncio.run(recreate_database(admin, MAIL_DB))
    log(f"database {MAIL_DB} (re)created on PostgreSQL {version} at {where}; migrating")
    from ideas_platform.core.migrations import upgrade

    upgrade(bench_url)
    seeded = asyncio.run(seed(bench_url, params, args.ideas, args.users))
    consent = os.environ.get("CONSENT_VERSION", "").strip() or Settings.consent_version
    asyncio.run(prepare(params, consent))
    log(f"seeded process 'bench' (phases began 3 days ago), {args.ideas} ideas, "
        f"{args.users} users with an address and consent {consent}")  # fmt: skip

    sink = MailSink()
    smtp_port = free_port()
    controller = Controller(sink, hostname=HOST, port=smtp_port, ready_timeout=10)
    controller.start()
    pool: concurrent.futures.ProcessPoolExecutor | None = None
    try:
        log(f"SMTP server (aiosmtpd) on {HOST}:{smtp_port}")
        app_port = free_port()
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
            "PUBLIC_URL": f"http://{HOST}:{app_port}",
            "MAIL_SENDER_ENABLED": "1" if args.sender == "workers" else "0",
            "SMTP_HOST": HOST,
            "SMTP_PORT": str(smtp_port),
            "SMTP_STARTTLS": "false",
            "SMTP_USER": "",
            "SMTP_PASSWORD": "",
            "MAIL_POLL_SECONDS": f"{args.poll_seconds:g}",
            "NOTIFICATION_BUNDLE_SECONDS": str(args.bundle_seconds),
        }
        servers.start(
            "app",
            uvicorn_args(
                "ideas_platform.app:app_for_uvicorn", app_port, args.workers, factory=True
            ),
            env,
        )
        wait_ready(servers, "app", app_port, "/login")
        pgids = [servers.procs["app"].pid]
        if args.sender == "separate":
            # The app's own sender loop (run_sender + dispatch_due) in one process of its own,
            # at a lower CPU priority than the web workers.
            loop_args = ["nice", "-n", str(args.nice), sys.executable, "-m", "bench.mail"]
            servers.start("sender", [*loop_args, "--sender-loop"], env)
            pgids.append(servers.procs["sender"].pid)
            time.sleep(2.0)
            if servers.procs["sender"].poll() is not None:
                raise RuntimeError(f"the sender exited:\n{servers.log_tail('sender')}")

        postmaster = asyncio.run(_postmaster(params))

        def pg_now() -> float | None:
            return postgres_cpu(postmaster)

        def app_cpu_now() -> float | None:
            values = [group_cpu_seconds(pgid) for pgid in pgids]
            return None if None in values else sum(v for v in values if v is not None)

        voters = seeded.emails[: args.voters]
        log(f"app up ({args.workers} workers, mail sender on); logging in {len(voters)} voters")
        started = time.monotonic()
        sessions = asyncio.run(
            login_all(f"http://{HOST}:{app_port}", voters, args.login_concurrency)
        )
        log(f"{len(sessions)} voters logged in ({time.monotonic() - started:.0f} s)")
        sessions_file = work_dir / "sessions.txt"
        sessions_file.write_text("".join(f"{cookie}\t{token}\n" for cookie, token in sessions))
        lo, hi = seeded.idea_range
        sanity_vote(app_port, sessions[0], lo)

        idle = asyncio.run(mail_figures(params))
        if idle["notifications"] or idle["mails"] or sink.receipts:
            raise RuntimeError(f"the sender is not idle before the baseline: {idle}")

        wrk = shutil.which("wrk")
        load = Load(args.connections, args.threads, args.duration, args.warmup, wrk)
        generator = "wrk" if wrk else "bench/loadgen.py in a child process (wrk not found)"
        log(f"load generator: {generator}")
        # The generator runs in its own process: this one serves SMTP and writes notifications.
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )

        def phase(name: str, during: Any = None) -> tuple[Phase, Any]:
            asyncio.run(reset_votes(params))
            cpu0, own0, busy0, pg0 = app_cpu_now(), own_cpu(), machine_busy(), pg_now()
            t0 = time.time()
            future = pool.submit(
                drive_counted, load, app_port, "app", sessions_file, lo, hi, args.duration
            )
            side = during() if during is not None else None
            stats, gen_cpu = future.result()
            cpu1, own1, busy1, pg1 = app_cpu_now(), own_cpu(), machine_busy(), pg_now()
            app_cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
            pg_cpu = None if pg0 is None or pg1 is None else pg1 - pg0
            busy = total = None
            if busy0 is not None and busy1 is not None:
                busy, total = busy1[0] - busy0[0], busy1[1] - busy0[1]
            phase = Phase(name, stats, t0, app_cpu, cpu0, pg_cpu, gen_cpu, own1 - own0, busy, total)
            return phase, side

        log(f"warm-up {args.warmup:g} s")
        pool.submit(drive, load, app_port, "app", sessions_file, lo, hi, args.warmup).result()

        log(f"phase A (sender idle): {args.duration:g} s of votes, {args.connections} connections")
        phase_a, _ = phase("A  votes, sender idle")
        times_a = asyncio.run(vote_times(params))

        ideas = asyncio.run(_idea_titles(params, n_ideas_notified))
        log(f"phase B: {args.duration:g} s of votes; meanwhile {expected} notifications for "
            f"{args.users} people over {args.spread:g} s")  # fmt: skip
        phase_b, written = phase(
            f"B  votes + {expected:,} notifications",
            lambda: asyncio.run(
                write_notifications(
                    bench_url,
                    seeded.user_ids,
                    ideas,
                    seeded.process_id,
                    args.per_person,
                    args.spread,
                )
            ),
        )
        times_b = asyncio.run(vote_times(params))
        n_written, _, last_notification = written
        log(f"phase B over: {len(sink.receipts)} mails received so far; waiting for the rest")

        deadline = time.monotonic() + args.timeout
        figures: dict[str, int] = {}
        while time.monotonic() < deadline:
            figures = asyncio.run(mail_figures(params))
            if (
                figures["pending"] == 0
                and figures["unsent"] == 0
                and len(sink.receipts) >= figures["mails"]
            ):
                break
            time.sleep(0.5)
        else:
            log(f"timeout after {args.timeout:g} s: {figures}")
        cpu_done = app_cpu_now()
        time.sleep(max(1.0, 2 * args.poll_seconds))  # a late duplicate would arrive by now
        receipts = sink.snapshot()
        check = asyncio.run(verify(params, receipts, expected))
        created = asyncio.run(outbox_created(params))
        notified = asyncio.run(notification_times(params))
        split = asyncio.run(split_bundles(params))

        # The baseline once more, so that a burst of other work on the machine during one of
        # the two shows (the figure without the sender is their mean).
        log(f"phase A again (sender idle): {args.duration:g} s of votes")
        phase_a2, _ = phase("A' votes, sender idle again")
        times_a2 = asyncio.run(vote_times(params))
        late = len(sink.receipts) - len(receipts)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        servers.stop_all()
        controller.stop()

    check_ok, check_output = run_check(bench_url)

    # --- figures ---
    b0 = phase_b.started
    arrivals = sorted(r.at for r in receipts)
    written_at = sorted(created.values())
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    mails_per_s = len(arrivals) / span if span else 0.0
    baselines = (phase_a, phase_a2)
    rps_without = (phase_a.rps + phase_a2.rps) / 2
    ratio = phase_b.rps / rps_without if rps_without else 0.0
    a_seconds = min(phase_a.seconds, phase_a2.seconds)

    def rate_a(lo_s: float, hi_s: float) -> float:
        """Stored votes/s of the two baselines at these offsets (their mean)."""
        hi_s = min(hi_s, a_seconds)
        rates = [rate_in(times_a, phase_a.started, lo_s, hi_s)]
        rates.append(rate_in(times_a2, phase_a2.started, lo_s, hi_s))
        return sum(rates) / 2

    print()
    print(f"{'':32} {'votes/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'requests':>8} {'errors':>6} "
          f"{'app':>6} {'PG':>6} {'gen':>6} {'bench':>6} {'other':>6} {'machine':>8}")  # fmt: skip
    print(phase_a.row())
    print(phase_b.row())
    print(phase_a2.row())
    print("CPU seconds in each phase: app = both workers (and a separate sender process), "
          "PG = PostgreSQL, gen = the load generator, bench = this process (SMTP server, "
          f"notification writes), other = other work; machine = busy/total of {os.cpu_count()} "
          "CPUs.")  # fmt: skip
    for ph in (phase_a, phase_b, phase_a2):
        if ph.other is not None and ph.total and ph.other / ph.total > 0.15:
            print(f"  NOTE: other work took {100 * ph.other / ph.total:.0f} % of the machine "
                  f"in phase {ph.name[0]}: the figures are those of a shared machine.")  # fmt: skip
    print()
    print(f"votes: POST /ideas/{{id}}/vote as htmx (bench-votes' load), {args.connections} "
          f"connections, {args.duration:g} s each, {len(sessions)} logged-in voters x "
          f"{args.ideas} ideas at random (a repeated pair is answered 200 too), load by "
          f"{'wrk' if wrk else 'bench/loadgen.py (child process)'}.")  # fmt: skip
    where_sender = (
        "each with the mail sender"
        if args.sender == "workers"
        else f"without the sender (one separate sender process under nice -n {args.nice})"
    )
    print(f"app: {args.workers} uvicorn workers, {where_sender}; "
          f"NOTIFICATION_BUNDLE_SECONDS={args.bundle_seconds} (production default 60, shortened "
          f"so that the run is short), MAIL_POLL_SECONDS={args.poll_seconds:g}, SMTP "
          f"aiosmtpd on {HOST} without TLS; PostgreSQL {version} at {where}.")  # fmt: skip
    print()
    sending = None
    pipeline = 0.0
    if arrivals and written_at:
        end = max(phase_b.seconds, arrivals[-1] - b0)
        print("phase B by 5 s (s after its start; stored votes/s from the votes' created_at, "
              "A = the mean of A and A' at the same offsets):")  # fmt: skip
        print(f"  {'s':>7} {'notified':>9} {'mails written':>14} {'mails received':>15} "
              f"{'votes/s A':>10} {'votes/s B':>10}")  # fmt: skip
        step = 5.0
        t = 0.0
        while t < end:
            t_hi = min(t + step, end)
            in_window = min(t_hi, a_seconds, phase_b.seconds) - t >= 1.0
            vote_a = f"{rate_a(t, t_hi):.0f}"
            vote_b = f"{rate_in(times_b, b0, t, min(t_hi, phase_b.seconds)):.0f}"
            if not in_window:
                vote_a = vote_b = "-"
            print(f"  {t:3.0f}-{t_hi:<3.0f} {_count(notified, b0, t, t_hi):9d} "
                  f"{_count(written_at, b0, t, t_hi):14d} {_count(arrivals, b0, t, t_hi):15d} "
                  f"{vote_a:>10} {vote_b:>10}")  # fmt: skip
            t = t_hi
        # The sender is busy from its first outbox mail to the last SMTP receipt.
        lo_s, hi_s = written_at[0] - b0, min(phase_b.seconds, arrivals[-1] - b0)
        if hi_s - lo_s >= 2.0:
            a_rate = rate_a(lo_s, hi_s)
            b_rate = rate_in(times_b, b0, lo_s, hi_s)
            sending = b_rate / a_rate if a_rate else 0.0
            print(f"while the sender was busy inside the window ({lo_s:.1f}-{hi_s:.1f} s): stored "
                  f"votes/s A {a_rate:.0f}, B {b_rate:.0f}, ratio {sending:.2f}")  # fmt: skip
        pipeline = len(arrivals) / max(arrivals[-1] - written_at[0], 1e-3)
        lag = sorted(
            int((r.at - created[r.message_id]) * 1000) for r in receipts if r.message_id in created
        )
        print(f"mails written to the outbox {written_at[0] - b0:.1f}-{written_at[-1] - b0:.1f} s, "
              f"received {arrivals[0] - b0:.1f}-{arrivals[-1] - b0:.1f} s; outbox row -> SMTP "
              f"p50 {percentile(lag, 50)} ms, p99 {percentile(lag, 99)} ms; last notification "
              f"-> last mail {arrivals[-1] - last_notification:.1f} s (bundle window "
              f"{args.bundle_seconds} s); {pipeline:.0f} mails/s from the first outbox row to "
              "the last receipt.")  # fmt: skip
    if (
        cpu_done is not None
        and phase_b.app_cpu_at_start is not None
        and phase_a.app_cpu is not None
        and phase_a2.app_cpu is not None
        and phase_a.stats["requests"] + phase_a2.stats["requests"]
        and check.mails
    ):
        per_vote = (phase_a.app_cpu + phase_a2.app_cpu) / (
            phase_a.stats["requests"] + phase_a2.stats["requests"]
        )
        sender_cpu = cpu_done - phase_b.app_cpu_at_start - phase_b.stats["requests"] * per_vote
        print(f"app CPU from the start of B to the last mail, minus B's votes at the baselines' "
              f"{per_vote * 1e6:.0f} us each: {sender_cpu:.1f} s, "
              f"{sender_cpu / check.mails * 1000:.1f} ms a mail (bundling and sending; an "
              "estimate)")  # fmt: skip
    print(f"notifications written by notify(): {n_written}")
    print("exactly once:")
    print("\n".join(check.lines))
    print(f"bundling: people with more than one mail: {len(split)} "
          "(intended: one mail per person; each person's notifications came within "
          "the bundle window)")  # fmt: skip
    for line in split[:5]:
        print(f"  {line}")
    print(f"ideas-platform check: {check_output}")
    print()
    delivered_once = check.ok and late == 0
    print(f"delivered_once: {delivered_once}")
    print(f"notifications: {check.notifications}")
    print(f"mails: {check.mails}")
    print(f"mails_per_s: {mails_per_s:.1f} ({len(arrivals)} mails in {span:.1f} s, "
          "first to last SMTP receipt)")  # fmt: skip
    if arrivals and written_at:
        print(f"mails_per_s_end_to_end: {pipeline:.1f} (first outbox row to last SMTP receipt)")
    print(f"vote_rps_without: {rps_without:.1f} (mean of A {phase_a.rps:.1f} and A' "
          f"{phase_a2.rps:.1f})")  # fmt: skip
    print(f"vote_rps_with: {phase_b.rps:.1f}")
    print(f"ratio: {ratio:.2f} (target >= 0.9: {'met' if ratio >= 0.9 else 'not met'})")
    if sending is not None:
        print(f"ratio_while_sending: {sending:.2f} (stored votes/s, see above)")
    if late:
        print(f"NOTE: {late} mails arrived after the check (during A'): the check missed them.")
    errors = sum(ph.errors for ph in (*baselines, phase_b))
    return 0 if delivered_once and errors == 0 and check_ok else 1


async def _postmaster(params: dict[str, Any]) -> int | None:
    """The PostgreSQL server's main process, if it runs on this machine."""
    conn = await asyncpg.connect(**params)
    try:
        pid = parent_pid(int(await conn.fetchval("SELECT pg_backend_pid()")))
    finally:
        await conn.close()
    return pid if pid is not None and pid > 1 else None


def _count(times: list[float], origin: float, lo: float, hi: float) -> int:
    return sum(1 for t in times if lo <= t - origin < hi)


async def _idea_titles(params: dict[str, Any], n: int) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(**params)
    try:
        rows = await conn.fetch("SELECT id, title FROM ideas ORDER BY id LIMIT $1", n)
        return [(int(r["id"]), str(r["title"])) for r in rows]
    finally:
        await conn.close()


def sender_loop() -> int:
    """`--sender-loop`: the app's mail sender alone, configured from the environment."""
    from ideas_platform.core.config import Settings
    from ideas_platform.core.database import create_engine, create_session_factory
    from ideas_platform.mail.sender import run_sender
    from ideas_platform.notifications.digest import notification_mails

    settings = Settings.from_env()

    async def loop() -> None:
        engine = create_engine(settings, settings.database_url)
        try:
            await run_sender(
                create_session_factory(engine),
                settings,
                prepare=notification_mails(settings),
            )
        finally:
            await engine.dispose()

    asyncio.run(loop())
    return 0


def main(argv: list[str] | None = None) -> int:
    if "--sender-loop" in (sys.argv[1:] if argv is None else argv):
        return sender_loop()
    return run_benchmark("bench-mail", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
