"""Comments: a flat list per idea, newest last; `ideas.comment_count` moves with each row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ideas_platform.accounts.models import User
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import N_, Sector
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError, InvalidInput, NotFoundError
from ideas_platform.core.markdown import render_markdown
from ideas_platform.core.validation import clean_text, length_problem
from ideas_platform.ideas.models import Idea, IdeaStatus

NOT_COMMENTABLE = N_("Comments are only possible on published ideas.")


@dataclass
class CommentView:
    id: int
    body_html: str
    created_at: datetime
    author_name: str | None
    author_sector: Sector | None
    author_id: int | None = None
    hidden: bool = False
    moderation_note: str | None = None
    moved_from_id: int | None = None
    moved_from_title: str | None = None


async def add_comment(session: AsyncSession, *, idea_id: int, author_id: int, body: str) -> Comment:
    body = clean_text(body, max_length=5000)
    if problem := length_problem(body, minimum=2, maximum=5000):
        raise InvalidInput({"body": problem if body else N_("Please write a comment first.")})
    async with transaction(session):
        # Counting in the same transaction as the insert keeps comment_count exact.
        status = await session.scalar(
            update(Idea)
            .where(Idea.id == idea_id)
            .values(comment_count=Idea.comment_count + 1)
            .returning(Idea.status)
        )
        if status is None:
            raise NotFoundError(N_("This idea does not exist."))
        if status != IdeaStatus.PUBLISHED:
            raise DomainError(NOT_COMMENTABLE)
        comment = Comment(
            idea_id=idea_id, author_id=author_id, body=body, body_html=render_markdown(body)
        )
        session.add(comment)
        await session.flush()
    return comment


async def recount(session: AsyncSession, idea: Idea) -> None:
    """Set the idea's comment_count from its visible comments (caller holds the idea's lock)."""
    visible = await session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.idea_id == idea.id, Comment.hidden.is_(False))
    )
    idea.comment_count = int(visible or 0)


async def list_comments(
    session: AsyncSession, idea_id: int, viewer: User | None = None
) -> list[CommentView]:
    """Oldest first. Hidden comments only for moderators and their author (who sees why)."""
    origin = aliased(Idea)
    stmt = (
        select(
            Comment.id,
            Comment.body_html,
            Comment.created_at,
            User.display_name,
            User.sector,
            Comment.author_id,
            Comment.hidden,
            Comment.moderation_note,
            Comment.moved_from_idea_id,
            origin.title,
        )
        .outerjoin(User, User.id == Comment.author_id)
        .outerjoin(origin, origin.id == Comment.moved_from_idea_id)
        .where(Comment.idea_id == idea_id)
        .order_by(Comment.created_at, Comment.id)
    )
    if viewer is None:
        stmt = stmt.where(Comment.hidden.is_(False))
    elif not viewer.can_moderate:
        stmt = stmt.where(or_(Comment.hidden.is_(False), Comment.author_id == viewer.id))
    return [CommentView(*tuple(row)) for row in await session.execute(stmt)]
