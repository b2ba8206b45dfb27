"""Property-based, stateful tests of votes, withdrawals, merges and unmerges on a real database.

Hypothesis drives random sequences of the four actions; after every step the database must keep
the invariants: every vote count equals its rows, nobody has two votes on one idea (the primary
key) or more than the budget, no vote rests on a merged idea, and a merge followed at once by an
unmerge gives back exactly the vote sets from before.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from ideas_platform.core.choices import Role
from ideas_platform.core.database import create_driver_pool, create_session_factory
from ideas_platform.core.errors import DomainError
from ideas_platform.core.invariants import find_violations
from ideas_platform.core.requests import Principal
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.moderation import merge as merging
from ideas_platform.votes import service as votes
from ideas_platform.votes.models import Vote
from tests.conftest import TABLES
from tests.helpers import make_idea, make_process, make_user, make_users_fast

IDEAS = 4
USERS = 4
BUDGET = 3


def test_vote_merge_unmerge_sequences_keep_the_invariants(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    engine = create_async_engine(database_url, pool_size=2, max_overflow=0)
    factory = create_session_factory(engine)
    pool = loop.run_until_complete(create_driver_pool(database_url, 2))

    def run(coro: Any) -> Any:
        return loop.run_until_complete(coro)

    class VotesAndMerges(RuleBasedStateMachine):
        @initialize()
        def scene(self) -> None:
            async def build() -> tuple[list[int], list[int], int]:
                async with engine.begin() as conn:
                    await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
                process = await make_process(factory, budget=BUDGET)
                author = await make_user(factory)
                moderator = await make_user(factory, role=Role.MODERATOR)
                ideas = [(await make_idea(factory, process, author)).id for _ in range(IDEAS)]
                return ideas, await make_users_fast(factory, USERS), moderator.id

            self.ideas, self.users, self.moderator = run(build())

        async def _votes(self) -> set[tuple[int, int]]:
            async with factory() as session:
                rows = await session.execute(select(Vote.idea_id, Vote.user_id))
                return {(row[0], row[1]) for row in rows}

        @rule(user=st.integers(0, USERS - 1), idea=st.integers(0, IDEAS - 1))
        def vote(self, user: int, idea: int) -> None:
            try:
                run(votes.cast_vote(pool, Principal(self.users[user], 0), self.ideas[idea]))
            except DomainError:
                pass  # refused (already voted, budget, merged): the invariants say it was right
            else:
                assert (self.ideas[idea], self.users[user]) in run(self._votes())

        @rule(user=st.integers(0, USERS - 1), idea=st.integers(0, IDEAS - 1))
        def withdraw(self, user: int, idea: int) -> None:
            try:
                run(votes.withdraw_vote(pool, Principal(self.users[user], 0), self.ideas[idea]))
            except DomainError:
                pass
            assert (self.ideas[idea], self.users[user]) not in run(self._votes())

        async def _merge(self, source: int, target: int) -> bool:
            async with factory() as session:
                try:
                    await merging.merge(
                        session, source_id=source, target_id=target, moderator_id=self.moderator
                    )
                except DomainError:
                    return False
            return True

        async def _unmerge(self, source: int) -> bool:
            async with factory() as session:
                try:
                    await merging.unmerge(session, source_id=source, moderator_id=self.moderator)
                except DomainError:
                    return False
            return True

        @rule(source=st.integers(0, IDEAS - 1), into=st.integers(0, IDEAS - 1))
        def merge(self, source: int, into: int) -> None:
            before = run(self._votes())
            if run(self._merge(self.ideas[source], self.ideas[into])):
                after = run(self._votes())
                source_voters = {u for i, u in before if i == self.ideas[source]}
                target_voters = {u for i, u in before if i == self.ideas[into]}
                assert {u for i, u in after if i == self.ideas[into]} == (
                    source_voters | target_voters
                )
            else:
                assert run(self._votes()) == before  # a refused merge changes nothing

        @rule(source=st.integers(0, IDEAS - 1))
        def unmerge(self, source: int) -> None:
            run(self._unmerge(self.ideas[source]))

        @rule(source=st.integers(0, IDEAS - 1), into=st.integers(0, IDEAS - 1))
        def merge_then_unmerge(self, source: int, into: int) -> None:
            before = run(self._votes())
            if run(self._merge(self.ideas[source], self.ideas[into])):
                assert run(self._unmerge(self.ideas[source]))
                assert run(self._votes()) == before

        @invariant()
        def database_invariants_hold(self) -> None:
            async def check() -> None:
                async with factory() as session:
                    assert await find_violations(session) == []
                    merged = set(
                        await session.scalars(
                            select(Idea.id).where(Idea.status == IdeaStatus.MERGED)
                        )
                    )
                votes_now = await self._votes()
                assert not {i for i, _ in votes_now} & merged
                per_user: dict[int, int] = {}
                for _, user in votes_now:
                    per_user[user] = per_user.get(user, 0) + 1
                assert max(per_user.values(), default=0) <= BUDGET

            if hasattr(self, "ideas"):
                run(check())

    VotesAndMerges.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    try:
        VotesAndMerges.TestCase().runTest()
    finally:
        run(pool.close())
        run(engine.dispose())
        loop.close()
