"""What every export format shows, read once from the database as a stream of rows.

Personal data: a person's name and organisation appear only if they agreed on their profile
(`users.name_in_exports`); otherwise "participant from <sector>, <region>".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.core.choices import REGION_LABELS, SECTOR_LABELS, Region, Sector
from ideas_platform.core.i18n import gettext
from ideas_platform.dashboard.service import Figures
from ideas_platform.exports import queries
from ideas_platform.processes.models import Process
from ideas_platform.ranking import service as ranking
from ideas_platform.ranking.formula import MIN_SECTOR_PARTICIPANTS, breadth_score, counted_sectors
from ideas_platform.ranking.tally import sector_participants
from ideas_platform.shortlists import service as shortlists
from ideas_platform.shortlists.models import DECISION_LABELS

STREAM_CHUNK = 1000
SECTORS = [s.value for s in Sector]
REGIONS = [r.value for r in Region]
# Files of a shortlist that was never frozen carry this date, so they too are byte-identical
# as long as nothing changed.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

Progress = Callable[[int], None]


def sector_label(sector: str | None) -> str:
    return gettext(SECTOR_LABELS[sector]) if sector in SECTOR_LABELS else ""


def region_label(region: str | None) -> str:
    return gettext(REGION_LABELS[region]) if region in REGION_LABELS else ""


def person_label(
    name: str | None,
    organisation: str | None,
    consents: bool | None,
    sector: str | None,
    region: str | None,
) -> str:
    """A person as the exports may show them."""
    if consents and name:
        return f"{name} ({organisation})" if organisation else name
    where = ", ".join(p for p in (sector_label(sector), region_label(region)) if p)
    if not where:
        return gettext("participant")
    return gettext("participant from %(where)s", where=where)


def decision_label(decision: str | None) -> str:
    return gettext(DECISION_LABELS[decision]) if decision in DECISION_LABELS else ""


@dataclass(frozen=True)
class MergedIdea:
    id: int
    title: str
    author: str
    votes: int  # supporters it brought with it
    merged_at: datetime
    note: str


@dataclass(frozen=True)
class IdeaRow:
    id: int
    title: str
    body: str
    theme_id: int | None
    theme: str
    topic: str
    region: str  # label
    author: str
    coauthors: list[str]
    event: str
    event_place: str
    event_starts_at: datetime | None
    created_at: datetime
    vote_count: int
    comment_count: int
    votes_by_sector: dict[str, int]
    votes_by_region: dict[str, int]
    breadth: float
    position: int | None  # place on the accepted shortlist
    decision_code: str | None  # pending, accepted, declined; None when not nominated
    decision: str  # its label; "" when not nominated
    via_theme: bool  # nominated with its whole theme
    rationale: str
    ministry_comment: str
    merged: list[MergedIdea]
    path: str


@dataclass(frozen=True)
class ThemeRow:
    id: int
    title: str
    description: str
    ideas: int
    supporters: int
    rank: int
    locked: bool


@dataclass
class ExportData:
    process: Process
    as_of: datetime  # the freeze, or EPOCH for a shortlist that is not frozen
    frozen: bool
    participants: dict[str, int]
    counted_sectors: list[str]
    themes: list[ThemeRow]
    total_ideas: int
    _session: AsyncSession = field(repr=False)
    _merged: dict[int, list[MergedIdea]] = field(repr=False)
    _coauthors: dict[int, list[str]] = field(repr=False)
    shortlisted_only: bool = False
    # The dashboard's figures (participation by sector, region, week, workshop): XLSX only.
    dashboard: Figures | None = None

    @property
    def min_sector_participants(self) -> int:
        return MIN_SECTOR_PARTICIPANTS

    @property
    def method_text(self) -> str:
        return gettext(
            "Breadth of support: for each sector with at least %(min)s participants, the "
            "support rate (supporters from the sector + 1) / (participants of the sector + 1); "
            "the score is the geometric mean of these rates. Participants are the people who "
            "voted in the process.",
            min=MIN_SECTOR_PARTICIPANTS,
        )

    async def ideas(self, progress: Progress | None = None) -> AsyncIterator[IdeaRow]:
        """The rows, streamed from a server-side cursor (memory does not grow with them)."""
        result = await self._session.stream(
            queries.IDEA_ROWS.execution_options(yield_per=STREAM_CHUNK),
            {"process_id": self.process.id, "shortlisted_only": self.shortlisted_only},
        )
        done = 0
        async for row in result.mappings():
            yield self._idea_row(row)
            done += 1
            if progress is not None and done % STREAM_CHUNK == 0:
                progress(STREAM_CHUNK)
        if progress is not None and done % STREAM_CHUNK:
            progress(done % STREAM_CHUNK)

    def _idea_row(self, row: Any) -> IdeaRow:
        by_sector = {k: int(v) for k, v in row["votes_by_sector"].items()}
        author = person_label(
            row["author_name"],
            row["author_organisation"],
            row["author_consents"],
            row["author_user_sector"] or row["author_sector"],
            row["author_user_region"] or row["region"],
        )
        return IdeaRow(
            id=row["id"],
            title=row["title"],
            body=row["body"],
            theme_id=row["theme_id"],
            theme=row["theme_title"] or "",
            topic=row["topic"] or "",
            region=region_label(row["region"]),
            author=author,
            coauthors=self._coauthors.get(row["id"], []),
            event=row["event_title"] or "",
            event_place=row["event_place"] or "",
            event_starts_at=row["event_starts_at"],
            created_at=row["created_at"],
            vote_count=row["vote_count"],
            comment_count=row["comment_count"],
            votes_by_sector=by_sector,
            votes_by_region={k: int(v) for k, v in row["votes_by_region"].items()},
            breadth=breadth_score(by_sector, self.participants),
            position=row["position"],
            decision_code=row["decision"],
            decision=decision_label(row["decision"]),
            via_theme=bool(row["via_theme"]),
            rationale=row["rationale"] or "",
            ministry_comment=row["decision_comment"] or "",
            merged=self._merged.get(row["id"], []),
            path=f"/ideas/{row['id']}",
        )


async def _merged_by_target(session: AsyncSession, process_id: int) -> dict[int, list[MergedIdea]]:
    """For each idea, the ideas merged into it, also along chains (A into B into C: C has both)."""
    rows = list((await session.execute(queries.MERGES, {"process_id": process_id})).mappings())
    parent = {row["source_id"]: row["target_id"] for row in rows}

    def final(idea_id: int) -> int:
        seen = set()
        while idea_id in parent and idea_id not in seen:
            seen.add(idea_id)
            idea_id = parent[idea_id]
        return idea_id

    merged: dict[int, list[MergedIdea]] = {}
    for row in rows:
        merged.setdefault(final(row["target_id"]), []).append(
            MergedIdea(
                id=row["source_id"],
                title=row["title"],
                author=person_label(
                    row["display_name"],
                    row["organisation"],
                    row["name_in_exports"],
                    row["sector"] or row["author_sector"],
                    row["region"] or row["idea_region"],
                ),
                votes=row["votes"],
                merged_at=row["created_at"],
                note=row["note"] or "",
            )
        )
    return merged


async def _coauthors(session: AsyncSession, process_id: int) -> dict[int, list[str]]:
    coauthors: dict[int, list[str]] = {}
    for row in (await session.execute(queries.COAUTHORS, {"process_id": process_id})).mappings():
        coauthors.setdefault(row["idea_id"], []).append(
            person_label(
                row["display_name"],
                row["organisation"],
                row["name_in_exports"],
                row["sector"],
                row["region"],
            )
        )
    return coauthors


async def _themes(session: AsyncSession, process_id: int) -> list[ThemeRow]:
    return [
        ThemeRow(
            id=s.theme.id,
            title=s.theme.title,
            description=s.theme.description,
            ideas=s.ideas,
            supporters=s.supporters,
            rank=s.rank,
            locked=s.theme.locked,
        )
        for s in await ranking.theme_standings(session, process_id)
    ]


async def load(
    session: AsyncSession, process: Process, *, shortlisted_only: bool = False
) -> ExportData:
    """Everything but the idea rows (which `ExportData.ideas` streams)."""
    frozen_at = await shortlists.frozen_at(session, process.id)
    participants = await sector_participants(session, process.id)
    total = await session.scalar(
        queries.IDEA_COUNT, {"process_id": process.id, "shortlisted_only": shortlisted_only}
    )
    return ExportData(
        process=process,
        as_of=frozen_at or EPOCH,
        frozen=frozen_at is not None,
        participants=participants,
        counted_sectors=counted_sectors(participants),
        themes=await _themes(session, process.id),
        total_ideas=int(total or 0),
        _session=session,
        _merged=await _merged_by_target(session, process.id),
        _coauthors=await _coauthors(session, process.id),
        shortlisted_only=shortlisted_only,
    )
