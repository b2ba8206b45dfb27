"""Small input checks shared by services. Each returns an untranslated message or None."""

from __future__ import annotations

import re
from enum import StrEnum

from ideas_platform.core.choices import N_

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def clean_text(value: object, *, max_length: int) -> str:
    """Strip, drop control characters (keep newlines and tabs), cut nothing: long is an error."""
    text = "" if value is None else str(value)
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    return text.replace("\r\n", "\n").strip()


def length_problem(value: str, *, minimum: int, maximum: int) -> str | None:
    if len(value) < minimum:
        return N_("This field is required.") if minimum <= 1 else N_("This text is too short.")
    if len(value) > maximum:
        return N_("This text is too long.")
    return None


def choice_problem(value: str, choices: type[StrEnum]) -> str | None:
    return (
        None
        if value in {member.value for member in choices}
        else N_("Please choose a value from the list.")
    )


def email_problem(value: str) -> str | None:
    return (
        None
        if EMAIL_RE.match(value) and len(value) <= 254
        else N_("Please enter a valid email address.")
    )
