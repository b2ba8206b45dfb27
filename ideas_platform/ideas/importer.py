"""Import ideas from a CSV or Excel (.xlsx) file: a preview that checks every row, then every
row or none.

The first row names the columns: title, body, topic, region, author_sector (see COLUMNS).
Region and sector take the code, the English or the German label, in any case. Rows are checked
with the rules of the idea form (`ideas.service.validate`); problems name the row of the file.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache

import openpyxl
from openpyxl.workbook.workbook import Workbook
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.audit.service import record as audit
from ideas_platform.core.choices import N_, REGION_LABELS, SECTOR_LABELS, Region, Sector
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError, InvalidInput, NotFoundError
from ideas_platform.core.i18n import gettext, translations
from ideas_platform.core.markdown import render_markdown
from ideas_platform.core.validation import clean_text, length_problem
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.ideas.service import CleanIdea, IdeaForm, validate
from ideas_platform.processes.models import Process, Topic
from ideas_platform.processes.service import get_by_slug, list_topics
from ideas_platform.similarity.service import index_and_record

MAX_MEGABYTES = 2
MAX_FILE_BYTES = MAX_MEGABYTES * 1024 * 1024
MAX_ROWS = 2000
# An .xlsx file is a zip archive: its unpacked parts must stay small, too.
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
COLUMNS = ("title", "body", "topic", "region", "author_sector")
REQUIRED_COLUMNS = ("title", "body", "region")
COLUMN_ALIASES = {
    "sector": "author_sector",
    "titel": "title",
    "beschreibung": "body",
    "thema": "topic",
    "sektor": "author_sector",
}
TOPIC_MAX_LENGTH = 120

NO_FILE = N_("Please choose a CSV or Excel file (.xlsx).")
TOO_LARGE = N_("The file is larger than %(size)s MB. Please split it into smaller files.")
TOO_MANY_ROWS = N_("The file has more than %(max)s rows. Please import at most %(max)s at a time.")
UNREADABLE = N_(
    "The file could not be read. Please upload a CSV file (UTF-8) or an Excel file (.xlsx)."
)
NOT_UTF8 = N_(
    "The file is not UTF-8 encoded. In Excel, save it as “CSV UTF-8”, or upload the .xlsx file."
)
MISSING_COLUMNS = N_("The first row must name the columns. Missing: %(columns)s.")
NO_ROWS = N_("The file contains no ideas.")
NO_PROCESS = N_("The process %(slug)s does not exist.")
ROW_FIELD = N_("In row %(row)s, column “%(column)s”: %(problem)s")
UNKNOWN_REGION = N_("In row %(row)s, column “region”: “%(value)s” is not a known region.")
UNKNOWN_SECTOR = N_("In row %(row)s, column “author_sector”: “%(value)s” is not a known sector.")
UNKNOWN_TOPIC = N_("In row %(row)s, column “topic”: “%(value)s” is not a topic of this process.")
REQUIRED = N_("This field is required.")
TOO_LONG = N_("This text is too long.")


@dataclass
class Problem:
    """What is wrong with the file or a row: an untranslated message and its parameters;
    `detail` is a message of its own (a field's validation message), shown as %(problem)s."""

    message: str
    params: dict[str, object] = field(default_factory=dict)
    detail: str | None = None

    def render(self, translate: Callable[[str], str]) -> str:
        params = dict(self.params)
        if self.detail is not None:
            params["problem"] = translate(self.detail)
        text = translate(self.message)
        return text % params if params else text

    def __str__(self) -> str:
        """In English (the messages are English): for the command line and logs."""
        return self.render(lambda message: message)

    def translated(self) -> str:
        return self.render(gettext)


class ImportFailed(DomainError):
    """Nothing was imported. `details` says why (translatable); `problems` in English (CLI);
    `preview` is the checked file when its rows were the problem."""

    status_code = 422
    code = "import_failed"

    def __init__(self, details: list[Problem], preview: Preview | None = None) -> None:
        self.details = details
        self.preview = preview
        super().__init__("; ".join(str(problem) for problem in details))

    @property
    def problems(self) -> list[str]:
        return [str(problem) for problem in self.details]

    def translated_problems(self) -> list[str]:
        return [problem.translated() for problem in self.details]

    def translated(self) -> str:
        return " ".join(self.translated_problems())


def _fail(message: str, **params: object) -> ImportFailed:
    return ImportFailed([Problem(message, params)])


# Reading the file ---------------------------------------------------------------------------


@dataclass
class Row:
    number: int  # in the file; 1 is the header
    values: dict[str, str]  # by column name (COLUMNS)


def check_size(data: bytes) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise _fail(TOO_LARGE, size=MAX_MEGABYTES)


def parse_rows(data: bytes, filename: str = "") -> list[Row]:
    """The rows of a CSV file (UTF-8, separated by `,` `;` or tabs) or of the first sheet of an
    .xlsx file, blank rows left out. ImportFailed if the file as a whole cannot be used."""
    check_size(data)
    if not data.strip():
        raise _fail(NO_ROWS)
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    return _records(_csv_cells(data))


def _csv_cells(data: bytes) -> Iterator[list[str]]:
    if b"\x00" in data:  # binary, e.g. an old .xls file
        raise _fail(UNREADABLE)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(NOT_UTF8) from exc
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text), dialect)
    except csv.Error as exc:
        raise _fail(UNREADABLE) from exc


def _open_xlsx(data: bytes) -> Workbook:
    # A damaged file fails in many ways (zip, XML, missing parts): all of them are "unreadable".
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception as exc:
        raise _fail(UNREADABLE) from exc
    if unpacked > MAX_UNPACKED_BYTES:  # a zip bomb, or a sheet far beyond MAX_ROWS
        raise _fail(TOO_LARGE, size=MAX_MEGABYTES)
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise _fail(UNREADABLE) from exc


def _read_xlsx(data: bytes) -> list[Row]:
    workbook = _open_xlsx(data)
    try:
        return _records(workbook.worksheets[0].iter_rows(values_only=True))
    except ImportFailed:
        raise
    except Exception as exc:
        raise _fail(UNREADABLE) from exc
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column_name(value: object) -> str:
    name = _cell_text(value).strip().casefold()
    return COLUMN_ALIASES.get(name, name)


def _records(cells: Iterable[Sequence[object]]) -> list[Row]:
    lines = iter(cells)
    header = [_column_name(value) for value in next(lines, [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise _fail(MISSING_COLUMNS, columns=", ".join(missing))
    rows: list[Row] = []
    for number, line in enumerate(lines, start=2):
        values = {
            name: _cell_text(value)
            for name, value in zip(header, line, strict=False)
            if name in COLUMNS
        }
        if not any(value.strip() for value in values.values()):
            continue
        if len(rows) == MAX_ROWS:
            raise _fail(TOO_MANY_ROWS, max=MAX_ROWS)
        rows.append(Row(number, values))
    if not rows:
        raise _fail(NO_ROWS)
    return rows


def encode_upload(data: bytes) -> str:
    """The file for a hidden form field: the preview's confirmation carries it back."""
    return base64.b64encode(data).decode("ascii")


def decode_upload(text: str) -> bytes:
    if len(text) > (MAX_FILE_BYTES + 2) // 3 * 4:
        raise _fail(TOO_LARGE, size=MAX_MEGABYTES)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _fail(UNREADABLE) from exc


# Checking the rows --------------------------------------------------------------------------


def _normalise(name: str) -> str:
    return " ".join(name.split()).casefold()


def _spellings(labels: dict[str, str]) -> dict[str, str]:
    """Every accepted spelling -> code: the code, the English and the German label, and a label
    without its note ("Dresden" for "Dresden (city)") where that names only one choice."""
    german = translations("de")
    exact: dict[str, str] = {}
    short: dict[str, set[str]] = {}
    for code, label in labels.items():
        for name in (str(code), label, german.gettext(label)):
            exact[_normalise(name)] = str(code)
            short.setdefault(_normalise(name.split(" (")[0]), set()).add(str(code))
    for name, codes in short.items():
        if len(codes) == 1:
            exact.setdefault(name, codes.pop())
    return exact


@cache
def region_spellings() -> dict[str, str]:
    return _spellings(REGION_LABELS)


@cache
def sector_spellings() -> dict[str, str]:
    return _spellings(SECTOR_LABELS)


@dataclass
class PreviewRow:
    number: int
    values: dict[str, str]  # as written in the file
    clean: CleanIdea | None = None  # None when the row has problems
    sector: Sector | None = None
    region: Region | None = None
    topic_name: str = ""
    topic_id: int | None = None  # None with a topic_name: a new topic (command line only)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Preview:
    rows: list[PreviewRow]

    @property
    def problems(self) -> list[Problem]:
        return [problem for row in self.rows for problem in row.problems]

    @property
    def ok(self) -> bool:
        return not self.problems


async def _check_row(
    session: AsyncSession,
    process: Process,
    row: Row,
    topics: dict[str, Topic],
    create_topics: bool,
) -> PreviewRow:
    result = PreviewRow(row.number, row.values)
    problems = result.problems
    at_row = {"row": row.number}
    region_raw = row.values.get("region", "").strip()
    region = region_spellings().get(_normalise(region_raw))
    result.region = Region(region) if region else None
    try:
        result.clean = await validate(
            session,
            process,
            IdeaForm(
                title=row.values.get("title", ""),
                body=row.values.get("body", ""),
                region=region or "",
            ),
        )
    except InvalidInput as exc:
        problems += [
            Problem(ROW_FIELD, {**at_row, "column": column}, detail=message)
            for column, message in exc.errors.items()
            if column in ("title", "body")
        ]
    if not region_raw:
        problems.append(Problem(ROW_FIELD, {**at_row, "column": "region"}, detail=REQUIRED))
    elif region is None:
        problems.append(Problem(UNKNOWN_REGION, {**at_row, "value": region_raw}))
    sector_raw = row.values.get("author_sector", "").strip()
    if sector_raw:
        sector = sector_spellings().get(_normalise(sector_raw))
        result.sector = Sector(sector) if sector else None
        if sector is None:
            problems.append(Problem(UNKNOWN_SECTOR, {**at_row, "value": sector_raw}))
    result.topic_name = clean_text(row.values.get("topic"), max_length=TOPIC_MAX_LENGTH)
    if result.topic_name:
        topic = topics.get(result.topic_name.casefold())
        if topic is not None:
            result.topic_name, result.topic_id = topic.name, topic.id
        elif length_problem(result.topic_name, minimum=1, maximum=TOPIC_MAX_LENGTH):
            problems.append(Problem(ROW_FIELD, {**at_row, "column": "topic"}, detail=TOO_LONG))
        elif not create_topics:
            problems.append(Problem(UNKNOWN_TOPIC, {**at_row, "value": result.topic_name}))
    if problems:
        result.clean = None
    return result


async def preview(
    session: AsyncSession,
    process: Process,
    data: bytes,
    filename: str = "",
    *,
    create_topics: bool = False,
) -> Preview:
    """Every row of the file, checked. ImportFailed if the file as a whole cannot be used.
    Unknown topics are a problem unless `create_topics` (then the import creates them)."""
    rows = parse_rows(data, filename)
    topics = {topic.name.casefold(): topic for topic in await list_topics(session, process.id)}
    return Preview([await _check_row(session, process, row, topics, create_topics) for row in rows])


# Writing ------------------------------------------------------------------------------------


def card_idea(
    process_id: int,
    clean: CleanIdea,
    *,
    author_sector: Sector | None,
    event_id: int | None = None,
    captured_by_id: int | None = None,
) -> Idea:
    """An idea written on paper: no author account; typed or imported by `captured_by_id`."""
    return Idea(
        process_id=process_id,
        author_id=None,
        author_sector=author_sector,
        captured_by_id=captured_by_id,
        event_id=event_id,
        title=clean.title,
        body=clean.body,
        body_html=render_markdown(clean.body),
        topic_id=clean.topic_id,
        region=clean.region,
        status=IdeaStatus.PUBLISHED,
        vote_count=0,
        comment_count=0,
    )


async def _create_topics(session: AsyncSession, process_id: int, rows: list[PreviewRow]) -> None:
    """Create the rows' new topics and point the rows at them (the command line's import)."""
    # Rows naming the same topic (in any case) share its id: None for all of them if it is new.
    new = {
        row.topic_name.casefold(): row.topic_name
        for row in rows
        if row.topic_name and row.topic_id is None
    }
    ids: dict[str, int] = {}
    for key, name in new.items():
        # a concurrent import may have created it a moment ago
        await session.execute(
            pg_insert(Topic).values(process_id=process_id, name=name).on_conflict_do_nothing()
        )
        ids[key] = (
            await session.scalars(
                select(Topic.id).where(Topic.process_id == process_id, Topic.name == name)
            )
        ).one()
    for row in rows:
        if row.topic_name and row.topic_id is None:
            row.topic_id = ids[row.topic_name.casefold()]


async def import_ideas(
    session: AsyncSession,
    process: Process,
    data: bytes,
    filename: str = "",
    *,
    event_id: int | None = None,
    captured_by_id: int | None = None,
    create_topics: bool = False,
) -> list[Idea]:
    """Every row of the file as a published idea, in one transaction, each indexed for the
    duplicates queue; or ImportFailed with every problem, and nothing written."""
    # Checked before the write transaction (as `ideas.service.submit` does): a refusal rolls
    # nothing back, so the caller's loaded objects stay usable.
    checked = await preview(session, process, data, filename, create_topics=create_topics)
    if not checked.ok:
        raise ImportFailed(checked.problems, preview=checked)
    async with transaction(session):
        if create_topics:
            await _create_topics(session, process.id, checked.rows)
        ideas = []
        for row in checked.rows:
            assert row.clean is not None
            ideas.append(
                card_idea(
                    process.id,
                    replace(row.clean, topic_id=row.topic_id),
                    author_sector=row.sector,
                    event_id=event_id,
                    captured_by_id=captured_by_id,
                )
            )
        session.add_all(ideas)
        await session.flush()
        for idea in ideas:
            await index_and_record(session, idea)
        audit(
            session,
            actor_id=captured_by_id,
            action="ideas.import",
            target_type="event" if event_id else "process",
            target_id=event_id or process.id,
            after={"ideas": len(ideas), "file": filename},
        )
    return ideas


async def import_csv(session: AsyncSession, process_slug: str, data: bytes) -> int:
    """The command line's import: new topics are created."""
    try:
        process = await get_by_slug(session, process_slug)
    except NotFoundError as exc:
        raise _fail(NO_PROCESS, slug=process_slug) from exc
    return len(await import_ideas(session, process, data, create_topics=True))


def template_csv(topic: str = "") -> bytes:
    """A file to fill in: the header and one example row in German (UTF-8 with BOM, `;`,
    as Excel opens it)."""
    german = translations("de")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(
        [
            "Reparaturcafé im Stadtteil",
            "Einmal im Monat reparieren Ehrenamtliche mit Nachbarn Geräte, statt sie wegzuwerfen.",
            topic,
            german.gettext(REGION_LABELS[Region.DRESDEN]),
            german.gettext(SECTOR_LABELS[Sector.CIVIL_SOCIETY]),
        ]
    )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
