"""German full-text search on ideas (PostgreSQL `german` configuration, no extensions).

The snowball stemmer leaves some inflections apart ("Gründerzentrum" -> grunderzentrum,
"Gründerzentren" -> grunderzentr), so a query matches either by stems (websearch syntax) or
by prefixes of its longer words.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, func, or_, text

from ideas_platform.ideas.models import Idea

_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset(
    [
        "aber",
        "alle",
        "als",
        "also",
        "am",
        "an",
        "auch",
        "auf",
        "aus",
        "bei",
        "bis",
        "das",
        "dass",
        "dem",
        "den",
        "der",
        "des",
        "die",
        "dies",
        "diese",
        "ein",
        "eine",
        "einem",
        "einen",
        "einer",
        "eines",
        "für",
        "im",
        "in",
        "ist",
        "mit",
        "nach",
        "nicht",
        "noch",
        "oder",
        "sich",
        "sie",
        "so",
        "über",
        "um",
        "und",
        "von",
        "vor",
        "wie",
        "wir",
        "zu",
        "zum",
        "zur",
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "into",
    ]
)


def prefix_terms(query: str) -> list[str]:
    words = _WORD.findall(query.lower().translate(_FOLD))
    terms = []
    for word in words:
        if word in STOP_WORDS or len(word) < 4:
            continue
        terms.append(word[: max(4, len(word) - 3)] if len(word) >= 6 else word)
    return terms


def prefix_query(query: str) -> str:
    """The `to_tsquery('simple', ...)` text of the prefixes of the query's longer words ('' when
    it has none)."""
    return " & ".join(f"{t}:*" for t in prefix_terms(query))


def search_expressions(
    query: str | ColumnElement[Any], prefixes: ColumnElement[Any] | None
) -> tuple[ColumnElement[bool], Any]:
    """The WHERE condition and the tsquery to rank by, of the query text `query` and the prefix
    query `prefixes` (None: the query has no prefixes), both values or bound parameters (for a
    statement built once)."""
    stems = func.websearch_to_tsquery(text("'german'"), query)
    if prefixes is None:
        return Idea.search.op("@@")(stems), stems
    by_prefix = func.to_tsquery(text("'simple'"), prefixes)
    return or_(Idea.search.op("@@")(stems), Idea.search.op("@@")(by_prefix)), stems.op("||")(
        by_prefix
    )
