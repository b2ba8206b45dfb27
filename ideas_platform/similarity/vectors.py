"""Idea vectors in PostgreSQL, and their nearest neighbours.

Two ways to find neighbours, chosen once per server:

* **pgvector** (the extension is installed and the HNSW index of migration 0006 exists):
  `ORDER BY vector::vector(512) <=> query` on the index, filtered to the process (iterative
  index scans from pgvector 0.8 on, so a small process among large ones still gets its top k);
* **exact, in numpy**: each app process keeps the vectors of the processes it was asked about in
  memory (float32, 100,000 ideas = 200 MB) and catches up with the table before each query
  (a count and the newest timestamp; new or changed rows only).

Functions that write run inside the caller's transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.similarity.embedder import Embedder
from ideas_platform.similarity.models import IdeaEmbedding

log = logging.getLogger(__name__)

HNSW_INDEX = "ix_idea_embeddings_hnsw"
# Rows committed late (a long import) carry an earlier timestamp than rows already seen:
# each catch-up looks this far back.
LOOK_BACK = timedelta(minutes=5)
RECOUNT_SECONDS = 30.0


async def store(
    session: AsyncSession, embedder: Embedder, rows: Sequence[tuple[int, int, np.ndarray]]
) -> None:
    """Write (idea id, process id, vector) rows, replacing what the ideas had."""
    if not rows:
        return
    statement = pg_insert(IdeaEmbedding)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["idea_id"],
            set_={
                "model": statement.excluded.model,
                "vector": statement.excluded.vector,
                "embedded_at": func.clock_timestamp(),
            },
        ),
        [
            {
                "idea_id": idea_id,
                "process_id": process_id,
                "model": embedder.name,
                "vector": vector.astype(np.float32).tolist(),
            }
            for idea_id, process_id, vector in rows
        ],
    )


async def forget(session: AsyncSession, idea_id: int) -> None:
    await session.execute(delete(IdeaEmbedding).where(IdeaEmbedding.idea_id == idea_id))


async def ideas_without_vector(
    session: AsyncSession, embedder: Embedder, process_id: int
) -> list[int]:
    """Ideas of the process with no vector of the current model (new, or a model changed)."""
    from ideas_platform.ideas.models import Idea

    current = select(IdeaEmbedding.idea_id).where(
        IdeaEmbedding.idea_id == Idea.id, IdeaEmbedding.model == embedder.name
    )
    return list(
        await session.scalars(
            select(Idea.id)
            .where(Idea.process_id == process_id, ~current.exists())
            .order_by(Idea.id)
        )
    )


# --- nearest neighbours -------------------------------------------------------------------


@dataclass
class _Server:
    pgvector: bool
    iterative_scan: bool


_servers: dict[str, _Server] = {}


async def _server(session: AsyncSession) -> _Server:
    """What this database offers, found out once per database and process (said in the log)."""
    key = _database_of(session)
    known = _servers.get(key)
    if known is not None:
        return known
    row = (
        await session.execute(
            text(
                "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector'), "
                "to_regclass(:index) IS NOT NULL"
            ),
            {"index": HNSW_INDEX},
        )
    ).one()
    version, indexed = row
    if version and indexed:
        major, minor = (int(part) for part in version.split(".")[:2])
        known = _Server(pgvector=True, iterative_scan=(major, minor) >= (0, 8))
        log.info("similar ideas: pgvector %s with an HNSW index", version)
    else:
        known = _Server(pgvector=False, iterative_scan=False)
        log.warning(
            "similar ideas: pgvector is not installed in this database, so nearest neighbours "
            "are searched exactly in numpy (fine up to some 100,000 ideas a process)"
        )
    _servers[key] = known
    return known


async def uses_pgvector(session: AsyncSession) -> bool:
    return (await _server(session)).pgvector


async def nearest(
    session: AsyncSession,
    embedder: Embedder,
    process_id: int,
    query: np.ndarray,
    limit: int,
    *,
    exact: bool = False,
) -> list[tuple[int, float]]:
    """(idea id, cosine) of the process's ideas nearest to `query`, nearest first.

    Any status: the caller keeps what a viewer may see. `exact` forces the numpy path.
    """
    if not np.any(query):
        return []
    if not exact and (server := await _server(session)).pgvector:
        return await _nearest_pgvector(session, embedder, process_id, query, limit, server)
    matrix = await _caches.setdefault(_database_of(session), _VectorCache()).catch_up(
        session, embedder, process_id
    )
    return matrix.nearest(query, limit)


async def cosines(
    session: AsyncSession,
    embedder: Embedder,
    process_id: int,
    query: np.ndarray,
    idea_ids: Sequence[int],
) -> dict[int, float]:
    """The cosine of `query` with each of these ideas' vectors (ideas without one left out),
    computed where the vectors are: in PostgreSQL with pgvector, else in the cache."""
    if not idea_ids or not np.any(query):
        return {}
    if (await _server(session)).pgvector:
        rows = await session.execute(
            _PGVECTOR_COSINES,
            {"query": _literal(query), "ids": list(idea_ids), "model": embedder.name},
        )
        return {int(idea_id): float(cosine) for idea_id, cosine in rows}
    cached = await _caches.setdefault(_database_of(session), _VectorCache()).catch_up(
        session, embedder, process_id
    )
    return cached.cosines(query, idea_ids)


def _literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in vector.tolist()) + "]"


_PGVECTOR_COSINES = text(
    """
    SELECT idea_id, 1 - (vector::vector(512) <=> CAST(:query AS vector(512)))
    FROM idea_embeddings
    WHERE idea_id = ANY(CAST(:ids AS bigint[])) AND model = :model
    """
)

_PGVECTOR_NEAREST = text(
    """
    SELECT idea_id, 1 - (vector::vector(512) <=> CAST(:query AS vector(512))) AS cosine
    FROM idea_embeddings
    WHERE process_id = :process_id AND model = :model
    ORDER BY vector::vector(512) <=> CAST(:query AS vector(512))
    LIMIT :limit
    """
)


async def _nearest_pgvector(
    session: AsyncSession,
    embedder: Embedder,
    process_id: int,
    query: np.ndarray,
    limit: int,
    server: _Server,
) -> list[tuple[int, float]]:
    await session.execute(text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": "200"})
    if server.iterative_scan:
        await session.execute(
            text("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        )
    rows = await session.execute(
        _PGVECTOR_NEAREST,
        {
            "query": _literal(query),
            "process_id": process_id,
            "model": embedder.name,
            "limit": limit,
        },
    )
    found = [(int(idea_id), float(cosine)) for idea_id, cosine in rows]
    found.sort(key=lambda item: -item[1])  # relaxed order: the index may return near-sorted
    return found


@dataclass
class _ProcessVectors:
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    model: str = ""
    count: int = -1
    newest: datetime | None = None
    counted_at: float = 0.0  # monotonic time of the last count
    position: dict[int, int] | None = None  # idea id -> row, built when first needed

    def cosines(self, query: np.ndarray, idea_ids: Sequence[int]) -> dict[int, float]:
        if self.position is None:
            self.position = {int(idea_id): i for i, idea_id in enumerate(self.ids)}
        rows = [
            (idea_id, self.position[idea_id]) for idea_id in idea_ids if idea_id in self.position
        ]
        if not rows:
            return {}
        scores = self.matrix[[row for _, row in rows]] @ query.astype(np.float32)
        return {idea_id: float(score) for (idea_id, _), score in zip(rows, scores, strict=True)}

    def nearest(self, query: np.ndarray, limit: int) -> list[tuple[int, float]]:
        if len(self.ids) == 0:
            return []
        scores = self.matrix @ query.astype(np.float32)
        limit = min(limit, len(scores))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.ids[i]), float(scores[i])) for i in top]


class _VectorCache:
    """One database's process vectors in this app process (the exact path)."""

    def __init__(self) -> None:
        self._processes: dict[int, _ProcessVectors] = {}

    async def catch_up(
        self, session: AsyncSession, embedder: Embedder, process_id: int
    ) -> _ProcessVectors:
        """Bring the process's vectors up to date: the newest timestamp on every call (one
        index probe); the row count, which also notices late commits and deletions, every
        `RECOUNT_SECONDS`."""
        in_process = (
            IdeaEmbedding.process_id == process_id,
            IdeaEmbedding.model == embedder.name,
        )
        known = self._processes.get(process_id)
        if known and known.model != embedder.name:
            known = None
        recount = known is None or time.monotonic() - known.counted_at > RECOUNT_SECONDS
        newest: datetime | None
        if recount:
            state = (
                await session.execute(
                    select(func.count(), func.max(IdeaEmbedding.embedded_at)).where(*in_process)
                )
            ).one()
            count, newest = int(state[0]), state[1]
        else:
            assert known is not None
            count = known.count
            newest = await session.scalar(
                select(IdeaEmbedding.embedded_at)
                .where(*in_process)
                .order_by(IdeaEmbedding.embedded_at.desc())
                .limit(1)
            )
        if known and (known.count, known.newest) == (count, newest):
            if recount:
                known.counted_at = time.monotonic()
            return known
        changed_since = None
        if known and known.newest is not None:
            changed_since = known.newest - LOOK_BACK
        statement = select(IdeaEmbedding.idea_id, IdeaEmbedding.vector).where(*in_process)
        if changed_since is not None:
            statement = statement.where(IdeaEmbedding.embedded_at > changed_since)
        rows = (await session.execute(statement)).all()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        vectors = (
            np.asarray([row[1] for row in rows], dtype=np.float32)
            if rows
            else np.zeros((0, embedder.dimensions), dtype=np.float32)
        )
        if changed_since is None or known is None:
            fresh = _ProcessVectors(ids, vectors, embedder.name, len(ids), newest, time.monotonic())
        else:
            fresh = _merge(known, ids, vectors)
            fresh.newest = newest
            if not recount:
                count = len(fresh.ids)  # new rows were added; the recount will check them
            fresh.count, fresh.counted_at = count, known.counted_at
            if recount:
                fresh.counted_at = time.monotonic()
                if len(fresh.ids) != count:  # rows went away (an idea deleted): load anew
                    self._processes.pop(process_id, None)
                    return await self.catch_up(session, embedder, process_id)
        self._processes[process_id] = fresh
        return fresh


def _merge(known: _ProcessVectors, ids: np.ndarray, vectors: np.ndarray) -> _ProcessVectors:
    position = {int(idea_id): i for i, idea_id in enumerate(known.ids)}
    matrix = known.matrix.copy() if len(ids) else known.matrix
    new_ids, new_rows = [], []
    for idea_id, vector in zip(ids.tolist(), vectors, strict=True):
        if idea_id in position:
            matrix[position[idea_id]] = vector
        else:
            new_ids.append(idea_id)
            new_rows.append(vector)
    if new_ids:
        matrix = np.vstack([matrix, np.asarray(new_rows, dtype=np.float32)])
        all_ids = np.concatenate([known.ids, np.asarray(new_ids, dtype=np.int64)])
    else:
        all_ids = known.ids
    return _ProcessVectors(
        all_ids, matrix, known.model, known.count, known.newest, known.counted_at
    )


_caches: dict[str, _VectorCache] = {}


def drop_cached_vectors() -> None:
    """Forget every cached process (the database was emptied or restored underneath)."""
    _caches.clear()


def _database_of(session: AsyncSession) -> str:
    return str(session.get_bind().engine.url)
