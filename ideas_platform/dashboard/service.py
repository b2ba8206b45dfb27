"""The figures of the ministry's dashboard, from SQL aggregates, kept 60 s in `kv_store`.

What is counted (the page's "How we count" says the same):
- participants: distinct people who submitted an idea (any state), voted, commented or attended
  a workshop of the process;
- ideas: published ideas; votes: the supports given in the process (withdrawn ones are gone);
- comments: visible comments (not hidden, not deleted) on published ideas;
- by sector and region: the person's sector and region from their profile; ideas and comments
  without an account (paper cards, deleted accounts) under "not known";
- weeks: ISO weeks in Berlin time (Monday to Sunday), by the time of the idea, vote or comment;
- workshops: attendees who joined with the code, published ideas captured there and their votes.

Speed (bench/dashboard.py: 20,000 ideas, 1,000,000 votes, 50,000 comments, 2 cores): three
statements on three connections at once: the votes per week, counted from the index
(process_id, created_at) one week at a time (~80 ms); the votes per voter from the index
(user_id, process_id) alone (~75 ms); everything else (~130-160 ms; the 90 MB of idea rows are
read once). People are put together here. A computation takes ~200 ms (p95 ~255 ms on this
machine), so the page serves the stored figures and refreshes them in the background once they
are a minute old (p95 ~30 ms); only the first view of a process computes while it waits.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ideas_platform.core.choices import Region, Sector
from ideas_platform.core.i18n import BERLIN
from ideas_platform.core.kv_store import PostgresStore

log = logging.getLogger(__name__)

CACHE_NAMESPACE = "dashboard"  # kv_store keys "dashboard:process:<id>" (bench/dashboard.py)
MAX_AGE = 60  # seconds

# Weeks are binned from a Sunday 22:00 UTC, which is Monday 00:00 in Berlin in summer time. In
# winter the week starts an hour later, so each bin also counts its first hour, which then
# belongs to the week before (see `_weeks`). Fixed-width bins are cheap for a million votes;
# converting every timestamp to Berlin time is not.
#   bin:        date_bin('7 days', created_at, TIMESTAMPTZ '2024-01-07 22:00:00+00')
#   first_hour: count(*) FILTER (WHERE created_at < bin + INTERVAL '1 hour')

# Per transaction: JIT compiling costs more than it saves here; each statement plans for its
# own process; no parallel workers: the two connections already keep two cores busy, and
# workers on top of them only made each other wait (bench data, SQL alone: 175 ms, 235 with).
_SETTINGS = text(
    "SELECT set_config('jit', 'off', true), "
    "set_config('plan_cache_mode', 'force_custom_plan', true), "
    "set_config('max_parallel_workers_per_gather', '0', true)"
)

# Per week, counted from the index (process_id, created_at) alone: one range per week.
VOTES_PER_WEEK = text(
    """
    WITH bounds AS (
      SELECT min(created_at) AS lo, max(created_at) AS hi FROM votes WHERE process_id = :process_id
    )
    SELECT extract(epoch FROM b)::bigint AS bin,
           (SELECT count(*) FROM votes WHERE process_id = :process_id
              AND created_at >= b AND created_at < b + INTERVAL '7 days') AS n,
           (SELECT count(*) FROM votes WHERE process_id = :process_id
              AND created_at >= b AND created_at < b + INTERVAL '1 hour') AS first_hour
    FROM bounds,
         generate_series(date_bin('7 days', lo, TIMESTAMPTZ '2024-01-07 22:00:00+00'), hi,
                         INTERVAL '7 days') AS b
    """
)

# Per voter, from the index (user_id, process_id) alone; the planner prefers the table.
VOTES_PER_VOTER = text(
    "SELECT user_id, count(*) AS votes FROM votes WHERE process_id = :process_id GROUP BY user_id"
)

# Everything but the votes, in one statement: the ideas of the process are read once; ideas and
# comments are grouped by author, by week and (ideas) by workshop in one pass each.
FIGURES = text(
    """
    WITH i AS MATERIALIZED (
      SELECT id, author_id, event_id, status = 'published' AS counted, created_at, vote_count,
             date_bin('7 days', created_at, TIMESTAMPTZ '2024-01-07 22:00:00+00') AS bin
      FROM ideas WHERE process_id = :process_id
    ), ideas_by AS (
      SELECT GROUPING(author_id) AS g_author, GROUPING(bin) AS g_bin, author_id, bin, event_id,
             count(*) FILTER (WHERE counted) AS n,
             count(*) FILTER (WHERE counted AND created_at < bin + INTERVAL '1 hour')
               AS first_hour,
             coalesce(sum(vote_count) FILTER (WHERE counted), 0) AS votes
      FROM i GROUP BY GROUPING SETS ((author_id), (bin), (event_id))
    ), comments_by AS (
      SELECT GROUPING(author_id) AS g_author, author_id, bin,
             count(*) FILTER (WHERE counted) AS n,
             count(*) FILTER (WHERE counted AND created_at < bin + INTERVAL '1 hour') AS first_hour
      FROM (
        SELECT c.author_id, c.created_at,
               i.counted AND NOT c.hidden AND c.deleted_at IS NULL AS counted,
               date_bin('7 days', c.created_at, TIMESTAMPTZ '2024-01-07 22:00:00+00') AS bin
        FROM comments c JOIN i ON i.id = c.idea_id
      ) AS x
      GROUP BY GROUPING SETS ((author_id), (bin))
    ), weeks AS (
      SELECT 'ideas' AS kind, extract(epoch FROM bin)::bigint AS bin, n, first_hour
      FROM ideas_by WHERE g_bin = 0 AND n > 0
      UNION ALL
      SELECT 'comments', extract(epoch FROM bin)::bigint, n, first_hour
      FROM comments_by WHERE g_author = 1 AND n > 0
    ), workshops AS (
      SELECT e.id, e.title, e.place, extract(epoch FROM e.starts_at)::bigint AS starts_at,
             (SELECT count(*) FROM event_attendees a WHERE a.event_id = e.id) AS attendees,
             coalesce(b.n, 0) AS ideas, coalesce(b.votes, 0) AS votes
      FROM events e
      LEFT JOIN ideas_by b ON b.event_id = e.id AND b.g_author = 1 AND b.g_bin = 1
      WHERE e.process_id = :process_id
    )
    SELECT (SELECT json_agg(json_build_array(author_id, n)) FROM ideas_by WHERE g_author = 0)
             AS idea_authors,
           (SELECT json_agg(json_build_array(author_id, n)) FROM comments_by WHERE g_author = 0)
             AS commenters,
           (SELECT json_agg(DISTINCT a.user_id) FROM event_attendees a
              JOIN events e ON e.id = a.event_id WHERE e.process_id = :process_id) AS attendees,
           (SELECT json_agg(w) FROM weeks w) AS weeks,
           (SELECT json_agg(k ORDER BY k.starts_at, k.id) FROM workshops k) AS workshops
    """
)


class Counts(msgspec.Struct, frozen=True):
    participants: int = 0
    ideas: int = 0
    votes: int = 0
    comments: int = 0


class Group(msgspec.Struct, frozen=True):
    key: str | None  # a Sector or Region value; None: not known (no account)
    counts: Counts


class Week(msgspec.Struct, frozen=True):
    monday: date
    ideas: int = 0
    votes: int = 0
    comments: int = 0

    @property
    def iso(self) -> tuple[int, int]:
        """(ISO year, ISO week number)."""
        year, week, _ = self.monday.isocalendar()
        return year, week


class Workshop(msgspec.Struct, frozen=True):
    id: int
    title: str
    place: str
    starts_at: datetime
    attendees: int
    ideas: int
    votes: int


class Figures(msgspec.Struct, frozen=True):
    process_id: int
    computed_at: datetime
    totals: Counts
    by_sector: list[Group]  # every sector in order, then "not known" if it has any
    by_region: list[Group]  # every region in order, then "not known" if it has any
    weeks: list[Week]  # every week from the first to the last with activity
    workshops: list[Workshop]

    def region(self, key: str) -> Counts:
        return next((g.counts for g in self.by_region if g.key == key), Counts())


def cache_key(process_id: int) -> str:
    return f"process:{process_id}"


def _store(engine: AsyncEngine) -> PostgresStore:
    return PostgresStore(engine, CACHE_NAMESPACE)


# Served figures older than MAX_AGE are refreshed in the background (stale-while-revalidate);
# older than this they are not served at all.
STALE_LIMIT = 3600  # seconds
_refreshing: dict[int, asyncio.Task[Figures]] = {}


async def dashboard(engine: AsyncEngine, process_id: int) -> Figures:
    """The figures as computed at most MAX_AGE seconds ago, or a little older while a fresh copy
    is being computed in the background: the page never waits for the million votes, except on
    the first view of a process (or after an hour without views)."""
    store = _store(engine)
    cached = await store.get(cache_key(process_id))
    if cached is not None:
        try:
            figures = msgspec.json.decode(cached, type=Figures)
        except msgspec.ValidationError:
            pass  # written by an older version: compute anew
        else:
            if (datetime.now(UTC) - figures.computed_at).total_seconds() > MAX_AGE:
                _refresh_in_background(engine, process_id)
            return figures
    return await _compute_and_store(engine, process_id)


async def _compute_and_store(engine: AsyncEngine, process_id: int) -> Figures:
    figures = await compute(engine, process_id)
    await _store(engine).set(
        cache_key(process_id), msgspec.json.encode(figures), expires_in=STALE_LIMIT
    )
    return figures


def _refresh_in_background(engine: AsyncEngine, process_id: int) -> None:
    """One refresh per process at a time in this worker (another worker may refresh too)."""
    if process_id in _refreshing:
        return
    task = asyncio.create_task(_compute_and_store(engine, process_id))
    _refreshing[process_id] = task
    task.add_done_callback(lambda done: _forget(process_id, done))


def _forget(process_id: int, task: asyncio.Task[Figures]) -> None:
    _refreshing.pop(process_id, None)
    if not task.cancelled() and task.exception() is not None:
        log.warning("dashboard: refreshing process %s failed: %r", process_id, task.exception())


async def invalidate(engine: AsyncEngine, process_id: int) -> None:
    """Forget the cached figures (the next view computes them)."""
    await _store(engine).delete(cache_key(process_id))


PROFILES = text("SELECT id, sector::text, region::text FROM users")


async def compute(engine: AsyncEngine, process_id: int) -> Figures:
    """The figures now, from the database: the votes per week and per voter on one connection,
    everything else on a second, so that two cores work at once; people are put together here."""
    params = {"process_id": process_id}

    async def votes_per_week() -> list[Any]:
        async with engine.connect() as conn, conn.begin():
            await conn.execute(_SETTINGS)
            return list((await conn.execute(VOTES_PER_WEEK, params)).all())

    async def votes_per_voter() -> dict[int, int]:
        async with engine.connect() as conn:
            return await _votes_per_voter(conn, process_id)

    async def the_rest() -> tuple[Any, dict[int, tuple[str, str]]]:
        async with engine.connect() as conn, conn.begin():
            await conn.execute(_SETTINGS)
            row = (await conn.execute(FIGURES, params)).one()
            profiles = {r.id: (r.sector, r.region) for r in await conn.execute(PROFILES)}
            return row, profiles

    vote_weeks, voters, (row, profiles) = await asyncio.gather(
        votes_per_week(), votes_per_voter(), the_rest()
    )
    idea_authors, commenters, attendees, weeks, workshops = row
    groups = _breakdown(
        _people(_json(idea_authors), voters, _json(commenters), _json(attendees)), profiles
    )
    dated = [(row["kind"], row["bin"], row["n"], row["first_hour"]) for row in _json(weeks)]
    dated += [("votes", row.bin, row.n, row.first_hour) for row in vote_weeks]
    return Figures(
        process_id=process_id,
        computed_at=datetime.now(UTC),
        totals=groups.get(("total", None), Counts()),
        by_sector=_ordered(groups, "sector", [s.value for s in Sector]),
        by_region=_ordered(groups, "region", [r.value for r in Region]),
        weeks=_weeks(dated),
        workshops=[
            Workshop(
                id=row["id"],
                title=row["title"],
                place=row["place"] or "",
                starts_at=datetime.fromtimestamp(row["starts_at"], UTC),
                attendees=row["attendees"],
                ideas=row["ideas"],
                votes=row["votes"],
            )
            for row in _json(workshops)
        ],
    )


async def _votes_per_voter(conn: AsyncConnection, process_id: int) -> dict[int, int]:
    async with conn.begin():
        await conn.execute(_SETTINGS)
        await conn.execute(text("SET LOCAL enable_seqscan = off"))  # index-only, see above
        rows = await conn.execute(VOTES_PER_VOTER, {"process_id": process_id})
        return {row.user_id: row.votes for row in rows}


def _json(value: Any) -> list[dict[str, Any]]:
    """A json_agg column (asyncpg hands json over as text; NULL when there are no rows)."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else list(value)


def _people(
    idea_authors: list[Any], voters: dict[int, int], commenters: list[Any], attendees: list[Any]
) -> dict[int | None, list[int]]:
    """Everybody who took part, once: [ideas, votes, comments]; None: no account."""
    people: dict[int | None, list[int]] = {}
    for column, pairs in ((0, idea_authors), (2, commenters)):
        for person, count in pairs:
            people.setdefault(person, [0, 0, 0])[column] += count
    for person, count in voters.items():
        people.setdefault(person, [0, 0, 0])[1] += count
    for person in attendees:
        people.setdefault(person, [0, 0, 0])
    return people


def _breakdown(
    people: dict[int | None, list[int]], profiles: dict[int, tuple[str, str]]
) -> dict[tuple[str, str | None], Counts]:
    """Participants, ideas, votes and comments in total, by sector and by region (the person's
    profile; no account: under None, without counting as a participant)."""
    sums: dict[tuple[str, str | None], list[int]] = {}
    for person, (ideas, votes, comments) in people.items():
        profile = profiles.get(person) if person is not None else None
        counted = 1 if profile is not None else 0
        sector, region = profile if profile is not None else (None, None)
        for key in (("total", None), ("sector", sector), ("region", region)):
            total = sums.setdefault(key, [0, 0, 0, 0])
            total[0] += counted
            total[1] += ideas
            total[2] += votes
            total[3] += comments
    return {
        key: Counts(participants=p, ideas=i, votes=v, comments=c)
        for key, (p, i, v, c) in sums.items()
    }


def _ordered(
    groups: dict[tuple[str, str | None], Counts], dimension: str, keys: list[str]
) -> list[Group]:
    ordered = [Group(key, groups.get((dimension, key), Counts())) for key in keys]
    unknown = groups.get((dimension, None))
    if unknown is not None and unknown != Counts():
        ordered.append(Group(None, unknown))
    return ordered


def _monday(bin_start: datetime) -> date:
    """The Berlin Monday of a bin that starts Sunday 22:00 UTC."""
    return (bin_start + timedelta(hours=2)).date()


def _weeks(dated: list[tuple[str, int, int, int]]) -> list[Week]:
    """(kind, bin start as epoch seconds, count, count in the bin's first hour) -> one Week per
    Monday from the first to the last, gaps filled with zeros."""
    per_week: dict[date, dict[str, int]] = {}
    for kind, epoch, count, first_hour in dated:
        start = datetime.fromtimestamp(epoch, UTC)
        monday = _monday(start)
        # Sunday 22:00 UTC is 23:00 in Berlin in winter: that hour still belongs to the week before.
        moved = first_hour if start.astimezone(BERLIN).hour == 23 else 0
        for day, n in ((monday - timedelta(days=7), moved), (monday, count - moved)):
            if n:
                counts = per_week.setdefault(day, {})
                counts[kind] = counts.get(kind, 0) + n
    if not per_week:
        return []
    first, last = min(per_week), max(per_week)
    weeks = []
    day = first
    while day <= last:
        counts = per_week.get(day, {})
        weeks.append(
            Week(
                monday=day,
                ideas=counts.get("ideas", 0),
                votes=counts.get("votes", 0),
                comments=counts.get("comments", 0),
            )
        )
        day += timedelta(days=7)
    return weeks
