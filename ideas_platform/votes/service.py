"""Votes (supports). The rules live in SQL statements so that they hold under concurrency:

* the primary key (idea_id, user_id) makes a second vote impossible;
* `ideas.vote_count` changes in the same statement as the vote row (invariant 1);
* with a budget, the voter's user row is locked for the transaction, so 50 parallel requests of
  one user are counted one after another (invariant 2).

Voting is the hottest path of the platform, so it talks to the pooled asyncpg connection
directly (see `create_driver_pool`): one vote is one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import Principal
from ideas_platform.core.choices import N_
from ideas_platform.core.errors import ConflictError, DomainError, NotFoundError, PermissionError_
from ideas_platform.ideas.models import Idea
from ideas_platform.processes.models import Process
from ideas_platform.votes.models import Vote

IDEA_NOT_FOUND = N_("This idea does not exist.")
NOT_VOTABLE = N_("Only published ideas can be supported.")
NOT_VOTE_PHASE = N_("Voting is not open in this process at the moment.")
ALREADY_VOTED = N_("You already support this idea.")
NOT_VOTED = N_("You do not support this idea.")
VOTES_FROZEN = N_("This idea is no longer published; its votes cannot change.")
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


# Parameters: $1 idea id, $2 user id, $3 session version (NULL for API tokens).
_VOTER_OK = (
    "EXISTS (SELECT 1 FROM users u WHERE u.id = $2 AND u.is_active "
    "AND ($3::integer IS NULL OR u.session_version = $3::integer))"
)
_VOTE_PHASE_OPEN = (
    "EXISTS (SELECT 1 FROM process_phases ph WHERE ph.process_id = i.process_id "
    "AND ph.kind = 'vote' AND ph.starts_at <= now() AND now() < ph.ends_at)"
)

# The happy path is one statement, about as lean as a bare INSERT + UPDATE: it answers the new
# count, or no row when a rule refused, the vote exists already, or the process has a budget
# (then $4, "budget checked under the voter's lock", must be true). _WHY tells which it was.
# The idea row is locked first and its status read under the lock, so a vote never lands on an
# idea that a concurrent merge or hide has just taken out of the vote (moderation/merge.py).
_CAST = f"""
WITH idea AS (
    SELECT i.id, i.process_id
    FROM ideas i JOIN processes p ON p.id = i.process_id
    WHERE i.id = $1 AND i.status = 'published' AND (p.vote_budget IS NULL OR $4::boolean)
      AND {_VOTE_PHASE_OPEN} AND {_VOTER_OK}
    FOR NO KEY UPDATE OF i
), ins AS (
    INSERT INTO votes (idea_id, user_id, process_id)
    SELECT id, $2, process_id FROM idea
    ON CONFLICT DO NOTHING
    RETURNING idea_id
)
UPDATE ideas SET vote_count = vote_count + 1
WHERE id IN (SELECT idea_id FROM ins)
RETURNING vote_count
"""

_WITHDRAW = f"""
WITH idea AS (
    SELECT i.id FROM ideas i
    WHERE i.id = $1 AND i.status = 'published' AND {_VOTE_PHASE_OPEN} AND {_VOTER_OK}
    FOR NO KEY UPDATE OF i
), del AS (
    DELETE FROM votes v USING idea
    WHERE v.idea_id = idea.id AND v.user_id = $2
    RETURNING v.idea_id
)
UPDATE ideas SET vote_count = vote_count - 1
WHERE id IN (SELECT idea_id FROM del)
RETURNING vote_count, process_id,
          (SELECT p.vote_budget FROM processes p WHERE p.id = ideas.process_id) AS budget
"""

_WHY = f"""
SELECT (SELECT u.is_active AND ($3::integer IS NULL OR u.session_version = $3::integer)
          FROM users u WHERE u.id = $2) AS voter_ok,
       i.status, i.process_id, i.vote_count, p.vote_budget AS budget,
       {_VOTE_PHASE_OPEN} AS vote_open,
       EXISTS (SELECT 1 FROM votes v WHERE v.idea_id = $1 AND v.user_id = $2) AS voted
FROM (SELECT $1::bigint AS id) AS wanted
LEFT JOIN ideas i ON i.id = wanted.id
LEFT JOIN processes p ON p.id = i.process_id
"""
# NO KEY UPDATE: serialises one voter's budget checks, but does not block the foreign-key locks
# that inserting rows pointing at the user takes (votes, audit entries, co-authors).
_LOCK_VOTER = "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE"
_USED = "SELECT count(*) FROM votes WHERE user_id = $1 AND process_id = $2"


def _args(principal: Principal, idea_id: int) -> tuple[int, int, int | None]:
    return idea_id, principal.user_id, principal.session_version


def _raise_refusal(why: asyncpg.Record, *, withdrawing: bool = False) -> None:
    """Turn the facts of _WHY into the clear message of the rule that refused."""
    if not why["voter_ok"]:
        raise PermissionError_(SESSION_EXPIRED)
    if why["status"] is None:
        raise NotFoundError(IDEA_NOT_FOUND)
    if why["status"] != "published":
        raise DomainError(VOTES_FROZEN if withdrawing else NOT_VOTABLE)
    if not why["vote_open"]:
        raise DomainError(NOT_VOTE_PHASE)
    if withdrawing and not why["voted"]:
        raise ConflictError(NOT_VOTED)
    if not withdrawing and why["voted"]:
        raise ConflictError(ALREADY_VOTED)


async def cast_vote(pool: asyncpg.Pool, principal: Principal, idea_id: int) -> VoteState:
    async with pool.acquire() as conn:
        new_count = await conn.fetchval(_CAST, *_args(principal, idea_id), False)
        if new_count is not None:
            return VoteState(idea_id, True, new_count)
        why = await conn.fetchrow(_WHY, *_args(principal, idea_id))
        assert why is not None
        _raise_refusal(why)
        if why["budget"] is None:
            raise DomainError(NOT_VOTABLE)  # changed between the two statements
        return await _cast_with_budget(conn, principal, idea_id)


async def _cast_with_budget(
    conn: asyncpg.Connection, principal: Principal, idea_id: int
) -> VoteState:
    async with conn.transaction():
        # One voter's votes are counted one after another: the budget holds under concurrency.
        await conn.execute(_LOCK_VOTER, principal.user_id)
        why = await conn.fetchrow(_WHY, *_args(principal, idea_id))
        assert why is not None
        _raise_refusal(why)
        budget = why["budget"]
        used = await conn.fetchval(_USED, principal.user_id, why["process_id"])
        if budget is not None and used >= budget:
            raise DomainError(NO_BUDGET_LEFT)
        new_count = await conn.fetchval(_CAST, *_args(principal, idea_id), True)
        if new_count is None:
            raise DomainError(NOT_VOTABLE)
        return VoteState(idea_id, True, new_count, budget, used + 1)


async def withdraw_vote(pool: asyncpg.Pool, principal: Principal, idea_id: int) -> VoteState:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_WITHDRAW, *_args(principal, idea_id))
        if row is None:
            why = await conn.fetchrow(_WHY, *_args(principal, idea_id))
            assert why is not None
            _raise_refusal(why, withdrawing=True)
            raise ConflictError(NOT_VOTED)
        used = None
        if row["budget"] is not None:
            used = await conn.fetchval(_USED, principal.user_id, row["process_id"])
        return VoteState(idea_id, False, row["vote_count"], row["budget"], used)


async def current_state(pool: asyncpg.Pool, user_id: int, idea_id: int) -> VoteState | None:
    """The button's state after a refusal (e.g. a double click), so the fragment stays true."""
    async with pool.acquire() as conn:
        why = await conn.fetchrow(_WHY, idea_id, user_id, None)
        if why is None or why["status"] is None:
            return None
        budget = why["budget"]
        used = (
            await conn.fetchval(_USED, user_id, why["process_id"]) if budget is not None else None
        )
        return VoteState(idea_id, bool(why["voted"]), why["vote_count"], budget, used)


async def states_for(
    session: AsyncSession, user_id: int | None, process: Process, ideas: list[Idea]
) -> dict[int, VoteState]:
    """The vote button of each idea as this viewer sees it (voted?, votes left)."""
    voted: set[int] = set()
    used = None
    if user_id is not None and ideas:
        voted = set(
            await session.scalars(
                select(Vote.idea_id).where(
                    Vote.user_id == user_id, Vote.idea_id.in_([idea.id for idea in ideas])
                )
            )
        )
        if process.vote_budget is not None:
            used = await session.scalar(
                select(func.count()).where(Vote.user_id == user_id, Vote.process_id == process.id)
            )
    return {
        idea.id: VoteState(idea.id, idea.id in voted, idea.vote_count, process.vote_budget, used)
        for idea in ideas
    }
