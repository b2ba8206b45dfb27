"""Cell values shared by the table formats (CSV, XLSX)."""

from __future__ import annotations

from datetime import datetime

from ideas_platform.core.i18n import BERLIN

# A spreadsheet treats a cell starting with one of these as a formula (or, for tab and carriage
# return, may shift it into one): such text gets a leading apostrophe, the usual neutraliser.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def local_time(value: datetime | None) -> str:
    """Berlin time, to the minute, in the form spreadsheets read as a date."""
    return value.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") if value else ""
