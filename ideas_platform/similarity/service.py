"""Similar ideas: the index, the suggestions while typing, and the moderators' duplicate pairs.

Two steps, so that a process of 100,000 ideas answers quickly:

1. *candidates*: one SQL statement looks the query's terms up in `idea_terms` (exact terms,
   longer words that start with a term, and the parts of the query's compounds), weighs each by
   how rare it is in the process, and keeps the best few hundred ideas;
2. *scoring*: the `Scorer` compares the query with each candidate's stored terms.

Functions that write run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ideas_platform.audit.service import record as audit
from ideas_platform.core.choices import N_
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import NotFoundError
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.similarity.models import DuplicatePair, IdeaTerm
from ideas_platform.similarity.scorer import PART_OF_COMPOUND, SCORER, Scorer

MAX_SUGGESTIONS = 5
CANDIDATES = 100
# A term found in more ideas than this does not pick candidates (it still counts in the score).
COMMON_TERM_CAP = 3000
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
    SELECT i.id, i.title, i.vote_count FROM ranked r JOIN ideas i ON i.id = r.idea_id
    WHERE i.status = 'published' AND NOT (i.id = ANY(CAST(:exclude AS bigint[])))
    ORDER BY r.rough DESC LIMIT :limit
    """
)


async def index_idea(session: AsyncSession, idea: Idea, scorer: Scorer = SCORER) -> None:
    """(Re)write the idea's terms; call after its title or body changed."""
    await session.execute(delete(IdeaTerm).where(IdeaTerm.idea_id == idea.id))
    terms = scorer.analyse(idea.title, idea.body)
    if terms:
        await session.execute(
            insert(IdeaTerm),
            [
                {"process_id": idea.process_id, "term": term, "idea_id": idea.id, "weight": w}
                for term, w in terms.items()
            ],
        )


async def _stored_terms(session: AsyncSession, idea_ids: Sequence[int]) -> dict[int, dict]:
    vectors: dict[int, dict[str, float]] = {idea_id: {} for idea_id in idea_ids}
    rows = await session.execute(
        select(IdeaTerm.idea_id, IdeaTerm.term, IdeaTerm.weight).where(
            IdeaTerm.idea_id.in_(idea_ids)
        )
    )
    for idea_id, term, weight in rows:
        vectors[idea_id][term] = weight
    return vectors


async def similar_ideas(
    session: AsyncSession,
    process_id: int,
    title: str,
    body: str = "",
    *,
    exclude: Iterable[int] = (),
    limit: int = MAX_SUGGESTIONS,
    threshold: float | None = None,
    scorer: Scorer = SCORER,
) -> list[Suggestion]:
    """Published ideas of the process most like the text, best first, above the threshold."""
    query = scorer.analyse(title, body)
    if not query:
        return []
    lows, highs, weights = _lookup_keys(query)
    ideas = await session.scalar(
        select(func.count()).where(
            Idea.process_id == process_id, Idea.status == IdeaStatus.PUBLISHED
        )
    )
    rows = (
        await session.execute(
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
    ).all()
    if not rows:
        return []
    vectors = await _stored_terms(session, [row.id for row in rows])
    minimum = scorer.threshold if threshold is None else threshold
    scores = scorer.score_many(query, [vectors[row.id] for row in rows])
    scored = [
        Suggestion(row.id, row.title, row.vote_count, score)
        for row, score in zip(rows, scores, strict=True)
    ]
    scored = [s for s in scored if s.score >= minimum]
    scored.sort(key=lambda s: (-s.score, s.id))
    return scored[:limit]


async def record_pairs(session: AsyncSession, idea: Idea, scorer: Scorer = SCORER) -> int:
    """Put the idea's likely duplicates into the moderators' queue (dismissed pairs stay so)."""
    found = await similar_ideas(
        session, idea.process_id, idea.title, idea.body, exclude=[idea.id], scorer=scorer
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
    await index_idea(session, idea)
    await record_pairs(session, idea)


async def rebuild(session: AsyncSession, process_id: int) -> tuple[int, int]:
    """Index every idea of the process anew, then look for pairs (CLI, demo, after an import)."""
    ideas = list(await session.scalars(select(Idea).where(Idea.process_id == process_id)))
    for idea in ideas:
        await index_idea(session, idea)
    pairs = 0
    for idea in ideas:
        if idea.status == IdeaStatus.PUBLISHED:
            pairs += await record_pairs(session, idea)
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
        raise NotFoundError(PAIR_NOT_FOUND)
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
