"""The account's life after registration, over HTTP with the real app, database and a real SMTP
server: confirming the address, a forgotten password, changing profile, address and password,
agreeing to new terms, and what admins do to accounts (deactivate, reset mail, outbox)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ideas_platform.accounts import service as accounts
from ideas_platform.accounts.auth import hash_token
from ideas_platform.accounts.lifecycle import RESETS_PER_HOUR
from ideas_platform.accounts.models import AccountToken, User
from ideas_platform.audit.models import AuditEntry
from ideas_platform.core.choices import Role
from ideas_platform.core.config import Settings
from ideas_platform.core.i18n import gettext, using_locale
from ideas_platform.core.passwords import verify_password
from ideas_platform.mail.models import OutboxMail
from ideas_platform.mail.sender import deliver_due
from tests.helpers import (
    PASSWORD,
    assert_form_error,
    login,
    make_user,
    post_form,
    second_browser,
    try_login,
)
from tests.smtp import SmtpServer, html_part, links, path_of, text_part

NEW_PASSWORD = "Neues-Elbufer-Passwort-2031"
OTHER_PASSWORD = "Zweites-Erzgebirge-Wort-2032"

# --- helpers ----------------------------------------------------------------------------------


def german(source: str) -> str:
    """What a German recipient reads for an English source string (the catalogue's word)."""
    with using_locale("de"):
        return gettext(source)


def registration(**overrides: str) -> dict[str, str]:
    data = {
        "email": "clara.neu@example.org",
        "display_name": "Clara Neu",
        "password": PASSWORD,
        "sector": "science",
        "region": "leipzig",
        "organisation": "TU Chemnitz",
        "accepted_terms": "1",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


async def deliver(
    session_factory: async_sessionmaker[AsyncSession], server: SmtpServer, settings: Settings
) -> int:
    """Sends what is due in the outbox over SMTP to the test server (as the app's sender would)."""
    async with session_factory() as session:
        return await deliver_due(session, server.settings(settings))


def addresses(message: EmailMessage) -> list[str]:
    return [address.addr_spec.lower() for address in message["To"].addresses]


def mails_to(server: SmtpServer, address: str) -> list[EmailMessage]:
    """Messages whose To is exactly this address (not merely containing it)."""
    return [m for m in server.mailbox.messages if addresses(m) == [address.lower()]]


def only_link(message: EmailMessage, route: str) -> str:
    found = links(message, rf"https?://\S+{re.escape(route)}[A-Za-z0-9_\-]+")
    assert len(found) == 1, (route, text_part(message))
    return found[0]


def main_text(html: str) -> str:
    """The visible text of the page's <main> (no attributes, hence no CSRF token)."""
    match = re.search(r"<main\b[^>]*>(.*?)</main>", html, re.S)
    assert match is not None, html
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


async def user_row(db: AsyncSession, user_id: int):
    """Fresh values from the database (a Core select: no cached ORM object)."""
    return (await db.execute(select(User.__table__).where(User.id == user_id))).one()


async def outbox_count(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(OutboxMail)))


async def token_used_at(db: AsyncSession, token: str):
    return await db.scalar(
        select(AccountToken.used_at).where(AccountToken.token_hash == hash_token(token))
    )


async def reset_link_by_mail(
    client: AsyncTestClient,
    session_factory: async_sessionmaker[AsyncSession],
    server: SmtpServer,
    settings: Settings,
    address: str,
) -> str:
    """Asks for a reset on the form, delivers, and answers the path of the link in the mail."""
    response = await post_form(client, "/password/forgot", {"email": address})
    assert response.status_code == 200, response.text
    await deliver(session_factory, server, settings)
    mails = mails_to(server, address)
    assert mails, f"no reset mail for {address}"
    return path_of(only_link(mails[-1], "/password/reset/"))


async def login_status(client: AsyncTestClient, email: str, password: str) -> int:
    return (await try_login(client, email, password)).status_code


async def profile_status(client: AsyncTestClient) -> tuple[int, str]:
    response = await client.get("/profile", follow_redirects=False)
    return response.status_code, response.headers.get("location", "")


# --- 1. registration and the confirmation mail ------------------------------------------------


async def test_registration_sends_a_confirmation_mail_whose_link_confirms_once(
    client, db, session_factory, settings, smtp_server
):
    response = await post_form(client, "/register", registration())
    assert response.status_code == 303, response.text
    # Not logged in before the address is confirmed (issue 17: the answer to a registered
    # address must not differ), and the password does not log in either.
    assert (await profile_status(client))[0] == 303
    assert await login_status(client, "clara.neu@example.org", PASSWORD) == 400
    user = await db.scalar(select(User.id).where(User.email == "clara.neu@example.org"))
    row = await user_row(db, user)
    assert row.email_confirmed_at is None
    assert row.consent_version == settings.consent_version and row.consent_at is not None

    # The login with the right password sent the link once more.
    assert await deliver(session_factory, smtp_server, settings) == 2
    first, message = smtp_server.mailbox.messages
    assert only_link(first, "/account/confirm/") != only_link(message, "/account/confirm/")
    assert addresses(message) == ["clara.neu@example.org"]
    assert smtp_server.mailbox.envelopes[0][1] == ["clara.neu@example.org"]
    assert message["Subject"] == german("Please confirm your email address")
    assert message["Content-Language"] == "de"
    assert message.is_multipart()
    assert "Clara Neu" in text_part(message)
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message["Message-ID"])
    assert re.fullmatch(r"<https?://\S+/unsubscribe/\S+>", message["List-Unsubscribe"].strip())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = only_link(message, "/account/confirm/")
    assert f'href="{link}"' in html_part(message)
    token = link.rsplit("/", 1)[1]

    # Opening the link (or a mail scanner doing so) shows a button; the token stays unused.
    page = await client.get(path_of(link))
    assert page.status_code == 200
    assert f'action="{path_of(link)}"' in page.text and "<button" in page.text
    assert 'name="password"' in page.text  # the link alone does not log in
    assert await token_used_at(db, token) is None
    assert (await user_row(db, user)).email_confirmed_at is None
    # Without the account's password: refused, the link stays usable.
    for wrong in ("", "Ein-anderes-Passwort-1"):
        refused = await post_form(client, path_of(link), {"password": wrong})
        assert refused.status_code == 422 and 'name="password"' in refused.text
    assert await token_used_at(db, token) is None
    assert (await profile_status(client))[0] == 303

    confirmed = await post_form(client, path_of(link), {"password": PASSWORD})
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/profile"
    assert (await user_row(db, user)).email_confirmed_at is not None
    assert await token_used_at(db, token) is not None
    # The link logged this browser in, and says so; from now on the password does too.
    profile = await client.get("/profile")
    assert profile.status_code == 200
    assert german("Thank you: your email address is confirmed.") in profile.text
    async with second_browser(client) as other:
        assert await login_status(other, "clara.neu@example.org", PASSWORD) == 303

    # The same link again: refused, with a message.
    again = await post_form(client, path_of(link), {"password": PASSWORD})
    assert again.status_code == 400
    assert "flash-error" in again.text
    reopened = await client.get(path_of(link))
    assert reopened.status_code == 400 and "flash-error" in reopened.text


async def test_registration_without_consent_is_refused_and_sends_nothing(
    client, db, session_factory, settings, smtp_server
):
    response = await post_form(client, "/register", registration(accepted_terms=None))
    assert_form_error(response, "accepted_terms")
    assert await db.scalar(select(func.count()).select_from(User)) == 0
    assert await outbox_count(db) == 0
    assert await deliver(session_factory, smtp_server, settings) == 0
    assert smtp_server.mailbox.messages == []
    assert (await profile_status(client))[0] == 303  # not logged in


# --- 2. forgotten password --------------------------------------------------------------------


async def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(
    client, session_factory, settings, smtp_server
):
    user = await make_user(session_factory, email="bekannt@example.org")
    known = await post_form(client, "/password/forgot", {"email": user.email})
    unknown = await post_form(client, "/password/forgot", {"email": "unbekannt@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert main_text(known.text) == main_text(unknown.text)
    assert "flash-success" in known.text

    assert await deliver(session_factory, smtp_server, settings) == 1
    assert [addresses(m) for m in smtp_server.mailbox.messages] == [["bekannt@example.org"]]
    [message] = smtp_server.mailbox.messages
    assert message["Subject"] == german("Set a new password")
    assert only_link(message, "/password/reset/") in f"{html_part(message)}"


async def test_reset_link_sets_the_password_once_and_ends_old_sessions(
    client, db, session_factory, settings, smtp_server
):
    anna = await make_user(session_factory, email="anna@example.org")
    bernd = await make_user(session_factory, email="bernd@example.org")
    async with session_factory() as session:
        api_token = await accounts.create_api_token(session, anna.id, "vor dem Zurücksetzen")
    async with second_browser(client) as laptop:
        await login(laptop, anna.email)  # a session from before the reset
        assert (await profile_status(laptop))[0] == 200

        path = await reset_link_by_mail(client, session_factory, smtp_server, settings, anna.email)
        form = await client.get(path)
        assert form.status_code == 200
        assert f'action="{path}"' in form.text and 'name="password"' in form.text

        response = await post_form(client, path, {"password": NEW_PASSWORD})
        assert response.status_code == 303
        assert response.headers["location"] == "/login"

        # The session from before the reset has ended, and so has the API token.
        status, location = await profile_status(laptop)
        assert status == 303 and location.startswith("/login")
        by_token = await laptop.get("/api/me", headers={"Authorization": f"Bearer {api_token}"})
        assert by_token.status_code == 401

    async with second_browser(client) as other:
        assert await login_status(other, anna.email, PASSWORD) == 400
        assert await login_status(other, anna.email, NEW_PASSWORD) == 303
        assert (await profile_status(other))[0] == 200

    # The link works once: a second use is refused and changes nothing.
    again = await post_form(client, path, {"password": OTHER_PASSWORD})
    assert again.status_code == 400
    assert "flash-error" in again.text
    stored = (await user_row(db, anna.id)).password_hash
    assert verify_password(stored, NEW_PASSWORD)
    assert not verify_password(stored, OTHER_PASSWORD)
    assert (await client.get(path)).status_code == 400

    # Only Anna's account changed.
    assert verify_password((await user_row(db, bernd.id)).password_hash, PASSWORD)
    assert await login_status(client, bernd.email, PASSWORD) == 303
    # The link came by mail: the address counts as confirmed now.
    assert (await user_row(db, anna.id)).email_confirmed_at is not None
    assert await db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "user.reset_password", AuditEntry.target_id == anna.id)
    )


async def test_an_expired_reset_link_is_refused(client, db, session_factory, settings, smtp_server):
    user = await make_user(session_factory)
    path = await reset_link_by_mail(client, session_factory, smtp_server, settings, user.email)
    await db.execute(text("UPDATE account_tokens SET expires_at = now() - interval '1 minute'"))
    await db.commit()

    page = await client.get(path)
    assert page.status_code == 400 and "flash-error" in page.text
    response = await post_form(client, path, {"password": NEW_PASSWORD})
    assert response.status_code == 400 and "flash-error" in response.text
    assert verify_password((await user_row(db, user.id)).password_hash, PASSWORD)


async def test_a_weak_new_password_keeps_the_link_usable(
    client, db, session_factory, settings, smtp_server
):
    user = await make_user(session_factory)
    path = await reset_link_by_mail(client, session_factory, smtp_server, settings, user.email)

    weak = await post_form(client, path, {"password": "kurz123"})
    assert_form_error(weak, "password")
    assert await token_used_at(db, path.rsplit("/", 1)[1]) is None
    assert verify_password((await user_row(db, user.id)).password_hash, PASSWORD)

    strong = await post_form(client, path, {"password": NEW_PASSWORD})
    assert strong.status_code == 303
    assert verify_password((await user_row(db, user.id)).password_hash, NEW_PASSWORD)


async def test_a_confirmation_link_is_no_reset_link(
    client, db, session_factory, settings, smtp_server
):
    assert (await post_form(client, "/register", registration())).status_code == 303
    user = await db.scalar(select(User).where(User.email == "clara.neu@example.org"))
    await deliver(session_factory, smtp_server, settings)
    [message] = mails_to(smtp_server, user.email)
    token = only_link(message, "/account/confirm/").rsplit("/", 1)[1]

    assert (await client.get(f"/password/reset/{token}")).status_code == 400
    response = await post_form(client, f"/password/reset/{token}", {"password": NEW_PASSWORD})
    assert response.status_code == 400
    assert verify_password((await user_row(db, user.id)).password_hash, PASSWORD)
    # ... and it still confirms the address (its own purpose).
    assert await token_used_at(db, token) is None
    confirmed = await post_form(client, f"/account/confirm/{token}", {"password": PASSWORD})
    assert confirmed.status_code == 303
    assert (await user_row(db, user.id)).email_confirmed_at is not None


async def test_at_most_three_reset_mails_per_hour(
    client, db, session_factory, settings, smtp_server
):
    user = await make_user(session_factory)
    answers = [await post_form(client, "/password/forgot", {"email": user.email}) for _ in range(5)]
    assert {answer.status_code for answer in answers} == {200}
    # The limit does not show: the fifth answer looks like the first.
    assert main_text(answers[0].text) == main_text(answers[4].text)
    await deliver(session_factory, smtp_server, settings)
    assert 0 < len(mails_to(smtp_server, user.email)) <= RESETS_PER_HOUR == 3


# --- 3. changing the email address ------------------------------------------------------------


async def test_change_email_confirms_the_new_address_and_tells_the_old(
    client, db, session_factory, settings, smtp_server
):
    user = await make_user(session_factory, email="alt@example.org")
    await make_user(session_factory, email="vergeben@example.org")
    await login(client, user.email)

    wrong = await post_form(
        client, "/profile/email", {"new_email": "neu@example.org", "current_password": "Falsch-1"}
    )
    assert_form_error(wrong, "current_password")
    assert await outbox_count(db) == 0
    # An address with an account answers as a free one (issue 17); its owner gets a notice.
    taken = await post_form(
        client,
        "/profile/email",
        {"new_email": "vergeben@example.org", "current_password": PASSWORD},
    )
    assert taken.status_code == 303 and taken.headers["location"] == "/profile"
    await deliver(session_factory, smtp_server, settings)
    [notice] = mails_to(smtp_server, "vergeben@example.org")
    assert notice["Subject"] == german("Somebody tried to register with your email address")
    assert "/account/email/" not in text_part(notice)
    smtp_server.mailbox.messages.clear()
    assert (await user_row(db, user.id)).email == "alt@example.org"

    response = await post_form(
        client, "/profile/email", {"new_email": "neu@example.org", "current_password": PASSWORD}
    )
    assert response.status_code == 303
    assert (await user_row(db, user.id)).email == "alt@example.org"  # not yet
    await deliver(session_factory, smtp_server, settings)
    assert [addresses(m) for m in smtp_server.mailbox.messages] == [["neu@example.org"]]
    [message] = smtp_server.mailbox.messages
    assert message["Subject"] == german("Please confirm your new email address")
    path = path_of(only_link(message, "/account/email/"))

    page = await client.get(path)
    assert page.status_code == 200 and f'action="{path}"' in page.text
    assert (await user_row(db, user.id)).email == "alt@example.org"  # a GET changes nothing

    confirmed = await post_form(client, path)
    assert confirmed.status_code == 303
    row = await user_row(db, user.id)
    assert row.email == "neu@example.org"
    assert row.email_confirmed_at is not None

    await deliver(session_factory, smtp_server, settings)
    [notice] = mails_to(smtp_server, "alt@example.org")
    assert notice["Subject"] == german("Your email address was changed")
    assert len(mails_to(smtp_server, "neu@example.org")) == 1  # nothing more to the new one

    assert (await post_form(client, path)).status_code == 400  # the link works once
    async with second_browser(client) as other:
        assert await login_status(other, "alt@example.org", PASSWORD) == 400
        assert await login_status(other, "neu@example.org", PASSWORD) == 303
        assert (await profile_status(other))[0] == 200


# --- 4. changing the password -----------------------------------------------------------------


async def test_change_password_keeps_this_session_and_ends_the_others(
    client, db, session_factory, settings, smtp_server
):
    user = await make_user(session_factory)
    async with second_browser(client) as laptop:
        await login(laptop, user.email)
        await login(client, user.email)

        wrong = await post_form(
            client,
            "/profile/password",
            {"current_password": "Falsch-12345", "new_password": NEW_PASSWORD},
        )
        assert_form_error(wrong, "current_password")
        assert verify_password((await user_row(db, user.id)).password_hash, PASSWORD)
        assert (await profile_status(laptop))[0] == 200
        assert await outbox_count(db) == 0

        response = await post_form(
            client,
            "/profile/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 303
        assert verify_password((await user_row(db, user.id)).password_hash, NEW_PASSWORD)
        assert (await profile_status(client))[0] == 200  # this browser goes on
        status, location = await profile_status(laptop)  # the other one is logged out
        assert status == 303 and location.startswith("/login")

    await deliver(session_factory, smtp_server, settings)
    [message] = mails_to(smtp_server, user.email)
    assert message["Subject"] == german("Your password was changed")
    assert await login_status(client, user.email, NEW_PASSWORD) == 303


# --- 5. editing the profile -------------------------------------------------------------------


def profile_form(**overrides: str) -> dict[str, str]:
    data = {
        "display_name": "Dora Dreher",
        "organisation": "Dreherei Zwickau",
        "sector": "administration",
        "region": "vogtlandkreis",
        "locale": "en",
        "name_in_exports": "1",
    }
    data.update(overrides)
    return data


async def test_edit_profile_saves_everything_and_switches_the_language(client, db, session_factory):
    user = await make_user(session_factory)
    await login(client, user.email)
    response = await post_form(client, "/profile/edit", profile_form())
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"
    row = await user_row(db, user.id)
    assert row.display_name == "Dora Dreher"
    assert row.organisation == "Dreherei Zwickau"
    assert row.sector == "administration" and row.region == "vogtlandkreis"
    assert row.locale == "en"
    assert row.name_in_exports is True
    page = await client.get("/profile")
    assert '<html lang="en"' in page.text
    assert "Your profile" in page.text and "Dora Dreher" in page.text


async def test_invalid_profile_input_is_refused_and_nothing_saved(client, db, session_factory):
    user = await make_user(session_factory)
    await login(client, user.email)
    before = await user_row(db, user.id)
    for field, value in (("sector", "aliens"), ("display_name", "D")):
        response = await post_form(client, "/profile/edit", profile_form(**{field: value}))
        assert_form_error(response, field)
        assert await user_row(db, user.id) == before, field
    assert '<html lang="de"' in (await client.get("/profile")).text


# --- 6. consent to new terms ------------------------------------------------------------------


async def test_outdated_consent_is_asked_for_after_login(client, db, session_factory, settings):
    user = await make_user(session_factory)
    await db.execute(
        text("UPDATE users SET consent_version = 'alt', consent_at = NULL WHERE id = :id"),
        {"id": user.id},
    )
    await db.commit()

    response = await post_form(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": "/profile"}
    )
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/consent"
    assert parse_qs(target.query)["next"] == ["/profile"]
    assert (await client.get(response.headers["location"])).status_code == 200

    refused = await post_form(client, "/consent", {"next": "/profile"})
    assert refused.status_code == 422
    assert "field-error" in refused.text
    assert (await user_row(db, user.id)).consent_version == "alt"

    agreed = await post_form(client, "/consent", {"next": "/profile", "accepted_terms": "1"})
    assert agreed.status_code == 303
    assert agreed.headers["location"] == "/profile"
    row = await user_row(db, user.id)
    assert row.consent_version == settings.consent_version
    assert row.consent_at is not None

    # Asked once: the next login goes straight on.
    async with second_browser(client) as other:
        again = await post_form(
            other, "/login", {"email": user.email, "password": PASSWORD, "next": "/profile"}
        )
        assert again.headers["location"] == "/profile"


# --- 7. admins and accounts -------------------------------------------------------------------


async def audit_actions(db: AsyncSession) -> list[tuple[str, int | None, int | None]]:
    rows = await db.execute(
        select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.target_id)
        .where(AuditEntry.action.in_(("user.deactivate", "user.activate", "user.send_reset")))
        .order_by(AuditEntry.id)
    )
    return [tuple(row) for row in rows]


async def test_admin_deactivates_reactivates_and_sends_a_reset(
    client, db, session_factory, settings, smtp_server
):
    admin = await make_user(session_factory, role=Role.ADMIN, email="chefin@example.org")
    person = await make_user(session_factory, email="teilnehmer@example.org")
    await login(client, admin.email)
    async with second_browser(client) as browser:
        await login(browser, person.email)

        response = await post_form(client, f"/admin/users/{person.id}/deactivate")
        assert response.status_code == 303
        assert (await user_row(db, person.id)).is_active is False
        status, location = await profile_status(browser)
        assert status == 303 and location.startswith("/login")
        assert await login_status(browser, person.email, PASSWORD) == 400
        # ... nor can a deactivated account get back in through a forgotten password.
        forgot = await post_form(browser, "/password/forgot", {"email": person.email})
        assert forgot.status_code == 200
        assert await outbox_count(db) == 0

        response = await post_form(client, f"/admin/users/{person.id}/activate")
        assert response.status_code == 303
        assert (await user_row(db, person.id)).is_active is True
        assert await login_status(browser, person.email, PASSWORD) == 303
        assert (await profile_status(browser))[0] == 200

        # Not oneself.
        response = await post_form(client, f"/admin/users/{admin.id}/deactivate")
        assert response.status_code == 303
        assert "flash-error" in (await client.get(response.headers["location"])).text
        assert (await user_row(db, admin.id)).is_active is True

        response = await post_form(client, f"/admin/users/{person.id}/send-reset")
        assert response.status_code == 303
        await deliver(session_factory, smtp_server, settings)
        [message] = mails_to(smtp_server, person.email)
        assert message["Subject"] == german("Set a new password")
        assert (
            await browser.get(path_of(only_link(message, "/password/reset/")))
        ).status_code == 200

        # A participant may do none of this.
        mails_before = await outbox_count(db)
        for action in ("deactivate", "activate", "send-reset"):
            forbidden = await post_form(browser, f"/admin/users/{admin.id}/{action}")
            assert forbidden.status_code == 403, action
        assert (await user_row(db, admin.id)).is_active is True
        assert await outbox_count(db) == mails_before

    assert await audit_actions(db) == [
        ("user.deactivate", admin.id, person.id),
        ("user.activate", admin.id, person.id),
        ("user.send_reset", admin.id, person.id),
    ]


# --- 8. the outbox viewer without SMTP --------------------------------------------------------


async def test_outbox_shows_the_mails_and_their_links_without_smtp(client, db, session_factory):
    admin = await make_user(session_factory, role=Role.ADMIN)
    user = await make_user(session_factory, email="vergesslich@example.org")
    assert (await post_form(client, "/password/forgot", {"email": user.email})).status_code == 200
    await login(client, admin.email)

    listing = await client.get("/admin/outbox")
    assert listing.status_code == 200
    mail_id = await db.scalar(select(OutboxMail.id).where(OutboxMail.to_address == user.email))
    assert "vergesslich@example.org" in listing.text
    assert f'href="/admin/outbox/{mail_id}"' in listing.text

    page = await client.get(f"/admin/outbox/{mail_id}")
    assert page.status_code == 200
    match = re.search(r'<a href="(https?://[^"]+/password/reset/([A-Za-z0-9_\-]+))"', page.text)
    assert match, page.text
    assert await db.scalar(
        select(func.count())
        .select_from(AccountToken)
        .where(AccountToken.token_hash == hash_token(match.group(2)))
    )
    async with second_browser(client) as anonymous:
        assert (await anonymous.get(path_of(match.group(1)))).status_code == 200


# --- 9. no header injection through the display name ------------------------------------------


async def test_a_display_name_with_line_breaks_cannot_add_recipients(
    client, db, session_factory, settings, smtp_server
):
    user = await make_user(session_factory, email="opfer@example.org")
    await db.execute(
        text("UPDATE users SET display_name = :name WHERE id = :id"),
        {"name": "Eve\r\nBcc: evil@example.org", "id": user.id},
    )
    await db.commit()
    assert (await post_form(client, "/password/forgot", {"email": user.email})).status_code == 200
    assert await deliver(session_factory, smtp_server, settings) == 1

    [message] = smtp_server.mailbox.messages
    assert message.get_all("Bcc") is None
    assert "evil@example.org" not in "".join(f"{k}: {v}" for k, v in message.items())
    assert len(message.get_all("To")) == 1
    assert "\n" not in str(message["To"]) and "\r" not in str(message["To"])
    assert addresses(message) == ["opfer@example.org"]
    assert smtp_server.mailbox.envelopes == [(smtp_server.mailbox.envelopes[0][0], [user.email])]
