"""Privacy (GDPR): a person downloads all their data and deletes their account.

Export: profile, ideas (own and co-authored), comments, votes, reports filed, events joined and
the metadata of API tokens. Never a password hash or a token hash.

Deletion, in one transaction:
* the user row is locked first (FOR UPDATE): no new vote, co-authorship or token of theirs can
  appear meanwhile;
* the ideas they voted for, authored or co-authored are locked FOR NO KEY UPDATE in id order
  (`ideas.service.lock_ideas`, as votes and merges do), their votes deleted and every
  `vote_count` lowered in the same transaction, so `vote_count == count(votes)` holds also while
  others vote on the same ideas;
* then the user row is deleted; the foreign keys do the rest: ideas and comments stay with
  author NULL ("former participant"; the idea keeps `author_sector`), reports and moderation
  decisions stay without the person, co-author links, event attendances and API tokens go, and
  audit entries keep the action with actor NULL (the append-only trigger allows exactly that);
* an audit entry "user.delete" without personal data (no name, no email).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts import lockout
from ideas_platform.accounts.models import ApiToken, User
from ideas_platform.audit import service as audit
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import N_
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError, NotFoundError
from ideas_platform.core.passwords import verify_password
from ideas_platform.events.models import Event, EventAttendee
from ideas_platform.ideas.models import Idea
from ideas_platform.ideas.service import lock_ideas
from ideas_platform.moderation.models import IdeaCoauthor, Report
from ideas_platform.votes.models import Vote

WRONG_PASSWORD = N_("The password is wrong. Your account was not deleted.")
WRONG_NAME = N_("Please type your display name exactly as shown. Your account was not deleted.")
NO_SUCH_USER = N_("This user does not exist.")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_data(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data (no secrets)."""
    async with transaction(session):  # one snapshot (REPEATABLE READ is not needed: one user)
        user = await session.get(User, user_id, populate_existing=True)
        if user is None:
            raise NotFoundError(NO_SUCH_USER, code="user_not_found")
        ideas = list(
            await session.scalars(select(Idea).where(Idea.author_id == user_id).order_by(Idea.id))
        )
        coauthored = list(
            await session.scalars(
                select(IdeaCoauthor.idea_id)
                .where(IdeaCoauthor.user_id == user_id)
                .order_by(IdeaCoauthor.idea_id)
            )
        )
        comments = list(
            await session.scalars(
                select(Comment).where(Comment.author_id == user_id).order_by(Comment.id)
            )
        )
        votes = list(
            await session.scalars(
                select(Vote).where(Vote.user_id == user_id).order_by(Vote.created_at, Vote.idea_id)
            )
        )
        reports = list(
            await session.scalars(
                select(Report).where(Report.reporter_id == user_id).order_by(Report.id)
            )
        )
        events = list(
            await session.execute(
                select(Event.id, Event.title, Event.starts_at, EventAttendee.joined_at)
                .join(EventAttendee, EventAttendee.event_id == Event.id)
                .where(EventAttendee.user_id == user_id)
                .order_by(EventAttendee.joined_at)
            )
        )
        tokens = list(
            await session.scalars(
                select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
            )
        )
    return {
        "profile": {
            "id": user.id,
            "email": None if user.is_guest else user.email,
            "display_name": user.display_name,
            "sector": user.sector.value,
            "organisation": user.organisation,
            "region": user.region.value,
            "role": user.role.value,
            "locale": user.locale,
            "name_in_exports": user.name_in_exports,
            "guest_of_event_id": user.guest_event_id,
            "created_at": _iso(user.created_at),
        },
        "ideas": [
            {
                "id": idea.id,
                "process_id": idea.process_id,
                "event_id": idea.event_id,
                "title": idea.title,
                "body": idea.body,
                "region": idea.region.value,
                "status": idea.status.value,
                "vote_count": idea.vote_count,
                "comment_count": idea.comment_count,
                "created_at": _iso(idea.created_at),
                "updated_at": _iso(idea.updated_at),
            }
            for idea in ideas
        ],
        "coauthored_idea_ids": coauthored,
        "comments": [
            {
                "id": comment.id,
                "idea_id": comment.idea_id,
                "body": comment.body,
                "hidden": comment.hidden,
                "created_at": _iso(comment.created_at),
            }
            for comment in comments
        ],
        "votes": [
            {
                "idea_id": vote.idea_id,
                "process_id": vote.process_id,
                "created_at": _iso(vote.created_at),
            }
            for vote in votes
        ],
        "reports": [
            {
                "id": report.id,
                "idea_id": report.idea_id,
                "comment_id": report.comment_id,
                "reason": report.reason.value,
                "details": report.details,
                "status": report.status.value,
                "created_at": _iso(report.created_at),
            }
            for report in reports
        ],
        "events_joined": [
            {
                "event_id": row.id,
                "title": row.title,
                "starts_at": _iso(row.starts_at),
                "joined_at": _iso(row.joined_at),
            }
            for row in events
        ],
        "api_tokens": [
            {
                "id": token.id,
                "name": token.name,
                "created_at": _iso(token.created_at),
                "last_used_at": _iso(token.last_used_at),
            }
            for token in tokens
        ],
    }


async def delete_account(
    session: AsyncSession, user_id: int, *, password: str = "", display_name: str = ""
) -> None:
    """Deletes the account after confirmation: the password, or for a guest (no password) the
    display name typed again. DomainError (nothing changed) if the confirmation is wrong."""
    user = await session.scalar(select(User).where(User.id == user_id))
    if user is None:
        raise NotFoundError(NO_SUCH_USER, code="user_not_found")
    if user.is_guest:
        if (display_name or "").strip() != user.display_name:
            raise DomainError(WRONG_NAME, field="display_name", code="wrong_name")
    elif not verify_password(user.password_hash, password or ""):
        raise DomainError(WRONG_PASSWORD, field="password", code="wrong_password")
    email = user.email
    async with transaction(session):
        # The person first: while it is locked no vote, link or token of theirs can be added.
        locked = await session.scalar(select(User.id).where(User.id == user_id).with_for_update())
        if locked is None:
            raise NotFoundError(NO_SUCH_USER, code="user_not_found")
        voted = select(Vote.idea_id).where(Vote.user_id == user_id)
        touched = set(await session.scalars(voted))
        touched |= set(await session.scalars(select(Idea.id).where(Idea.author_id == user_id)))
        touched |= set(
            await session.scalars(
                select(IdeaCoauthor.idea_id).where(IdeaCoauthor.user_id == user_id)
            )
        )
        if touched:
            await lock_ideas(session, *sorted(touched))
        removed = list(
            await session.scalars(
                delete(Vote).where(Vote.user_id == user_id).returning(Vote.idea_id)
            )
        )
        if removed:
            await session.execute(
                update(Idea)
                .where(Idea.id.in_(removed))
                .values(vote_count=Idea.vote_count - 1)
                .execution_options(synchronize_session=False)
            )
        # Explicit, although the foreign keys would do it: the ideas and comments stay.
        await session.execute(
            update(Idea)
            .where(Idea.author_id == user_id)
            .values(author_id=None)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(Comment)
            .where(Comment.author_id == user_id)
            .values(author_id=None)
            .execution_options(synchronize_session=False)
        )
        # Co-author links, attendances, tokens: ON DELETE CASCADE; reports, merges, audit
        # actors: ON DELETE SET NULL.
        await session.execute(delete(User).where(User.id == user_id))
        await lockout.forget_account(session, email)
        audit.record(
            session,
            actor_id=None,
            action="user.delete",
            target_type="user",
            target_id=user_id,
            after={"votes_removed": len(removed)},
        )
    session.expunge_all()
