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

Speed (bench/dashboard.py: 20,000 ideas, 1,000,000 votes): the votes are read twice, once per
voter from the index `ix_votes_user_process` (index-only) and once per week from the table
(parallel, aggregated per worker). The per-week statement runs on its own connection while the
other two run on a second one, so that both cores of the database work at once.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ideas_platform.core.choices import Region, Sector
from ideas_platform.core.i18n import BERLIN
from ideas_platform.core.kv_store import PostgresStore

CACHE_NAMESPACE = "dashboard"  # kv_store keys "dashboard:process:<id>" (bench/dashboard.py)
MAX_AGE = 60  # seconds

# Weeks are binned from a Sunday 22:00 UTC, which is Monday 00:00 in Berlin in summer time. In
# winter the week starts an hour later, so each bin also counts its first hour, which then
# belongs to the week before (see `_weeks`). Fixed-width bins are cheap for a million votes;
# converting every timestamp to Berlin time is not.
#   bin:        date_bin('7 days', created_at, TIMESTAMPTZ '2024-01-07 22:00:00+00')
#   first_hour: count(*) FILTER (WHERE created_at < bin + INTERVAL '1 hour')

# JIT compiling costs more than it saves here; each statement plans for its own process.
_SETTINGS = text(
    "SELECT set_config('jit', 'off', true), "
    "set_config('plan_cache_mode', 'force_custom_plan', true)"
)

VOTES_PER_WEEK = text(
    """
    SELECT extract(epoch FROM bin)::bigint AS bin, count(*) AS n,
           count(*) FILTER (WHERE created_at < bin + INTERVAL '1 hour') AS first_hour
    FROM (
      SELECT date_bin('7 days', created_at, TIMESTAMPTZ '2024-01-07 22:00:00+00') AS bin,
             created_at
      FROM votes WHERE process_id = :process_id
      -- An empty second branch hides the expression from the planner, which would otherwise
      -- expect as many weeks as timestamps and skip aggregating within each parallel worker.
      UNION ALL SELECT NULL, NULL WHERE false
    ) AS v
    GROUP BY bin
    """
)

# Per voter, from the index (user_id, process_id) alone; the planner prefers the table.
VOTES_PER_VOTER = text(
    "SELECT user_id, count(*) AS votes FROM votes WHERE process_id = :process_id GROUP BY user_id"
)

FIGURES = text(
    """
    WITH i AS MATERIALIZED (
      SELECT id, author_id, event_id, status = 'published' AS counted, created_at, vote_count
      FROM ideas WHERE process_id = :process_id
    ), c AS MATERIALIZED (
      SELECT c.author_id, c.created_at,
             i.counted AND NOT c.hidden AND c.deleted_at IS NULL AS counted
      FROM comments c JOIN i ON i.id = c.idea_id
    ), people AS (
      SELECT user_id, sum(ideas) AS ideas, sum(votes) AS votes, sum(comments) AS comments
      FROM (
        SELECT author_id AS user_id, count(*) FILTER (WHERE counted) AS ideas, 0 AS votes,
               0 AS comments
        FROM i GROUP BY author_id
        UNION ALL
        SELECT user_id, 0, votes, 0
        FROM unnest(CAST(:voters AS bigint[]), CAST(:votes AS bigint[])) AS v(user_id, votes)
        UNION ALL
        SELECT author_id, 0, 0, count(*) FILTER (WHERE counted) FROM c GROUP BY author_id
        UNION ALL
        SELECT a.user_id, 0, 0, 0
        FROM event_attendees a JOIN events e ON e.id = a.event_id
        WHERE e.process_id = :process_id
      ) AS activity
      GROUP BY user_id
    ), breakdown AS (
      SELECT CASE WHEN GROUPING(u.sector) = 0 THEN 'sector'
                  WHEN GROUPING(u.region) = 0 THEN 'region' ELSE 'total' END AS dimension,
             coalesce(u.sector, u.region) AS key,
             count(u.id) AS participants, sum(p.ideas) AS ideas, sum(p.votes) AS votes,
             sum(p.comments) AS comments
      FROM people p LEFT JOIN users u ON u.id = p.user_id
      GROUP BY GROUPING SETS ((u.sector), (u.region), ())
    ), weeks AS (
      SELECT kind, extract(epoch FROM bin)::bigint AS bin, count(*) AS n,
             count(*) FILTER (WHERE created_at < bin + INTERVAL '1 hour') AS first_hour
      FROM (
        SELECT 'ideas' AS kind, created_at,
               date_bin('7 days', created_at, TIMESTAMPTZ '2024-01-07 22:00:00+00') AS bin
        FROM i WHERE counted
        UNION ALL
        SELECT 'comments', created_at,
               date_bin('7 days', created_at, TIMESTAMPTZ '2024-01-07 22:00:00+00')
        FROM c WHERE counted
      ) AS dated
      GROUP BY kind, bin
    ), workshops AS (
      SELECT e.id, e.title, e.place, extract(epoch FROM e.starts_at)::bigint AS starts_at,
             (SELECT count(*) FROM event_attendees a WHERE a.event_id = e.id) AS attendees,
             count(i.id) FILTER (WHERE i.counted) AS ideas,
             coalesce(sum(i.vote_count) FILTER (WHERE i.counted), 0) AS votes
      FROM events e LEFT JOIN i ON i.event_id = e.id
      WHERE e.process_id = :process_id
      GROUP BY e.id
    )
    SELECT (SELECT json_agg(b) FROM breakdown b) AS breakdown,
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


async def dashboard(engine: AsyncEngine, process_id: int) -> Figures:
    """The figures as computed at most MAX_AGE seconds ago."""
    store = _store(engine)
    cached = await store.get(cache_key(process_id))
    if cached is not None:
        try:
            return msgspec.json.decode(cached, type=Figures)
        except msgspec.ValidationError:
            pass  # written by an older version: compute anew
    figures = await compute(engine, process_id)
    await store.set(cache_key(process_id), msgspec.json.encode(figures), expires_in=MAX_AGE)
    return figures


async def invalidate(engine: AsyncEngine, process_id: int) -> None:
    """Forget the cached figures (the next view computes them)."""
    await _store(engine).delete(cache_key(process_id))


async def compute(engine: AsyncEngine, process_id: int) -> Figures:
    """The figures now, from the database (two connections at once)."""
    params = {"process_id": process_id}

    async def votes_per_week() -> list[Any]:
        async with engine.connect() as conn, conn.begin():
            await conn.execute(_SETTINGS)
            return list((await conn.execute(VOTES_PER_WEEK, params)).all())

    async def the_rest() -> Any:
        async with engine.connect() as conn:
            voters = await _votes_per_voter(conn, process_id)
            async with conn.begin():
                await conn.execute(_SETTINGS)
                return (
                    await conn.execute(
                        FIGURES,
                        {**params, "voters": list(voters), "votes": list(voters.values())},
                    )
                ).one()

    vote_weeks, (breakdown, weeks, workshops) = await asyncio.gather(votes_per_week(), the_rest())
    groups = _groups(_json(breakdown))
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


def _groups(rows: list[dict[str, Any]]) -> dict[tuple[str, str | None], Counts]:
    return {
        (row["dimension"], row["key"]): Counts(
            participants=int(row["participants"] or 0),
            ideas=int(row["ideas"] or 0),
            votes=int(row["votes"] or 0),
            comments=int(row["comments"] or 0),
        )
        for row in rows
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
