"""Votes (supports). The rules live in SQL statements so that they hold under concurrency:

* the primary key (idea_id, user_id) makes a second vote impossible;
* `ideas.vote_count` changes in the same statement as the vote row (invariant 1);
* with a budget, the voter's user row is locked for the transaction, so 50 parallel requests of
  one user are counted one after another (invariant 2);
* a guest of a workshop supports only that workshop's ideas (in the vote statement, too).

Voting is the hottest path of the platform, so it talks to the pooled asyncpg connection
directly (see `create_driver_pool`): one vote is one round trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
from litestar.channels import ChannelsPlugin

from ideas_platform.core.choices import N_
from ideas_platform.core.errors import ConflictError, DomainError, PermissionError_
from ideas_platform.core.page_cache import votes_changed
from ideas_platform.core.requests import Principal
from ideas_platform.events import live
from ideas_platform.ideas.visibility import idea_not_found

if TYPE_CHECKING:
    from litestar import Litestar

NOT_VOTABLE = N_("Only published ideas can be supported.")
NOT_VOTE_PHASE = N_("Voting is not open in this process at the moment.")
ALREADY_VOTED = N_("You already support this idea.")
NOT_VOTED = N_("You do not support this idea.")
VOTES_FROZEN = N_("This idea is no longer published; its votes cannot change.")
NO_BUDGET_LEFT = N_("You have no votes left in this process.")
NO_DOTS_LEFT = N_("You have no dots left at this event.")
SESSION_EXPIRED = N_("Your session has expired. Please log in again.")
GUEST_OTHER_EVENT = N_("As a guest of a workshop you can support only the ideas of that workshop.")


@dataclass(frozen=True)
class VoteState:
    idea_id: int
    voted: bool
    vote_count: int
    budget: int | None = None
    used: int | None = None
    event_id: int | None = None  # the idea's event: its projector hears of the vote
    dots: bool = False  # the budget is the event's dots, not the process's votes

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None or self.used is None else max(self.budget - self.used, 0)


# Parameters: $1 idea id, $2 user id, $3 session version (NULL for API tokens), $4 the hash of
# an API token that was not looked up for this request (else NULL): the statement confirms the
# session or the token itself, so a vote is one round trip (Principal, accounts/auth.py).
_VOTER_CONFIRMED = (
    "u.is_active AND ($3::integer IS NULL OR u.session_version = $3::integer) "
    "AND ($4::text IS NULL OR EXISTS "
    "(SELECT 1 FROM api_tokens t WHERE t.token_hash = $4::text AND t.user_id = u.id))"
)
_VOTER = f"u.id = $2 AND {_VOTER_CONFIRMED}"
_VOTER_OK = f"EXISTS (SELECT 1 FROM users u WHERE {_VOTER})"
# A guest (an account made at a workshop with just a name) supports only the ideas of its
# workshop: guests are cheap to make, so their votes must not weigh anywhere else (issue 17).
# Withdrawing stays possible everywhere.
_GUEST_OK = "(u.guest_event_id IS NULL OR u.guest_event_id = i.event_id)"
_VOTER_MAY_CAST = f"EXISTS (SELECT 1 FROM users u WHERE {_VOTER} AND {_GUEST_OK})"
_VOTE_PHASE_OPEN = (
    "EXISTS (SELECT 1 FROM process_phases ph WHERE ph.process_id = i.process_id "
    "AND ph.kind = 'vote' AND ph.starts_at <= now() AND now() < ph.ends_at)"
)

# The happy path is one statement, about as lean as a bare INSERT + UPDATE: it answers the new
# count, or no row when a rule refused, the vote exists already, or the process has a budget
# (then $5, "budget checked under the voter's lock", must be true). _WHY tells which it was.
# The idea row is locked first and its status read under the lock, so a vote never lands on an
# idea that a concurrent merge or hide has just taken out of the vote (moderation/merge.py).
CAST_SQL = f"""
WITH idea AS (
    SELECT i.id, i.process_id
    FROM ideas i JOIN processes p ON p.id = i.process_id
    LEFT JOIN events e ON e.id = i.event_id
    WHERE i.id = $1 AND i.status = 'published'
      AND (COALESCE(e.dot_budget, p.vote_budget) IS NULL OR $5::boolean)
      AND ({_VOTE_PHASE_OPEN} OR e.live_mode = 'vote') AND {_VOTER_MAY_CAST}
    FOR NO KEY UPDATE OF i
), ins AS (
    INSERT INTO votes (idea_id, user_id, process_id)
    SELECT id, $2, process_id FROM idea
    ON CONFLICT DO NOTHING
    RETURNING idea_id
)
UPDATE ideas SET vote_count = vote_count + 1
WHERE id IN (SELECT idea_id FROM ins)
RETURNING vote_count, event_id
"""

_WITHDRAW = f"""
WITH idea AS (
    SELECT i.id FROM ideas i LEFT JOIN events e ON e.id = i.event_id
    WHERE i.id = $1 AND i.status = 'published'
      AND ({_VOTE_PHASE_OPEN} OR e.live_mode = 'vote') AND {_VOTER_OK}
    FOR NO KEY UPDATE OF i
), del AS (
    DELETE FROM votes v USING idea
    WHERE v.idea_id = idea.id AND v.user_id = $2
    RETURNING v.idea_id
)
UPDATE ideas SET vote_count = vote_count - 1
WHERE id IN (SELECT idea_id FROM del)
RETURNING vote_count, process_id, event_id,
          (SELECT e.dot_budget FROM events e WHERE e.id = ideas.event_id) AS dot_budget,
          (SELECT p.vote_budget FROM processes p WHERE p.id = ideas.process_id) AS process_budget
"""

# Whether the voter may read the idea at all (ideas.visibility's rule, in SQL): a refusal on
# one they may not read answers "does not exist", never its status or count (issue 17).
_READABLE = (
    "(i.status IN ('published', 'merged') OR i.author_id = $2 "
    "OR EXISTS (SELECT 1 FROM users r WHERE r.id = $2 AND r.role IN ('moderator', 'admin')))"
)
_WHY = f"""
SELECT (SELECT {_VOTER_CONFIRMED} FROM users u WHERE u.id = $2) AS voter_ok,
       (SELECT coalesce({_GUEST_OK}, false) FROM users u WHERE u.id = $2) AS guest_ok,
       i.status, {_READABLE} AS readable, i.process_id, i.vote_count, i.event_id, e.dot_budget,
       p.vote_budget AS process_budget,
       ({_VOTE_PHASE_OPEN} OR coalesce(e.live_mode = 'vote', false)) AS vote_open,
       EXISTS (SELECT 1 FROM votes v WHERE v.idea_id = $1 AND v.user_id = $2) AS voted
FROM (SELECT $1::bigint AS id) AS wanted
LEFT JOIN ideas i ON i.id = wanted.id
LEFT JOIN processes p ON p.id = i.process_id
LEFT JOIN events e ON e.id = i.event_id
"""
# NO KEY UPDATE: serialises one voter's budget checks, but does not block the foreign-key locks
# that inserting rows pointing at the user takes (votes, audit entries, co-authors).
_LOCK_VOTER = "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE"
# An event with a dot budget has its own: votes on its ideas count there, not in the process.
_USED_IN_PROCESS = """
SELECT count(*) FROM votes v JOIN ideas i ON i.id = v.idea_id
LEFT JOIN events e ON e.id = i.event_id
WHERE v.user_id = $1 AND v.process_id = $2 AND e.dot_budget IS NULL
"""
_USED_AT_EVENT = """
SELECT count(*) FROM votes v JOIN ideas i ON i.id = v.idea_id
WHERE v.user_id = $1 AND i.event_id = $2
"""


def _budget(facts: asyncpg.Record) -> int | None:
    """The budget that applies to this idea: its event's dots, else the process's votes."""
    return facts["dot_budget"] if facts["dot_budget"] is not None else facts["process_budget"]


async def _used(conn: asyncpg.Connection, user_id: int, facts: asyncpg.Record) -> int:
    if facts["dot_budget"] is not None:
        return int(await conn.fetchval(_USED_AT_EVENT, user_id, facts["event_id"]))
    return int(await conn.fetchval(_USED_IN_PROCESS, user_id, facts["process_id"]))


def _state(facts: asyncpg.Record, idea_id: int, voted: bool, used: int | None) -> VoteState:
    """The button of an idea from a row with its count, its event and the budgets (`_budget`)."""
    return VoteState(
        idea_id,
        voted,
        facts["vote_count"],
        _budget(facts),
        used,
        facts["event_id"],
        facts["dot_budget"] is not None,
    )


async def _state_counting_used(
    conn: asyncpg.Connection, user_id: int, facts: asyncpg.Record, idea_id: int, voted: bool
) -> VoteState:
    """`_state`, with the votes or dots the voter has used where a budget applies."""
    used = await _used(conn, user_id, facts) if _budget(facts) is not None else None
    return _state(facts, idea_id, voted, used)


def _args(principal: Principal, idea_id: int) -> tuple[int, int, int | None, str | None]:
    return idea_id, principal.user_id, principal.session_version, principal.unconfirmed_token_hash


def _raise_refusal(why: asyncpg.Record, *, withdrawing: bool = False) -> None:
    """Turn the facts of _WHY into the clear message of the rule that refused."""
    if not why["voter_ok"]:
        raise PermissionError_(SESSION_EXPIRED, code="session_expired")
    if why["status"] is None or not why["readable"]:
        raise idea_not_found()
    if not withdrawing and not why["guest_ok"]:
        raise PermissionError_(GUEST_OTHER_EVENT, code="guest_other_event")
    if why["status"] != "published":
        if withdrawing:
            raise DomainError(VOTES_FROZEN, code="votes_frozen")
        raise DomainError(NOT_VOTABLE, code="idea_not_votable")
    if not why["vote_open"]:
        raise DomainError(NOT_VOTE_PHASE, code="not_vote_phase")
    if withdrawing and not why["voted"]:
        raise ConflictError(NOT_VOTED, code="not_voted")
    if not withdrawing and why["voted"]:
        raise ConflictError(ALREADY_VOTED, code="already_voted")


async def cast_vote(pool: asyncpg.Pool, principal: Principal, idea_id: int) -> VoteState:
    async with pool.acquire() as conn:
        cast = await conn.fetchrow(CAST_SQL, *_args(principal, idea_id), False)
        if cast is not None:
            return VoteState(idea_id, True, cast["vote_count"], event_id=cast["event_id"])
        why = await conn.fetchrow(_WHY, *_args(principal, idea_id))
        assert why is not None
        _raise_refusal(why)
        if _budget(why) is None:
            # changed between the two statements
            raise DomainError(NOT_VOTABLE, code="idea_not_votable")
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
        budget = _budget(why)
        used = await _used(conn, principal.user_id, why)
        if budget is not None and used >= budget:
            if why["dot_budget"] is not None:
                raise DomainError(NO_DOTS_LEFT, code="dot_budget_exhausted")
            raise DomainError(NO_BUDGET_LEFT, code="vote_budget_exhausted")
        cast = await conn.fetchrow(CAST_SQL, *_args(principal, idea_id), True)
        if cast is None:
            raise DomainError(NOT_VOTABLE, code="idea_not_votable")
        return VoteState(
            idea_id,
            True,
            cast["vote_count"],
            budget,
            used + 1,
            cast["event_id"],
            why["dot_budget"] is not None,
        )


async def withdraw_vote(pool: asyncpg.Pool, principal: Principal, idea_id: int) -> VoteState:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_WITHDRAW, *_args(principal, idea_id))
        if row is None:
            why = await conn.fetchrow(_WHY, *_args(principal, idea_id))
            assert why is not None
            _raise_refusal(why, withdrawing=True)
            raise ConflictError(NOT_VOTED, code="not_voted")
        return await _state_counting_used(conn, principal.user_id, row, idea_id, False)


def announce_vote(app: Litestar, state: VoteState) -> None:
    """A vote changes the counts the pages show (written on the driver, SQLAlchemy's commit
    does not tell the page cache), and on an idea of an event the count on its projector."""
    votes_changed(app)
    if state.event_id is not None:
        live.announce(
            app.plugins.get(ChannelsPlugin),
            state.event_id,
            "vote",
            idea_id=state.idea_id,
            vote_count=state.vote_count,
        )


async def current_state(pool: asyncpg.Pool, user_id: int, idea_id: int) -> VoteState | None:
    """The button's state after a refusal (e.g. a double click), so the fragment stays true."""
    async with pool.acquire() as conn:
        why = await conn.fetchrow(_WHY, idea_id, user_id, None, None)
        if why is None or why["status"] is None or not why["readable"]:
            return None
        return await _state_counting_used(conn, user_id, why, idea_id, bool(why["voted"]))


# Each shown idea's count and budget, and whether the viewer ($1, NULL: nobody) supports it.
_SHOWN = """
SELECT i.id, i.vote_count, i.process_id, i.event_id, e.dot_budget,
       p.vote_budget AS process_budget,
       $1::bigint IS NOT NULL
         AND EXISTS (SELECT 1 FROM votes v WHERE v.idea_id = i.id AND v.user_id = $1) AS voted
FROM ideas i JOIN processes p ON p.id = i.process_id
LEFT JOIN events e ON e.id = i.event_id
WHERE i.id = ANY($2::bigint[])
"""


async def states_of(
    pool: asyncpg.Pool, user_id: int | None, idea_ids: Iterable[int]
) -> dict[int, VoteState]:
    """The vote button of each idea as this viewer sees it (supported?, votes or dots left),
    with the current counts: one statement, and one more per budget the viewer has."""
    ids = list(idea_ids)
    if not ids:
        return {}
    states: dict[int, VoteState] = {}
    async with pool.acquire() as conn:
        used: dict[tuple[bool, int], int] = {}
        for row in await conn.fetch(_SHOWN, user_id, ids):
            spent: int | None = None
            if user_id is not None and _budget(row) is not None:
                # Counted once per budget: a list shows many ideas of one process or event.
                dots = row["dot_budget"] is not None
                where = (dots, row["event_id"] if dots else row["process_id"])
                if where not in used:
                    used[where] = await _used(conn, user_id, row)
                spent = used[where]
            states[row["id"]] = _state(row, row["id"], row["voted"], spent)
    return states
