"""Account lockout after many failed logins (growing, capped delay) and the rate limits.

Policy (ideas_platform/accounts/service.py): 10 failed logins for one account within 15
minutes lock it for 1 minute; every further lock doubles the delay, at most 15 minutes.
Attempts during a lock are refused (429, translated) without checking the password and neither
count nor extend the lock. A successful login after the lock resets the counter.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from ideas_platform.accounts import service as accounts
from ideas_platform.app import create_app
from ideas_platform.core.choices import Role
from ideas_platform.core.errors import DomainError
from tests.helpers import (
    PASSWORD,
    login,
    make_event,
    make_idea,
    make_process,
    make_user,
    post_form,
    prime_csrf,
)

WRONG = "Falsches-Passwort-99"


# The test client's address (Litestar's test transport): the lock is per account and address.
HTTP = "testclient"


async def _state(db, email: str, address: str = "") -> dict:
    value = await db.scalar(
        text("SELECT value FROM kv_store WHERE key = :k"),
        {"k": accounts.lockout_key(email, address)},
    )
    await db.commit()
    return json.loads(bytes(value)) if value is not None else {}


async def _time_passes(db, email: str, seconds: float, address: str = "") -> None:
    """Moves the stored lockout state `seconds` into the past (as if the time had passed)."""
    state = await _state(db, email, address)
    for field in ("locked_until", "window_start"):
        if field in state:
            state[field] -= seconds
    await db.execute(
        text("UPDATE kv_store SET value = :v WHERE key = :k"),
        {"k": accounts.lockout_key(email, address), "v": json.dumps(state).encode()},
    )
    await db.commit()


async def _post_login(client, email: str, password: str):
    token = await prime_csrf(client)
    return await client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )


async def test_ten_failures_lock_the_account_then_the_right_password_works_and_resets(
    client, session_factory, db
):
    user = await make_user(session_factory)
    statuses = [(await _post_login(client, user.email, WRONG)).status_code for _ in range(10)]
    assert statuses == [400] * 9 + [429]
    # Locked: even the right password is refused, with a translated message (German default).
    refused = await _post_login(client, user.email.upper(), PASSWORD)
    assert refused.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in refused.text
    assert "1 Minute" in refused.text
    # Refused attempts during the lock do not extend it.
    locked_until = (await _state(db, user.email, HTTP))["locked_until"]
    await _post_login(client, user.email, WRONG)
    assert (await _state(db, user.email, HTTP))["locked_until"] == locked_until
    # After the delay the right password logs in and the counter is gone.
    await _time_passes(db, user.email, 61, HTTP)
    assert (await _post_login(client, user.email, PASSWORD)).status_code == 303
    assert await _state(db, user.email, HTTP) == {}


async def test_english_message_while_locked(client, session_factory, db):
    user = await make_user(session_factory)
    token = await prime_csrf(client)
    await client.post(
        "/language", data={"locale": "en", "_csrf_token": token}, follow_redirects=False
    )
    for _ in range(10):
        await _post_login(client, user.email, WRONG)
    refused = await _post_login(client, user.email, PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed login attempts for this account" in refused.text


async def test_the_delay_doubles_and_is_capped_at_fifteen_minutes(session_factory, db):
    user = await make_user(session_factory)
    delays = []
    for _round in range(7):
        async with session_factory() as session:
            for _ in range(accounts.LOCKOUT_THRESHOLD - 1):
                with pytest.raises(DomainError) as wrong:
                    await accounts.authenticate(session, user.email, WRONG)
                assert wrong.value.status_code == 400
            with pytest.raises(accounts.AccountLocked) as locked:
                await accounts.authenticate(session, user.email, WRONG)
            delays.append(locked.value.minutes)
            with pytest.raises(accounts.AccountLocked):
                await accounts.authenticate(session, user.email, PASSWORD)
        state = await _state(db, user.email)
        await _time_passes(db, user.email, state["locked_until"] - state["window_start"] + 1)
    assert delays == [1, 2, 4, 8, 15, 15, 15]
    async with session_factory() as session:
        assert (await accounts.authenticate(session, user.email, PASSWORD)).id == user.id
    assert await _state(db, user.email) == {}


async def test_failures_older_than_the_window_do_not_count(session_factory, db):
    user = await make_user(session_factory)
    async with session_factory() as session:
        for _ in range(9):
            with pytest.raises(DomainError):
                await accounts.authenticate(session, user.email, WRONG)
        await _time_passes(db, user.email, accounts.LOCKOUT_WINDOW + 1)
        with pytest.raises(DomainError) as wrong:
            await accounts.authenticate(session, user.email, WRONG)
        assert not isinstance(wrong.value, accounts.AccountLocked)
        assert (await accounts.authenticate(session, user.email, PASSWORD)).id == user.id


async def test_unknown_addresses_lock_the_same_way(client):
    statuses = [
        (await _post_login(client, "niemand@example.org", WRONG)).status_code for _ in range(11)
    ]
    assert statuses == [400] * 9 + [429, 429]


async def test_a_lock_on_one_account_leaves_the_others_alone(client, session_factory):
    victim = await make_user(session_factory)
    other = await make_user(session_factory)
    for _ in range(10):
        await _post_login(client, victim.email, WRONG)
    await login(client, other.email)


# --- rate limits per category: auth and submit are tested in test_accounts / test_ideas ---


async def test_joining_an_event_is_rate_limited_per_event(settings, database_url, session_factory):
    process = await make_process(session_factory, slug="werkstatt")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    event = await make_event(session_factory, process, moderator)
    limited = create_app(replace(settings, join_rate_limit_per_minute=2), database_url)
    guest = {"display_name": "Anna aus Zwickau", "sector": "industry", "region": "zwickau"}
    statuses = []
    for _ in range(3):  # three phones (three clients) in one room
        async with AsyncTestClient(app=limited, base_url="http://testserver.local") as client:
            statuses.append(
                (await post_form(client, f"/join/{event.join_code}", guest)).status_code
            )
    assert statuses == [303, 303, 429]


async def test_api_submitting_commenting_and_reporting_are_rate_limited(
    settings, database_url, session_factory, db
):
    process = await make_process(session_factory, slug="idz")
    user = await make_user(session_factory)
    idea = await make_idea(session_factory, process, user)
    async with session_factory() as session:
        token = await accounts.create_api_token(session, user.id, "Skript")
    limited = create_app(replace(settings, submit_rate_limit_per_minute=2), database_url)
    headers = {"Authorization": f"Bearer {token}"}
    async with AsyncTestClient(app=limited, base_url="http://testserver.local") as client:
        statuses = [
            (
                await client.post(
                    f"/api/ideas/{idea.id}/comments", json={"body": "Gut so."}, headers=headers
                )
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [201, 201, 429]
        created = await client.post(
            "/api/processes/idz/ideas",
            json={
                "title": "Noch eine Idee",
                "body": "Lange genug beschrieben.",
                "region": "dresden",
            },
            headers=headers,
        )
        assert created.status_code == 429
    await db.execute(text("DELETE FROM kv_store WHERE key LIKE 'ratelimit:%'"))
    await db.commit()
    async with AsyncTestClient(app=limited, base_url="http://testserver.local") as client:
        await login(client, user.email)
        reports = [
            (await post_form(client, f"/ideas/{idea.id}/report", {"reason": "spam"})).status_code
            for _ in range(3)
        ]
        assert reports == [303, 303, 429]
