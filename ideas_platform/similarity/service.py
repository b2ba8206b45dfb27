"""Similar ideas: the index, the suggestions while typing, and the moderators' duplicate pairs.

Two steps, so that a process of 100,000 ideas answers quickly:

1. *candidates*, from two sides: one SQL statement looks the query's terms up in `idea_terms`
   (exact terms, longer words that start with a term, and the parts of the query's compounds),
   weighs each by how rare it is in the process, and keeps the best hundred ideas; and the
   forty ideas whose sentence vectors are nearest to the query's (`vectors.nearest`:
   pgvector's HNSW index, or an exact search in numpy);
2. *scoring*: the `Scorer` compares the query with each candidate's stored terms and vector.

Functions that write run inside the caller's transaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, any_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ideas_platform.audit.service import record as audit
from ideas_platform.core.choices import N_
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import NotFoundError
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.similarity import vectors
from ideas_platform.similarity.models import DuplicatePair, IdeaTerm
from ideas_platform.similarity.scorer import PART_OF_COMPOUND, Features, Scorer, current_scorer

MAX_SUGGESTIONS = 5
CANDIDATES = 100
# The nearest by meaning that the words did not bring (the words' candidates get a cosine too).
NEAR_CANDIDATES = 40
# A term found in more ideas than this does not pick candidates (it still counts in the score).
COMMON_TERM_CAP = 1000
MIN_PART = 4
MAX_QUERY_TERMS = 60
MAX_SPLIT_TERMS = 12
PAIR_NOT_FOUND = N_("This pair of ideas is not in the duplicates queue.")


@dataclass(frozen=True)
class Suggestion:
    id: int
    title: str
    vote_count: int
    score: float


def _lookup_keys(terms: dict[str, float]) -> tuple[list[str], list[str], list[float]]:
    """(lower bound, upper bound, weight) of each term range to look up, for one SQL statement.

    Terms are [a-z0-9]; "!" sorts before them and "{" after them (C collation), so
    [t, t + "!") is the term itself and (t, t + "{") every longer word starting with it.
    """
    ranges: dict[tuple[str, str], float] = {}

    def add(low: str, high: str, weight: float) -> None:
        ranges[(low, high)] = max(ranges.get((low, high), 0.0), weight)

    # The heaviest terms only: a long text (or a crafted one) cannot make the lookup large.
    heaviest = sorted(terms.items(), key=lambda item: (-item[1], item[0]))[:MAX_QUERY_TERMS]
    for rank, (term, weight) in enumerate(heaviest):
        add(term, term + "!", weight)
        if len(term) >= MIN_PART + 1:
            add(term + "0", term + "{", weight * PART_OF_COMPOUND)
        if len(term) >= 2 * MIN_PART and rank < MAX_SPLIT_TERMS:
            for cut in range(MIN_PART, len(term) - MIN_PART + 1):
                for part in (term[:cut], term[cut:]):
                    add(part, part + "!", weight * PART_OF_COMPOUND * 0.8)
    lows, highs, weights = [], [], []
    for (low, high), weight in ranges.items():
        lows.append(low)
        highs.append(high)
        weights.append(weight)
    return lows, highs, weights


_CANDIDATES = text(
    """
    WITH wanted AS (
        SELECT * FROM unnest(CAST(:lows AS text[]), CAST(:highs AS text[]),
                             CAST(:weights AS float8[])) AS w(low, high, weight)
    ), matches AS (
        SELECT w.low, w.weight, t.idea_id
        FROM wanted w CROSS JOIN LATERAL (
            SELECT t.idea_id FROM idea_terms t
            WHERE t.process_id = :process_id AND t.term >= w.low AND t.term < w.high
            LIMIT :cap
        ) t
    ), rarity AS (
        SELECT low, ln((:ideas + 1.0) / count(*)) AS idf FROM matches GROUP BY low
        HAVING count(*) < :cap
    ), ranked AS (
        SELECT m.idea_id, sum(m.weight * r.idf) AS rough
        FROM matches m JOIN rarity r USING (low)
        GROUP BY m.idea_id ORDER BY rough DESC LIMIT :wide
    )
    SELECT i.id FROM ranked r JOIN ideas i ON i.id = r.idea_id
    WHERE i.status = 'published' AND NOT (i.id = ANY(CAST(:exclude AS bigint[])))
    ORDER BY r.rough DESC LIMIT :limit
    """
)


async def index_idea(session: AsyncSession, idea: Idea, scorer: Scorer | None = None) -> None:
    """(Re)write the idea's terms and vector; call after its title or body changed."""
    scorer = scorer or current_scorer()
    features = await asyncio.to_thread(scorer.analyse, idea.title, idea.body)
    await _write(session, scorer, [(idea, features)])


async def _write(
    session: AsyncSession, scorer: Scorer, analysed: Sequence[tuple[Idea, Features]]
) -> None:
    ids = [idea.id for idea, _ in analysed]
    await session.execute(delete(IdeaTerm).where(IdeaTerm.idea_id.in_(ids)))
    terms = [
        {"process_id": idea.process_id, "term": term, "idea_id": idea.id, "weight": weight}
        for idea, features in analysed
        for term, weight in features.terms.items()
    ]
    if terms:
        await session.execute(insert(IdeaTerm), terms)
    if scorer.embedder is not None:
        await vectors.store(
            session,
            scorer.embedder,
            [
                (idea.id, idea.process_id, features.vector)
                for idea, features in analysed
                if features.vector is not None
            ],
        )
    # An empty text has no meaning to compare; without a model, an old vector would be stale.
    for idea, features in analysed:
        if features.vector is None:
            await vectors.forget(session, idea.id)


async def _stored_terms(
    session: AsyncSession, idea_ids: Sequence[int], lengths: dict[int, int]
) -> dict[int, Features]:
    terms: dict[int, dict[str, float]] = {idea_id: {} for idea_id in idea_ids}
    rows = await session.execute(
        # One array parameter, not one per id: the same prepared statement and plan every time
        # (140 separate parameters drifted to a generic plan 5x slower).
        select(IdeaTerm.idea_id, IdeaTerm.term, IdeaTerm.weight).where(
            IdeaTerm.idea_id == any_(bindparam("ids", list(idea_ids), type_=ARRAY(BigInteger)))
        )
    )
    for idea_id, term, weight in rows:
        terms[idea_id][term] = weight
    return {idea_id: Features(terms[idea_id], None, lengths[idea_id]) for idea_id in idea_ids}


async def similar_ideas(
    session: AsyncSession,
    process_id: int,
    title: str,
    body: str = "",
    *,
    exclude: Iterable[int] = (),
    limit: int = MAX_SUGGESTIONS,
    threshold: float | None = None,
    scorer: Scorer | None = None,
) -> list[Suggestion]:
    """Published ideas of the process most like the text, best first, above the threshold
    (by default the one for suggestions while typing)."""
    scorer = scorer or current_scorer()
    query = await asyncio.to_thread(scorer.analyse, title, body)
    minimum = scorer.threshold if threshold is None else threshold
    return await _similar(session, process_id, query, set(exclude), limit, minimum, scorer)


async def _similar(
    session: AsyncSession,
    process_id: int,
    query: Features,
    exclude: set[int],
    limit: int,
    minimum: float,
    scorer: Scorer,
) -> list[Suggestion]:
    candidates = await _lexical_candidates(session, process_id, query, exclude)
    cosines: dict[int, float] = {}
    if scorer.embedder is not None and query.vector is not None:
        near = await vectors.nearest(
            session, scorer.embedder, process_id, query.vector, NEAR_CANDIDATES + len(exclude)
        )
        cosines = dict(near)
        lexical = set(candidates)
        candidates.extend(idea_id for idea_id, _ in near if idea_id not in lexical)
        candidates = [idea_id for idea_id in candidates if idea_id not in exclude]
    if not candidates:
        return []
    rows = {
        row.id: row
        for row in await session.execute(
            select(
                Idea.id,
                Idea.title,
                Idea.vote_count,
                (func.length(Idea.title) + func.length(Idea.body)).label("length"),
            ).where(Idea.id.in_(candidates), Idea.status == IdeaStatus.PUBLISHED)
        )
    }
    published = [idea_id for idea_id in candidates if idea_id in rows]
    stored = await _stored_terms(
        session, published, {idea_id: rows[idea_id].length for idea_id in published}
    )
    if scorer.embedder is not None and query.vector is not None:
        missing = [idea_id for idea_id in published if idea_id not in cosines]
        cosines.update(
            await vectors.cosines(session, scorer.embedder, process_id, query.vector, missing)
        )
    scores = scorer.score_many(
        query,
        [stored[idea_id] for idea_id in published],
        [cosines.get(idea_id) for idea_id in published] if cosines else None,
    )
    scored = [
        Suggestion(idea_id, rows[idea_id].title, rows[idea_id].vote_count, score)
        for idea_id, score in zip(published, scores, strict=True)
        if score >= minimum
    ]
    scored.sort(key=lambda s: (-s.score, s.id))
    return scored[:limit]


# The number of published ideas only scales the rarity of terms: a minute-old count will do, and
# counting 100,000 rows on every keystroke costs 5 ms.
COUNT_SECONDS = 60.0
_counts: dict[tuple[str, int], tuple[float, int]] = {}


def drop_cached_counts() -> None:
    """Forget the counts (the database was emptied or restored underneath)."""
    _counts.clear()


async def _published_count(session: AsyncSession, process_id: int) -> int:
    key = (str(session.get_bind().engine.url), process_id)
    counted = _counts.get(key)
    if counted is not None and time.monotonic() - counted[0] < COUNT_SECONDS:
        return counted[1]
    count = int(
        await session.scalar(
            select(func.count()).where(
                Idea.process_id == process_id, Idea.status == IdeaStatus.PUBLISHED
            )
        )
        or 0
    )
    _counts[key] = (time.monotonic(), count)
    return count


async def _lexical_candidates(
    session: AsyncSession, process_id: int, query: Features, exclude: set[int]
) -> list[int]:
    if not query.terms:
        return []
    lows, highs, weights = _lookup_keys(query.terms)
    ideas = await _published_count(session, process_id)
    return list(
        await session.scalars(
            _CANDIDATES,
            {
                "lows": lows,
                "highs": highs,
                "weights": weights,
                "process_id": process_id,
                "cap": COMMON_TERM_CAP,
                "ideas": max(int(ideas or 0), 1),
                "wide": CANDIDATES * 2,
                "limit": CANDIDATES,
                "exclude": list(exclude),
            },
        )
    )


async def record_pairs(
    session: AsyncSession, idea: Idea, scorer: Scorer | None = None, query: Features | None = None
) -> int:
    """Put the idea's likely duplicates into the moderators' queue (dismissed pairs stay so)."""
    scorer = scorer or current_scorer()
    if query is None:
        query = await asyncio.to_thread(scorer.analyse, idea.title, idea.body)
    found = await _similar(
        session, idea.process_id, query, {idea.id}, MAX_SUGGESTIONS, scorer.queue_threshold, scorer
    )
    for suggestion in found:
        first, second = sorted((idea.id, suggestion.id))
        statement = pg_insert(DuplicatePair).values(
            first_idea_id=first,
            second_idea_id=second,
            process_id=idea.process_id,
            score=suggestion.score,
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["first_idea_id", "second_idea_id"],
                set_={"score": statement.excluded.score},
            )
        )
    return len(found)


async def index_and_record(session: AsyncSession, idea: Idea) -> None:
    """After a submission or an edit: index the idea, then queue its likely duplicates."""
    scorer = current_scorer()
    features = await asyncio.to_thread(scorer.analyse, idea.title, idea.body)
    await _write(session, scorer, [(idea, features)])
    await record_pairs(session, idea, scorer, features)


REBUILD_BATCH = 256


async def rebuild(session: AsyncSession, process_id: int) -> tuple[int, int]:
    """Index every idea of the process anew (terms and vectors, in batches), then look for
    pairs: after an import, an upgrade, or a change of the model (CLI `find-duplicates`)."""
    scorer = current_scorer()
    ideas = list(
        await session.scalars(select(Idea).where(Idea.process_id == process_id).order_by(Idea.id))
    )
    analysed: dict[int, Features] = {}
    for start in range(0, len(ideas), REBUILD_BATCH):
        batch = ideas[start : start + REBUILD_BATCH]
        features = await asyncio.to_thread(
            scorer.analyse_many, [(idea.title, idea.body) for idea in batch]
        )
        await _write(session, scorer, list(zip(batch, features, strict=True)))
        analysed.update((idea.id, f) for idea, f in zip(batch, features, strict=True))
    pairs = 0
    for idea in ideas:
        if idea.status == IdeaStatus.PUBLISHED:
            pairs += await record_pairs(session, idea, scorer, analysed[idea.id])
    return len(ideas), pairs


@dataclass
class PairView:
    first: Idea
    second: Idea
    score: float


async def open_pairs(
    session: AsyncSession, process_id: int, limit: int = 50, offset: int = 0
) -> list[PairView]:
    """The duplicates queue: undismissed pairs of two published ideas, most similar first."""
    first, second = aliased(Idea), aliased(Idea)
    rows = await session.execute(
        select(first, second, DuplicatePair.score)
        .join(first, first.id == DuplicatePair.first_idea_id)
        .join(second, second.id == DuplicatePair.second_idea_id)
        .where(
            DuplicatePair.process_id == process_id,
            DuplicatePair.dismissed_at.is_(None),
            first.status == IdeaStatus.PUBLISHED,
            second.status == IdeaStatus.PUBLISHED,
        )
        .order_by(DuplicatePair.score.desc(), DuplicatePair.first_idea_id)
        .limit(limit)
        .offset(offset)
    )
    return [PairView(*row) for row in rows]


async def count_open_pairs(session: AsyncSession, process_id: int) -> int:
    first, second = aliased(Idea), aliased(Idea)
    count = await session.scalar(
        select(func.count())
        .select_from(DuplicatePair)
        .join(first, first.id == DuplicatePair.first_idea_id)
        .join(second, second.id == DuplicatePair.second_idea_id)
        .where(
            DuplicatePair.process_id == process_id,
            DuplicatePair.dismissed_at.is_(None),
            first.status == IdeaStatus.PUBLISHED,
            second.status == IdeaStatus.PUBLISHED,
        )
    )
    return int(count or 0)


async def dismiss_pair(
    session: AsyncSession, *, first_id: int, second_id: int, moderator_id: int
) -> DuplicatePair:
    """Marks a pair "not a duplicate": it leaves the queue for good, whatever the scorer says."""
    low, high = sorted((first_id, second_id))
    async with transaction(session):
        return await _dismiss(session, low, high, moderator_id)


async def _dismiss(session: AsyncSession, low: int, high: int, moderator_id: int) -> DuplicatePair:
    pair = await session.scalar(
        update(DuplicatePair)
        .where(
            DuplicatePair.first_idea_id == low,
            DuplicatePair.second_idea_id == high,
            DuplicatePair.dismissed_at.is_(None),
        )
        .values(dismissed_at=datetime.now(UTC), dismissed_by_id=moderator_id)
        .returning(DuplicatePair)
    )
    if pair is None:
        raise NotFoundError(PAIR_NOT_FOUND, code="pair_not_found")
    audit(
        session,
        actor_id=moderator_id,
        action="duplicates.dismiss",
        target_type="idea",
        target_id=low,
        before={"pair": [low, high], "score": pair.score, "dismissed": False},
        after={"pair": [low, high], "dismissed": True},
    )
    return pair
