"""How similar two ideas are, as a number in [0, 1].

The platform talks to one `Scorer`: it turns an idea into a term vector (what the index stores)
and compares two vectors. `LexicalScorer` is the one in use; a better one (say, sentence
embeddings) can replace it by implementing the same two methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Protocol

from ideas_platform.similarity.text import weighted_terms

Terms = Mapping[str, float]


class Scorer(Protocol):
    name: str
    threshold: float  # from here on, the UI calls two ideas "similar"

    def analyse(self, title: str, body: str) -> dict[str, float]: ...

    def score(self, query: Terms, candidate: Terms) -> float: ...


# A term that starts or ends a longer one is a part of a compound or an inflected form:
# "zentr" / "grunderzentr", "forder" / "forderprogramm", "tankstell" / "wasserstofftankstell".
PART_OF_COMPOUND = 0.7
MIN_PART_LENGTH = 4


@lru_cache(maxsize=500_000)
def term_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    if len(shorter) < MIN_PART_LENGTH:
        return 0.0
    if longer.startswith(shorter) or longer.endswith(shorter):
        return PART_OF_COMPOUND
    return 0.0


def coverage(query: Terms, candidate: Terms) -> float:
    """The share of the query's weight that the candidate covers, softly matched."""
    total = sum(query.values())
    if total <= 0:
        return 0.0
    covered = 0.0
    for term, weight in query.items():
        if term in candidate:
            covered += weight
            continue
        best = 0.0
        if len(term) >= MIN_PART_LENGTH:
            for other in candidate:
                similarity = term_similarity(term, other)
                if similarity > best:
                    best = similarity
        covered += weight * best
    return covered / total


class LexicalScorer:
    """Soft term overlap in both directions, combined as a harmonic mean (a soft Dice)."""

    name = "lexical-v1"

    def __init__(self, threshold: float = 0.40) -> None:
        self.threshold = threshold

    def analyse(self, title: str, body: str) -> dict[str, float]:
        return weighted_terms(title, body)

    def score(self, query: Terms, candidate: Terms) -> float:
        forward = coverage(query, candidate)
        backward = coverage(candidate, query)
        if forward + backward == 0:
            return 0.0
        return 2 * forward * backward / (forward + backward)


SCORER: Scorer = LexicalScorer()
