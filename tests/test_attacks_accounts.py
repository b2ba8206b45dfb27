"""Attacks on accounts and guests (issue 17, items 3, 5, 6), each reproduced as an attacker did
it and shown closed: guest vote stuffing from one address, locking the owner out with wrong
passwords, and telling registered addresses from the registration form.

Several client addresses are simulated by giving each browser its own `client` in the ASGI
scope (the app sees what uvicorn reports, behind a proxy the forwarded address)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update

from ideas_platform.accounts import lifecycle, lockout
from ideas_platform.accounts import service as accounts
from ideas_platform.accounts.models import User
from ideas_platform.app import create_app
from ideas_platform.core.choices import Role
from ideas_platform.core.config import Settings
from ideas_platform.core.requests import Principal
from ideas_platform.events.models import Event
from ideas_platform.ideas.models import Idea
from ideas_platform.mail.models import OutboxMail
from ideas_platform.votes import service as votes
from ideas_platform.votes.models import Vote
from tests.helpers import (
    PASSWORD,
    TEST_SECRET,
    csrf,
    htmx_headers,
    mailed_path,
    make_event,
    make_idea,
    make_process,
    make_user,
    post_form,
    prime_csrf,
    stored,
)

TOO_MANY_GUESTS = ("as guests from this network", "als Gast beigetreten")
GUEST = {"display_name": "Gast aus Zwickau", "sector": "industry", "region": "zwickau"}
WRONG = "Falsches-Passwort-99"


def at_address(client: AsyncTestClient, address: str) -> AsyncTestClient:
    """Another browser (own cookies) on `client`'s running app, connecting from `address`."""
    app = client.app

    async def from_address(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "client": (address, 50000)}
        await app(scope, receive, send)

    other = AsyncTestClient(app=from_address, base_url=str(client.base_url))  # type: ignore[arg-type]
    # The app runs in the first client's event loop; its database pool belongs to that loop.
    other.blocking_portal = client.blocking_portal
    return other


@asynccontextmanager
async def running(settings: Settings, database_url: str, **changes: Any) -> AsyncIterator[Any]:
    app = create_app(replace(settings, **changes), database_url)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


# --- 3. guest vote stuffing ---------------------------------------------------------------------


@pytest.fixture
async def workshop(session_factory, driver_pool):
    """A process in its vote phase, a workshop, and an idea of it with two votes."""
    process = await make_process(session_factory, slug="werkstatt-zwickau")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    event = await make_event(session_factory, process, moderator)
    idea = await make_idea(session_factory, process, moderator, event_id=event.id)
    for _ in range(2):
        voter = await make_user(session_factory)
        await votes.cast_vote(driver_pool, Principal(voter.id, None), idea.id)
    return {"process": process, "moderator": moderator, "event": event, "idea": idea}


async def _join_and_vote(client: AsyncTestClient, code: str, idea_id: int) -> int:
    """A fresh phone: join as a guest, support the idea. Answers the join's status."""
    client.cookies.clear()
    joined = await post_form(client, f"/join/{code}", GUEST)
    if joined.status_code == 303:
        await post_form(client, f"/ideas/{idea_id}/vote")
    return joined.status_code


async def test_one_address_cannot_stuff_an_idea_with_guest_votes(
    settings, database_url, workshop, db
):
    # A real workshop room (~100 people behind the venue's one address) fits the default.
    default = Settings(secret_key=TEST_SECRET).guest_joins_per_address_per_hour
    assert 100 <= default < 10_000
    event, idea = workshop["event"], workshop["idea"]
    async with running(settings, database_url, guest_joins_per_address_per_hour=5) as client:
        statuses = [await _join_and_vote(client, event.join_code, idea.id) for _ in range(40)]
        assert statuses == [303] * 5 + [429] * 35
        refused = await post_form(client, f"/join/{event.join_code}", GUEST)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert any(message in refused.text for message in TOO_MANY_GUESTS)
        # Another network (the venue next door) still joins.
        elsewhere = at_address(client, "198.51.100.23")
        assert await _join_and_vote(elsewhere, event.join_code, idea.id) == 303
    assert await stored(db, idea.id, "vote_count") == 2 + 5 + 1
    guests = await db.scalar(select(func.count()).where(User.guest_event_id == event.id))
    assert guests == 6


async def test_the_join_limit_counts_the_code_not_its_spelling(settings, database_url, workshop):
    code = workshop["event"].join_code
    spellings = [code.lower(), f"{code[:2]}.{code[2:]}", f"{code[:3]}-{code[3:].lower()}", code]
    async with running(settings, database_url, join_rate_limit_per_minute=3) as client:
        statuses = []
        for spelling in spellings:
            client.cookies.clear()
            statuses.append((await post_form(client, f"/join/{spelling}", GUEST)).status_code)
    assert statuses == [303, 303, 303, 429]


GUEST_ELSEWHERE = (
    "As a guest of a workshop you can support only the ideas of that workshop.",
    "Als Gast eines Workshops können Sie nur die Ideen dieses Workshops unterstützen.",
)


async def test_a_guest_supports_only_ideas_of_its_own_workshop(
    client, workshop, session_factory, db
):
    process, moderator = workshop["process"], workshop["moderator"]
    own = workshop["idea"]
    other_event = await make_event(session_factory, process, moderator, title="Werkstatt Plauen")
    at_other_event = await make_idea(session_factory, process, moderator, event_id=other_event.id)
    online = await make_idea(session_factory, process, moderator)
    assert (await post_form(client, f"/join/{workshop['event'].join_code}", GUEST)).status_code
    guest_id = await db.scalar(select(User.id).where(User.guest_event_id == workshop["event"].id))

    for idea in (at_other_event, online):
        # without JavaScript: back to the page with the reason
        plain = await post_form(client, f"/ideas/{idea.id}/vote", follow_redirects=True)
        assert any(message in plain.text for message in GUEST_ELSEWHERE), plain.text[-3000:]
        # htmx: the button's fragment with the reason
        fragment = await client.post(
            f"/ideas/{idea.id}/vote", headers=htmx_headers(client, f"vote-{idea.id}")
        )
        assert fragment.status_code == 200
        assert any(message in fragment.text for message in GUEST_ELSEWHERE)
        # the JSON API (the session's cookie with the CSRF header): 403 with a stable code
        api = await client.post(f"/api/ideas/{idea.id}/vote", headers={"X-CSRFToken": csrf(client)})
        assert api.status_code == 403
        assert api.json()["error"] == "guest_other_event"
        assert any(message in api.json()["detail"] for message in GUEST_ELSEWHERE)
        assert await stored(db, idea.id, "vote_count") == 0

    # Its own workshop's ideas: supported as before.
    assert (await post_form(client, f"/ideas/{own.id}/vote")).status_code == 303
    assert await stored(db, own.id, "vote_count") == 3
    assert await db.scalar(select(func.count()).where(Vote.user_id == guest_id)) == 1


async def test_a_guest_in_the_events_vote_mode_is_still_bound_to_it(
    client, workshop, session_factory, db
):
    """The live vote mode opens voting on the event's ideas only: a guest of another event
    cannot use it either."""
    process, moderator = workshop["process"], workshop["moderator"]
    other_event = await make_event(session_factory, process, moderator, title="Werkstatt Aue")
    await db.execute(update(Event).where(Event.id == other_event.id).values(live_mode="vote"))
    await db.commit()
    idea = await make_idea(session_factory, process, moderator, event_id=other_event.id)
    await post_form(client, f"/join/{workshop['event'].join_code}", GUEST)
    api = await client.post(f"/api/ideas/{idea.id}/vote", headers={"X-CSRFToken": csrf(client)})
    assert api.status_code == 403 and api.json()["error"] == "guest_other_event"
    assert await db.scalar(select(Idea.vote_count).where(Idea.id == idea.id)) == 0


# --- 5. locking the owner out -------------------------------------------------------------------


async def _login(client: AsyncTestClient, email: str, password: str) -> int:
    token = await prime_csrf(client)
    response = await client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )
    return response.status_code


async def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(client, session_factory):
    owner = await make_user(session_factory)
    attacker = at_address(client, "203.0.113.66")
    statuses = [await _login(attacker, owner.email, WRONG) for _ in range(10)]
    assert statuses == [400] * 9 + [429]
    # The owner, at home: logs in.
    home = at_address(client, "192.0.2.10")
    assert await _login(home, owner.email, PASSWORD) == 303
    # The attacker stays locked, also after changing the address inside its IPv6 network.
    assert await _login(attacker, owner.email, WRONG) == 429
    rotating = [
        await _login(at_address(client, f"2001:db8:7:1::{n:x}"), owner.email, WRONG)
        for n in range(1, 12)
    ]
    assert rotating == [400] * 9 + [429, 429]
    assert await _login(at_address(client, "192.0.2.11"), owner.email, PASSWORD) == 303


async def test_the_attempt_limit_of_an_account_does_not_block_the_owner_elsewhere(
    settings, database_url, session_factory
):
    owner = await make_user(session_factory)
    async with running(settings, database_url, auth_rate_limit_per_minute=3) as client:
        attacker = at_address(client, "203.0.113.67")
        statuses = [await _login(attacker, owner.email, WRONG) for _ in range(4)]
        assert statuses == [400, 400, 400, 429]
        assert await _login(at_address(client, "192.0.2.20"), owner.email, PASSWORD) == 303
        assert await _login(attacker, owner.email, PASSWORD) == 429
    # One address trying many accounts still meets the limit per address across accounts
    # (60 x the limit per account a minute), whichever account form it uses.
    async with running(settings, database_url, auth_rate_limit_per_minute=1) as client:
        sprayer = at_address(client, "203.0.113.68")
        token = await prime_csrf(sprayer)
        statuses = [
            (
                await sprayer.post(
                    "/register",
                    data={"email": f"person-{n}@example.org", "_csrf_token": token},
                    follow_redirects=False,
                )
            ).status_code
            for n in range(60)
        ]
        assert statuses == [422] * 60
        assert await _login(sprayer, owner.email, PASSWORD) == 429
        assert await _login(at_address(client, "192.0.2.21"), owner.email, PASSWORD) == 303


async def test_guessing_from_many_addresses_still_locks_strangers_but_not_the_owners_browser(
    client, session_factory, db
):
    owner = await make_user(session_factory, email="eigentuemerin@example.org")
    browser = at_address(client, "192.0.2.30")
    assert await _login(browser, owner.email, PASSWORD) == 303  # her usual browser
    await post_form(browser, "/logout")

    # A botnet: each address stops short of its own lock, together they reach the account's.
    # Most of its failures are counted directly (as if they had come; argon2 is slow on
    # purpose), the last ones come over HTTP from three addresses.
    strangers = [lockout.Counter(lockout.account_lockout_key(owner.email), 10**6)]
    async with session_factory() as session:
        for _ in range(accounts.ACCOUNT_LOCKOUT_THRESHOLD - 9):
            await lockout.record_failure(session, strangers)
    statuses = [
        await _login(at_address(client, f"198.18.{n}.1"), owner.email, WRONG)
        for n in range(3)
        for _ in range(3)
    ]
    assert statuses == [400] * 8 + [429]
    # Password guessing stays bounded: a stranger (a new address) is refused even with the
    # right password ...
    stranger = at_address(client, "198.51.100.99")
    assert await _login(stranger, owner.email, PASSWORD) == 429
    # ... but the owner's browser, known from an earlier login, gets in (also from an address
    # the bots used).
    assert await _login(browser, owner.email, PASSWORD) == 303
    await post_form(browser, "/logout")
    assert await _login(at_address(client, "198.18.0.1"), owner.email, PASSWORD) == 429
    browser_at_bot_address = at_address(client, "198.18.0.1")
    browser_at_bot_address.cookies = browser.cookies
    assert await _login(browser_at_bot_address, owner.email, PASSWORD) == 303

    # On a new device she proves herself by mail: the reset makes that browser known.
    phone = at_address(client, "198.51.100.100")
    assert (await post_form(phone, "/password/forgot", {"email": owner.email})).status_code == 200
    mail = await db.scalar(
        select(OutboxMail.body_text)
        .where(OutboxMail.kind == "reset_password", OutboxMail.to_user_id == owner.id)
        .order_by(OutboxMail.id.desc())
    )
    path = re.search(r"https?://[^/\s]+(/password/reset/\S+)", mail).group(1)
    new_password = "Neues-Vogtland-Passwort-2031"
    reset = await post_form(phone, path, {"password": new_password})
    assert reset.status_code == 303
    assert await _login(phone, owner.email, new_password) == 303


# --- 6. the registration form tells no one which addresses are registered -----------------------


def _registration(email: str) -> dict[str, str]:
    return {
        "email": email,
        "display_name": "Neugierige Person",
        "password": "Ganz-eigenes-Passwort-77",
        "sector": "science",
        "region": "leipzig",
        "accepted_terms": "1",
        "next": "/?von=anmeldung",
    }


async def _flash_after(client: AsyncTestClient, response: Any) -> str:
    page = await client.get(response.headers["location"])
    found = re.search(r'class="flash[^"]*"[^>]*>(.*?)<', page.text, re.S)
    return found.group(1).strip() if found else ""


async def test_registration_answers_the_same_for_a_new_and_a_registered_address(
    client, session_factory, db
):
    owner = await make_user(session_factory, email="bekannt@example.org")
    taken_browser = at_address(client, "203.0.113.70")
    new_browser = at_address(client, "203.0.113.71")
    taken = await post_form(taken_browser, "/register", _registration("Bekannt@Example.org"))
    new = await post_form(new_browser, "/register", _registration("neu@example.org"))

    assert taken.status_code == new.status_code == 303
    assert taken.headers["location"] == new.headers["location"] == "/?von=anmeldung"
    assert set(taken.cookies.keys()) == set(new.cookies.keys())
    assert "bereits" not in taken.text and "already" not in taken.text
    shown_taken = await _flash_after(taken_browser, taken)
    shown_new = await _flash_after(new_browser, new)
    assert shown_taken and shown_taken.replace("bekannt@", "neu@") == shown_new

    # Nothing was written for the registered address, and nobody is logged in as its owner.
    assert await db.scalar(select(func.count()).select_from(User)) == 2
    assert (await taken_browser.get("/profile", follow_redirects=False)).status_code == 303
    assert await db.scalar(select(User.display_name).where(User.id == owner.id)) != (
        "Neugierige Person"
    )
    # The owner learns of it by mail, with the ways back into the account.
    [mail] = list(
        await db.scalars(select(OutboxMail).where(OutboxMail.to_address == "bekannt@example.org"))
    )
    assert mail.kind == "registration_attempt" and mail.to_user_id == owner.id
    assert "/login" in mail.body_text and "/password/forgot" in mail.body_text
    assert "Ganz-eigenes-Passwort-77" not in mail.body_text + mail.body_html
    # The new address gets its confirmation mail, as before.
    assert (
        await db.scalar(select(OutboxMail.kind).where(OutboxMail.to_address == "neu@example.org"))
        == "confirm_email"
    )

    # Repeated attempts do not flood the owner's mailbox, and still answer the same.
    for _ in range(5):
        again = await post_form(taken_browser, "/register", _registration(owner.email))
        assert again.status_code == 303 and again.headers["location"] == "/?von=anmeldung"
    sent = await db.scalar(select(func.count()).where(OutboxMail.to_user_id == owner.id))
    assert sent == lifecycle.REGISTRATION_NOTICES_PER_HOUR


async def _login_answer(client: AsyncTestClient, email: str, password: str) -> tuple[int, str]:
    token = await prime_csrf(client)
    response = await client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )
    found = re.search(r'class="flash flash-error"[^>]*>(.*?)<', response.text, re.S)
    return response.status_code, found.group(1).strip() if found else ""


async def test_what_follows_a_registration_does_not_tell_a_registered_address_either(
    client, session_factory, db
):
    """Following the redirect, or logging in with the password just chosen, answers the same
    for a new and for a registered address: a new account logs in only by the mailed link."""
    await make_user(session_factory, email="bekannt@example.org")
    taken_browser = at_address(client, "203.0.113.80")
    new_browser = at_address(client, "203.0.113.81")
    chosen = _registration("")["password"]
    await post_form(taken_browser, "/register", _registration("bekannt@example.org"))
    await post_form(new_browser, "/register", _registration("neu@example.org"))

    for browser in (taken_browser, new_browser):
        assert (await browser.get("/profile", follow_redirects=False)).status_code == 303
    taken_login = await _login_answer(taken_browser, "bekannt@example.org", chosen)
    new_login = await _login_answer(new_browser, "neu@example.org", chosen)
    assert taken_login == new_login
    assert taken_login[0] == 400 and taken_login[1]
    assert (await new_browser.get("/profile", follow_redirects=False)).status_code == 303
    # The mailbox of the new address got its link again (the attacker did not).
    kinds = list(
        await db.scalars(select(OutboxMail.kind).where(OutboxMail.to_address == "neu@example.org"))
    )
    assert kinds == ["confirm_email", "confirm_email"]


async def _flash_of(client: AsyncTestClient, response: Any) -> tuple[int, str, str]:
    return (
        response.status_code,
        response.headers.get("location", ""),
        await _flash_after(client, response),
    )


async def test_a_guest_keeping_the_account_and_a_changed_address_do_not_tell_one_either(
    client, session_factory, db, workshop
):
    owner = await make_user(session_factory, email="bekannt@example.org")
    code = workshop["event"].join_code
    answers = []
    for address in ("bekannt@example.org", "frei@example.org"):
        guest = at_address(client, "203.0.113.90")
        assert (await post_form(guest, f"/join/{code}", GUEST)).status_code == 303
        response = await post_form(
            guest, "/profile/full-account", {"email": address, "password": PASSWORD}
        )
        status, location, shown = await _flash_of(guest, response)
        answers.append((status, location, shown.replace(address, "…")))
    assert answers[0] == answers[1] and answers[0][:2] == (303, "/profile")
    assert "bereits" not in answers[0][2] and "already" not in answers[0][2]
    # The owner is told; the guest stays a guest and did not get the address.
    [notice] = list(await db.scalars(select(OutboxMail).where(OutboxMail.to_user_id == owner.id)))
    assert notice.kind == "registration_attempt"
    guests_with_it = await db.scalar(
        select(func.count()).where(func.lower(User.email) == "bekannt@example.org")
    )
    assert guests_with_it == 1

    # The same on the profile's "change address" form.
    person = await make_user(session_factory, email="person@example.org")
    browser = at_address(client, "203.0.113.91")
    assert await _login(browser, person.email, PASSWORD) == 303
    changed = []
    for address in ("bekannt@example.org", "noch-frei@example.org"):
        response = await post_form(
            browser, "/profile/email", {"new_email": address, "current_password": PASSWORD}
        )
        status, location, shown = await _flash_of(browser, response)
        changed.append((status, location, shown.replace(address, "…")))
    assert changed[0] == changed[1] and changed[0][:2] == (303, "/profile")
    notices = await db.scalar(select(func.count()).where(OutboxMail.to_user_id == owner.id))
    assert notices == 2


async def test_registering_somebodys_address_first_does_not_take_over_the_account(
    client, session_factory, db
):
    """Pre-registration: an attacker registers the address with a password of their own and
    waits for the owner to click the mailed link. The link alone logs nobody in; the owner
    sets her own password instead, and the attacker's password is worthless."""
    attacker = at_address(client, "198.51.100.50")
    owner = at_address(client, "203.0.113.50")
    attackers_password = _registration("")["password"]
    await post_form(attacker, "/register", _registration("opfer@example.org"))
    # The owner registers too (her data is not taken: the address is pending); the mailbox
    # gets the confirmation link of the pending account again.
    await post_form(
        owner, "/register", {**_registration("opfer@example.org"), "password": PASSWORD}
    )
    link = await mailed_path(db, "opfer@example.org", "/account/confirm/")
    shown = await owner.get(link)
    assert shown.status_code == 200 and 'name="password"' in shown.text
    # Her own password is not the account's: refused, nobody is logged in.
    refused = await post_form(owner, link, {"password": PASSWORD})
    assert refused.status_code == 422
    assert (await owner.get("/profile", follow_redirects=False)).status_code == 303
    # Logged in elsewhere as somebody else does not help either.
    other = await make_user(session_factory, email="jemand@example.org")
    assert await _login(owner, other.email, PASSWORD) == 303
    assert (await post_form(owner, link, {"password": ""})).status_code == 422
    await post_form(owner, "/logout")
    assert (
        await db.scalar(select(User.email_confirmed_at).where(User.email == "opfer@example.org"))
        is None
    )

    # "Forgot your password?" gives her the account (and confirms the address) ...
    assert (
        await post_form(owner, "/password/forgot", {"email": "opfer@example.org"})
    ).status_code == 200
    reset = await mailed_path(db, "opfer@example.org", "/password/reset/")
    assert (
        await post_form(owner, reset, {"password": "Mein-eigenes-Passwort-5"})
    ).status_code == 303
    assert await _login(owner, "opfer@example.org", "Mein-eigenes-Passwort-5") == 303
    # ... and the attacker's password opens nothing, nor does the old link.
    assert await _login(attacker, "opfer@example.org", attackers_password) == 400
    assert (await post_form(attacker, link, {"password": attackers_password})).status_code == 400
