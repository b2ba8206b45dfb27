"""Exports of a process for the ministry: CSV, XLSX, JSON and the PDF dossier, with a
SHA-256 manifest. Files are a function of the data alone (no "generated at"), so the same
shortlist gives the same bytes; the manifest is in the `sha256sum` format.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.audit.service import record as audit
from ideas_platform.core.choices import N_
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import NotFoundError
from ideas_platform.dashboard import service as dashboard
from ideas_platform.exports import dataset
from ideas_platform.exports.csv_writer import write_csv
from ideas_platform.exports.dataset import ExportData, Progress
from ideas_platform.exports.json_writer import write_json
from ideas_platform.exports.pdf_writer import write_pdf
from ideas_platform.exports.xlsx_writer import write_xlsx
from ideas_platform.processes.models import Process


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    PDF = "pdf"


MEDIA_TYPES = {
    Format.CSV: "text/csv",  # Litestar adds "; charset=utf-8" to every text/* type
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.JSON: "application/json",
    Format.PDF: "application/pdf",
}

Writer = Callable[[ExportData, BinaryIO, str, Progress | None], Awaitable[None]]
WRITERS: dict[Format, Writer] = {
    Format.CSV: write_csv,
    Format.XLSX: write_xlsx,
    Format.JSON: write_json,
    Format.PDF: write_pdf,
}
UNKNOWN_FORMAT = N_("Unknown export format.")
CHUNK = 64 * 1024


def parse_format(value: str) -> Format:
    try:
        return Format(value.lower())
    except ValueError:
        raise NotFoundError(UNKNOWN_FORMAT, code="unknown_export_format") from None


def file_name(data: ExportData, fmt: Format) -> str:
    kind = "dossier" if fmt == Format.PDF else "shortlist"
    stamp = data.as_of.strftime("%Y%m%d-%H%M%S") if data.frozen else "not-frozen"
    return f"{data.process.slug}-{kind}-{stamp}.{fmt.value}"


async def load(session: AsyncSession, process: Process, fmt: Format) -> ExportData:
    """The data of one export; the PDF dossier has only the accepted shortlist; the XLSX also
    has the dashboard's figures (computed now, not the minute-old ones the page shows)."""
    data = await dataset.load(session, process, shortlisted_only=fmt == Format.PDF)
    if fmt == Format.XLSX and isinstance(session.bind, AsyncEngine):
        data.dashboard = await dashboard.compute(session.bind, process.id)
    return data


async def write(
    data: ExportData,
    fmt: Format,
    out: BinaryIO,
    *,
    base_url: str,
    progress: Progress | None = None,
) -> None:
    await WRITERS[fmt](data, out, base_url, progress)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_line(digest: str, name: str) -> str:
    """One line as `sha256sum` writes it (and `sha256sum -c` checks it)."""
    return f"{digest}  {name}\n"


_MANIFEST_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


def parse_manifest(text: str) -> list[tuple[str, str]]:
    entries = []
    for line in text.splitlines():
        if match := _MANIFEST_LINE.match(line.strip()):
            entries.append((match.group(1), match.group(2)))
    return entries


def verify(file: Path, manifest: Path) -> tuple[bool, str]:
    """Does the manifest name this file's SHA-256? Answers (ok, the file's digest)."""
    actual = sha256_of(file)
    entries = parse_manifest(manifest.read_text(encoding="utf-8"))
    named = [digest for digest, name in entries if Path(name).name == file.name]
    expected = named or [digest for digest, _ in entries][:1]
    return bool(expected) and expected[0] == actual, actual


@dataclass(frozen=True)
class ExportFile:
    path: Path  # a temporary file; the caller removes it
    name: str
    media_type: str
    sha256: str


async def export_to_file(
    session: AsyncSession, *, process: Process, fmt: Format, base_url: str, actor: User
) -> ExportFile:
    """Write an export to a temporary file (constant memory) and log who took it."""
    data = await load(session, process, fmt)
    handle, name = tempfile.mkstemp(prefix="ideas-export-", suffix=f".{fmt.value}")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            await write(data, fmt, out, base_url=base_url)
        digest = await anyio.to_thread.run_sync(sha256_of, path)
        async with transaction(session):
            # Exports carry personal data of consenting people: who took which file is logged.
            audit(
                session,
                actor_id=actor.id,
                action="export.download",
                target_type="process",
                target_id=process.id,
                after={"format": fmt.value, "sha256": digest, "frozen": data.frozen},
            )
    except BaseException:
        await anyio.Path(path).unlink(missing_ok=True)
        raise
    return ExportFile(path, file_name(data, fmt), MEDIA_TYPES[fmt], digest)
