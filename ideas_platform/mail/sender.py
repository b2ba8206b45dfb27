"""Delivers the outbox. Every app process runs one sender; PostgreSQL hands each due mail to
exactly one of them (FOR UPDATE SKIP LOCKED), so two workers never send the same mail, and a
mail stays queued (with growing pauses) while the SMTP server is down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ideas_platform.core.config import Settings
from ideas_platform.mail.compose import header_safe
from ideas_platform.mail.models import OutboxMail

log = logging.getLogger("ideas_platform.mail")

BATCH_SIZE = 20
FIRST_RETRY = timedelta(seconds=30)
LONGEST_PAUSE = timedelta(hours=1)


def retry_pause(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... up to an hour; never given up while the server is unreachable."""
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 12), LONGEST_PAUSE)


def as_message(mail: OutboxMail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    name, address = parseaddr(settings.mail_from)
    message["From"] = formataddr((header_safe(name, 80), address))
    message["To"] = header_safe(mail.to_address, 254)
    message["Subject"] = header_safe(mail.subject, 300)
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at)
    message["Auto-Submitted"] = "auto-generated"
    for key, value in (mail.headers or {}).items():
        if key in ("List-Unsubscribe", "List-Unsubscribe-Post"):
            message[key] = header_safe(str(value), 500)
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    # after the parts exist: making the message multipart moves Content-* headers into them
    message["Content-Language"] = mail.locale
    return message


def _permanent(exc: Exception) -> bool:
    """A 5xx answer about this mail (unknown recipient, refused): retrying does not help."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= error.code < 600 for error in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600
    return False


async def _connect(settings: Settings) -> aiosmtplib.SMTP:
    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        timeout=settings.smtp_timeout_seconds,
        start_tls=settings.smtp_starttls,
    )
    await smtp.connect()
    if settings.smtp_user:
        await smtp.login(settings.smtp_user, settings.smtp_password)
    return smtp


async def deliver_due(session: AsyncSession, settings: Settings, limit: int = BATCH_SIZE) -> int:
    """Sends up to `limit` due mails; answers how many were taken. One transaction: the rows
    stay locked while they are sent, and their outcome is committed together."""
    async with session.begin():
        now: datetime = await session.scalar(select(func.now()))  # type: ignore[assignment]
        mails = list(
            await session.scalars(
                select(OutboxMail)
                .where(
                    OutboxMail.sent_at.is_(None),
                    OutboxMail.failed_at.is_(None),
                    OutboxMail.next_attempt_at <= func.now(),
                )
                .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not mails:
            return 0
        if not settings.smtp_configured:
            for mail in mails:
                log.info(
                    "mail (no SMTP_HOST, see /admin/outbox) to %s: %s",
                    mail.to_address,
                    mail.subject,
                )
                mail.sent_at, mail.delivered_via, mail.attempts = now, "log", mail.attempts + 1
            return len(mails)
        smtp: aiosmtplib.SMTP | None = None
        try:
            smtp = await _connect(settings)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("SMTP server unreachable (%s); %d mails wait", exc, len(mails))
            for mail in mails:
                _retry_later(mail, now, f"connect: {exc}")
            return len(mails)
        try:
            for mail in mails:
                try:
                    await smtp.send_message(as_message(mail, settings))
                except (aiosmtplib.SMTPException, OSError) as exc:
                    if _permanent(exc):
                        mail.failed_at, mail.last_error = now, str(exc)[:1000]
                        mail.attempts += 1
                        log.warning("mail %s refused for good: %s", mail.id, exc)
                    else:
                        _retry_later(mail, now, str(exc))
                    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | OSError):
                        # the connection is gone: the rest of the batch waits as well
                        for rest in mails[mails.index(mail) + 1 :]:
                            _retry_later(rest, now, f"disconnected: {exc}")
                        break
                    continue
                mail.sent_at, mail.delivered_via, mail.attempts = now, "smtp", mail.attempts + 1
                mail.last_error = None
        finally:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
    return len(mails)


def _retry_later(mail: OutboxMail, now: datetime, error: str) -> None:
    mail.attempts += 1
    mail.last_error = error[:1000]
    mail.next_attempt_at = now + retry_pause(mail.attempts)


async def run_sender(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    prepare: Callable[[AsyncSession, int], Awaitable[int]] | None = None,
) -> None:
    """The background task of an app process. Every MAIL_POLL_SECONDS, as long as there is
    work: `prepare` writes up to a batch of mails (due notifications), then a batch of due mails
    is delivered. Paced to MAIL_RATE_PER_SECOND mails per process, so that a flood of mail does
    not take the processor from the people voting on the same worker."""
    while True:
        try:
            async with factory() as session:
                while True:
                    written = await prepare(session, BATCH_SIZE) if prepare is not None else 0
                    sent = await deliver_due(session, settings)
                    if not written and not sent:
                        break
                    if settings.mail_rate_per_second > 0:
                        # writing and sending a mail count half each
                        await asyncio.sleep((written + sent) / (2 * settings.mail_rate_per_second))
        except asyncio.CancelledError:
            raise
        except Exception:  # the loop must survive a database restart
            log.exception("the mail sender failed; it tries again")
        await asyncio.sleep(settings.mail_poll_seconds)
