"""Voting: the rules, the htmx fragment, the fallback without JavaScript, and concurrency."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import func, select, text

from ideas_platform.core.errors import ConflictError, DomainError, NotFoundError, PermissionError_
from ideas_platform.core.invariants import find_violations
from ideas_platform.core.requests import Principal
from ideas_platform.ideas.visibility import IDEA_NOT_FOUND
from ideas_platform.votes import service as votes
from ideas_platform.votes.models import Vote
from tests.helpers import (
    htmx_headers,
    login,
    make_idea,
    make_process,
    make_user,
    make_users_fast,
    post_form,
    set_phase,
    stored,
)


async def _refusal(call, kind: type[DomainError] = DomainError) -> str:
    """The untranslated message of the rule that refused `call` (fails if none did)."""
    with pytest.raises(kind) as caught:
        await call
    return caught.value.message


async def _count_votes(db, **where) -> int:
    stmt = select(func.count()).select_from(Vote)
    for column, value in where.items():
        stmt = stmt.where(getattr(Vote, column) == value)
    return int(await db.scalar(stmt))


async def test_vote_and_withdraw_keep_the_count(driver_pool, session_factory, db):
    process = await make_process(session_factory)
    author = await make_user(session_factory)
    voter = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author)
    principal = Principal(voter.id, voter.session_version)

    state = await votes.cast_vote(driver_pool, principal, idea.id)
    assert (state.voted, state.vote_count) == (True, 1)
    state = await votes.withdraw_vote(driver_pool, principal, idea.id)
    assert (state.voted, state.vote_count) == (False, 0)
    assert await _count_votes(db, idea_id=idea.id) == 0


async def test_voting_twice_is_refused_and_counted_once(driver_pool, session_factory, db):
    process = await make_process(session_factory)
    voter = await make_user(session_factory)
    idea = await make_idea(session_factory, process, voter)
    principal = Principal(voter.id, voter.session_version)
    await votes.cast_vote(driver_pool, principal, idea.id)
    message = await _refusal(votes.cast_vote(driver_pool, principal, idea.id), ConflictError)
    assert message == votes.ALREADY_VOTED, "a second vote must be refused"
    assert await stored(db, idea.id, "vote_count") == 1


async def test_withdrawing_without_a_vote_is_refused(driver_pool, session_factory):
    process = await make_process(session_factory)
    voter = await make_user(session_factory)
    idea = await make_idea(session_factory, process, voter)
    message = await _refusal(
        votes.withdraw_vote(driver_pool, Principal(voter.id, 0), idea.id), ConflictError
    )
    assert message == votes.NOT_VOTED, "withdrawing a vote that does not exist must be refused"


async def test_no_votes_outside_the_vote_phase(driver_pool, session_factory, db):
    process = await make_process(session_factory, vote="future")
    voter = await make_user(session_factory)
    idea = await make_idea(session_factory, process, voter)
    for _ in range(2):
        message = await _refusal(
            votes.cast_vote(driver_pool, Principal(voter.id, 0), idea.id), DomainError
        )
        assert message == votes.NOT_VOTE_PHASE, "voting before the vote phase must be refused"
        await set_phase(session_factory, process, vote="closed")
    assert await _count_votes(db) == 0


async def test_no_vote_on_a_withdrawn_idea(driver_pool, session_factory, client, own_idea):
    _, author, idea = await own_idea()
    voter = await make_user(session_factory)
    response = await post_form(client, f"/ideas/{idea.id}/withdraw")
    assert response.status_code == 303
    # The author still sees the idea, and why it cannot be supported ...
    message = await _refusal(
        votes.cast_vote(driver_pool, Principal(author.id, 0), idea.id), DomainError
    )
    assert message == votes.NOT_VOTABLE, "a withdrawn idea cannot be supported"
    # ... to anybody else it does not exist (issue 17: no hint of a hidden or withdrawn idea).
    message = await _refusal(
        votes.cast_vote(driver_pool, Principal(voter.id, 0), idea.id), NotFoundError
    )
    assert message == IDEA_NOT_FOUND


async def test_a_stale_session_cannot_vote(driver_pool, session_factory):
    process = await make_process(session_factory)
    voter = await make_user(session_factory)
    idea = await make_idea(session_factory, process, voter)
    # session_version 7 is not the user's: e.g. the user logged out since.
    await _refusal(
        votes.cast_vote(driver_pool, Principal(voter.id, 7), idea.id), PermissionError_
    )  # a logged-out session must not vote


async def test_budget_is_enforced_and_returned_on_withdrawal(driver_pool, session_factory):
    process = await make_process(session_factory, budget=2)
    voter = await make_user(session_factory)
    ideas = [await make_idea(session_factory, process, voter) for _ in range(3)]
    principal = Principal(voter.id, 0)
    first = await votes.cast_vote(driver_pool, principal, ideas[0].id)
    assert (first.budget, first.remaining) == (2, 1)
    second = await votes.cast_vote(driver_pool, principal, ideas[1].id)
    assert second.remaining == 0
    message = await _refusal(votes.cast_vote(driver_pool, principal, ideas[2].id), DomainError)
    assert message == votes.NO_BUDGET_LEFT, "the budget must hold"
    back = await votes.withdraw_vote(driver_pool, principal, ideas[0].id)
    assert back.remaining == 1
    third = await votes.cast_vote(driver_pool, principal, ideas[2].id)
    assert third.remaining == 0


async def test_htmx_vote_answers_the_fragment(client, own_idea):
    _, _, idea = await own_idea(budget=10)
    await client.get(f"/ideas/{idea.id}")
    response = await client.post(f"/ideas/{idea.id}/vote", headers=htmx_headers(client))
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<div class="vote" id="vote-{idea.id}">')
    assert "<html" not in response.text
    assert "<strong>1</strong>" in response.text
    assert f'action="/ideas/{idea.id}/unvote"' in response.text
    assert "9" in response.text  # 9 of 10 votes left
    # a double click answers the same, true state (still one vote) with a message
    again = await client.post(f"/ideas/{idea.id}/vote", headers=htmx_headers(client))
    assert again.status_code == 200
    assert "<strong>1</strong>" in again.text
    assert 'role="alert"' in again.text
    withdrawn = await client.post(f"/ideas/{idea.id}/unvote", headers=htmx_headers(client))
    assert "<strong>0</strong>" in withdrawn.text


async def test_vote_without_javascript_redirects_back(client, db, own_idea):
    process, _, idea = await own_idea()
    next_url = f"/processes/{process.slug}/ideas?sort=newest"
    response = await post_form(client, f"/ideas/{idea.id}/vote", {"next": next_url})
    assert response.status_code == 303
    assert response.headers["location"] == next_url
    assert await stored(db, idea.id, "vote_count") == 1
    # an absolute URL is not followed (no open redirect)
    response = await post_form(client, f"/ideas/{idea.id}/unvote", {"next": "https://evil.example"})
    assert response.headers["location"] == f"/ideas/{idea.id}"


async def test_vote_needs_login_and_csrf(client, session_factory, db):
    process = await make_process(session_factory)
    voter = await make_user(session_factory)
    idea = await make_idea(session_factory, process, voter)
    anonymous = await post_form(client, f"/ideas/{idea.id}/vote")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await login(client, voter.email)
    no_token = await client.post(f"/ideas/{idea.id}/vote", headers={"HX-Request": "true"})
    assert no_token.status_code == 403
    assert await stored(db, idea.id, "vote_count") == 0


async def test_50_parallel_votes_of_one_user_on_one_idea_leave_one(client, db, own_idea):
    _, _, idea = await own_idea()
    await client.get("/")
    headers = htmx_headers(client)
    responses = await asyncio.gather(
        *(client.post(f"/ideas/{idea.id}/vote", headers=headers) for _ in range(50))
    )
    assert all(r.status_code == 200 for r in responses)
    assert await _count_votes(db, idea_id=idea.id) == 1
    assert await stored(db, idea.id, "vote_count") == 1


async def test_50_parallel_votes_with_a_budget_of_10_leave_10(client, session_factory, db):
    process = await make_process(session_factory, budget=10)
    voter = await make_user(session_factory)
    author = await make_user(session_factory)
    ideas = [await make_idea(session_factory, process, author) for _ in range(50)]
    await login(client, voter.email)
    await client.get("/")
    headers = htmx_headers(client)
    await asyncio.gather(*(client.post(f"/ideas/{i.id}/vote", headers=headers) for i in ideas))
    assert await _count_votes(db, user_id=voter.id) == 10
    assert await find_violations(db) == []


async def test_200_users_voting_and_withdrawing_at_random_keep_counts(
    driver_pool, session_factory, db
):
    process = await make_process(session_factory)
    author = await make_user(session_factory)
    ideas = [await make_idea(session_factory, process, author) for _ in range(5)]
    user_ids = await make_users_fast(session_factory, 200)
    rng = random.Random(7)

    async def behave(user_id: int) -> None:
        principal = Principal(user_id, 0)
        for _ in range(6):
            idea = rng.choice(ideas)
            action = votes.cast_vote if rng.random() < 0.6 else votes.withdraw_vote
            try:
                await action(driver_pool, principal, idea.id)
            except DomainError:
                pass  # already voted / nothing to withdraw: refused, as it should be

    await asyncio.gather(*(behave(uid) for uid in user_ids))
    assert await find_violations(db) == []
    counted = await db.execute(
        text(
            "SELECT i.id, i.vote_count, count(v.user_id) FROM ideas i "
            "LEFT JOIN votes v ON v.idea_id = i.id GROUP BY i.id"
        )
    )
    rows = list(counted)
    assert all(vote_count == real for _, vote_count, real in rows)
    assert sum(real for *_, real in rows) > 0
