"""Rankings of a process's published ideas: by votes, by breadth across sectors, by theme."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.core.choices import N_, LabelledEnum, Sector
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.processes.models import Process
from ideas_platform.ranking.formula import counted_sectors
from ideas_platform.ranking.tally import (
    Standing,
    Tally,
    count_tally,
)
from ideas_platform.themes.models import Theme
from ideas_platform.themes.service import active_themes, supporters_per_theme


class Method(LabelledEnum):
    VOTES = "votes", N_("Most votes")
    BREADTH = "breadth", N_("Breadth of support across sectors")
    THEMES = "themes", N_("By theme")


METHOD_LABELS: dict[str, str] = Method.labels()

BAR_WIDTH = 120  # px of the sector bar drawn next to each idea


@dataclass(frozen=True)
class BarSegment:
    sector: str
    label: str  # the sector's name in the current language
    votes: int
    x: float
    width: float


def sector_bar(by_sector: dict[str, int], width: int = BAR_WIDTH) -> list[BarSegment]:
    """Stacked segments of the votes by sector, in the fixed order of the sectors (pages draw
    them through `ranking.templating.SectorBars`, which keeps the drawn bars)."""
    total = sum(by_sector.values())
    segments: list[BarSegment] = []
    x = 0.0
    for sector in Sector:
        votes = by_sector.get(sector.value, 0)
        if votes and total:
            share = width * votes / total
            segments.append(
                BarSegment(sector.value, sector.text, votes, round(x, 2), round(share, 2))
            )
            x += share
    return segments


@dataclass(frozen=True, slots=True)
class RankedIdeaSummary:
    """What a ranking shows of an idea (its columns, not the whole ORM object)."""

    id: int
    title: str
    theme_id: int | None
    vote_count: int


@dataclass
class RankedIdea:
    idea: RankedIdeaSummary
    rank: int
    by_sector: dict[str, int]
    breadth: float


# Built once: a statement built per request costs SQLAlchemy more CPU than PostgreSQL needs.
_SHOWN_IDEAS = select(Idea.id, Idea.title, Idea.theme_id, Idea.vote_count).where(
    Idea.id.in_(bindparam("ids", expanding=True)), Idea.status == IdeaStatus.PUBLISHED
)


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
    total: int = 0  # its published ideas; `ideas` holds the first few
    ideas: list[RankedIdea] = field(default_factory=list)


@dataclass
class Ranking:
    method: Method
    participants: dict[str, int]  # people who voted in the process, by sector
    counted: list[str]  # the sectors that enter the breadth score
    total: int  # published ideas ranked
    ideas: list[RankedIdea]  # the window asked for (all by default)
    groups: list[ThemeGroup]


async def rank(
    session: AsyncSession,
    process: Process,
    method: Method,
    *,
    start: int = 0,
    count: int | None = None,
    per_group: int = 10,
    tally: Tally | None = None,
) -> Ranking:
    """The ranking of the process's published ideas. `ideas` holds places start+1 to
    start+count; with method THEMES each group holds its first `per_group` ideas instead.
    `tally`: the votes counted (tally.TallyCache keeps one), else they are counted now."""
    tally = tally or await count_tally(session, process.id)
    by_breadth = method == Method.BREADTH
    order = tally.by_breadth if by_breadth else tally.by_votes
    places = tally.place_by_breadth if by_breadth else tally.place_by_votes
    groups: list[tuple[ThemeGroup, list[int]]] = []
    if method == Method.THEMES:
        groups = await _theme_groups(session, process.id, order, per_group)
        shown = [idea_id for _, ids in groups for idea_id in ids]
    else:
        shown = [s.idea_id for s in order[start : None if count is None else start + count]]
    loaded = (
        {
            row.id: RankedIdeaSummary(row.id, row.title, row.theme_id, row.vote_count)
            for row in await session.execute(_SHOWN_IDEAS, {"ids": shown})
        }
        if shown
        else {}
    )

    def ranked(ids: list[int]) -> list[RankedIdea]:
        # An idea hidden since the tally was counted is left out.
        return [
            RankedIdea(loaded[i], places[i], tally.by_idea.get(i, {}), tally.breadth[i])
            for i in ids
            if i in loaded
        ]

    for group, ids in groups:
        group.ideas = ranked(ids)
    return Ranking(
        method,
        tally.participants,
        counted_sectors(tally.participants),
        len(order),
        [] if groups else ranked(shown),
        [group for group, _ in groups],
    )


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
    session: AsyncSession, process_id: int, order: list[Standing], per_group: int
) -> list[tuple[ThemeGroup, list[int]]]:
    """The theme groups in their order, each with the ids of its first ideas."""
    groups: dict[int, tuple[ThemeGroup, list[int]]] = {
        standing.theme.id: (ThemeGroup(standing.theme, standing.supporters, standing.rank), [])
        for standing in await theme_standings(session, process_id)
    }
    unsorted: tuple[ThemeGroup, list[int]] = (ThemeGroup(None, 0, None), [])
    theme_of = dict(
        (
            await session.execute(
                select(Idea.id, Idea.theme_id).where(
                    Idea.process_id == process_id, Idea.status == IdeaStatus.PUBLISHED
                )
            )
        ).all()
    )
    for standing in order:
        group, ids = groups.get(theme_of.get(standing.idea_id) or 0, unsorted)
        group.total += 1
        if len(ids) < per_group:
            ids.append(standing.idea_id)
    return [*groups.values(), *([unsorted] if unsorted[0].total else [])]
