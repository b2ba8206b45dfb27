"""The vote tally a ranking is ordered by, and its per-process cache.

Counting a process's votes by idea and sector reads every vote (about a second at a million
votes), while a ranking page shows fifty ideas. So each app process keeps the last tally of a
process and asks PostgreSQL first, from two indexes, whether anything it depends on changed: the
number of published ideas and the sum of their votes (a vote cast, withdrawn or moved, an idea
hidden, merged or published) and the time of the newest vote (a vote moved from one idea to
another). If so, it counts again, but at most every `ranking_refresh_seconds`: while a workshop
votes, the ranking is at most that old. A change of a voter's sector changes none of these; the
tally is therefore counted again after `MAX_AGE_SECONDS` in any case.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, cast

from litestar.datastructures import State
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.ranking.formula import breadth_score
from ideas_platform.votes.models import Vote

MAX_AGE_SECONDS = 60.0
_CACHE_KEY = "ranking_tally_cache"


@dataclass(frozen=True)
class Standing:
    idea_id: int
    votes: int
    breadth: float


@dataclass(frozen=True)
class Tally:
    participants: dict[str, int]  # people who voted in the process, by sector
    by_idea: dict[int, dict[str, int]]  # supporters of each idea, by sector
    by_votes: list[Standing]  # the published ideas, most votes first
    by_breadth: list[Standing]  # the published ideas, broadest support first
    place_by_votes: dict[int, int] = field(default_factory=dict)
    place_by_breadth: dict[int, int] = field(default_factory=dict)
    breadth: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for place, s in enumerate(self.by_votes, start=1):
            self.place_by_votes[s.idea_id] = place
            self.breadth[s.idea_id] = s.breadth
        for place, s in enumerate(self.by_breadth, start=1):
            self.place_by_breadth[s.idea_id] = place

    @property
    def size(self) -> int:
        return len(self.by_votes)


async def sector_participants(session: AsyncSession, process_id: int) -> dict[str, int]:
    voted = select(Vote.user_id).where(Vote.user_id == User.id, Vote.process_id == process_id)
    rows = await session.execute(
        select(User.sector, func.count()).where(voted.exists()).group_by(User.sector)
    )
    return {str(sector): count for sector, count in rows}


async def votes_by_sector(session: AsyncSession, process_id: int) -> dict[int, dict[str, int]]:
    """For every idea of the process with votes: its supporters by sector."""
    rows = await session.execute(
        select(Vote.idea_id, User.sector, func.count())
        .join(User, User.id == Vote.user_id)
        .where(Vote.process_id == process_id)
        .group_by(Vote.idea_id, User.sector)
    )
    result: dict[int, dict[str, int]] = {}
    for idea_id, sector, count in rows:
        result.setdefault(idea_id, {})[str(sector)] = count
    return result


async def count_tally(session: AsyncSession, process_id: int) -> Tally:
    participants = await sector_participants(session, process_id)
    by_idea = await votes_by_sector(session, process_id)
    rows = await session.execute(
        select(Idea.id, Idea.vote_count).where(
            Idea.process_id == process_id, Idea.status == IdeaStatus.PUBLISHED
        )
    )
    standings = [
        Standing(idea_id, votes, breadth_score(by_idea.get(idea_id, {}), participants))
        for idea_id, votes in rows
    ]
    return Tally(
        participants,
        by_idea,
        sorted(standings, key=lambda s: (-s.votes, s.idea_id)),
        sorted(standings, key=lambda s: (-s.breadth, -s.votes, s.idea_id)),
    )


# One statement, built once (each ranking request asks it): the number of published ideas, the
# sum of their votes, and the time of the newest vote.
_FINGERPRINT = select(
    func.count(),
    func.coalesce(func.sum(Idea.vote_count), 0),
    select(func.max(Vote.created_at))
    .where(Vote.process_id == bindparam("process_id"))
    .scalar_subquery(),
).where(Idea.process_id == bindparam("process_id"), Idea.status == IdeaStatus.PUBLISHED)


async def fingerprint(session: AsyncSession, process_id: int) -> tuple[Any, ...]:
    return tuple((await session.execute(_FINGERPRINT, {"process_id": process_id})).one())


@dataclass(frozen=True)
class _Entry:
    tally: Tally
    fingerprint: tuple[Any, ...]
    counted_at: float


class TallyCache:
    """The last tally of each process, in this app process (see the module's docstring)."""

    def __init__(self, refresh_seconds: float) -> None:
        self.refresh_seconds = refresh_seconds
        self._entries: dict[int, _Entry] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def _fresh(self, entry: _Entry | None, current: tuple[Any, ...]) -> bool:
        if entry is None:
            return False
        age = time.monotonic() - entry.counted_at
        if entry.fingerprint == current:
            return age < MAX_AGE_SECONDS
        return age < self.refresh_seconds

    async def tally(self, session: AsyncSession, process_id: int) -> Tally:
        current = await fingerprint(session, process_id)
        if self._fresh(self._entries.get(process_id), current):
            return self._entries[process_id].tally
        # One count at a time per process; who waited takes the count just made.
        async with self._locks.setdefault(process_id, asyncio.Lock()):
            entry = self._entries.get(process_id)
            if entry is not None and self._fresh(entry, current):
                return entry.tally
            tally = await count_tally(session, process_id)
            self._entries[process_id] = _Entry(tally, current, time.monotonic())
            return tally


def tally_cache(state: State) -> TallyCache:
    """The app's tally cache: one per app process, made on first use."""
    cache = state.get(_CACHE_KEY)
    if cache is None:
        cache = state[_CACHE_KEY] = TallyCache(state.settings.ranking_refresh_seconds)
    return cast(TallyCache, cache)
