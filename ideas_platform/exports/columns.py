"""The columns of the idea table, shared by CSV and XLSX (headers are translated on use)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ideas_platform.core.choices import N_
from ideas_platform.core.i18n import gettext
from ideas_platform.exports.dataset import SECTORS, IdeaRow, MergedIdea, sector_label

Value = str | int | float | None


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[IdeaRow], Value]
    width: int = 14  # characters, for XLSX


def merged_text(merged: list[MergedIdea]) -> str:
    return "; ".join(
        gettext("#%(id)s %(title)s (%(votes)s votes)", id=m.id, title=m.title, votes=m.votes)
        for m in merged
    )


def _yes(flag: bool) -> str:
    return gettext("yes") if flag else ""


def idea_columns(base_url: str) -> list[Column]:
    sector_columns = [
        Column(
            gettext("Votes: %(sector)s", sector=sector_label(sector)),
            lambda row, s=sector: row.votes_by_sector.get(s, 0),  # type: ignore[misc]
            10,
        )
        for sector in SECTORS
    ]
    return [
        Column(gettext(N_("Shortlist place")), lambda r: r.position, 9),
        Column(gettext(N_("Shortlist status")), lambda r: r.decision, 22),
        Column(gettext(N_("Nominated with its theme")), lambda r: _yes(r.via_theme), 10),
        Column(gettext(N_("ID")), lambda r: r.id, 8),
        Column(gettext(N_("Title")), lambda r: r.title, 40),
        Column(gettext(N_("Description")), lambda r: r.body, 60),
        Column(gettext(N_("Theme")), lambda r: r.theme, 24),
        Column(gettext(N_("Field of action")), lambda r: r.topic, 20),
        Column(gettext(N_("Region")), lambda r: r.region, 20),
        Column(gettext(N_("Author")), lambda r: r.author, 28),
        Column(gettext(N_("Co-authors")), lambda r: "; ".join(r.coauthors), 28),
        Column(gettext(N_("Workshop")), lambda r: r.event, 24),
        Column(gettext(N_("Votes")), lambda r: r.vote_count, 8),
        Column(gettext(N_("Comments")), lambda r: r.comment_count, 9),
        Column(gettext(N_("Breadth score")), lambda r: round(r.breadth, 6), 10),
        *sector_columns,
        Column(gettext(N_("Rationale of the moderation")), lambda r: r.rationale, 40),
        Column(gettext(N_("Comment of the ministry")), lambda r: r.ministry_comment, 40),
        Column(gettext(N_("Merged duplicates")), lambda r: merged_text(r.merged), 40),
        Column(gettext(N_("Link")), lambda r: base_url + r.path, 30),
    ]
