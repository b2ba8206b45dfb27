"""The outbox and its sender against a real SMTP server (aiosmtpd on 127.0.0.1): written in the
transaction that causes a mail, delivered once, kept while the server is down, never a header
smuggled in through a name or a subject."""

from __future__ import annotations

import asyncio
import dataclasses

from sqlalchemy import func, select, text

from ideas_platform.core.choices import Role
from ideas_platform.core.database import transaction
from ideas_platform.mail.compose import Recipient, enqueue
from ideas_platform.mail.models import OutboxMail
from ideas_platform.mail.sender import deliver_due, retry_pause
from tests.helpers import login, make_user
from tests.smtp import html_part, text_part


async def _write(session_factory, settings, count: int = 1, **recipient) -> list[int]:
    async with session_factory() as session, transaction(session):
        mails = [
            enqueue(
                session,
                settings,
                to=Recipient(
                    recipient.get("address", f"person{i}@example.org"),
                    recipient.get("name", f"Person {i}"),
                    None,
                    recipient.get("locale", "de"),
                ),
                template="password_changed",
                subject="Your password was changed",
            )
            for i in range(count)
        ]
        await session.flush()
        return [mail.id for mail in mails]


async def _deliver_all(session_factory, settings) -> None:
    async with session_factory() as session:
        while await deliver_due(session, settings):
            pass


async def _pending(session_factory) -> int:
    async with session_factory() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None))
            )
            or 0
        )


async def test_a_mail_goes_out_once_in_the_recipients_language(
    session_factory, settings, smtp_server
):
    smtp = smtp_server.settings(settings)
    await _write(session_factory, settings, address="anna@example.org", name="Anna", locale="de")
    await _write(session_factory, settings, address="ben@example.org", name="Ben", locale="en")
    await _deliver_all(session_factory, smtp)
    await _deliver_all(session_factory, smtp)  # nothing left: nothing is sent twice
    assert len(smtp_server.mailbox.messages) == 2
    german, english = smtp_server.mailbox.to("anna@"), smtp_server.mailbox.to("ben@")
    assert german[0]["Subject"] == "Ihr Passwort wurde geändert"
    assert "Hallo Anna" in text_part(german[0]) and "<p>Hallo Anna" in html_part(german[0])
    assert german[0]["Content-Language"] == "de"
    assert english[0]["Subject"] == "Your password was changed"
    assert "Hello Ben" in text_part(english[0])
    assert german[0]["From"] == settings.mail_from
    assert german[0]["Message-ID"] != english[0]["Message-ID"]
    assert await _pending(session_factory) == 0


async def test_a_mail_written_in_a_failed_transaction_does_not_exist(session_factory, settings):
    try:
        async with session_factory() as session, transaction(session):
            enqueue(
                session,
                settings,
                to=Recipient("x@example.org"),
                template="password_changed",
                subject="Your password was changed",
            )
            await session.flush()
            raise RuntimeError("the change that caused the mail fails")
    except RuntimeError:
        pass
    assert await _pending(session_factory) == 0


async def test_mails_wait_while_the_smtp_server_is_down_and_go_out_when_it_is_back(
    session_factory, settings, smtp_server
):
    smtp = smtp_server.settings(settings)
    smtp_server.stop()
    ids = await _write(session_factory, settings, count=3)
    await _deliver_all(session_factory, smtp)
    async with session_factory() as session:
        rows = list(await session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
        now = await session.scalar(select(func.now()))
    assert [row.sent_at for row in rows] == [None, None, None]
    assert all(row.attempts == 1 and row.failed_at is None for row in rows)
    assert all(row.next_attempt_at >= now + retry_pause(1) - retry_pause(1) / 10 for row in rows)
    assert all("connect" in (row.last_error or "") for row in rows)
    # Not due yet: another turn of the sender leaves them alone.
    await _deliver_all(session_factory, smtp)
    assert len(smtp_server.mailbox.messages) == 0
    # The server is back; the pause is over (moved back instead of waiting 30 s).
    smtp_server.start()
    async with session_factory() as session, session.begin():
        await session.execute(text("UPDATE outbox_mails SET next_attempt_at = now()"))
    await _deliver_all(session_factory, smtp)
    assert len(smtp_server.mailbox.messages) == 3
    assert await _pending(session_factory) == 0
    async with session_factory() as session:
        attempts = list(
            await session.scalars(select(OutboxMail.attempts).where(OutboxMail.id.in_(ids)))
        )
    assert attempts == [2, 2, 2]


async def test_the_pause_grows_and_is_capped_at_an_hour():
    assert [retry_pause(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_pause(50).total_seconds() == 3600


async def test_a_refused_address_is_not_retried_and_does_not_hold_up_the_others(
    session_factory, settings, smtp_server
):
    smtp_server.mailbox.refuse.add("gone@example.org")
    await _write(session_factory, settings, address="gone@example.org")
    await _write(session_factory, settings, address="here@example.org")
    await _deliver_all(session_factory, smtp_server.settings(settings))
    assert [str(m["To"]) for m in smtp_server.mailbox.messages] == ["here@example.org"]
    async with session_factory() as session:
        gone = await session.scalar(
            select(OutboxMail).where(OutboxMail.to_address == "gone@example.org")
        )
    assert gone.failed_at is not None and gone.sent_at is None and "550" in gone.last_error


async def test_two_senders_at_once_send_every_mail_exactly_once(
    session_factory, settings, smtp_server
):
    """Two workers' senders race for the same 150 mails (SKIP LOCKED hands each to one)."""
    smtp = smtp_server.settings(settings)
    await _write(session_factory, settings, count=150)

    async def sender() -> int:
        taken = 0
        async with session_factory() as session:
            while batch := await deliver_due(session, smtp, limit=10):
                taken += batch
        return taken

    taken = await asyncio.gather(sender(), sender(), sender())
    ids = [str(m["Message-ID"]) for m in smtp_server.mailbox.messages]
    assert len(ids) == 150 and len(set(ids)) == 150
    assert sum(taken) == 150 and all(part > 0 for part in taken[:2]), taken
    assert await _pending(session_factory) == 0


async def test_a_line_break_in_a_name_or_subject_cannot_add_a_header(
    session_factory, settings, smtp_server
):
    eve = await make_user(session_factory, email="eve@example.org")
    async with session_factory() as session, transaction(session):
        enqueue(
            session,
            settings,
            to=Recipient("eve@example.org", "Eve\r\nBcc: evil@example.org", eve.id, "de"),
            template="digest",
            subject="News on “%(title)s”",
            subject_params={"title": "Idee\r\nBcc: evil@example.org\nX-Evil: 1"},
            groups=[],
            frequency="immediate",
            count=1,
        )
    await _deliver_all(session_factory, smtp_server.settings(settings))
    [message] = smtp_server.mailbox.messages
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert smtp_server.mailbox.envelopes == [
        (settings.mail_from.split("<")[1].rstrip(">"), ["eve@example.org"])
    ]
    assert "\n" not in str(message["To"]) and "\n" not in str(message["Subject"])
    assert (
        message["List-Unsubscribe"]
        .strip()
        .startswith(f"<{settings.public_url}/unsubscribe/{eve.id}.")
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_without_smtp_mails_go_to_the_log_and_the_admins_viewer(
    session_factory, settings, client
):
    from tests.helpers import make_user

    assert not settings.smtp_configured
    await _write(session_factory, settings, address="demo@example.org")
    await _deliver_all(session_factory, settings)
    async with session_factory() as session:
        mail = await session.scalar(select(OutboxMail))
    assert mail.sent_at is not None and mail.delivered_via == "log"
    admin = await make_user(session_factory, role=Role.ADMIN)
    await login(client, admin.email)
    listing = await client.get("/admin/outbox")
    assert listing.status_code == 200 and "demo@example.org" in listing.text
    shown = await client.get(f"/admin/outbox/{mail.id}")
    assert "Ihr Passwort wurde geändert" in shown.text
    assert f'href="{settings.public_url}/password/forgot"' in shown.text


async def test_with_smtp_the_viewer_shows_no_contents(session_factory, settings, app, client):
    from tests.helpers import make_user

    await _write(session_factory, settings, address="secret@example.org")
    admin = await make_user(session_factory, role=Role.ADMIN)
    await login(client, admin.email)
    app.state.settings = dataclasses.replace(settings, smtp_host="mail.example.org")
    try:
        async with session_factory() as session:
            mail_id = await session.scalar(select(OutboxMail.id))
        shown = await client.get(f"/admin/outbox/{mail_id}")
    finally:
        app.state.settings = settings
    assert shown.status_code == 200 and "secret@example.org" in shown.text
    assert "/password/forgot" not in shown.text
