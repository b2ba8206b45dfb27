"""XLSX (xlsxwriter in constant-memory mode: rows go to temporary files as they come).

Four sheets: the ideas; the themes; votes by sector and region; provenance (the workshop an
idea came from and the duplicates merged into it). Text is always written as text, never as a
formula, and neutralised as in the CSV. A fifth sheet, "Participation", has the figures of the
dashboard (by sector, region, week and workshop) and a link to it, when the data carries them.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from typing import Any, BinaryIO

import anyio
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ideas_platform.core.choices import REGION_LABELS, SECTOR_LABELS
from ideas_platform.core.i18n import BERLIN, gettext
from ideas_platform.dashboard.service import Figures, Group
from ideas_platform.exports.cells import safe_text
from ideas_platform.exports.columns import idea_columns
from ideas_platform.exports.dataset import (
    REGIONS,
    SECTORS,
    ExportData,
    Progress,
    region_label,
    sector_label,
)


def _naive(value: datetime) -> datetime:
    return value.astimezone(BERLIN).replace(tzinfo=None)


class _Sheet:
    """A worksheet written row by row (constant memory allows no going back)."""

    def __init__(self, book: Any, name: str, headers: list[tuple[str, int]]) -> None:
        self.sheet: Worksheet = book.add_worksheet(name[:31])
        self.text = book.add_format({"text_wrap": False, "valign": "top"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd hh:mm", "valign": "top"})
        self.header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "valign": "top"})
        for index, (title, width) in enumerate(headers):
            self.sheet.set_column(index, index, width)
            self.sheet.write_string(0, index, safe_text(title), self.header)
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def add(self, values: list[Any]) -> None:
        for index, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, datetime):
                self.sheet.write_datetime(self.row, index, _naive(value), self.date)
            elif isinstance(value, bool):
                self.sheet.write_string(self.row, index, gettext("yes") if value else "")
            elif isinstance(value, int | float):
                self.sheet.write_number(self.row, index, value)
            else:
                self.sheet.write_string(self.row, index, safe_text(str(value)), self.text)
        self.row += 1


async def write_xlsx(
    data: ExportData, out: BinaryIO, base_url: str, progress: Progress | None = None
) -> None:
    with tempfile.TemporaryDirectory(prefix="ideas-xlsx-") as tmpdir:
        book = xlsxwriter.Workbook(
            out,
            {
                "constant_memory": True,
                "tmpdir": tmpdir,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        book.set_properties(
            {
                "title": data.process.title,
                "subject": gettext("Shortlist and ideas"),
                "created": _naive(data.as_of),
            }
        )
        columns = idea_columns(base_url)
        ideas = _Sheet(book, gettext("Ideas"), [(c.header, c.width) for c in columns])
        themes = _Sheet(
            book,
            gettext("Themes"),
            [
                (gettext("Rank"), 7),
                (gettext("ID"), 8),
                (gettext("Theme"), 30),
                (gettext("Description"), 50),
                (gettext("Ideas"), 8),
                (gettext("Distinct supporters"), 12),
                (gettext("Locked"), 8),
            ],
        )
        votes = _Sheet(
            book,
            gettext("Votes by sector and region"),
            [(gettext("ID"), 8), (gettext("Title"), 40), (gettext("Votes"), 8)]
            + [(sector_label(s), 12) for s in SECTORS]
            + [(region_label(r), 12) for r in REGIONS],
        )
        provenance = _Sheet(
            book,
            gettext("Provenance"),
            [
                (gettext("ID"), 8),
                (gettext("Title"), 40),
                (gettext("Origin"), 22),
                (gettext("Workshop or merged idea"), 40),
                (gettext("Place"), 20),
                (gettext("Date"), 16),
                (gettext("Author"), 28),
                (gettext("Votes brought in"), 10),
                (gettext("Note"), 40),
            ],
        )
        for theme in data.themes:
            themes.add(
                [
                    theme.rank,
                    theme.id,
                    theme.title,
                    theme.description,
                    theme.ideas,
                    theme.supporters,
                    theme.locked,
                ]
            )
        async for row in data.ideas(progress):
            ideas.add([c.value(row) for c in columns])
            votes.add(
                [row.id, row.title, row.vote_count]
                + [row.votes_by_sector.get(s, 0) for s in SECTORS]
                + [row.votes_by_region.get(r, 0) for r in REGIONS]
            )
            if row.event:
                provenance.add(
                    [
                        row.id,
                        row.title,
                        gettext("Workshop"),
                        row.event,
                        row.event_place,
                        row.event_starts_at,
                        row.author,
                        None,
                        "",
                    ]
                )
            for merged in row.merged:
                provenance.add(
                    [
                        row.id,
                        row.title,
                        gettext("Merged duplicate"),
                        f"#{merged.id} {merged.title}",
                        "",
                        merged.merged_at,
                        merged.author,
                        merged.votes,
                        merged.note,
                    ]
                )
        if data.dashboard is not None:
            link = f"{base_url}/processes/{data.process.slug}/dashboard"
            _dashboard_sheet(book, data.dashboard, link)
        # Assembling the zip of a large workbook takes seconds: not on the event loop.
        await anyio.to_thread.run_sync(book.close)


def _dashboard_sheet(book: Any, figures: Figures, url: str) -> None:
    """The dashboard's tables one below the other (constant memory: written top to bottom)."""
    sheet: Worksheet = book.add_worksheet(gettext("Participation")[:31])
    bold = book.add_format({"bold": True})
    header = book.add_format({"bold": True, "bg_color": "#E8EEF4"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    link = book.add_format({"font_color": "#0B5CAD", "underline": 1})
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 6, 13)
    row = 0

    def line(values: list[Any], style: Any = None) -> None:
        nonlocal row
        for col, value in enumerate(values):
            if isinstance(value, int | float):
                sheet.write_number(row, col, value, style)
            elif isinstance(value, datetime):
                sheet.write_datetime(row, col, _naive(value), day)
            elif value is not None:
                sheet.write_string(row, col, safe_text(str(value)), style)
        row += 1

    line([gettext("Participation dashboard")], bold)
    sheet.write_url(row, 0, url, link, string=url)
    row += 2
    counts = [gettext("Participants"), gettext("Ideas"), gettext("Votes"), gettext("Comments")]
    for title, groups, labels in (
        (gettext("By sector"), figures.by_sector, SECTOR_LABELS),
        (gettext("By region"), figures.by_region, REGION_LABELS),
    ):
        line([title, *counts], header)
        for group in groups:
            line([_group_label(group, labels), *_counts(group)])
        line([gettext("In total"), *_counts(Group(None, figures.totals))], bold)
        row += 1
    line([gettext("Calendar week"), gettext("Monday"), *counts[1:]], header)
    for week in figures.weeks:
        year, number = week.iso
        monday = datetime(week.monday.year, week.monday.month, week.monday.day, tzinfo=BERLIN)
        line(
            [
                gettext("Week %(week)s/%(year)s", week=number, year=year),
                monday,
                week.ideas,
                week.votes,
                week.comments,
            ]
        )
    row += 1
    line(
        [
            gettext("Workshop"),
            gettext("Date"),
            gettext("Place"),
            gettext("Attendees"),
            gettext("Ideas"),
            gettext("Votes"),
        ],
        header,
    )
    for w in figures.workshops:
        line([w.title, w.starts_at, w.place, w.attendees, w.ideas, w.votes])


def _group_label(group: Group, labels: dict[str, str]) -> str:
    if group.key is None:
        return gettext("Not known (no account)")
    return gettext(labels[group.key])


def _counts(group: Group) -> list[Any]:
    c = group.counts
    return [c.participants, c.ideas, c.votes, c.comments]
