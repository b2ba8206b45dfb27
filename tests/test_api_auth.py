"""Who may use the JSON API: personal tokens (Bearer, no CSRF) and sessions (with CSRF header)."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta

from sqlalchemy import select, text, update

from ideas_platform.accounts.models import ApiToken, User
from ideas_platform.ideas.models import Idea
from tests.helpers import (
    csrf,
    login,
    logout_keeping_old_cookies,
    make_idea,
    make_process,
    make_user,
    post_form,
    stored,
)

TOKEN_RE = re.compile(r'<code class="token">([^<]+)</code>')


async def create_token_on_profile(client, name: str = "Auswertungsskript") -> str:
    response = await post_form(client, "/profile/tokens", {"name": name})
    assert response.status_code == 201, response.text
    found = TOKEN_RE.search(response.text)
    assert found, "the new token is not shown"
    return found.group(1)


async def idea_and_logged_in_voter(client, session_factory) -> tuple[Idea, User]:
    """An idea of somebody in process "idz", and another participant logged in on `client`."""
    process = await make_process(session_factory, slug="idz")
    idea = await make_idea(session_factory, process, await make_user(session_factory))
    voter = await make_user(session_factory)
    await login(client, voter.email)
    return idea, voter


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_token_is_shown_once_and_stored_only_as_hash(client, session_factory, db):
    user = await make_user(session_factory)
    await login(client, user.email)
    token = await create_token_on_profile(client)
    assert token.startswith("ip_") and len(token) > 40
    profile = await client.get("/profile")
    assert "Auswertungsskript" in profile.text
    assert token not in profile.text
    assert not TOKEN_RE.search(profile.text)
    stored = (await db.scalars(select(ApiToken))).all()
    assert len(stored) == 1 and stored[0].user_id == user.id
    assert stored[0].token_hash != token and token not in stored[0].token_hash


async def test_token_needs_a_name(client, session_factory, db):
    user = await make_user(session_factory)
    await login(client, user.email)
    response = await post_form(client, "/profile/tokens", {"name": "   "})
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert not TOKEN_RE.search(response.text)
    assert (await db.scalars(select(ApiToken))).all() == []


async def test_token_creation_needs_login_and_csrf(client, session_factory, db):
    anonymous = await post_form(client, "/profile/tokens", {"name": "x"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    user = await make_user(session_factory)
    await login(client, user.email)
    response = await client.post("/profile/tokens", data={"name": "x"})
    assert response.status_code == 403
    assert (await db.scalars(select(ApiToken))).all() == []


async def test_bearer_token_identifies_the_user(client, session_factory, db):
    user = await make_user(session_factory, sector="civil_society", region="berlin")
    await login(client, user.email)
    token = await create_token_on_profile(client)
    client.cookies.clear()  # a script: no cookies at all
    me = await client.get("/api/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "sector": "civil_society",
        "organisation": "Beispiel GmbH",
        "region": "berlin",
        "role": "participant",
        "locale": "de",
    }
    assert "password_hash" not in me.text
    last_used = await db.scalar(select(ApiToken.last_used_at))
    assert last_used is not None


async def test_bearer_writes_need_no_csrf(client, session_factory, db):
    idea, voter = await idea_and_logged_in_voter(client, session_factory)
    token = await create_token_on_profile(client)
    client.cookies.clear()
    vote = await client.post(f"/api/ideas/{idea.id}/vote", headers=bearer(token))
    assert vote.status_code == 201, vote.text
    assert vote.json()["voted"] is True and vote.json()["vote_count"] == 1
    comment = await client.post(
        f"/api/ideas/{idea.id}/comments", json={"body": "Per Skript."}, headers=bearer(token)
    )
    assert comment.status_code == 201
    assert comment.json()["author"] == voter.display_name


async def test_invalid_token_is_401_json(client, session_factory):
    await make_process(session_factory, slug="idz")
    for headers in (
        bearer("ip_nicht-echt"),
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ):
        response = await client.get("/api/me", headers=headers)
        assert response.status_code == 401, headers
        body = response.json()
        assert body["status_code"] == 401 and body["detail"]
        # also where no login is needed: a wrong token is never silently ignored
        assert (await client.get("/api/processes", headers=headers)).status_code == 401
        write = await client.post("/api/ideas/1/vote", headers=headers)
        assert write.status_code == 401 and write.json()["status_code"] == 401


async def test_invalid_token_wins_over_a_valid_session(client, session_factory):
    user = await make_user(session_factory)
    await login(client, user.email)
    assert (await client.get("/api/me")).status_code == 200
    response = await client.get("/api/me", headers=bearer("ip_falsch"))
    assert response.status_code == 401


async def test_anonymous_api_calls_get_401_json(client, session_factory):
    response = await client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["status_code"] == 401


async def test_revoked_token_stops_working(client, session_factory):
    user = await make_user(session_factory)
    await login(client, user.email)
    token = await create_token_on_profile(client)
    keep = await create_token_on_profile(client, "Zweites Skript")
    async with session_factory() as session:
        token_id = await session.scalar(
            select(ApiToken.id).where(ApiToken.name == "Auswertungsskript")
        )
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 200
    # revoking needs the CSRF token
    assert (await client.post(f"/profile/tokens/{token_id}/revoke")).status_code == 403
    response = await post_form(client, f"/profile/tokens/{token_id}/revoke")
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"
    assert "Auswertungsskript" not in (await client.get("/profile")).text
    revoked = await client.get("/api/me", headers=bearer(token))
    assert revoked.status_code == 401 and revoked.json()["detail"]
    assert (await client.get("/api/me", headers=bearer(keep))).status_code == 200


async def test_nobody_can_revoke_another_users_token(client, session_factory):
    owner = await make_user(session_factory)
    other = await make_user(session_factory)
    await login(client, owner.email)
    token = await create_token_on_profile(client)
    async with session_factory() as session:
        token_id = await session.scalar(select(ApiToken.id))
    await login(client, other.email)
    response = await post_form(client, f"/profile/tokens/{token_id}/revoke")
    assert response.status_code == 404
    assert (await client.get("/api/me", headers=bearer(token))).json()["id"] == owner.id


async def test_token_of_a_deactivated_account_stops_working(client, session_factory, db):
    user = await make_user(session_factory)
    await login(client, user.email)
    token = await create_token_on_profile(client)
    await db.execute(update(User).where(User.id == user.id).values(is_active=False))
    await db.commit()
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401


async def test_session_api_writes_need_the_csrf_header(client, session_factory, db):
    idea, _voter = await idea_and_logged_in_voter(client, session_factory)
    refused = await client.post(f"/api/ideas/{idea.id}/vote")
    assert refused.status_code == 403
    body = refused.json()
    assert body["status_code"] == 403 and body["detail"]
    wrong = await client.post(f"/api/ideas/{idea.id}/vote", headers={"X-CSRFToken": "x" * 64})
    assert wrong.status_code == 403 and wrong.json()["status_code"] == 403
    ok = await client.post(f"/api/ideas/{idea.id}/vote", headers={"X-CSRFToken": csrf(client)})
    assert ok.status_code == 201, ok.text
    assert ok.json()["vote_count"] == 1


async def test_logged_out_session_cannot_use_the_api(client, session_factory, db):
    process = await make_process(session_factory)
    idea = await make_idea(session_factory, process, await make_user(session_factory))
    user = await make_user(session_factory)
    await login(client, user.email)
    await logout_keeping_old_cookies(client)
    assert (await client.get("/api/me")).status_code == 401
    # Also the vote routes (they have no guard: the vote statement checks the session).
    headers = {"X-CSRFToken": csrf(client)}
    for answer in (
        await client.post(f"/api/ideas/{idea.id}/vote", headers=headers),
        await client.delete(f"/api/ideas/{idea.id}/vote", headers=headers),
    ):
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == "not_authenticated"
    assert await stored(db, idea.id, "vote_count") == 0


async def test_parallel_bearer_requests_do_not_queue_on_the_token_row(
    client, session_factory, db, engine
):
    """A client's requests no longer each UPDATE its token row: while another transaction holds
    that row locked, a request with the token still answers at once; `last_used_at` is written
    at most once a minute."""
    user = await make_user(session_factory)
    await login(client, user.email)
    token = await create_token_on_profile(client)
    client.cookies.clear()
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 200
    first_use = await db.scalar(select(ApiToken.last_used_at))
    assert first_use is not None

    async with engine.connect() as other:
        transaction = await other.begin()
        await other.execute(text("SELECT id FROM api_tokens FOR UPDATE"))
        started = time.monotonic()
        try:
            me = await asyncio.wait_for(client.get("/api/me", headers=bearer(token)), 5)
        finally:
            waited = time.monotonic() - started
            await transaction.rollback()
    assert me.status_code == 200 and waited < 2, waited
    db.expire_all()
    assert await db.scalar(select(ApiToken.last_used_at)) == first_use  # fresh: not written

    # A minute later the next request records the use again (also while the row is locked by
    # another request, it is skipped, not waited for).
    await db.execute(
        update(ApiToken).values(last_used_at=ApiToken.last_used_at - timedelta(minutes=2))
    )
    await db.commit()
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 200
    db.expire_all()
    assert await db.scalar(select(ApiToken.last_used_at)) > first_use


async def test_a_revoked_token_stops_voting_at_once(client, session_factory, db):
    """The vote routes do not look up a token this process found active in the last minute: the
    vote statement checks the token itself. A token revoked (or an account deactivated) after
    a vote cannot vote or withdraw a moment later, and nothing is written."""
    process = await make_process(session_factory, slug="idz")
    author = await make_user(session_factory)
    first, second = [await make_idea(session_factory, process, author) for _ in range(2)]
    voter = await make_user(session_factory)
    await login(client, voter.email)
    token = await create_token_on_profile(client)
    keep = await create_token_on_profile(client, "Zweites Skript")
    token_id = await db.scalar(select(ApiToken.id).where(ApiToken.name == "Auswertungsskript"))
    voted = await client.post(f"/api/ideas/{first.id}/vote", headers=bearer(token))
    assert voted.status_code == 201 and voted.json()["vote_count"] == 1

    assert (await post_form(client, f"/profile/tokens/{token_id}/revoke")).status_code == 303
    client.cookies.clear()
    for answer in (
        await client.post(f"/api/ideas/{second.id}/vote", headers=bearer(token)),
        await client.delete(f"/api/ideas/{first.id}/vote", headers=bearer(token)),
    ):
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == "not_authenticated"
    assert await stored(db, first.id, "vote_count") == 1
    assert await stored(db, second.id, "vote_count") == 0

    # The other token of the same account still votes; once the account is deactivated, not.
    assert (
        await client.post(f"/api/ideas/{second.id}/vote", headers=bearer(keep))
    ).status_code == 201
    await db.execute(update(User).where(User.id == voter.id).values(is_active=False))
    await db.commit()
    gone = await client.delete(f"/api/ideas/{second.id}/vote", headers=bearer(keep))
    assert gone.status_code == 401, gone.text
    assert await stored(db, second.id, "vote_count") == 1
