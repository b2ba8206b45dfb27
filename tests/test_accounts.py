"""Accounts over HTTP: registration, login, logout, CSRF, rate limits, language."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select

from ideas_platform.accounts import service as accounts
from ideas_platform.accounts.models import User
from ideas_platform.core.errors import InvalidInput
from tests.helpers import (
    PASSWORD,
    app_client,
    assert_form_error,
    csrf,
    login,
    logout_keeping_old_cookies,
    mailed_path,
    make_process,
    make_user,
    post_form,
    prime_csrf,
    second_browser,
    try_login,
)

EMAIL_TAKEN = (
    "An account with this email address already exists.",
    "Ein Konto mit dieser E-Mail-Adresse existiert bereits.",
)


def registration(**overrides: str) -> dict[str, str]:
    data = {
        "email": "anna.schmidt@example.org",
        "display_name": "Anna Schmidt",
        "password": PASSWORD,
        "sector": "science",
        "region": "leipzig",
        "organisation": "Universität Leipzig",
        "accepted_terms": "1",
    }
    data.update(overrides)
    return data


async def user_count(db) -> int:
    return await db.scalar(select(func.count()).select_from(User))


async def refused_registration(client, db, *fields: str, **overrides: str):
    """The registration form with `overrides` comes back with a message under each of
    `fields`, and no account is written."""
    response = await post_form(client, "/register", registration(**overrides))
    assert_form_error(response, *fields)
    assert await user_count(db) == 0
    return response


def session_cookies(client) -> dict[str, str]:
    """The client-side session (Litestar may split it into session-0, session-1, ...)."""
    return {
        name: value
        for name, value in client.cookies.items()
        if name == "session" or name.startswith("session-")
    }


# --- registration ---------------------------------------------------------------------------


async def test_registration_logs_the_user_in_by_the_mailed_link(client, db):
    response = await post_form(client, "/register", registration(email="Anna.Schmidt@Example.org"))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    # Not logged in yet: the link in the confirmation mail does that.
    assert (await client.get("/profile", follow_redirects=False)).status_code == 303
    link = await mailed_path(db, "anna.schmidt@example.org", "/account/confirm/")
    confirmed = await post_form(client, link, {"password": PASSWORD})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/profile"
    profile = await client.get("/profile", follow_redirects=False)
    assert profile.status_code == 200
    assert "Anna Schmidt" in profile.text
    user = await db.scalar(select(User))
    assert user.email == "anna.schmidt@example.org"  # stored in lower case
    assert user.role.value == "participant"
    assert user.sector.value == "science" and user.region.value == "leipzig"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_registration_form_renders_with_csrf_token(client):
    response = await client.get("/register")
    assert response.status_code == 200
    assert 'name="_csrf_token"' in response.text
    assert 'lang="de"' in response.text


@pytest.mark.parametrize("email", ["anna.schmidt@example.org", "ANNA.Schmidt@example.ORG"])
async def test_taken_email_is_not_registered_again_also_in_other_case(
    client, session_factory, db, email
):
    """The form answers as for a new address (issue 17: it must not tell which addresses are
    registered); nothing is written, and the owner gets a mail (tests/test_attacks_accounts)."""
    await make_user(session_factory, email="anna.schmidt@example.org")
    response = await post_form(client, "/register", registration(email=email))
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert not any(message in response.text for message in EMAIL_TAKEN)
    assert await user_count(db) == 1
    # not logged in
    assert (await client.get("/profile", follow_redirects=False)).status_code == 303


async def test_concurrent_registrations_with_one_email_create_one_account(session_factory, db):
    async def attempt(email: str) -> str:
        async with session_factory() as session:
            try:
                await accounts.register(
                    session,
                    accounts.Registration(
                        email=email,
                        display_name="Doppelt",
                        password=PASSWORD,
                        sector="industry",
                        region="dresden",
                    ),
                )
            except InvalidInput as exc:
                return exc.errors["email"]
            return "ok"

    emails = ["doppelt@example.org", "DOPPELT@example.org", "Doppelt@Example.org"] * 2
    results = await asyncio.gather(*(attempt(email) for email in emails))
    assert results.count("ok") == 1
    assert set(results) - {"ok"} == {EMAIL_TAKEN[0]}
    assert await user_count(db) == 1


@pytest.mark.parametrize(
    "password",
    [
        "kurz123",  # too short
        "Passwort123",  # common (case-insensitive)
        "aaaaaaaaaaaaaaa",  # too few different characters
        "xx-anna.schmidt-xx",  # contains the local part of the email address
        "Anna Schmidt",  # equals the display name
    ],
)
async def test_weak_password_is_refused(client, db, password):
    response = await refused_registration(client, db, "password", password=password)
    assert 'id="email-error"' not in response.text
    # the password is never sent back into the form
    password_input = re.search(r'<input id="password"[^>]*>', response.text).group(0)
    assert "value=" not in password_input


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sector", "aliens"),
        ("sector", ""),
        ("region", "mars"),
        ("region", ""),
        ("email", "not-an-email"),
        ("display_name", "A"),
    ],
)
async def test_invalid_field_is_refused_and_nothing_written(client, db, field, value):
    response = await refused_registration(client, db, field, **{field: value})
    # what the user typed is kept (except the password)
    assert "Anna Schmidt" in response.text or field == "display_name"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "a" * 300 + "@example.org"),
        ("display_name", "N" * 81),
        ("organisation", "O" * 161),
        ("password", "Lang-und-sicher-" * 100),
        ("display_name", "\x00\x01"),
        ("sector", "industry\x00; DROP TABLE users"),
    ],
)
async def test_absurd_input_is_a_clear_422(client, db, field, value):
    await refused_registration(client, db, field, **{field: value})


async def test_control_characters_are_dropped_from_names(client, db):
    response = await post_form(
        client, "/register", registration(display_name="Anna\x00 Schmidt\x1b", password=PASSWORD)
    )
    assert response.status_code == 303
    assert await db.scalar(select(User.display_name)) == "Anna Schmidt"


async def test_several_errors_are_shown_at_once(client, db):
    await refused_registration(
        client,
        db,
        "email",
        "sector",
        "region",
        "password",
        email="x",
        sector="x",
        region="x",
        password="x",
    )


async def test_registration_redirects_only_to_local_next(client):
    response = await post_form(client, "/register", registration(next="https://evil.example/phish"))
    assert response.status_code == 303
    assert response.headers["location"] == "/"


# --- login / logout ---------------------------------------------------------------------------


async def test_wrong_password_and_unknown_email_look_the_same(client, session_factory):
    user = await make_user(session_factory)
    wrong = await try_login(client, user.email, "Falsch-12345")
    unknown = await try_login(client, "niemand@example.org")
    assert wrong.status_code == unknown.status_code == 400
    assert 'role="alert"' in wrong.text and 'role="alert"' in unknown.text

    def alert(text: str) -> str:
        return text.split('role="alert">', 1)[1].split("<", 1)[0]

    assert alert(wrong.text) == alert(unknown.text)
    assert "Falsch-12345" not in wrong.text
    assert (await client.get("/profile", follow_redirects=False)).status_code == 303


async def test_login_is_case_insensitive_and_follows_local_next(client, session_factory):
    user = await make_user(session_factory, email="bernd@example.org")
    await prime_csrf(client)
    response = await post_form(
        client,
        "/login",
        {"email": "  BERND@example.org ", "password": PASSWORD, "next": "/profile"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"
    assert user.display_name in (await client.get("/profile")).text


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example", "/\\evil.example", "/\t/evil.example"]
)
async def test_login_never_redirects_to_another_site(client, session_factory, target):
    user = await make_user(session_factory)
    response = await post_form(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_inactive_user_cannot_log_in(client, session_factory, db):
    user = await make_user(session_factory)
    await db.execute(User.__table__.update().where(User.id == user.id).values(is_active=False))
    await db.commit()
    response = await try_login(client, user.email)
    assert response.status_code == 400


async def test_login_rotates_the_session_cookie(client, session_factory):
    user = await make_user(session_factory)
    await client.get("/login")
    before = session_cookies(client)
    await login(client, user.email)
    after = session_cookies(client)
    assert after, "no session cookie after login"
    assert after != before
    # A second login gives yet another cookie value.
    await login(client, user.email)
    assert session_cookies(client) != after


async def test_logout_invalidates_copies_of_the_session_cookie(client, session_factory):
    user = await make_user(session_factory)
    await login(client, user.email)
    stolen = session_cookies(client)
    assert (await client.get("/profile", follow_redirects=False)).status_code == 200

    response = await post_form(client, "/logout")
    assert response.status_code == 303
    assert (await client.get("/profile", follow_redirects=False)).status_code == 303

    async with second_browser(client) as thief:
        for name, value in stolen.items():
            thief.cookies.set(name, value)
        response = await thief.get("/profile", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


async def test_logout_ends_the_sessions_on_other_devices_too(client, session_factory):
    user = await make_user(session_factory)
    async with second_browser(client) as laptop:
        await login(laptop, user.email)
        await login(client, user.email)
        assert (await laptop.get("/profile", follow_redirects=False)).status_code == 200
        assert (await post_form(client, "/logout")).status_code == 303
        assert (await laptop.get("/profile", follow_redirects=False)).status_code == 303
    # Logging in again works.
    await login(client, user.email)
    assert (await client.get("/profile", follow_redirects=False)).status_code == 200


async def test_logout_needs_login_and_csrf(client, session_factory):
    user = await make_user(session_factory)
    await login(client, user.email)
    response = await client.post("/logout", follow_redirects=False)
    assert response.status_code == 403
    assert (await client.get("/profile", follow_redirects=False)).status_code == 200


async def test_profile_needs_login(client):
    response = await client.get("/profile", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fprofile"


# --- CSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/login", "/register"])
async def test_posts_without_csrf_token_are_refused(client, session_factory, db, url):
    user = await make_user(session_factory)
    await prime_csrf(client)
    data = (
        {"email": user.email, "password": PASSWORD}
        if url == "/login"
        else registration(email="neu@example.org")
    )
    missing = await client.post(url, data=data, follow_redirects=False)
    assert missing.status_code == 403
    wrong = await client.post(url, data={**data, "_csrf_token": "x" * 64}, follow_redirects=False)
    assert wrong.status_code == 403
    tampered = await client.post(
        url, data={**data, "_csrf_token": csrf(client)[:-4] + "abcd"}, follow_redirects=False
    )
    assert tampered.status_code == 403
    assert await user_count(db) == 1
    assert (await client.get("/profile", follow_redirects=False)).status_code == 303


async def test_csrf_token_without_cookie_is_refused(client, session_factory):
    user = await make_user(session_factory)
    token = await prime_csrf(client)
    async with second_browser(client) as other:
        response = await other.post(
            "/login",
            data={"email": user.email, "password": PASSWORD, "_csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 403


async def test_csrf_error_page_says_what_to_do(client):
    await prime_csrf(client)
    response = await client.post("/login", data={"email": "a@b.de", "password": "x"})
    assert response.status_code == 403
    assert "<html" in response.text
    assert "The form has expired" in response.text or "Das Formular ist abgelaufen" in response.text


# --- rate limit -------------------------------------------------------------------------------


async def test_fourth_login_within_a_minute_is_rate_limited(settings, database_url):
    async with app_client(settings, database_url, auth_rate_limit_per_minute=3) as client:
        statuses = [
            (await try_login(client, "niemand@example.org", "Falsch-12345")).status_code
            for _ in range(4)
        ]
        assert statuses == [400, 400, 400, 429]
        # Registration with the same address shares the account's budget.
        register = await post_form(client, "/register", registration(email="niemand@example.org"))
        assert register.status_code == 429
        assert register.headers["Retry-After"]
        # Reading pages is not limited.
        assert (await client.get("/login")).status_code == 200


async def test_the_right_password_is_rate_limited_too(settings, database_url, session_factory):
    user = await make_user(session_factory)
    async with app_client(settings, database_url, auth_rate_limit_per_minute=3) as client:
        for _ in range(3):
            await try_login(client, user.email, "Falsch-12345")
        response = await try_login(client, user.email)
        assert response.status_code == 429
        assert (await client.get("/profile", follow_redirects=False)).status_code == 303


# --- language ---------------------------------------------------------------------------------


async def test_german_by_default_and_english_on_choice(client):
    assert '<html lang="de"' in (await client.get("/login")).text
    response = await post_form(client, "/language", {"locale": "en", "next": "/login"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.cookies.get("lang") == "en"
    english = await client.get("/login")
    assert '<html lang="en"' in english.text
    assert "Log in" in english.text


async def test_unknown_language_falls_back_to_german(client):
    response = await post_form(client, "/language", {"locale": "fr"})
    assert response.status_code == 303
    assert client.cookies.get("lang") == "de"
    assert '<html lang="de"' in (await client.get("/")).text
    client.cookies.set("lang", "xx")
    assert '<html lang="de"' in (await client.get("/")).text


async def test_language_is_remembered_for_the_account(client, session_factory, db):
    user = await make_user(session_factory)
    await login(client, user.email)
    await post_form(client, "/language", {"locale": "en"})
    assert await db.scalar(select(User.locale).where(User.id == user.id)) == "en"
    # Another browser without a lang cookie gets English after login.
    async with second_browser(client) as other:
        await login(other, user.email)
        assert other.cookies.get("lang") == "en"
        assert '<html lang="en"' in (await other.get("/profile")).text


async def test_registration_keeps_the_chosen_language(client, db):
    await post_form(client, "/language", {"locale": "en"})
    response = await post_form(client, "/register", registration())
    assert response.status_code == 303
    assert await db.scalar(select(User.locale)) == "en"
    assert '<html lang="en"' in (await client.get("/profile")).text


async def test_a_logged_out_cookie_cannot_change_the_account_language(client, session_factory, db):
    user = await make_user(session_factory)
    await login(client, user.email)
    await logout_keeping_old_cookies(client)
    response = await post_form(client, "/language", {"locale": "en"})
    assert response.status_code == 303  # the browser still gets English ...
    assert "lang=en" in response.headers["set-cookie"]
    # ... but the account is not touched by a session that ended.
    assert await db.scalar(select(User.locale).where(User.id == user.id)) == "de"


async def test_language_switch_never_redirects_to_another_site(client):
    response = await post_form(client, "/language", {"locale": "en", "next": "//evil.example"})
    assert response.headers["location"] == "/"


async def test_session_cookie_is_only_rewritten_when_the_session_changes(client, session_factory):
    user = await make_user(session_factory)
    await login(client, user.email)
    response = await client.get("/profile")
    assert response.status_code == 200
    assert "session=" not in response.headers.get("set-cookie", "")


async def test_every_page_header_knows_who_is_logged_in(client, session_factory):
    """Pages that never load the user themselves (start, process, board) still show the name."""
    process = await make_process(session_factory, slug="kopfzeile")
    user = await make_user(session_factory, name="Karla Kopfzeile")
    await login(client, user.email)
    for path in ("/", f"/processes/{process.slug}", f"/processes/{process.slug}/board"):
        page = await client.get(path)
        assert "Karla Kopfzeile" in page.text and "Abmelden" in page.text, path
