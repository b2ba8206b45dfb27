"""Votes and withdrawals arriving on A and B while A is merged into B: none lost, none counted
twice. Every acknowledged action is reflected in B afterwards; every refused one left no trace."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import select

from ideas_platform.core.choices import Role
from ideas_platform.core.errors import DomainError
from ideas_platform.core.invariants import find_violations
from ideas_platform.core.requests import Principal
from ideas_platform.moderation import merge as merging
from ideas_platform.votes import service as votes
from ideas_platform.votes.models import Vote
from tests.helpers import make_idea, make_process, make_user, make_users_fast

ROUNDS = 6


async def test_votes_during_a_merge_are_neither_lost_nor_double_counted(
    session_factory, driver_pool, db
):
    rng = random.Random(2026)
    process = await make_process(session_factory)
    author = await make_user(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    users = await make_users_fast(session_factory, 60)
    overlapped = 0
    for _ in range(ROUNDS):
        a = await make_idea(session_factory, process, author)
        b = await make_idea(session_factory, process, author)
        pre_a, pre_b = set(users[0:20]), set(users[10:30])
        for user_id in pre_a:
            await votes.cast_vote(driver_pool, Principal(user_id, 0), a.id)
        for user_id in pre_b:
            await votes.cast_vote(driver_pool, Principal(user_id, 0), b.id)

        cast_acked, withdrawn_from_a, overlaps = await _one_round(
            driver_pool, session_factory, rng, users, a.id, b.id, moderator.id
        )
        overlapped += overlaps

        on_b = set(await db.scalars(select(Vote.user_id).where(Vote.idea_id == b.id)))
        on_a = set(await db.scalars(select(Vote.user_id).where(Vote.idea_id == a.id)))
        assert on_a == set()
        assert on_b == pre_b | (pre_a - withdrawn_from_a) | cast_acked
        assert await find_violations(db) == []
    assert overlapped > 0  # the merge really ran while votes were arriving


async def _one_round(
    pool, session_factory, rng, users, a_id: int, b_id: int, moderator_id: int
) -> tuple[set[int], set[int], int]:
    """Merge A into B while 30 users vote on A or B and 8 withdraw from A, all at once."""
    cast_acked: set[int] = set()
    withdrawn_from_a: set[int] = set()
    merge_span: list[float] = []
    attempts_at: list[float] = []
    loop = asyncio.get_running_loop()

    async def attempt(change, user_id: int, idea_id: int, acked: set[int]) -> None:
        """`change` (cast or withdraw) of the user's vote after a random pause; `acked` gets
        the user if it was taken."""
        await asyncio.sleep(rng.random() * 0.05)
        attempts_at.append(loop.time())
        try:
            await change(pool, Principal(user_id, 0), idea_id)
        except DomainError:
            return
        acked.add(user_id)

    async def merge() -> None:
        await asyncio.sleep(0.02)
        merge_span.append(loop.time())
        async with session_factory() as session:
            await merging.merge(session, source_id=a_id, target_id=b_id, moderator_id=moderator_id)
        merge_span.append(loop.time())

    await asyncio.gather(
        merge(),
        *(
            attempt(votes.cast_vote, user_id, rng.choice((a_id, b_id)), cast_acked)
            for user_id in users[30:60]
        ),
        *(attempt(votes.withdraw_vote, user_id, a_id, withdrawn_from_a) for user_id in users[0:8]),
    )
    # Overlap: a vote or withdrawal was sent while the merge's transaction was under way.
    begun, ended = merge_span
    return cast_acked, withdrawn_from_a, int(any(begun <= t <= ended for t in attempts_at))
