"""From notifications to mails. Run by every app process before it delivers the outbox.

"Immediately" waits NOTIFICATION_BUNDLE_SECONDS after the first waiting notification and then
sends everything that came meanwhile as one mail (a flood of 1,000 in a minute is one mail);
daily digests go at 7:00 (Berlin), weekly ones on Monday at 7:00. A person's waiting rows are
taken with FOR UPDATE SKIP LOCKED, marked and turned into one outbox mail in one transaction:
never twice, never an empty mail."""

from __future__ import annotations

import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.core.choices import N_
from ideas_platform.core.config import Settings
from ideas_platform.core.i18n import BERLIN, using_locale
from ideas_platform.core.page_cache import shown_on_pages
from ideas_platform.mail.compose import Recipient, enqueue
from ideas_platform.notifications import texts
from ideas_platform.notifications.models import (
    Frequency,
    MailState,
    Notification,
    NotificationKind,
    PhaseAnnouncement,
)
from ideas_platform.notifications.service import notify, participants_of
from ideas_platform.processes.models import Process, ProcessPhase

log = logging.getLogger("ideas_platform.notifications")

DIGEST_HOUR = time(7, 0)
PERSON_LOCK_NAMESPACE = 4713  # pg_try_advisory_xact_lock(namespace, user id)
# Phases that began longer ago than this are not announced (e.g. right after an upgrade).
ANNOUNCE_WITHIN = timedelta(days=2)


def due_at(frequency: Frequency, oldest: datetime, bundle_seconds: int) -> datetime:
    if frequency == Frequency.IMMEDIATE:
        return oldest + timedelta(seconds=bundle_seconds)
    local = oldest.astimezone(BERLIN)
    slot = datetime.combine(local.date(), DIGEST_HOUR, tzinfo=BERLIN)
    if slot <= local:
        slot += timedelta(days=1)
    if frequency == Frequency.WEEKLY:
        slot += timedelta(days=(7 - slot.weekday()) % 7)  # the next Monday
    return slot


async def due_people(
    session: AsyncSession, settings: Settings, now: datetime, *, everything: bool = False
) -> list[tuple[int, Frequency]]:
    rows = await session.execute(
        select(Notification.user_id, Notification.mail_frequency, func.min(Notification.created_at))
        .where(Notification.mail_state == MailState.PENDING)
        .group_by(Notification.user_id, Notification.mail_frequency)
    )
    return [
        (user_id, frequency)
        for user_id, frequency, oldest in rows
        if everything or due_at(frequency, oldest, settings.notification_bundle_seconds) <= now
    ]


def _subject(
    frequency: Frequency, notifications: list[Notification]
) -> tuple[str, dict[str, object]]:
    if frequency == Frequency.DAILY:
        return N_("Your daily digest (%(num)s)"), {"num": len(notifications)}
    if frequency == Frequency.WEEKLY:
        return N_("Your weekly digest (%(num)s)"), {"num": len(notifications)}
    if len(notifications) == 1:
        return N_("News on “%(title)s”"), {"title": texts.group_title(notifications[0])[:120]}
    return N_("%(num)s news on the ideas platform"), {"num": len(notifications)}


async def mail_one_person(
    session: AsyncSession, settings: Settings, user_id: int, frequency: Frequency
) -> int:
    """One mail with everything waiting for this person at this frequency; answers how many
    notifications it carries (0: nothing waiting, or another process took it)."""
    async with session.begin():
        # One process per person at a time: row locks alone would let two senders split one
        # person's waiting notifications into two mails (SKIP LOCKED skips row by row).
        if not await session.scalar(
            select(func.pg_try_advisory_xact_lock(PERSON_LOCK_NAMESPACE, user_id))
        ):
            return 0
        notifications = list(
            await session.scalars(
                select(Notification)
                .where(
                    Notification.user_id == user_id,
                    Notification.mail_frequency == frequency,
                    Notification.mail_state == MailState.PENDING,
                )
                .order_by(Notification.created_at, Notification.id)
                .with_for_update(skip_locked=True)
            )
        )
        if not notifications:
            return 0
        user = await session.get(User, user_id)
        if user is None or not user.is_active or not user.email:
            for notification in notifications:
                notification.mail_state = MailState.NONE
            return 0
        with using_locale(user.locale):
            groups: OrderedDict[tuple[str, int], dict[str, object]] = OrderedDict()
            for notification in notifications:
                key = texts.group_key(notification)
                group = groups.setdefault(
                    key,
                    {
                        "title": texts.group_title(notification),
                        "url": settings.public_url + texts.link(notification).split("#")[0],
                        "items": [],
                    },
                )
                group["items"].append(  # type: ignore[attr-defined]
                    {
                        "sentence": texts.sentence(notification),
                        "url": settings.public_url + texts.link(notification),
                        "at": notification.created_at,
                    }
                )
        subject, params = _subject(frequency, notifications)
        mail = enqueue(
            session,
            settings,
            to=Recipient(user.email, user.display_name, user.id, user.locale),
            template="digest",
            kind=f"notifications_{frequency.value}",
            subject=subject,
            subject_params=params,
            groups=list(groups.values()),
            frequency=frequency.value,
            count=len(notifications),
        )
        await session.flush()
        for notification in notifications:
            notification.mail_state = MailState.MAILED
            notification.mail_id = mail.id
    return len(notifications)


async def dispatch_due(
    session: AsyncSession,
    settings: Settings,
    *,
    everything: bool = False,
    limit: int | None = None,
) -> Dispatched:
    """Turn due notifications into mails, for at most `limit` people (all without); answers
    how many mails and notifications. `everything`: do not wait for the digest hour (CLI
    `send-mail --now`, tests). People come in random order, so that two processes rarely
    reach for the same person."""
    await announce_started_phases(session)
    async with session.begin():
        now = await session.scalar(select(func.now()))
        due = await due_people(session, settings, now, everything=everything)  # type: ignore[arg-type]
    random.shuffle(due)
    done = Dispatched()
    for user_id, frequency in due:
        if limit is not None and done.mails >= limit:
            break
        carried = await mail_one_person(session, settings, user_id, frequency)
        if carried:
            done.mails += 1
            done.notifications += carried
    return done


@dataclass
class Dispatched:
    mails: int = 0
    notifications: int = 0


def notification_mails(settings: Settings) -> Callable[[AsyncSession, int], Awaitable[int]]:
    """The mail sender's `prepare` step: up to `limit` notification mails; answers how many."""

    async def prepare(session: AsyncSession, limit: int) -> int:
        return (await dispatch_due(session, settings, limit=limit)).mails

    return prepare


async def announce_started_phases(session: AsyncSession) -> int:
    """A phase that began (in the last two days) is announced once to the participants."""
    announced = 0
    async with session.begin():
        started = list(
            await session.execute(
                select(ProcessPhase.process_id, ProcessPhase.kind, ProcessPhase.starts_at).where(
                    ProcessPhase.starts_at <= func.now(),
                    ProcessPhase.starts_at > func.now() - ANNOUNCE_WITHIN,
                    ProcessPhase.ends_at > func.now(),
                )
            )
        )
        for process_id, kind, starts_at in started:
            inserted = await session.scalar(
                pg_insert(PhaseAnnouncement)
                .values(process_id=process_id, kind=kind.value, starts_at=starts_at)
                .on_conflict_do_nothing()
                .returning(PhaseAnnouncement.process_id)
            )
            if inserted is None:
                continue  # another process (or an earlier turn) announced it
            process = await session.get(Process, process_id)
            if process is None:
                continue
            people = set(await session.scalars(participants_of(process_id)))
            announced += await notify(
                session,
                people,
                kind=NotificationKind.PHASE,
                event="started",
                process_id=process_id,
                data={"process": process.title, "process_slug": process.slug, "phase": kind.value},
            )
        if announced:
            shown_on_pages(session)  # the bell on every page of those people
    return announced
