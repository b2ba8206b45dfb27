"""Votes (supports). The rules live in SQL statements so that they hold under concurrency:

* the primary key (idea_id, user_id) makes a second vote impossible;
* `ideas.vote_count` changes in the same statement as the vote row (invariant 1);
* with a budget, the voter's user row is locked for the transaction, so 50 parallel requests of
  one user are counted one after another (invariant 2).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from ideas_platform.accounts.auth import Principal
from ideas_platform.accounts.models import User
from ideas_platform.core.choices import N_
from ideas_platform.core.errors import ConflictError, DomainError, NotFoundError, PermissionError_
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.processes.models import PhaseKind, Process, ProcessPhase
from ideas_platform.votes.models import Vote

IDEA_NOT_FOUND = N_("This idea does not exist.")
NOT_VOTABLE = N_("Only published ideas can be supported.")
NOT_VOTE_PHASE = N_("Voting is not open in this process at the moment.")
ALREADY_VOTED = N_("You already support this idea.")
NOT_VOTED = N_("You do not support this idea.")
NO_BUDGET_LEFT = N_("You have no votes left in this process.")
SESSION_EXPIRED = N_("Your session has expired. Please log in again.")


@dataclass(frozen=True)
class VoteState:
    idea_id: int
    voted: bool
    vote_count: int
    budget: int | None = None
    used: int | None = None

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None or self.used is None else max(self.budget - self.used, 0)


_VOTER_OK = (
    "EXISTS (SELECT 1 FROM users u WHERE u.id = :uid AND u.is_active "
    "AND (CAST(:sv AS integer) IS NULL OR u.session_version = CAST(:sv AS integer)))"
)
_VOTE_PHASE_OPEN = (
    "EXISTS (SELECT 1 FROM process_phases ph WHERE ph.process_id = i.process_id "
    "AND ph.kind = 'vote' AND ph.starts_at <= now() AND now() < ph.ends_at)"
)

# One round trip for the common case; `found` = 0 means a rule refused it (see _explain_refusal).
_CAST = text(f"""
WITH target AS (
    SELECT i.id, i.process_id, p.vote_budget
    FROM ideas i JOIN processes p ON p.id = i.process_id
    WHERE i.id = :idea_id AND i.status = 'published' AND {_VOTE_PHASE_OPEN} AND {_VOTER_OK}
), ins AS (
    INSERT INTO votes (idea_id, user_id, process_id)
    SELECT id, :uid, process_id FROM target
    WHERE vote_budget IS NULL OR CAST(:budget_checked AS boolean)
    ON CONFLICT DO NOTHING
    RETURNING idea_id
), upd AS (
    UPDATE ideas SET vote_count = vote_count + 1
    WHERE id IN (SELECT idea_id FROM ins)
    RETURNING vote_count
)
SELECT (SELECT count(*) FROM target) AS found,
       (SELECT vote_budget FROM target) AS budget,
       (SELECT count(*) FROM ins) AS inserted,
       (SELECT vote_count FROM upd) AS new_count
""")

_WITHDRAW = text(f"""
WITH del AS (
    DELETE FROM votes v USING ideas i
    WHERE v.idea_id = :idea_id AND v.user_id = :uid AND i.id = v.idea_id
      AND {_VOTE_PHASE_OPEN} AND {_VOTER_OK}
    RETURNING v.idea_id
), upd AS (
    UPDATE ideas SET vote_count = vote_count - 1
    WHERE id IN (SELECT idea_id FROM del)
    RETURNING vote_count
)
SELECT (SELECT count(*) FROM del) AS deleted, (SELECT vote_count FROM upd) AS new_count
""")

_LOCK_VOTER = text("SELECT 1 FROM users WHERE id = :uid FOR UPDATE")
_USED = text("SELECT count(*) FROM votes WHERE user_id = :uid AND process_id = :process_id")


def _params(principal: Principal, idea_id: int, budget_checked: bool = False) -> dict[str, object]:
    return {
        "idea_id": idea_id,
        "uid": principal.user_id,
        "sv": principal.session_version,
        "budget_checked": budget_checked,
    }


async def cast_vote(engine: AsyncEngine, principal: Principal, idea_id: int) -> VoteState:
    # Without a budget a single autocommit statement is atomic and needs no explicit transaction.
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        row = (await auto.execute(_CAST, _params(principal, idea_id))).one()
        if row.found == 0:
            await _explain_refusal(auto, principal, idea_id)
            raise DomainError(NOT_VOTABLE)
        if row.budget is None:
            if row.inserted == 0:
                raise ConflictError(ALREADY_VOTED)
            return VoteState(idea_id, True, row.new_count)
    return await _cast_with_budget(engine, principal, idea_id)


async def _cast_with_budget(engine: AsyncEngine, principal: Principal, idea_id: int) -> VoteState:
    async with engine.begin() as conn:
        await conn.execute(_LOCK_VOTER, {"uid": principal.user_id})
        process_id, budget = (
            await conn.execute(
                select(Idea.process_id, Process.vote_budget)
                .join(Process, Process.id == Idea.process_id)
                .where(Idea.id == idea_id)
            )
        ).one()
        used = (
            await conn.execute(_USED, {"uid": principal.user_id, "process_id": process_id})
        ).scalar_one()
        already = await conn.scalar(
            select(func.count()).where(Vote.idea_id == idea_id, Vote.user_id == principal.user_id)
        )
        if already:
            raise ConflictError(ALREADY_VOTED)
        if budget is not None and used >= budget:
            raise DomainError(NO_BUDGET_LEFT)
        row = (await conn.execute(_CAST, _params(principal, idea_id, budget_checked=True))).one()
        if row.found == 0:
            await _explain_refusal(conn, principal, idea_id)
            raise DomainError(NOT_VOTABLE)
        if row.inserted == 0:
            raise ConflictError(ALREADY_VOTED)
        return VoteState(idea_id, True, row.new_count, budget, used + 1)


async def withdraw_vote(engine: AsyncEngine, principal: Principal, idea_id: int) -> VoteState:
    async with engine.begin() as conn:
        row = (await conn.execute(_WITHDRAW, _params(principal, idea_id))).one()
        if row.deleted == 0:
            await _explain_refusal(conn, principal, idea_id, withdrawing=True)
            raise ConflictError(NOT_VOTED)
        process_id, budget = (
            await conn.execute(
                select(Idea.process_id, Process.vote_budget)
                .join(Process, Process.id == Idea.process_id)
                .where(Idea.id == idea_id)
            )
        ).one()
        used = None
        if budget is not None:
            used = (
                await conn.execute(_USED, {"uid": principal.user_id, "process_id": process_id})
            ).scalar_one()
        return VoteState(idea_id, False, row.new_count, budget, used)


async def _explain_refusal(
    conn: AsyncConnection, principal: Principal, idea_id: int, *, withdrawing: bool = False
) -> None:
    """The fast statement said no; find out which rule refused, for a clear message."""
    voter = (
        await conn.execute(
            select(User.is_active, User.session_version).where(User.id == principal.user_id)
        )
    ).first()
    if (
        voter is None
        or not voter.is_active
        or (
            principal.session_version is not None
            and voter.session_version != principal.session_version
        )
    ):
        raise PermissionError_(SESSION_EXPIRED)
    idea = (
        await conn.execute(select(Idea.status, Idea.process_id).where(Idea.id == idea_id))
    ).first()
    if idea is None:
        raise NotFoundError(IDEA_NOT_FOUND)
    if not withdrawing and idea.status != IdeaStatus.PUBLISHED:
        raise DomainError(NOT_VOTABLE)
    vote_open = await conn.scalar(
        select(func.count()).where(
            ProcessPhase.process_id == idea.process_id,
            ProcessPhase.kind == PhaseKind.VOTE,
            ProcessPhase.starts_at <= func.now(),
            ProcessPhase.ends_at > func.now(),
        )
    )
    if not vote_open:
        raise DomainError(NOT_VOTE_PHASE)


async def voted_idea_ids(session: AsyncSession, user_id: int, idea_ids: list[int]) -> set[int]:
    if not idea_ids:
        return set()
    rows = await session.scalars(
        select(Vote.idea_id).where(Vote.user_id == user_id, Vote.idea_id.in_(idea_ids))
    )
    return set(rows)


async def votes_used(session: AsyncSession, user_id: int, process_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(Vote.user_id == user_id, Vote.process_id == process_id)
        )
        or 0
    )


async def vote_state(
    session: AsyncSession, user_id: int | None, idea: Idea, budget: int | None
) -> VoteState:
    voted = False
    used = None
    if user_id is not None:
        voted = bool(await voted_idea_ids(session, user_id, [idea.id]))
        if budget is not None:
            used = await votes_used(session, user_id, idea.process_id)
    return VoteState(idea.id, voted, idea.vote_count, budget, used)


async def current_state(engine: AsyncEngine, user_id: int, idea_id: int) -> VoteState | None:
    """The button's state after a refusal (e.g. a double click), so the fragment stays true."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(Idea.vote_count, Idea.process_id, Process.vote_budget)
                .join(Process, Process.id == Idea.process_id)
                .where(Idea.id == idea_id)
            )
        ).first()
        if row is None:
            return None
        voted = await conn.scalar(
            select(func.count()).where(Vote.idea_id == idea_id, Vote.user_id == user_id)
        )
        used = None
        if row.vote_budget is not None:
            used = (
                await conn.execute(_USED, {"uid": user_id, "process_id": row.process_id})
            ).scalar_one()
        return VoteState(idea_id, bool(voted), row.vote_count, row.vote_budget, used)
