"""Machine suggestions as background jobs, and what moderators do with their proposals.

A moderator's request creates a `ThemeSuggestion` row; the computation (`suggest.suggest`, CPU
bound: scikit-learn) runs in a separate process of a small process pool, so the web process keeps
answering. The job writes its progress and result into its row; every app process can show
them, whichever started the job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from ideas_platform.accounts.models import User
from ideas_platform.accounts.permissions import require_moderator
from ideas_platform.audit.service import record as audit
from ideas_platform.core.choices import N_
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError, InvalidInput, NotFoundError
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.ideas.service import ideas_by_id
from ideas_platform.processes.models import Process
from ideas_platform.similarity.embedder import get_embedder
from ideas_platform.themes.models import Theme, ThemeSuggestion
from ideas_platform.themes.service import clean_theme

log = logging.getLogger(__name__)

SUGGESTION_NOT_FOUND = N_("These suggestions do not exist.")
PROPOSAL_NOT_FOUND = N_("This proposed theme does not exist.")
PROPOSAL_DECIDED = N_("This proposed theme has already been accepted or dropped.")
MODEL_MISSING = N_(
    "The language model could not be loaded, so no themes can be suggested now. "
    "Please tell the operator (the log says why); sorting ideas by hand still works."
)
BAD_K = N_("Please give a number of themes between 2 and 60, or leave the field empty.")
MAX_K = 60
GIVE_UP = timedelta(minutes=10)
_MARK_FAILED = (
    "UPDATE theme_suggestions SET status = 'failed', error = $2, finished_at = now() "
    "WHERE id = $1 AND status IN ('queued', 'running')"
)

_executor: ProcessPoolExecutor | None = None


class ModelMissing(DomainError):
    """The sentence model did not load: suggestions are refused (see `similarity.embedder`)."""

    status_code = 503
    code = "model_unavailable"


def _pool() -> ProcessPoolExecutor:
    global _executor
    if _executor is None:
        # "spawn": a fresh interpreter, nothing of the web process's event loop or connections.
        _executor = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )
    return _executor


def shutdown() -> None:
    """Stop the background process with the app (running jobs end as 'failed' if cut off)."""
    global _executor
    if _executor is not None:
        _executor.shutdown(wait=False, cancel_futures=True)
        _executor = None


def parse_k(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or not 2 <= int(value) <= MAX_K:
        raise InvalidInput({"k": BAD_K})
    return int(value)


async def request_suggestions(
    session: AsyncSession, *, process: Process, moderator: User, k: int | None
) -> ThemeSuggestion:
    require_moderator(moderator)
    if get_embedder() is None:
        raise ModelMissing(MODEL_MISSING)
    async with transaction(session):
        job = ThemeSuggestion(
            process_id=process.id, requested_by_id=moderator.id, requested_k=k, proposals=[]
        )
        session.add(job)
        await session.flush()
        audit(
            session,
            actor_id=moderator.id,
            action="themes.suggest",
            target_type="process",
            target_id=process.id,
            after={"suggestion": job.id, "k": k},
        )
    return job


def launch(dsn: str, job_id: int) -> Future[None] | None:
    """Run the job in the background process; the web process does not wait for it."""
    global _executor
    try:
        future = _pool().submit(run_job, dsn, job_id)
    except BrokenProcessPool:
        _executor = None  # its process died (e.g. out of memory): start a fresh one
        try:
            future = _pool().submit(run_job, dsn, job_id)
        except Exception as exc:
            _fail(dsn, job_id, f"{type(exc).__name__}: {exc}")
            return None

    def report(done: Future[None]) -> None:
        problem = "cancelled" if done.cancelled() else done.exception()
        if problem is not None:
            log.error("theme suggestion %s failed: %s", job_id, problem)
            _fail(dsn, job_id, str(problem)[:2000] or type(problem).__name__)

    future.add_done_callback(report)
    return future


def _fail(dsn: str, job_id: int, error: str) -> None:
    """Mark a job failed (from outside its process: it died, or was cut off)."""

    async def mark() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(_MARK_FAILED, job_id, error)
        finally:
            await conn.close()

    def run() -> None:
        try:
            asyncio.run(mark())
        except Exception:
            log.exception("could not mark theme suggestion %s as failed", job_id)

    # Its own thread: this may be called from the web process's event loop (at shutdown).
    threading.Thread(target=run, daemon=True).start()


def run_job(dsn: str, job_id: int) -> None:
    """The job itself (in the background process): load, compute, store; progress on the way."""
    asyncio.run(_run_job(dsn, job_id))


_STORED_VECTORS = (
    "SELECT idea_id, vector FROM idea_embeddings WHERE idea_id = ANY($1::bigint[]) AND model = $2"
)
_STORE_VECTOR = (
    "INSERT INTO idea_embeddings (idea_id, process_id, model, vector) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (idea_id) DO UPDATE SET model = excluded.model, vector = excluded.vector, "
    "embedded_at = clock_timestamp()"
)
EMBED_BATCH = 512


async def _meaning(
    conn: asyncpg.Connection, process_id: int, ideas: list[Any], progress: Any
) -> np.ndarray:
    """The ideas' sentence vectors: stored ones, the missing embedded now (and stored)."""
    from ideas_platform.similarity.embedder import EmbedderUnavailable, get_embedder, idea_text

    embedder = get_embedder()
    if embedder is None:
        raise EmbedderUnavailable(MODEL_MISSING)
    rows = await conn.fetch(_STORED_VECTORS, [idea.id for idea in ideas], embedder.name)
    stored = {row["idea_id"]: row["vector"] for row in rows}
    matrix = np.zeros((len(ideas), embedder.dimensions), dtype=np.float32)
    missing = []
    for i, idea in enumerate(ideas):
        if idea.id in stored:
            matrix[i] = stored[idea.id]
        else:
            missing.append(i)
    for start in range(0, len(missing), EMBED_BATCH):
        batch = missing[start : start + EMBED_BATCH]
        texts = [idea_text(ideas[i].title, ideas[i].body) for i in batch]
        matrix[batch] = await asyncio.to_thread(embedder.embed, texts)
        await conn.executemany(
            _STORE_VECTOR,
            [
                (ideas[i].id, process_id, embedder.name, matrix[i].tolist())
                for i in batch
                if np.any(matrix[i])
            ],
        )
        progress(0.3 * (start + len(batch)) / len(missing), "embeddings")
    return matrix


async def _run_job(dsn: str, job_id: int) -> None:
    from ideas_platform.themes.suggest import IdeaText, suggest

    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "UPDATE theme_suggestions SET status = 'running' WHERE id = $1 AND status = 'queued' "
            "RETURNING process_id, requested_k",
            job_id,
        )
        if row is None:
            return  # failed or cut off meanwhile
        try:
            ideas = [
                IdeaText(r["id"], r["title"], r["body"])
                for r in await conn.fetch(
                    "SELECT id, title, body FROM ideas WHERE process_id = $1 "
                    "AND status = 'published' AND theme_id IS NULL ORDER BY id",
                    row["process_id"],
                )
            ]
            await conn.execute(
                "UPDATE theme_suggestions SET ideas = $2 WHERE id = $1", job_id, len(ideas)
            )
            loop = asyncio.get_running_loop()
            reported = [0.0]

            def progress(share: float, _step: str) -> None:
                # called from the computing thread; the connection belongs to the loop
                if share - reported[0] >= 0.05:
                    reported[0] = share
                    asyncio.run_coroutine_threadsafe(
                        conn.execute(
                            "UPDATE theme_suggestions SET progress = $2 WHERE id = $1",
                            job_id,
                            min(share, 0.99),
                        ),
                        loop,
                    ).result()

            meaning = await _meaning(conn, row["process_id"], ideas, progress)

            def later(share: float, step: str) -> None:  # embedding took the first 30 %
                progress(0.3 + 0.7 * share, step)

            themes, choice = await asyncio.to_thread(
                suggest, ideas, meaning, row["requested_k"], later
            )
            proposals = [
                {
                    "title": theme.title,
                    "keywords": theme.keywords,
                    "idea_ids": theme.idea_ids,
                    "state": "open",
                    "theme_id": None,
                }
                for theme in themes
            ]
            await conn.execute(
                "UPDATE theme_suggestions SET status = 'done', progress = 1, "
                "proposals = $2::jsonb, k_choice = $3::jsonb, finished_at = now() WHERE id = $1",
                job_id,
                json.dumps(proposals),
                json.dumps(dataclasses.asdict(choice)),
            )
        except Exception as exc:
            await conn.execute(_MARK_FAILED, job_id, f"{type(exc).__name__}: {exc}"[:2000])
            raise
    finally:
        await conn.close()


async def get_suggestion(session: AsyncSession, job_id: int) -> ThemeSuggestion:
    job = await session.get(ThemeSuggestion, job_id, populate_existing=True)
    if job is None:
        raise NotFoundError(SUGGESTION_NOT_FOUND, code="suggestions_not_found")
    if job.status in ("queued", "running") and job.created_at < datetime.now(UTC) - GIVE_UP:
        # Its process is gone (a restart, a crash): say so instead of a progress bar forever.
        async with transaction(session):
            await session.execute(
                update(ThemeSuggestion)
                .where(
                    ThemeSuggestion.id == job.id, ThemeSuggestion.status.in_(("queued", "running"))
                )
                .values(status="failed", error="gave up after 10 minutes", finished_at=func.now())
            )
        job = await session.get(ThemeSuggestion, job_id, populate_existing=True)
        assert job is not None
    return job


async def ideas_of(session: AsyncSession, job: ThemeSuggestion) -> dict[int, Idea]:
    ids = [i for proposal in job.proposals for i in proposal["idea_ids"]]
    return {idea.id: idea for idea in await ideas_by_id(session, ids)}


async def _locked_proposal(
    session: AsyncSession, job_id: int, index: int
) -> tuple[ThemeSuggestion, dict[str, Any]]:
    job = await session.scalar(
        select(ThemeSuggestion)
        .where(ThemeSuggestion.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if job is None:
        raise NotFoundError(SUGGESTION_NOT_FOUND, code="suggestions_not_found")
    if not 0 <= index < len(job.proposals):
        raise NotFoundError(PROPOSAL_NOT_FOUND, code="proposal_not_found")
    proposal = job.proposals[index]
    if proposal["state"] != "open":
        raise DomainError(PROPOSAL_DECIDED, code="proposal_decided")
    return job, proposal


async def accept(
    session: AsyncSession, *, job_id: int, index: int, title: str, moderator: User
) -> Theme:
    """The proposed theme becomes a theme; its ideas that are still unsorted move into it."""
    require_moderator(moderator)
    title, _ = clean_theme(title, "")
    async with transaction(session):
        job, proposal = await _locked_proposal(session, job_id, index)
        theme = Theme(process_id=job.process_id, title=title, created_by_id=moderator.id)
        session.add(theme)
        await session.flush()
        moved = list(
            await session.scalars(
                update(Idea)
                .where(
                    Idea.id.in_(proposal["idea_ids"]),
                    Idea.process_id == job.process_id,
                    Idea.status == IdeaStatus.PUBLISHED,
                    Idea.theme_id.is_(None),
                )
                .values(theme_id=theme.id)
                .returning(Idea.id)
            )
        )
        proposal.update(state="accepted", theme_id=theme.id, title=title)
        flag_modified(job, "proposals")
        for idea_id in sorted(moved):  # each placement can be undone on its own
            audit(
                session,
                actor_id=moderator.id,
                action="idea.move",
                target_type="idea",
                target_id=idea_id,
                before={"theme_id": None},
                after={"theme_id": theme.id},
            )
        audit(
            session,
            actor_id=moderator.id,
            action="theme.accept_suggestion",
            target_type="theme",
            target_id=theme.id,
            before={"suggestion": job.id, "proposal": index, "proposed_title": proposal["title"]},
            after={"title": title, "ideas": sorted(moved)},
        )
    return theme


async def drop(session: AsyncSession, *, job_id: int, index: int, moderator: User) -> int:
    require_moderator(moderator)
    async with transaction(session):
        job, proposal = await _locked_proposal(session, job_id, index)
        proposal["state"] = "dropped"
        flag_modified(job, "proposals")
        audit(
            session,
            actor_id=moderator.id,
            action="theme.drop_suggestion",
            target_type="process",
            target_id=job.process_id,
            before={"suggestion": job.id, "proposal": index, "title": proposal["title"]},
            after={"state": "dropped"},
        )
        return job.process_id
