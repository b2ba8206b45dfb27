"""`make bench-dashboard`: server time of the ministry dashboard and the public Umsetzung page.

1. A fresh database (DATABASE_URL's server, else a throw-away embedded PostgreSQL), migrated and
   bulk-loaded with the seeding functions of bench/export.py (`load_users`, `load_process`):
   5,000 participants over the 6 sectors and 16 regions, one process with 20,000 published
   ideas (+200 merged duplicates), 40 themes, 1,000,000 votes, a frozen shortlist with 500
   accepted idea entries (places 1..500) and 100 declined ones. On top of it, with COPY and SQL:
   ideas and votes spread over the last 20 weeks (two BEFORE INSERT triggers while
   `load_process` copies; a vote lands between its idea's creation and now), 36 workshops with
   the ideas created during them and their attendees, 50,000 comments (replies, 1 % hidden),
   500 measures (one per accepted entry; planned / in progress / done / dropped, progress,
   units, dates) with 5,000 updates (German text of a few hundred characters, some with a PDF),
   and a ministry, a moderator, an admin and a participant account with a real password.
   Then VACUUM ANALYZE and the app's invariant checks.
2. The real app (`create_app`) in this process, driven by Litestar's AsyncTestClient: server
   time, no network and no HTTP parser. The staff log in through GET/POST /login (CSRF token).
   Requests go one at a time, the pages in turn (round robin), after a warm-up:
   - GET /processes/<slug>/umsetzung, anonymous, unfiltered
   - the same filtered by sector (the 6 sectors in turn)
   - the same filtered by theme or by responsible unit (in turn)
   - the same unfiltered as the ministry (adds "accepted recommendations without a measure")
   - GET /processes/<slug>/dashboard as the ministry, when the route exists (if not:
     "dashboard: not available (route not registered)"); first the dashboard's answer to the
     ministry, moderator, admin, a participant and an anonymous visitor is printed.
3. Every SQL statement the app sends through SQLAlchemy is timed (cursor events). Statements over
   50 ms are run again with the same parameters under EXPLAIN (ANALYZE, BUFFERS), once with the
   custom and once with the generic plan: the app's prepared statements (asyncpg) switch to the
   generic plan from their 6th execution on when PostgreSQL estimates it cheaper.

Printed per page: requests, median, p95 and max in ms, statements and SQL ms per request; then
the verdict against the target (p95 < 200 ms at 20,000 ideas / 1,000,000 votes).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

import asyncpg

from bench.database import Embedded, bench_url, log, recreate_database
from bench.export import NOW as EXPORT_NOW
from bench.export import SECTOR_WEIGHTS, Texts, check, load_process, load_users, texts
from bench.loadgen import percentile

BENCH_DB = "ideas_bench_dashboard"
SLUG = "dashboard-zwanzigtausend"
PASSWORD = "Werkbank-Sachsen-2030"
SEED = 2027
TARGET_MS = 200.0
SLOW_MS = 50.0
WEEKS = 20
# The dashboard keeps its figures in the app's kv_store under this prefix (MAX_AGE 60 s).
CACHE_PREFIX = "dashboard:"

STAFF = [
    ("ministerium@bench.example", "Referat 32 (Bench)", "ministry", "administration"),
    ("moderation@bench.example", "Moderation (Bench)", "moderator", "civil_society"),
    ("admin@bench.example", "Betrieb (Bench)", "admin", "administration"),
    ("teilnehmerin@bench.example", "Teilnehmerin (Bench)", "participant", "industry"),
]
UNITS = [
    "Referat 31 – Industriepolitik",
    "Referat 32 – Energie und Wasserstoff",
    "Referat 33 – Fachkräfte",
    "Referat 34 – Digitalisierung",
    "Referat 35 – Innovation und Transfer",
    "Referat 36 – Mittelstand und Handwerk",
    "Referat 41 – Strukturwandel Lausitz",
    "Referat 42 – Mobilität und Logistik",
    "Referat 43 – Genehmigungsverfahren",
    "Referat 44 – Kreislaufwirtschaft",
    "Referat 45 – Förderprogramme",
    "Referat 46 – Außenwirtschaft",
]
DROP_REASONS = [
    "Die Förderrichtlinie des Bundes deckt den Vorschlag bereits ab; eine eigene Landesmaßnahme "
    "ist nicht nötig.",
    "Im Doppelhaushalt stehen dafür keine Mittel zur Verfügung; wir prüfen es zur nächsten "
    "Haushaltsaufstellung erneut.",
    "Die Zuständigkeit liegt bei den Kommunen; der Vorschlag wurde an den Städte- und "
    "Gemeindetag weitergegeben.",
]
EVENT_KINDS = [
    "Werkstattgespräch",
    "Zukunftsforum",
    "Regionalkonferenz",
    "Bürgerdialog",
    "Fachworkshop",
    "Transferwerkstatt",
]
EVENT_TOPICS = [
    "Wasserstoff",
    "Fachkräfte",
    "Künstliche Intelligenz",
    "Kreislaufwirtschaft",
    "Halbleiter",
    "Logistik",
    "Mittelstand",
]
PLACES = [
    "Dresden, Haus der Wirtschaft",
    "Leipzig, Kongresshalle",
    "Chemnitz, Industriemuseum",
    "Görlitz, Landskron Kulturbrauerei",
    "Freiberg, Alte Mensa",
    "Zwickau, Neue Welt",
    "Bautzen, Burgtheater",
    "Plauen, Malzhaus",
    "Hoyerswerda, Lausitzhalle",
]
MEASURE_STATUS_WEIGHTS = {"planned": 25, "in_progress": 45, "done": 20, "dropped": 10}
UPDATE_WEIGHTS = {"planned": 1, "in_progress": 3, "done": 4, "dropped": 2}


@dataclass
class Window:
    """The 20 weeks the data is spread over, ending now."""

    now: datetime
    start: datetime

    def at(self, fraction: float) -> datetime:
        return self.start + (self.now - self.start) * fraction


# --------------------------------------------------------------------------- data


def _spread_triggers(window: Window) -> str:
    """While `load_process` copies: ideas move from its fixed 50 days before 2026-11-20 onto
    the last 20 weeks (same order), and each vote lands between its idea's creation and now
    (most of them soon after it)."""
    old_start = EXPORT_NOW - timedelta(days=90)
    factor = (window.now - window.start) / timedelta(days=50)
    return f"""
    CREATE FUNCTION bench_spread_idea() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.created_at := least(
        timestamptz '{window.start.isoformat()}'
          + (NEW.created_at - timestamptz '{old_start.isoformat()}') * {factor:.6f},
        timestamptz '{window.now.isoformat()}' - interval '5 minutes');
      RETURN NEW;
    END $$;
    CREATE FUNCTION bench_spread_vote() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE born timestamptz;
    BEGIN
      SELECT created_at INTO born FROM ideas WHERE id = NEW.idea_id;
      NEW.created_at := born
        + (timestamptz '{window.now.isoformat()}' - born) * power(random(), 2);
      RETURN NEW;
    END $$;
    CREATE TRIGGER bench_spread_idea BEFORE INSERT ON ideas
      FOR EACH ROW EXECUTE FUNCTION bench_spread_idea();
    CREATE TRIGGER bench_spread_vote BEFORE INSERT ON votes
      FOR EACH ROW EXECUTE FUNCTION bench_spread_vote();
    """


DROP_TRIGGERS = """
DROP TRIGGER bench_spread_idea ON ideas;
DROP TRIGGER bench_spread_vote ON votes;
DROP FUNCTION bench_spread_idea();
DROP FUNCTION bench_spread_vote();
"""


async def load_staff(conn: asyncpg.Connection, window: Window) -> dict[str, int]:
    """Accounts that log in (a real password hash; terms agreed, address confirmed)."""
    from ideas_platform.core.config import Settings
    from ideas_platform.core.passwords import hash_password

    password_hash = hash_password(PASSWORD)
    consent = Settings().consent_version
    ids: dict[str, int] = {}
    for email, name, role, sector in STAFF:
        ids[role] = await conn.fetchval(
            "INSERT INTO users (email, display_name, password_hash, sector, organisation, "
            "region, role, locale, session_version, is_active, name_in_exports, created_at, "
            "email_confirmed_at, consent_version, consent_at) "
            "VALUES ($1, $2, $3, $4, 'SMWA', 'dresden', $5, 'de', 1, true, false, $6, $6, "
            "$7, $6) RETURNING id",
            email,
            name,
            password_hash,
            sector,
            role,
            window.start - timedelta(days=7),
            consent,
        )
    return ids


async def load_timeline(conn: asyncpg.Connection, process_id: int, window: Window) -> None:
    """Registrations over the 20 weeks (most early), the phases and the shortlist's dates."""
    await conn.execute(
        "UPDATE users SET created_at = $1::timestamptz "
        "+ ($2::timestamptz - $1::timestamptz) * power(random(), 1.6) "
        "WHERE email LIKE 'person%@bench.example'",
        window.start,
        window.now,
    )
    phases = {
        "collect": (window.start - timedelta(days=1), window.now + timedelta(days=14)),
        "vote": (window.start + timedelta(days=14), window.now + timedelta(days=14)),
        "shortlist": (window.now - timedelta(days=60), window.now + timedelta(days=60)),
    }
    for kind, (starts, ends) in phases.items():
        await conn.execute(
            "UPDATE process_phases SET starts_at = $3, ends_at = $4 "
            "WHERE process_id = $1 AND kind = $2",
            process_id,
            kind,
            starts,
            ends,
        )
    await conn.execute(
        "UPDATE processes SET description = $2 WHERE id = $1",
        process_id,
        "Benchmark des Ministeriums-Dashboards und der Umsetzungsseite.",
    )
    await conn.execute(
        "UPDATE shortlist_entries SET created_at = $2::timestamptz - interval '70 days', "
        "decided_at = $2::timestamptz - interval '60 days' WHERE process_id = $1",
        process_id,
        window.now,
    )
    await conn.execute(
        "UPDATE shortlists SET frozen_at = $2::timestamptz - interval '58 days' "
        "WHERE process_id = $1",
        process_id,
        window.now,
    )


async def load_events(
    conn: asyncpg.Connection,
    process_id: int,
    window: Window,
    rng: random.Random,
    user_ids: list[int],
    count: int,
) -> tuple[int, int, int]:
    """`count` workshops over the 20 weeks (the 5 of `load_process` and more); the ideas created
    during one (±6 h, 60 %) come from it; attendees: their authors and 20-150 others."""
    existing = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM events WHERE process_id = $1 ORDER BY id", process_id
        )
    ]
    for n in range(count - len(existing)):
        existing.append(
            await conn.fetchval(
                "INSERT INTO events (process_id, title, place, starts_at, description, "
                "join_code) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                process_id,
                f"{EVENT_KINDS[n % len(EVENT_KINDS)]} {EVENT_TOPICS[n % len(EVENT_TOPICS)]}",
                rng.choice(PLACES),
                window.now,
                "Workshop mit Unternehmen, Hochschulen, Kammern und Verwaltung.",
                f"DASH{process_id}X{n:03d}",
            )
        )
    for n, event_id in enumerate(existing):
        day = window.at((n + 0.5) / len(existing)).replace(hour=15, minute=0, second=0)
        await conn.execute(
            "UPDATE events SET starts_at = $2::timestamptz, "
            "created_at = $2::timestamptz - interval '21 days', capacity = 200, "
            "joining_open = false, join_until = $2::timestamptz + interval '4 hours' "
            "WHERE id = $1",
            event_id,
            day,
        )
    await conn.execute(
        "UPDATE ideas SET event_id = NULL WHERE process_id = $1 AND event_id IS NOT NULL",
        process_id,
    )
    await conn.execute(
        "SELECT setseed(0.27)"  # the random() below repeats from run to run
    )
    await conn.execute(
        "UPDATE ideas i SET event_id = e.id FROM events e "
        "WHERE e.process_id = $1 AND i.process_id = $1 "
        "AND i.created_at BETWEEN e.starts_at - interval '6 hours' "
        "AND e.starts_at + interval '6 hours' AND random() < 0.6",
        process_id,
    )
    rows = []
    for event in await conn.fetch(
        "SELECT e.id, e.starts_at, array_remove(array_agg(DISTINCT i.author_id), NULL) AS authors "
        "FROM events e LEFT JOIN ideas i ON i.event_id = e.id "
        "WHERE e.process_id = $1 GROUP BY e.id ORDER BY e.id",
        process_id,
    ):
        people = set(event["authors"]) | set(rng.sample(user_ids, rng.randint(20, 150)))
        for user_id in sorted(people):
            rows.append(
                (
                    event["id"],
                    user_id,
                    event["starts_at"] + timedelta(minutes=rng.uniform(-30, 90)),
                )
            )
    await conn.copy_records_to_table(
        "event_attendees", columns=["event_id", "user_id", "joined_at"], records=rows
    )
    ideas = await conn.fetchval(
        "SELECT count(*) FROM ideas WHERE process_id = $1 AND event_id IS NOT NULL", process_id
    )
    return len(existing), int(ideas), len(rows)


def _sentences(words: Texts, rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(words.sentences) for _ in range(rng.randint(low, high)))


async def load_comments(
    conn: asyncpg.Connection,
    process_id: int,
    window: Window,
    rng: random.Random,
    words: Texts,
    user_ids: list[int],
    count: int,
) -> None:
    """`count` comments on the published ideas (more on popular ones), ids in time order;
    a quarter of the later ones answer an earlier top-level comment; 1 % hidden."""
    ideas = await conn.fetch(
        "SELECT id, created_at, vote_count FROM ideas "
        "WHERE process_id = $1 AND status = 'published'",
        process_id,
    )
    chosen = rng.choices(ideas, weights=[r["vote_count"] + 5 for r in ideas], k=count)
    per_idea: dict[int, list[datetime]] = {}
    born = {r["id"]: r["created_at"] for r in ideas}
    for idea in chosen:
        start = born[idea["id"]]
        per_idea.setdefault(idea["id"], []).append(start + (window.now - start) * rng.random() ** 2)
    # (time, idea, index within the idea, parent index or None)
    pending: list[tuple[datetime, int, int, int | None]] = []
    for idea_id, times in per_idea.items():
        times.sort()
        tops: list[int] = []
        for index, at in enumerate(times):
            parent = rng.choice(tops) if tops and rng.random() < 0.25 else None
            if parent is None:
                tops.append(index)
            pending.append((at, idea_id, index, parent))
    pending.sort()
    first_id = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM comments")
    ids = {(idea, index): first_id + n for n, (_, idea, index, _) in enumerate(pending)}
    rows = []
    for n, (at, idea_id, _, parent) in enumerate(pending):
        body = _sentences(words, rng, 1, 3)
        hidden = rng.random() < 0.01
        rows.append(
            (
                first_id + n,
                idea_id,
                rng.choice(user_ids),
                body,
                f"<p>{escape(body)}</p>",
                at,
                ids[(idea_id, parent)] if parent is not None else None,
                hidden,
                "Persönlicher Angriff, von der Moderation ausgeblendet." if hidden else None,
            )
        )
    await conn.copy_records_to_table(
        "comments",
        columns=[
            "id",
            "idea_id",
            "author_id",
            "body",
            "body_html",
            "created_at",
            "parent_id",
            "hidden",
            "moderation_note",
        ],
        records=rows,
    )
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence('comments', 'id'), (SELECT max(id) FROM comments))"
    )
    await conn.execute(
        "UPDATE ideas i SET comment_count = c.n FROM (SELECT idea_id, count(*) AS n "
        "FROM comments WHERE NOT hidden AND deleted_at IS NULL GROUP BY idea_id) c "
        "WHERE i.id = c.idea_id"
    )


async def load_measures(
    conn: asyncpg.Connection,
    process_id: int,
    window: Window,
    rng: random.Random,
    words: Texts,
    ministry_id: int,
    updates: int,
) -> tuple[int, int, dict[str, int]]:
    """A measure for every accepted entry (mixed statuses, progress and units) and `updates`
    dated updates, their progress rising to the measure's; 4 % carry a small PDF."""
    entries = await conn.fetch(
        "SELECT se.id, i.title FROM shortlist_entries se JOIN ideas i ON i.id = se.idea_id "
        "WHERE se.process_id = $1 AND se.decision = 'accepted' ORDER BY se.position",
        process_id,
    )
    first_id = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM measures")
    statuses = rng.choices(
        list(MEASURE_STATUS_WEIGHTS), weights=list(MEASURE_STATUS_WEIGHTS.values()), k=len(entries)
    )
    measures: list[dict[str, Any]] = []
    for n, (entry, status) in enumerate(zip(entries, statuses, strict=True)):
        created = window.now - timedelta(days=rng.uniform(14, 56), minutes=rng.randint(0, 600))
        starts_on: date | None = (created + timedelta(days=rng.randint(0, 30))).date()
        if rng.random() < 0.1:
            starts_on = None
        target_on = (
            (starts_on or created.date()) + timedelta(days=rng.randint(90, 720))
            if rng.random() < 0.85
            else None
        )
        progress = {
            "planned": 0,
            "in_progress": rng.randint(5, 95),
            "done": 100,
            "dropped": rng.randint(0, 60),
        }[status]
        _, description = words.idea(rng)
        measures.append(
            {
                "id": first_id + n,
                "entry_id": entry["id"],
                "title": entry["title"][:200],
                "description": description,
                "unit": rng.choice(UNITS),
                "status": status,
                "reason": rng.choice(DROP_REASONS) if status == "dropped" else "",
                "progress": progress,
                "starts_on": starts_on,
                "target_on": target_on,
                "created_at": created,
                "updates": 1 if status != "planned" else 0,
            }
        )
    spare = updates - sum(m["updates"] for m in measures)
    for m in rng.choices(
        measures, weights=[UPDATE_WEIGHTS[m["status"]] for m in measures], k=max(spare, 0)
    ):
        m["updates"] += 1

    update_rows = []
    for m in measures:
        k = m["updates"]
        times = sorted(
            m["created_at"] + (window.now - m["created_at"]) * rng.random() for _ in range(k)
        )
        m["updated_at"] = times[-1] if times else None
        for j, at in enumerate(times, start=1):
            progress = round(m["progress"] * j / k)
            status = m["status"] if j == k else ("in_progress" if progress > 0 else "planned")
            if status == "done" and j < k:
                status = "in_progress"
            _, body = words.idea(rng)
            pdf = rng.random() < 0.04
            data = b"%PDF-1.4\n" + rng.randbytes(rng.randint(20_000, 60_000)) if pdf else None
            update_rows.append(
                (
                    at,
                    m["id"],
                    ministry_id,
                    body,
                    f"<p>{escape(body)}</p>",
                    progress,
                    status,
                    f"Zwischenbericht-{m['id']}-{j}.pdf" if pdf else None,
                    len(data) if data else None,
                    data,
                )
            )
    await conn.copy_records_to_table(
        "measures",
        columns=[
            "id",
            "process_id",
            "entry_id",
            "title",
            "description",
            "description_html",
            "unit",
            "status",
            "status_reason",
            "progress",
            "starts_on",
            "target_on",
            "created_by_id",
            "created_at",
            "updated_at",
        ],
        records=[
            (
                m["id"],
                process_id,
                m["entry_id"],
                m["title"],
                m["description"],
                f"<p>{escape(m['description'])}</p>",
                m["unit"],
                m["status"],
                m["reason"],
                m["progress"],
                m["starts_on"],
                m["target_on"],
                ministry_id,
                m["created_at"],
                m["updated_at"],
            )
            for m in measures
        ],
    )
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence('measures', 'id'), (SELECT max(id) FROM measures))"
    )
    update_rows.sort(key=lambda row: row[0])  # ids in time order, as the app writes them
    await conn.copy_records_to_table(
        "measure_updates",
        columns=[
            "created_at",
            "measure_id",
            "author_id",
            "body",
            "body_html",
            "progress",
            "status",
            "attachment_name",
            "attachment_size",
            "attachment",
        ],
        records=update_rows,
    )
    by_status = {s: statuses.count(s) for s in MEASURE_STATUS_WEIGHTS}
    return len(measures), len(update_rows), by_status


async def load(params: dict[str, Any], args: argparse.Namespace) -> None:
    rng = random.Random(SEED)
    words = texts()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    window = Window(now=now, start=now - timedelta(weeks=WEEKS))
    conn = await asyncpg.connect(**params)
    try:
        started = time.perf_counter()
        users = await load_users(conn, rng, args.users)
        staff = await load_staff(conn, window)
        await conn.execute(_spread_triggers(window))
        step = time.perf_counter()
        process_id, stored = await load_process(
            conn,
            rng,
            words,
            users,
            slug=SLUG,
            ideas=args.ideas,
            votes=args.votes,
            themes=40,
            merges=200,
            shortlist=args.measures,
        )
        await conn.execute(DROP_TRIGGERS)
        log(
            f"users, ideas, votes (bench.export.load_users/load_process): {len(users):,} "
            f"users, {args.ideas:,} ideas, {stored:,} votes, {args.measures} accepted entries "
            f"in {time.perf_counter() - step:.0f} s"
        )
        await load_timeline(conn, process_id, window)
        user_ids = [u["id"] for u in users]
        step = time.perf_counter()
        events, event_ideas, attendees = await load_events(
            conn, process_id, window, rng, user_ids, args.events
        )
        await load_comments(conn, process_id, window, rng, words, user_ids, args.comments)
        measures, updates, by_status = await load_measures(
            conn, process_id, window, rng, words, staff["ministry"], args.updates
        )
        log(
            f"{events} workshops ({event_ideas:,} ideas, {attendees:,} attendees), "
            f"{args.comments:,} comments, {measures} measures {by_status}, {updates:,} updates "
            f"in {time.perf_counter() - step:.0f} s"
        )
        for table in (
            "users",
            "ideas",
            "votes",
            "comments",
            "events",
            "event_attendees",
            "merge_records",
            "shortlist_entries",
            "themes",
            "measures",
            "measure_updates",
            "process_phases",
        ):
            await conn.execute(f"VACUUM ANALYZE {table}")
        log(f"data loaded in {time.perf_counter() - started:.0f} s (with VACUUM ANALYZE)")
    finally:
        await conn.close()


async def existing(params: dict[str, Any]) -> bool:
    """Whether the last run's data is still there (`--reuse`)."""
    try:
        conn = await asyncpg.connect(**params)
    except asyncpg.InvalidCatalogNameError:
        return False
    try:
        return bool(await conn.fetchval("SELECT count(*) FROM measures"))
    except asyncpg.UndefinedTableError:
        return False
    finally:
        await conn.close()


# --------------------------------------------------------------------------- measurement


@dataclass
class Statement:
    sql: str
    params: Any
    ms: float


@dataclass
class SqlLog:
    """Every statement SQLAlchemy sends (any engine in this process), timed from
    before_cursor_execute to after_cursor_execute (asyncpg: execute and fetch all rows)."""

    active: bool = False
    current: list[Statement] = field(default_factory=list)

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, sql: str, params: Any, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, sql: str, params: Any, *_: Any) -> None:
        started = conn.info["bench_started"].pop()
        if self.active:
            self.current.append(Statement(sql, params, 1000 * (time.perf_counter() - started)))

    def take(self) -> list[Statement]:
        taken, self.current = self.current, []
        return taken


@dataclass
class Page:
    name: str
    path: str
    role: str | None  # None: anonymous
    queries: list[dict[str, str]] = field(default_factory=lambda: [{}])
    timings: list[float] = field(default_factory=list)
    sql_counts: list[int] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    by_statement: dict[str, list[float]] = field(default_factory=dict)
    first_ms: float | None = None
    clear_cache: bool = False  # delete the dashboard's cached figures before each request

    def stats(self) -> dict[str, float]:
        ordered = sorted(self.timings)
        return {
            "requests": len(ordered),
            "median": statistics.median(ordered),
            "p95": percentile(ordered, 95),  # type: ignore[arg-type]
            "max": ordered[-1],
        }


async def log_in(client: Any, email: str) -> dict[str, str]:
    """GET /login for the CSRF cookie, POST /login as a browser; answers the cookies."""
    client.cookies.clear()
    await client.get("/login")
    token = client.cookies.get("csrftoken") or ""
    response = await client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, (email, response.status_code, response.text[:300])
    return dict(client.cookies.items())


def use(client: Any, cookies: dict[str, str]) -> None:
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value)


def short(sql: str, width: int = 110) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def literal(value: Any) -> str:
    """A parameter as an SQL literal for EXECUTE (quoted: PostgreSQL casts it to the type
    PREPARE inferred)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        inner = ",".join(
            "NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
            for v in value
        )
        return "'{" + inner.replace("'", "''") + "}'"
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


async def explain(params: dict[str, Any], statement: Statement) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a read with its parameters, in rolled-back transactions:
    the custom plan (for these values, as a statement's first executions get) and the generic
    plan (PREPARE, then EXECUTE with plan_cache_mode = force_generic_plan: what the app's
    prepared statement runs from its 6th execution on when PostgreSQL estimates it cheaper)."""
    head = statement.sql.lstrip().upper()
    if not head.startswith(("SELECT", "WITH")) or any(
        word in head for word in ("INSERT ", "UPDATE ", "DELETE ", "FOR UPDATE")
    ):
        return ["(not a plain read: not run again)"]
    values = list(statement.params or ())
    runs = [
        ("custom plan (these values):", [], f"EXPLAIN (ANALYZE, BUFFERS) {statement.sql}", values),
        (
            "generic plan (PREPARE; SET plan_cache_mode = force_generic_plan; EXECUTE):",
            [
                "SET LOCAL plan_cache_mode = force_generic_plan",
                f"PREPARE bench_explained AS {statement.sql}",
            ],
            "EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_explained"
            + (f"({', '.join(literal(v) for v in values)})" if values else ""),
            [],
        ),
    ]
    conn = await asyncpg.connect(**params)
    lines: list[str] = []
    try:
        for label, setup, sql, args in runs:
            transaction = conn.transaction()
            await transaction.start()
            try:
                for step in setup:
                    await conn.execute(step)
                rows = await conn.fetch(sql, *args)
            except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                lines.append(f"{label} failed: {exc}")
                continue
            finally:
                await transaction.rollback()
            lines.append(label)
            lines.extend(f"  {row[0]}" for row in rows)
    finally:
        await conn.close()
    return lines


async def cached_figures(params: dict[str, Any]) -> int:
    conn = await asyncpg.connect(**params)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM kv_store WHERE key LIKE $1", CACHE_PREFIX + "%"
            )
        )
    finally:
        await conn.close()


async def clear_figures(params: dict[str, Any]) -> None:
    conn = await asyncpg.connect(**params)
    try:
        await conn.execute("DELETE FROM kv_store WHERE key LIKE $1", CACHE_PREFIX + "%")
    finally:
        await conn.close()


async def measure(url: str, params: dict[str, Any], args: argparse.Namespace) -> int:
    from litestar.testing import AsyncTestClient

    from ideas_platform.app import create_app
    from ideas_platform.core.config import Settings

    conn = await asyncpg.connect(**params)
    try:
        process_id = await conn.fetchval("SELECT id FROM processes WHERE slug = $1", SLUG)
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM ideas WHERE process_id = $1 AND status = 'published') "
            "AS ideas, (SELECT count(*) FROM votes WHERE process_id = $1) AS votes, "
            "(SELECT count(*) FROM users WHERE role = 'participant') AS participants, "
            "(SELECT count(*) FROM measures WHERE process_id = $1) AS measures, "
            "(SELECT count(*) FROM measure_updates u JOIN measures m ON m.id = u.measure_id "
            " WHERE m.process_id = $1) AS updates, "
            "(SELECT count(*) FROM comments c JOIN ideas i ON i.id = c.idea_id "
            " WHERE i.process_id = $1) AS comments, "
            "(SELECT count(*) FROM events WHERE process_id = $1) AS events",
            process_id,
        )
        themes = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM themes WHERE process_id = $1 ORDER BY id LIMIT 6", process_id
            )
        ]
        units = [
            r["unit"]
            for r in await conn.fetch(
                "SELECT DISTINCT unit FROM measures WHERE process_id = $1 ORDER BY unit LIMIT 6",
                process_id,
            )
        ]
    finally:
        await conn.close()

    sectors = list(SECTOR_WEIGHTS)
    by_theme_or_unit = [
        q
        for q in itertools.chain.from_iterable(
            itertools.zip_longest([{"theme": str(t)} for t in themes], [{"unit": u} for u in units])
        )
        if q is not None
    ]
    base = f"/processes/{SLUG}"
    pages = [
        Page("umsetzung (anonymous)", f"{base}/umsetzung", None),
        Page(
            "umsetzung ?sector= (anonymous)",
            f"{base}/umsetzung",
            None,
            [{"sector": s} for s in sectors],
        ),
        Page("umsetzung ?theme= / ?unit= (anonymous)", f"{base}/umsetzung", None, by_theme_or_unit),
        Page("umsetzung (ministry)", f"{base}/umsetzung", "ministry"),
    ]
    dashboard = Page("dashboard (ministry, figures cached)", f"{base}/dashboard", "ministry")
    computed = Page(
        "dashboard (ministry, figures computed)", f"{base}/dashboard", "ministry", clear_cache=True
    )

    settings = Settings(
        secret_key="bench-dashboard-" + "x" * 40,
        environment="production",
        secure_cookies=False,
        mail_sender_enabled=False,
        auth_rate_limit_per_minute=10**6,
    )
    app = create_app(settings, url)
    registered = any(
        route.path.startswith("/processes/") and route.path.endswith("/dashboard")
        for route in app.routes
    )
    unavailable = ""
    sql = SqlLog()
    sql.install()
    slow: dict[str, tuple[Statement, str, int]] = {}  # sql -> (slowest, page, times over)

    print(
        f"\nData: {counts['ideas']:,} published ideas, {counts['votes']:,} votes, "
        f"{counts['participants']:,} participants, {counts['measures']} measures with "
        f"{counts['updates']:,} updates, {counts['comments']:,} comments, "
        f"{counts['events']} workshops (process '{SLUG}')"
    )
    print(
        "Timing: server time in this process (Litestar AsyncTestClient, app on its own event "
        "loop thread, no network), one request at a time, pages in turn; "
        f"{args.warmup} warm-up requests per page not counted.\n"
    )

    async with AsyncTestClient(app=app, base_url="http://bench.local") as client:
        sessions: dict[str | None, dict[str, str]] = {None: {}}
        for email, _, role, _ in STAFF:
            sessions[role] = await log_in(client, email)

        access: dict[str, int] = {}
        if registered:
            for who in ("ministry", "moderator", "admin", "participant", None):
                use(client, sessions[who])
                response = await client.get(dashboard.path, follow_redirects=False)
                access[who or "anonymous"] = response.status_code
        if not registered or access.get("ministry") == 404:
            unavailable = "route not registered"
        elif access["ministry"] != 200:
            unavailable = f"GET {dashboard.path} as the ministry answered {access['ministry']}"
        if unavailable:
            print(f"dashboard: not available ({unavailable})")
        elif await cached_figures(params):
            print(
                f"dashboard: figures cached in kv_store ('{CACHE_PREFIX}%'); timed twice: as "
                "served, and computed (the cache rows deleted before each request, untimed)"
            )
            pages += [computed, dashboard]  # a computing request, then one served from the cache
        else:
            print(
                f"dashboard: no cached figures in kv_store ('{CACHE_PREFIX}%'): "
                "every request computes"
            )
            dashboard.name = "dashboard (ministry)"
            pages.append(dashboard)
        if access:
            print(
                "dashboard access: "
                + ", ".join(f"{who} {status}" for who, status in access.items())
            )

        async def one(page: Page, n: int, counted: bool) -> None:
            use(client, sessions[page.role])
            if page.clear_cache:
                await clear_figures(params)
            query = page.queries[n % len(page.queries)]
            sql.take()
            sql.active = True
            started = time.perf_counter()
            response = await client.get(page.path, params=query, follow_redirects=False)
            elapsed = 1000 * (time.perf_counter() - started)
            sql.active = False
            statements = sql.take()
            if page.first_ms is None:
                page.first_ms = elapsed
            if not counted:
                return
            page.statuses[response.status_code] = page.statuses.get(response.status_code, 0) + 1
            page.timings.append(elapsed)
            page.sql_counts.append(len(statements))
            page.sql_ms.append(sum(s.ms for s in statements))
            for s in statements:
                page.by_statement.setdefault(s.sql, []).append(s.ms)
                if s.ms > SLOW_MS:
                    known = slow.get(s.sql)
                    over = (known[2] if known else 0) + 1
                    worst = s if known is None or s.ms > known[0].ms else known[0]
                    slow[s.sql] = (worst, page.name, over)

        for n in range(args.warmup):
            for page in pages:
                await one(page, n, counted=False)
        started = time.perf_counter()
        for n in range(args.requests):
            for page in pages:
                await one(page, n, counted=True)
        wall = time.perf_counter() - started

    print(f"{len(pages) * args.requests} measured requests in {wall:.0f} s\n")
    for page in pages:
        s = page.stats()
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(page.statuses.items()))
        print(
            f"{page.name}: requests: {s['requests']}  median_ms: {s['median']:.1f}  "
            f"p95_ms: {s['p95']:.1f}  max_ms: {s['max']:.1f}  (status {statuses}; "
            f"first request {page.first_ms:.0f} ms)"
        )
        print(
            f"  SQL per request: {statistics.median(page.sql_counts):.0f} statements, "
            f"median {statistics.median(page.sql_ms):.1f} ms, p95 "
            f"{percentile(sorted(page.sql_ms), 95):.1f} ms"  # type: ignore[arg-type]
        )
        heaviest = sorted(
            page.by_statement.items(), key=lambda item: -sum(item[1]) / len(page.timings)
        )[:3]
        for text, times in heaviest:
            print(
                f"    {sum(times) / len(page.timings):6.1f} ms/request  "
                f"(median {statistics.median(times):.1f} ms, max {max(times):.1f} ms)  "
                f"{short(text)}"
            )

    print(f"\nStatements over {SLOW_MS:.0f} ms: {len(slow) or 'none'}")
    for text, (worst, page_name, over) in sorted(slow.items(), key=lambda i: -i[1][0].ms):
        print(f"\n--- {page_name}: {over} times over {SLOW_MS:.0f} ms, slowest {worst.ms:.1f} ms")
        print(text.strip())
        print(f"parameters: {worst.params!r}")
        print("EXPLAIN (ANALYZE, BUFFERS):")
        for line in await explain(params, worst):
            print(line)

    print("\nSummary")
    ok = True
    for page in pages:
        p95 = page.stats()["p95"]
        fast = p95 < TARGET_MS and set(page.statuses) == {200}
        ok &= fast
        print(
            f"{page.name}: p95_ms: {p95:.1f} (target < {TARGET_MS:.0f} ms): "
            f"{'met' if fast else 'NOT met'}"
        )
    if unavailable:
        print(f"dashboard: not available ({unavailable}): not measured")
    verdict = "met" if ok and not unavailable else "met for the Umsetzung page" if ok else "NOT met"
    print(
        f"target p95 < {TARGET_MS:.0f} ms at {counts['ideas']:,} ideas / {counts['votes']:,} "
        f"votes: {verdict}"
    )
    return 0 if ok else 1


def prepared_database(
    name: str, args: argparse.Namespace, embedded: list[Embedded]
) -> tuple[str, dict[str, Any]] | None:
    """(SQLAlchemy URL, asyncpg parameters) of benchmark database `name` with this module's
    data: made afresh (migrated, loaded, invariants checked), or the last run's with --reuse.
    None when an invariant does not hold."""
    from ideas_platform.core.migrations import upgrade

    url, params = bench_url(name, embedded)
    if not (args.reuse and not embedded and asyncio.run(existing(params))):
        version = asyncio.run(recreate_database({**params, "database": "postgres"}, name))
        log(f"PostgreSQL {version}, database {name}; migrating")
        upgrade(url)
        asyncio.run(load(params, args))
        problems = asyncio.run(check(url))
        log(f"invariants: {'all hold' if not problems else problems[:5]}")
        if problems:
            return None
    return url, params


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--ideas", type=int, default=20_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--measures", type=int, default=500)
    parser.add_argument("--updates", type=int, default=5_000)
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=36)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up requests per page")
    parser.add_argument(
        "--reuse", action="store_true", help="measure again on the last run's database"
    )
    args = parser.parse_args()

    embedded: list[Embedded] = []
    try:
        prepared = prepared_database(BENCH_DB, args, embedded)
        if prepared is None:
            return 1
        url, params = prepared
        return asyncio.run(measure(url, params, args))
    finally:
        for server in embedded:
            server.remove()


if __name__ == "__main__":
    raise SystemExit(main())
