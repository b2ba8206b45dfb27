"""How similar two ideas are, as a number in [0, 1].

The platform talks to one `Scorer`: it turns an idea into a term vector (what the index stores)
and scores candidates against a query. `LexicalScorer` is the one in use; a better one (say,
sentence embeddings) can replace it by implementing the same methods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from ideas_platform.similarity.text import weighted_terms

Terms = Mapping[str, float]


class Scorer(Protocol):
    name: str
    threshold: float  # from here on, the UI calls two ideas "similar"

    def analyse(self, title: str, body: str) -> dict[str, float]: ...

    def score_many(self, query: Terms, candidates: Sequence[Terms]) -> list[float]: ...


# A term that starts or ends a longer one is a part of a compound or an inflected form:
# "zentr" / "grunderzentr", "forder" / "forderprogramm", "tankstell" / "wasserstofftankstell".
PART_OF_COMPOUND = 0.7
MIN_PART_LENGTH = 4
# Two compounds with the same first part: "quantenkommunikation" / "quantenschlussel".
SHARED_START = 5
SHARED_START_SIMILARITY = 0.4


def term_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    if len(shorter) < MIN_PART_LENGTH:
        return 0.0
    if longer.startswith(shorter) or longer.endswith(shorter):
        return PART_OF_COMPOUND
    common = 0
    for x, y in zip(shorter, longer, strict=False):
        if x != y:
            break
        common += 1
    if common >= SHARED_START and common * 2 >= len(shorter):
        return SHARED_START_SIMILARITY
    return 0.0


class SoftMatches:
    """For terms of one side, their best partial match among the terms of the other side.

    A partial match needs the same first or the same last four letters, so only those buckets
    are compared: scoring a hundred candidates stays a matter of milliseconds.
    """

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.by_start: dict[str, list[str]] = defaultdict(list)
        self.by_end: dict[str, list[str]] = defaultdict(list)
        for term in set(vocabulary):
            if len(term) >= MIN_PART_LENGTH:
                self.by_start[term[:MIN_PART_LENGTH]].append(term)
                self.by_end[term[-MIN_PART_LENGTH:]].append(term)

    def of(self, term: str) -> dict[str, float]:
        """Partial matches of `term` (not itself) in the vocabulary, with their similarity."""
        found: dict[str, float] = {}
        if len(term) < MIN_PART_LENGTH:
            return found
        for other in (
            *self.by_start.get(term[:MIN_PART_LENGTH], ()),
            *self.by_end.get(term[-MIN_PART_LENGTH:], ()),
        ):
            if other != term:
                similarity = term_similarity(term, other)
                if similarity > 0:
                    found[other] = similarity
        return found


def coverage(query: Terms, candidate: Terms, partial: Mapping[str, Mapping[str, float]]) -> float:
    """The share of the query's weight that the candidate covers, partial matches counted."""
    total = sum(query.values())
    if total <= 0:
        return 0.0
    covered = 0.0
    for term, weight in query.items():
        if term in candidate:
            covered += weight
        else:
            best = max((s for other, s in partial[term].items() if other in candidate), default=0)
            covered += weight * best
    return covered / total


class LexicalScorer:
    """Soft term overlap in both directions, averaged.

    The threshold is where `make bench-duplicates` finds precision and recall balanced on the
    labelled pairs (bench/data); change both together.
    """

    name = "lexical-v1"

    def __init__(self, threshold: float = 0.23) -> None:
        self.threshold = threshold

    def analyse(self, title: str, body: str) -> dict[str, float]:
        return weighted_terms(title, body)

    def score_many(self, query: Terms, candidates: Sequence[Terms]) -> list[float]:
        vocabulary = {term for candidate in candidates for term in candidate}
        in_candidates = SoftMatches(vocabulary)
        forward = {term: in_candidates.of(term) for term in query}
        in_query = SoftMatches(query)
        backward = {term: in_query.of(term) for term in vocabulary}
        return [
            (coverage(query, candidate, forward) + coverage(candidate, query, backward)) / 2
            for candidate in candidates
        ]

    def score(self, query: Terms, candidate: Terms) -> float:
        return self.score_many(query, [candidate])[0]


SCORER: Scorer = LexicalScorer()
