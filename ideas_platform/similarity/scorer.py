"""How similar two ideas are, as a number in [0, 1].

The platform talks to one `Scorer`: it turns an idea into `Features` (its weighted terms, what
the term index stores, and its sentence vector, what `idea_embeddings` stores) and scores
candidates against a query. `HybridScorer` is the one in use: shared words and shared meaning,
combined. `LexicalScorer` alone is the fallback when the embedding model cannot be loaded.

Each scorer has two thresholds: `threshold`, from which the submit form shows an idea as
similar while a participant types (recall matters: a miss means a duplicate), and the stricter
`queue_threshold`, from which a pair goes into the moderators' duplicates queue (precision
matters: every false alarm costs a moderator a look). Both are set where `make
bench-duplicates` measures them; change them together with its figures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ideas_platform.similarity.embedder import Embedder, idea_text
from ideas_platform.similarity.text import weighted_terms

Terms = Mapping[str, float]


@dataclass(frozen=True)
class Features:
    terms: dict[str, float]
    vector: np.ndarray | None = None  # unit length; None without a model or for empty text
    length: int = 0  # characters of title and body


def text_length(title: str, body: str) -> int:
    return len(title) + len(body)


class Scorer(Protocol):
    name: str
    threshold: float  # from here on, the submit form calls two ideas "similar"
    queue_threshold: float  # from here on, a pair goes into the moderators' duplicates queue
    embedder: Embedder | None  # whose vectors it compares; None: words alone

    def analyse(self, title: str, body: str) -> Features: ...

    def analyse_many(self, texts: Sequence[tuple[str, str]]) -> list[Features]: ...

    def score_many(
        self,
        query: Features,
        candidates: Sequence[Features],
        cosines: Sequence[float | None] | None = None,
    ) -> list[float]:
        """Scores in [0, 1]. `cosines`: of the query's vector with each candidate's, where they
        were computed already (the stored vectors stay in the database or the cache)."""
        ...


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
    """Soft term overlap in both directions, averaged (no model needed)."""

    name = "lexical-v1"
    embedder: Embedder | None = None

    def __init__(self, threshold: float = 0.23, queue_threshold: float = 0.23) -> None:
        self.threshold = threshold
        self.queue_threshold = queue_threshold

    def analyse(self, title: str, body: str) -> Features:
        return Features(weighted_terms(title, body), None, text_length(title, body))

    def analyse_many(self, texts: Sequence[tuple[str, str]]) -> list[Features]:
        return [self.analyse(title, body) for title, body in texts]

    def score_many(
        self,
        query: Features,
        candidates: Sequence[Features],
        cosines: Sequence[float | None] | None = None,
    ) -> list[float]:
        return self.overlap(query.terms, [candidate.terms for candidate in candidates])

    def overlap(self, query: Terms, candidates: Sequence[Terms]) -> list[float]:
        vocabulary = {term for candidate in candidates for term in candidate}
        in_candidates = SoftMatches(vocabulary)
        forward = {term: in_candidates.of(term) for term in query}
        in_query = SoftMatches(query)
        backward = {term: in_query.of(term) for term in vocabulary}
        return [
            (coverage(query, candidate, forward) + coverage(candidate, query, backward)) / 2
            for candidate in candidates
        ]


class HybridScorer:
    """The probability that two ideas are duplicates, from meaning, words and length.

    A logistic model of three numbers: the cosine of the sentence vectors (paraphrases that
    share no word: "Schichtpläne zu Kita-Zeiten" / "flexible Arbeitszeiten für Eltern"), the
    lexical overlap (exact matters, a place or a programme's name, are not averaged away), and
    the length of the longer text: two one-line sentences on one subject have a high cosine
    whether or not they mean the same, two long ideas (or a typed title and a long idea) a
    lower one even when they do. The
    coefficients are fitted by `make bench-duplicates ARGS=--calibrate` (bench/duplicates.py) on
    our own labelled pairs and the STSb dev pairs; the holdout pairs are not used.

    A candidate without a vector (not embedded yet) is scored by its words alone.
    """

    COSINE, OVERLAP, LOG_LENGTH, INTERCEPT = 6.15, 4.75, 1.76, -13.99

    def __init__(
        self, embedder: Embedder, threshold: float = 0.15, queue_threshold: float = 0.50
    ) -> None:
        self.embedder: Embedder | None = embedder
        self.lexical = LexicalScorer()
        self.name = f"hybrid-{embedder.name}"
        self.threshold = threshold
        self.queue_threshold = queue_threshold

    def analyse(self, title: str, body: str) -> Features:
        return self.analyse_many([(title, body)])[0]

    def analyse_many(self, texts: Sequence[tuple[str, str]]) -> list[Features]:
        assert self.embedder is not None
        vectors = self.embedder.embed([idea_text(title, body) for title, body in texts])
        return [
            Features(
                weighted_terms(title, body),
                vector if np.any(vector) else None,
                text_length(title, body),
            )
            for (title, body), vector in zip(texts, vectors, strict=True)
        ]

    @classmethod
    def probability(cls, cosine: float, overlap: float, length: int) -> float:
        z = (
            cls.COSINE * cosine
            + cls.OVERLAP * overlap
            + cls.LOG_LENGTH * math.log(max(length, 1))
            + cls.INTERCEPT
        )
        return 1 / (1 + math.exp(-z))

    def score_many(
        self,
        query: Features,
        candidates: Sequence[Features],
        cosines: Sequence[float | None] | None = None,
    ) -> list[float]:
        lexical = self.lexical.score_many(query, candidates)
        if cosines is None:
            cosines = [
                float(np.dot(query.vector, candidate.vector))
                if query.vector is not None and candidate.vector is not None
                else None
                for candidate in candidates
            ]
        scores = []
        for candidate, overlap, cosine in zip(candidates, lexical, cosines, strict=True):
            if cosine is None:
                scores.append(overlap)
                continue
            length = max(query.length, candidate.length)
            scores.append(self.probability(cosine, overlap, length))
        return scores


def current_scorer() -> Scorer:
    """The hybrid scorer when the embedding model is loaded, else words alone."""
    from ideas_platform.similarity.embedder import get_embedder

    embedder = get_embedder()
    return HybridScorer(embedder) if embedder is not None else LEXICAL


LEXICAL = LexicalScorer()
