"""The PDF dossier the ministry hands over: a title page, the ranking method, then one page per
accepted shortlist idea in the ministry's order.

The rows are collected from the stream first (a shortlist has at most a few hundred ideas), then
fpdf2 lays the document out in a worker thread. DejaVu Sans is embedded, so German text and most
of Unicode print; characters the font lacks (emoji, say) print as a replacement character.
The file is a function of the data alone: its creation date is the freeze.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import BinaryIO

import anyio
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, VAlign, XPos, YPos
from fpdf.fonts import FontFace
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ideas_platform.core.i18n import (
    format_date,
    format_datetime,
    format_number,
    get_locale,
    gettext,
    ngettext,
)
from ideas_platform.exports.dataset import (
    SECTORS,
    ExportData,
    IdeaRow,
    MergedIdea,
    Progress,
    sector_label,
)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
FONT = "DejaVu"
REPLACEMENT = "\ufffd"

MARGIN = 20.0  # mm
LINE = 5.0  # mm, the height of a line of body text
BAR_MAX = 80.0  # mm, the longest bar of the vote chart
BAR_ROW = 6.0  # mm
LABEL_WIDTH = 45.0  # mm
GREY = (90, 90, 90)
BAR_COLOUR = (46, 94, 140)
BOLD = FontFace(emphasis="BOLD")

_markdown = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")


@dataclass(frozen=True)
class Dossier:
    """Everything the renderer needs, read on the event loop (no database access after)."""

    process_title: str
    frozen: bool
    as_of: datetime
    method_text: str
    participants: dict[str, int]
    counted_sectors: list[str]
    min_sector_participants: int
    ideas: list[IdeaRow]
    base_url: str


# --- Text ---------------------------------------------------------------------------------------


@cache
def _covered() -> frozenset[int]:
    """The code points both embedded fonts have a glyph for."""
    maps = []
    for path in FONT_FILES.values():
        font = TTFont(path, lazy=True)
        try:
            maps.append(set(font.getBestCmap()))
        finally:
            font.close()
    return frozenset(set.intersection(*maps))


def printable(text: str) -> str:
    """The text with what the font cannot show replaced (or, for invisible marks, dropped)."""
    covered = _covered()
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\t", " "))
    out = []
    for char in text:
        if char == "\n" or ord(char) in covered:
            out.append(char)
        elif unicodedata.category(char) not in ("Cc", "Cf", "Mn", "Me", "Cs"):
            out.append(REPLACEMENT)
    return "".join(out)


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "image"):  # an image's content is its alt text
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
    return "".join(parts)


def plain_paragraphs(source: str) -> list[str]:
    """Markdown source as plain paragraphs: markup dropped, list items with their markers."""
    paragraphs: list[str] = []
    lists: list[int | None] = []  # per open list: None (bullets) or the last number
    marker = ""
    for token in _markdown.parse(source):
        if token.type == "bullet_list_open":
            lists.append(None)
        elif token.type == "ordered_list_open":
            lists.append(int(token.attrGet("start") or 1) - 1)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open":
            number = lists[-1]
            if number is None:
                marker = "•"
            else:
                lists[-1] = number + 1
                marker = f"{number + 1}."
            marker = "   " * (len(lists) - 1) + marker + " "
        elif token.type == "inline":
            paragraphs.append(marker + _inline_text(token))
            marker = ""
        elif token.type in ("fence", "code_block"):
            paragraphs.append(token.content.rstrip("\n"))
    return [p for p in paragraphs if p.strip()]


# --- Layout -------------------------------------------------------------------------------------


class _Pdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        for style, path in FONT_FILES.items():
            self.add_font(FONT, style, str(path))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        text = gettext("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 5, text, align=Align.C)
        self.set_text_color(0)

    def text_block(self, text: str, size: float = 10, bold: bool = False, gap: float = 1.5) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.multi_cell(
            0,
            LINE * size / 10,
            printable(text),
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(gap)

    def heading(self, text: str, keep: float = 3 * LINE) -> None:
        """A heading kept on one page with the first `keep` mm of what follows it."""
        if self.will_page_break(2 * LINE + keep):
            self.add_page()
        self.ln(2)
        self.text_block(text, size=12, bold=True, gap=1)

    def fields(self, rows: Sequence[tuple[str, str]]) -> None:
        """Label and value pairs, two columns, no borders; empty values are left out."""
        rows = [(label, value) for label, value in rows if value]
        if not rows:
            return
        self.set_font(FONT, "", 10)
        with self.table(
            col_widths=(LABEL_WIDTH, self.epw - LABEL_WIDTH),
            width=self.epw,
            borders_layout=TableBordersLayout.NONE,
            first_row_as_headings=False,
            text_align=Align.L,
            v_align=VAlign.T,
            line_height=LINE,
            padding=(0.5, 0),
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(printable(label), style=BOLD)
                row.cell(printable(value))
        self.ln(2)


def _title_page(pdf: _Pdf, dossier: Dossier) -> None:
    pdf.add_page()
    pdf.ln(50)
    pdf.text_block(dossier.process_title, size=24, bold=True, gap=6)
    pdf.text_block(gettext("Hand-over dossier"), size=16, gap=2)
    pdf.text_block(gettext("Shortlist of the ministry"), size=12, gap=10)
    if dossier.frozen:
        when = gettext("The shortlist was frozen on %(date)s.", date=format_datetime(dossier.as_of))
    else:
        when = gettext("The shortlist is not frozen yet: it may still change.")
    pdf.text_block(when)
    count = len(dossier.ideas)
    pdf.text_block(ngettext("%(num)s shortlisted idea", "%(num)s shortlisted ideas", count))


def _method_page(pdf: _Pdf, dossier: Dossier) -> None:
    pdf.add_page()
    pdf.text_block(gettext("Ranking method"), size=16, bold=True, gap=4)
    pdf.text_block(dossier.method_text, gap=4)
    pdf.heading(gettext("Participants by sector"))
    pdf.set_font(FONT, "", 10)
    with pdf.table(
        col_widths=(80, 35, 35),
        width=150,
        align=Align.L,
        text_align=(Align.L, Align.R, Align.C),
        line_height=LINE,
        padding=(1, 2),
    ) as table:
        table.row([gettext("Sector"), gettext("Participants"), gettext("Counted")])
        for sector in SECTORS:
            counted = sector in dossier.counted_sectors
            table.row(
                [
                    sector_label(sector),
                    format_number(dossier.participants.get(sector, 0)),
                    gettext("yes") if counted else "–",
                ]
            )
    pdf.ln(3)
    pdf.text_block(
        gettext(
            "A sector counts in the breadth score once at least %(min)s of its members have "
            "voted in the process.",
            min=dossier.min_sector_participants,
        )
    )
    pdf.heading(gettext("Names"))
    pdf.text_block(
        gettext(
            "Authors appear with their name only if they agreed to it on their profile; "
            "otherwise the dossier gives their sector and region."
        )
    )


def _vote_chart(pdf: _Pdf, votes_by_sector: dict[str, int]) -> None:
    """One horizontal bar per sector, scaled to the largest."""
    if pdf.will_page_break(len(SECTORS) * BAR_ROW):
        pdf.add_page()
    largest = max((votes_by_sector.get(s, 0) for s in SECTORS), default=0) or 1
    pdf.set_font(FONT, "", 9)
    pdf.set_fill_color(*BAR_COLOUR)
    for sector in SECTORS:
        count = votes_by_sector.get(sector, 0)
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_xy(x, y)
        pdf.cell(LABEL_WIDTH, BAR_ROW, printable(sector_label(sector)))
        width = BAR_MAX * count / largest
        if width:
            pdf.rect(x + LABEL_WIDTH, y + 1, width, BAR_ROW - 2, style="F")
        pdf.set_xy(x + LABEL_WIDTH + width + 2, y)
        pdf.cell(20, BAR_ROW, format_number(count))
        pdf.set_xy(x, y + BAR_ROW)
    pdf.ln(2)


def _merged_line(merged: MergedIdea) -> str:
    parts = [
        f"#{merged.id} {merged.title} — {merged.author}",
        ngettext("%(num)s vote brought in", "%(num)s votes brought in", merged.votes),
        gettext("merged on %(date)s", date=format_date(merged.merged_at)),
    ]
    if merged.note:
        parts.append(merged.note)
    return ", ".join(parts)


def _workshop(row: IdeaRow) -> str:
    if not row.event:
        return ""
    return ", ".join(p for p in (row.event, row.event_place, format_date(row.event_starts_at)) if p)


def _idea_page(pdf: _Pdf, row: IdeaRow, base_url: str) -> None:
    pdf.add_page()
    pdf.set_text_color(*GREY)
    pdf.text_block(gettext("Place %(place)s", place=row.position or "–"), size=11, bold=True)
    pdf.set_text_color(0)
    pdf.text_block(row.title, size=16, bold=True, gap=3)
    theme = row.theme
    if theme and row.via_theme:
        with_theme = gettext("nominated with its theme")
        theme = f"{theme} ({with_theme})"
    pdf.fields(
        [
            (gettext("Theme"), theme),
            (gettext("Region"), row.region),
            (gettext("Author"), row.author),
            (gettext("Co-authors"), "; ".join(row.coauthors)),
            (gettext("Workshop"), _workshop(row)),
        ]
    )
    for paragraph in plain_paragraphs(row.body):
        pdf.text_block(paragraph)
    pdf.heading(gettext("Votes"), keep=LINE + len(SECTORS) * BAR_ROW)
    pdf.text_block(
        ngettext("%(num)s vote", "%(num)s votes", row.vote_count, num=format_number(row.vote_count))
        + " · "
        + gettext("breadth score %(score)s", score=format_number(round(row.breadth, 3)))
    )
    _vote_chart(pdf, row.votes_by_sector)
    if row.rationale:
        pdf.heading(gettext("Rationale of the moderation"))
        pdf.text_block(row.rationale)
    if row.ministry_comment:
        pdf.heading(gettext("Comment of the ministry"))
        pdf.text_block(row.ministry_comment)
    if row.merged:
        pdf.heading(gettext("Ideas merged into this one"))
        for merged in row.merged:
            pdf.text_block("• " + _merged_line(merged))
    url = base_url.rstrip("/") + row.path
    pdf.heading(gettext("On the platform"))
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, LINE, printable(url), align=Align.L, link=url)


def render(dossier: Dossier) -> bytes:
    pdf = _Pdf()
    pdf.set_title(printable(dossier.process_title))
    pdf.set_subject(gettext("Hand-over dossier"))
    pdf.set_lang(get_locale())
    pdf.set_creation_date(dossier.as_of)
    _title_page(pdf, dossier)
    _method_page(pdf, dossier)
    for row in dossier.ideas:
        _idea_page(pdf, row, dossier.base_url)
    return bytes(pdf.output())


async def write_pdf(
    data: ExportData, out: BinaryIO, base_url: str, progress: Progress | None = None
) -> None:
    dossier = Dossier(
        process_title=data.process.title,
        frozen=data.frozen,
        as_of=data.as_of,
        method_text=data.method_text,
        participants=dict(data.participants),
        counted_sectors=list(data.counted_sectors),
        min_sector_participants=data.min_sector_participants,
        ideas=[row async for row in data.ideas(progress)],
        base_url=base_url,
    )
    # Layout and font subsetting take a while; the worker thread sees this task's locale.
    out.write(await anyio.to_thread.run_sync(render, dossier))
