"""Translations (Babel message catalogues) and the locale of the current request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.numbers import format_percent as babel_format_percent
from babel.support import NullTranslations, Translations

LOCALES = ("de", "en")
BERLIN = ZoneInfo("Europe/Berlin")
LOCALE_COOKIE = "lang"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"

_current_locale: ContextVar[str] = ContextVar("current_locale", default="de")


@cache
def translations(locale: str) -> NullTranslations:
    """The catalogue of a locale, compiled in memory from its .po file (no build step)."""
    # Source strings are English, so English needs no catalogue.
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in LOCALES else "de")


@contextmanager
def using_locale(locale: str) -> Iterator[None]:
    """Render in another language for a while (a mail in its recipient's language)."""
    token = _current_locale.set(locale if locale in LOCALES else "de")
    try:
        yield
    finally:
        _current_locale.reset(token)


def get_locale() -> str:
    return _current_locale.get()


def gettext(message: str, **params: object) -> str:
    text = translations(get_locale()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(get_locale()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


def format_datetime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return babel_format_datetime(value, format=fmt, tzinfo=BERLIN, locale=get_locale())


def format_date(value: datetime | date | None) -> str:
    if value is None:
        return ""
    return babel_format_datetime(
        value,
        format="d. MMM y" if get_locale() == "de" else "MMM d, y",
        tzinfo=BERLIN,
        locale=get_locale(),
    )


def format_number(value: int | float) -> str:
    return format_decimal(value, locale=get_locale())


def format_percent(fraction: float, decimals: int = 0) -> str:
    """0.5691 -> "57 %" (de) / "57%" (en); with decimals=2 "56,91 %" / "56.91%"."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    if get_locale() == "de":
        pattern = pattern[:-1] + "\u00a0%"
    return babel_format_percent(fraction, format=pattern, locale=get_locale())


def pick_locale(cookie_value: str | None, user_locale: str | None, default: str) -> str:
    for candidate in (cookie_value, user_locale, default):
        if candidate in LOCALES:
            return candidate
    return "de"
