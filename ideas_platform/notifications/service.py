"""Who hears of what: notifications are written in the transaction of the event that causes
them (the caller's), one row per person; the mail follows later (see `digest`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import N_
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import InvalidInput, NotFoundError
from ideas_platform.ideas.models import Idea
from ideas_platform.notifications.models import (
    Follow,
    Frequency,
    MailState,
    Notification,
    NotificationKind,
    NotificationPreference,
)

# Without a choice of their own people hear at once of what concerns them, and once a day of
# what is merely interesting (new ideas in a followed theme).
DEFAULT_FREQUENCY: dict[NotificationKind, Frequency] = {
    NotificationKind.COMMENT: Frequency.IMMEDIATE,
    NotificationKind.REPLY: Frequency.IMMEDIATE,
    NotificationKind.MODERATION: Frequency.IMMEDIATE,
    NotificationKind.SHORTLIST: Frequency.IMMEDIATE,
    NotificationKind.PHASE: Frequency.IMMEDIATE,
    NotificationKind.THEME: Frequency.DAILY,
    NotificationKind.MEASURE: Frequency.DAILY,
}
EXCERPT_LENGTH = 160


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


async def frequencies(session: AsyncSession, user_id: int) -> dict[NotificationKind, Frequency]:
    chosen = {
        row.kind: row.frequency
        for row in await session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
    }
    return {kind: chosen.get(kind, default) for kind, default in DEFAULT_FREQUENCY.items()}


async def notify(
    session: AsyncSession,
    user_ids: Iterable[int | None],
    *,
    kind: NotificationKind,
    event: str,
    actor_id: int | None = None,
    idea_id: int | None = None,
    theme_id: int | None = None,
    process_id: int | None = None,
    comment_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """One notification per person (never to the actor, never to deactivated accounts), in the
    caller's transaction. Answers how many were written."""
    recipients = {uid for uid in user_ids if uid is not None and uid != actor_id}
    if not recipients:
        return 0
    chosen = NotificationPreference.frequency
    rows = await session.execute(
        select(User.id, User.email, User.guest_event_id, chosen)
        .outerjoin(
            NotificationPreference,
            (NotificationPreference.user_id == User.id) & (NotificationPreference.kind == kind),
        )
        .where(User.id.in_(recipients), User.is_active.is_(True))
    )
    values = []
    for user_id, email, guest_event_id, frequency in rows:
        frequency = frequency or DEFAULT_FREQUENCY[kind]
        mailable = bool(email) and guest_event_id is None and frequency != Frequency.OFF
        values.append(
            {
                "user_id": user_id,
                "kind": kind,
                "event": event,
                "actor_id": actor_id,
                "idea_id": idea_id,
                "theme_id": theme_id,
                "process_id": process_id,
                "comment_id": comment_id,
                "data": data or {},
                "mail_state": MailState.PENDING if mailable else MailState.NONE,
                "mail_frequency": frequency,
            }
        )
    if values:
        await session.execute(insert(Notification), values)
    return len(values)


# --- following ---


async def follow_idea_in(session: AsyncSession, user_id: int, idea_id: int) -> None:
    """In the caller's transaction (used at submission: authors follow their ideas)."""
    await session.execute(
        pg_insert(Follow)
        .values(user_id=user_id, idea_id=idea_id)
        .on_conflict_do_nothing(constraint="uq_follows_user_idea")
    )


async def set_following(
    session: AsyncSession,
    user_id: int,
    *,
    idea_id: int | None = None,
    theme_id: int | None = None,
    follow: bool,
) -> None:
    async with transaction(session):
        if idea_id is not None:
            if await session.get(Idea, idea_id) is None:
                raise NotFoundError(N_("This idea does not exist."), code="idea_not_found")
            target = Follow.idea_id == idea_id
            constraint = "uq_follows_user_idea"
        else:
            from ideas_platform.themes.models import Theme

            if theme_id is None or await session.get(Theme, theme_id) is None:
                raise NotFoundError(N_("This theme does not exist."), code="theme_not_found")
            target = Follow.theme_id == theme_id
            constraint = "uq_follows_user_theme"
        if follow:
            await session.execute(
                pg_insert(Follow)
                .values(user_id=user_id, idea_id=idea_id, theme_id=theme_id)
                .on_conflict_do_nothing(constraint=constraint)
            )
        else:
            await session.execute(delete(Follow).where(Follow.user_id == user_id, target))


_USER_ID = bindparam("user_id", type_=BigInteger())
# Read on every idea page and in every page's header: built once (issue 16: building a
# statement per request cost more CPU than running it).
_FOLLOWS_IDEA = select(Follow.id).where(
    Follow.user_id == _USER_ID, Follow.idea_id == bindparam("idea_id", type_=BigInteger())
)
_FOLLOWS_THEME = select(Follow.id).where(
    Follow.user_id == _USER_ID, Follow.theme_id == bindparam("theme_id", type_=BigInteger())
)
_UNREAD_COUNT = (
    select(func.count())
    .select_from(Notification)
    .where(Notification.user_id == _USER_ID, Notification.read_at.is_(None))
)


async def is_following(
    session: AsyncSession, user_id: int, *, idea_id: int | None = None, theme_id: int | None = None
) -> bool:
    if idea_id is not None:
        found = await session.scalar(_FOLLOWS_IDEA, {"user_id": user_id, "idea_id": idea_id})
    else:
        found = await session.scalar(_FOLLOWS_THEME, {"user_id": user_id, "theme_id": theme_id})
    return found is not None


async def idea_followers(session: AsyncSession, idea_id: int) -> set[int]:
    return set(await session.scalars(select(Follow.user_id).where(Follow.idea_id == idea_id)))


async def theme_followers(session: AsyncSession, theme_id: int) -> set[int]:
    return set(await session.scalars(select(Follow.user_id).where(Follow.theme_id == theme_id)))


async def carry_followers(session: AsyncSession, *, from_idea_id: int, to_idea_id: int) -> None:
    """A merge: who followed the merged idea follows where it went (caller's transaction)."""
    await session.execute(
        pg_insert(Follow)
        .from_select(
            ["user_id", "idea_id"],
            select(Follow.user_id, literal(to_idea_id, BigInteger)).where(
                Follow.idea_id == from_idea_id
            ),
        )
        .on_conflict_do_nothing(constraint="uq_follows_user_idea")
    )


# --- preferences, list, unread ---


async def save_frequencies(session: AsyncSession, user_id: int, chosen: dict[str, str]) -> None:
    """Also moves what still waits for its mail to the new choice (or drops it for "off")."""
    cleaned: dict[NotificationKind, Frequency] = {}
    for kind in NotificationKind:
        value = chosen.get(kind.value, DEFAULT_FREQUENCY[kind].value)
        if value not in {f.value for f in Frequency}:
            raise InvalidInput({kind.value: N_("Please choose a value from the list.")})
        cleaned[kind] = Frequency(value)
    async with transaction(session):
        for kind, frequency in cleaned.items():
            await session.execute(
                pg_insert(NotificationPreference)
                .values(user_id=user_id, kind=kind, frequency=frequency)
                .on_conflict_do_update(
                    index_elements=["user_id", "kind"], set_={"frequency": frequency}
                )
            )
            pending = (
                Notification.user_id == user_id,
                Notification.kind == kind,
                Notification.mail_state == MailState.PENDING,
            )
            if frequency == Frequency.OFF:
                await session.execute(
                    update(Notification).where(*pending).values(mail_state=MailState.NONE)
                )
            else:
                await session.execute(
                    update(Notification).where(*pending).values(mail_frequency=frequency)
                )


async def unsubscribe_all(session: AsyncSession, user_id: int) -> bool:
    """One-click unsubscribe: no more notification mails (in-app notifications stay)."""
    async with transaction(session):
        if await session.get(User, user_id) is None:
            return False
    await save_frequencies(
        session, user_id, {kind.value: Frequency.OFF for kind in NotificationKind}
    )
    return True


async def unread_count(session: AsyncSession, user_id: int) -> int:
    count = await session.scalar(_UNREAD_COUNT, {"user_id": user_id})
    return int(count or 0)


async def latest(session: AsyncSession, user_id: int, limit: int = 50) -> list[Notification]:
    return list(
        await session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


async def open_notification(
    session: AsyncSession, user_id: int, notification_id: int
) -> Notification:
    async with transaction(session):
        notification = await session.scalar(
            select(Notification).where(
                Notification.id == notification_id, Notification.user_id == user_id
            )
        )
        if notification is None:
            raise NotFoundError(
                N_("This notification does not exist."), code="notification_not_found"
            )
        if notification.read_at is None:
            notification.read_at = func.now()
    return notification


async def mark_all_read(session: AsyncSession, user_id: int) -> None:
    async with transaction(session):
        await session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=func.now())
        )


# --- what causes notifications (called inside the transaction of the event) --------------------


async def _actor_name(session: AsyncSession, actor_id: int | None) -> str:
    if actor_id is None:
        return ""
    return (await session.scalar(select(User.display_name).where(User.id == actor_id))) or ""


async def on_comment(session: AsyncSession, comment: Comment) -> None:
    """A new comment: its idea's followers hear of it; the parent's author of a reply."""
    idea = await session.get(Idea, comment.idea_id)
    if idea is None:
        return
    data = {
        "actor": await _actor_name(session, comment.author_id),
        "idea": idea.title,
        "excerpt": excerpt(comment.body),
    }
    common: dict[str, Any] = {
        "actor_id": comment.author_id,
        "idea_id": idea.id,
        "process_id": idea.process_id,
        "comment_id": comment.id,
        "data": data,
    }
    replied_to: set[int] = set()
    if comment.parent_id is not None:
        parent_author = await session.scalar(
            select(Comment.author_id).where(Comment.id == comment.parent_id)
        )
        if parent_author is not None:
            replied_to.add(parent_author)
            await notify(session, replied_to, kind=NotificationKind.REPLY, event="new", **common)
    followers = await idea_followers(session, idea.id) - replied_to
    await notify(session, followers, kind=NotificationKind.COMMENT, event="new", **common)


async def forget_comment(session: AsyncSession, comment_id: int) -> None:
    """Its author deleted the comment: the notifications quoting it go (caller's transaction)."""
    await session.execute(delete(Notification).where(Notification.comment_id == comment_id))


async def idea_people(session: AsyncSession, idea: Idea) -> set[int]:
    """The author and everybody who follows the idea."""
    people = await idea_followers(session, idea.id)
    if idea.author_id is not None:
        people.add(idea.author_id)
    return people


async def on_moderation(
    session: AsyncSession,
    idea: Idea,
    event: str,
    *,
    actor_id: int | None,
    note: str | None = None,
    target: Idea | None = None,
) -> None:
    """merged / unmerged / hidden / restored. Hiding concerns only the author (the reason is
    not for followers); a merge everybody who follows the idea."""
    if event in ("hidden", "restored"):
        people = {idea.author_id} if idea.author_id is not None else set()
    else:
        people = await idea_people(session, idea)
    await notify(
        session,
        people,
        kind=NotificationKind.MODERATION,
        event=event,
        actor_id=actor_id,
        idea_id=idea.id,
        process_id=idea.process_id,
        data={"idea": idea.title, "target": target.title if target else "", "note": note or ""},
    )


async def on_shortlist(
    session: AsyncSession,
    event: str,
    *,
    actor_id: int | None,
    idea: Idea | None = None,
    theme_id: int | None = None,
    theme_title: str = "",
    process_id: int,
    note: str | None = None,
) -> None:
    """nominated / accepted / declined: an idea's people, or a theme's followers and the
    people of its ideas."""
    if idea is not None:
        people = await idea_people(session, idea)
        await notify(
            session,
            people,
            kind=NotificationKind.SHORTLIST,
            event=event,
            actor_id=actor_id,
            idea_id=idea.id,
            process_id=process_id,
            data={"idea": idea.title, "note": note or ""},
        )
        return
    if theme_id is None:
        return
    people = await theme_followers(session, theme_id)
    people |= set(
        await session.scalars(
            select(Idea.author_id).where(Idea.theme_id == theme_id, Idea.author_id.is_not(None))
        )
    )
    people |= set(
        await session.scalars(
            select(Follow.user_id)
            .join(Idea, Idea.id == Follow.idea_id)
            .where(Idea.theme_id == theme_id)
        )
    )
    await notify(
        session,
        people,
        kind=NotificationKind.SHORTLIST,
        event=event,
        actor_id=actor_id,
        theme_id=theme_id,
        process_id=process_id,
        data={"idea": theme_title, "theme": theme_title, "note": note or ""},
    )


async def on_idea_into_theme(
    session: AsyncSession, idea: Idea, *, theme_id: int, theme_title: str, actor_id: int | None
) -> None:
    await notify(
        session,
        await theme_followers(session, theme_id),
        kind=NotificationKind.THEME,
        event="idea_added",
        actor_id=actor_id,
        idea_id=idea.id,
        theme_id=theme_id,
        process_id=idea.process_id,
        data={"idea": idea.title, "theme": theme_title},
    )


def participants_of(process_id: int) -> CompoundSelect[int]:
    """Who takes part in a process: wrote an idea, voted, commented, or joined a workshop."""
    from ideas_platform.events.models import Event, EventAttendee
    from ideas_platform.votes.models import Vote

    in_process = Idea.process_id == process_id
    return union(
        select(Idea.author_id.label("user_id")).where(in_process, Idea.author_id.is_not(None)),
        select(Vote.user_id).where(Vote.process_id == process_id),
        select(Comment.author_id)
        .join(Idea, Idea.id == Comment.idea_id)
        .where(in_process, Comment.author_id.is_not(None)),
        select(EventAttendee.user_id)
        .join(Event, Event.id == EventAttendee.event_id)
        .where(Event.process_id == process_id),
    )
