"""CSV for spreadsheets: UTF-8 with a byte order mark (so Excel reads the umlauts) and
semicolons (the list separator of German Excel), formulas neutralised."""

from __future__ import annotations

import csv
import io
from typing import BinaryIO

from ideas_platform.core.i18n import get_locale
from ideas_platform.exports.cells import safe_text
from ideas_platform.exports.columns import Value, idea_columns
from ideas_platform.exports.dataset import ExportData, Progress

BOM = "\ufeff"


def _cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.6f}"
        return text.replace(".", ",") if get_locale() == "de" else text
    if isinstance(value, int):
        return str(value)
    return safe_text(value)


async def write_csv(
    data: ExportData, out: BinaryIO, base_url: str, progress: Progress | None = None
) -> None:
    columns = idea_columns(base_url)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
        text.write(BOM)
        writer.writerow([safe_text(c.header) for c in columns])
        async for row in data.ideas(progress):
            writer.writerow([_cell(c.value(row)) for c in columns])
        text.flush()
    finally:
        text.detach()  # the caller owns `out`
