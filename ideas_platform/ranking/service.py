"""Rankings of a process's published ideas: by votes, by breadth across sectors, by theme."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.core.choices import N_, Sector
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.processes.models import Process
from ideas_platform.ranking.formula import breadth_score, counted_sectors
from ideas_platform.themes.models import Theme
from ideas_platform.themes.service import active_themes, supporters_per_theme
from ideas_platform.votes.models import Vote


class Method(StrEnum):
    VOTES = "votes"
    BREADTH = "breadth"
    THEMES = "themes"


METHOD_LABELS: dict[str, str] = {
    Method.VOTES: N_("Most votes"),
    Method.BREADTH: N_("Breadth of support across sectors"),
    Method.THEMES: N_("By theme"),
}

BAR_WIDTH = 120  # px of the sector bar drawn next to each idea


@dataclass(frozen=True)
class BarSegment:
    sector: str
    votes: int
    x: float
    width: float


def sector_bar(by_sector: dict[str, int], width: int = BAR_WIDTH) -> list[BarSegment]:
    """Stacked segments of the votes by sector, in the fixed order of the sectors."""
    total = sum(by_sector.values())
    segments: list[BarSegment] = []
    x = 0.0
    for sector in Sector:
        votes = by_sector.get(sector.value, 0)
        if votes and total:
            share = width * votes / total
            segments.append(BarSegment(sector.value, votes, round(x, 2), round(share, 2)))
            x += share
    return segments


@dataclass
class RankedIdea:
    idea: Idea
    rank: int
    by_sector: dict[str, int]
    breadth: float

    @property
    def bar(self) -> list[BarSegment]:
        return sector_bar(self.by_sector)


@dataclass(frozen=True)
class ThemeStanding:
    theme: Theme
    supporters: int  # distinct people supporting at least one of its ideas
    rank: int
    ideas: int


@dataclass
class ThemeGroup:
    theme: Theme | None  # None: ideas in no theme
    supporters: int
    rank: int | None
    ideas: list[RankedIdea] = field(default_factory=list)


@dataclass
class Ranking:
    method: Method
    participants: dict[str, int]  # people who voted in the process, by sector
    counted: list[str]  # the sectors that enter the breadth score
    ideas: list[RankedIdea]
    groups: list[ThemeGroup]


async def sector_participants(session: AsyncSession, process_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(User.sector, func.count(func.distinct(Vote.user_id)))
        .join(Vote, Vote.user_id == User.id)
        .where(Vote.process_id == process_id)
        .group_by(User.sector)
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


def _ordered(ideas: list[RankedIdea], method: Method) -> list[RankedIdea]:
    by_breadth = method == Method.BREADTH
    ordered = sorted(
        ideas, key=lambda r: (-r.breadth if by_breadth else 0.0, -r.idea.vote_count, r.idea.id)
    )
    for place, ranked in enumerate(ordered, start=1):
        ranked.rank = place
    return ordered


async def rank(session: AsyncSession, process: Process, method: Method) -> Ranking:
    participants = await sector_participants(session, process.id)
    by_idea = await votes_by_sector(session, process.id)
    ideas = await session.scalars(
        select(Idea).where(Idea.process_id == process.id, Idea.status == IdeaStatus.PUBLISHED)
    )
    ranked = [
        RankedIdea(
            idea=idea,
            rank=0,
            by_sector=by_idea.get(idea.id, {}),
            breadth=breadth_score(by_idea.get(idea.id, {}), participants),
        )
        for idea in ideas
    ]
    ordered = _ordered(ranked, Method.BREADTH if method == Method.BREADTH else Method.VOTES)
    groups: list[ThemeGroup] = []
    if method == Method.THEMES:
        groups = await _theme_groups(session, process.id, ordered)
    return Ranking(method, participants, counted_sectors(participants), ordered, groups)


async def theme_standings(session: AsyncSession, process_id: int) -> list[ThemeStanding]:
    """The active themes, most distinct supporters first (ties share a place, as on the theme
    pages), with their number of published ideas."""
    supporters = await supporters_per_theme(session, process_id)
    sizes = dict(
        (
            await session.execute(
                select(Idea.theme_id, func.count())
                .where(Idea.process_id == process_id, Idea.status == IdeaStatus.PUBLISHED)
                .group_by(Idea.theme_id)
            )
        ).all()
    )
    themes = sorted(
        await active_themes(session, process_id),
        key=lambda t: (-supporters.get(t.id, 0), t.title.lower(), t.id),
    )
    counts = [supporters.get(t.id, 0) for t in themes]
    return [
        ThemeStanding(theme, count, 1 + sum(1 for c in counts if c > count), sizes.get(theme.id, 0))
        for theme, count in zip(themes, counts, strict=True)
    ]


async def _theme_groups(
    session: AsyncSession, process_id: int, ordered: list[RankedIdea]
) -> list[ThemeGroup]:
    groups = {
        standing.theme.id: ThemeGroup(standing.theme, standing.supporters, standing.rank)
        for standing in await theme_standings(session, process_id)
    }
    unsorted = ThemeGroup(None, 0, None)
    for ranked in ordered:
        groups.get(ranked.idea.theme_id or 0, unsorted).ideas.append(ranked)
    return [*groups.values(), *([unsorted] if unsorted.ideas else [])]
