"""Comments on an idea, oldest first, with one level of replies; `ideas.comment_count` counts
the visible ones (neither hidden by the moderation nor deleted by their author).

Writers lock the idea row first and the comment rows after it, as merge and moderation do, so
that counting, replying and deleting never slip past each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, bindparam, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ideas_platform.accounts.models import User
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import N_, Sector
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError, InvalidInput, NotFoundError, PermissionError_
from ideas_platform.core.markdown import render_markdown
from ideas_platform.core.validation import clean_text, length_problem
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.ideas.service import lock_idea
from ideas_platform.ideas.visibility import readable_condition
from ideas_platform.notifications import service as notifications

# The author may edit or delete a comment this long after writing it (the database's clock).
EDIT_WINDOW = timedelta(minutes=15)

NOT_COMMENTABLE = N_("Comments are only possible on published ideas.")
COMMENT_NOT_FOUND = N_("This comment does not exist.")
REPLY_ELSEWHERE = N_("You can only reply to a comment on the same idea.")
REPLY_NOT_POSSIBLE = N_("This comment can no longer be answered.")
NOT_CHANGEABLE = N_("You can only change your own comment within 15 minutes of writing it.")
HIDDEN_NOT_CHANGEABLE = N_("A comment hidden by the moderation cannot be changed.")
CHANGED_MEANWHILE = N_("The comment was changed in the meantime. Please try again.")


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
    parent_id: int | None = None
    edited_at: datetime | None = None
    # Deleted by its author but kept for its replies: shown as "Comment deleted".
    deleted: bool = False
    # Hidden by the moderation and not for this viewer's eyes, kept (without its content) only
    # because visible replies hang below it.
    withheld: bool = False
    # The viewer wrote it and may still edit or delete it (until `editable_until`).
    can_change: bool = False
    editable_until: datetime | None = None
    # The Markdown source, for the author's edit form (only while `can_change`).
    body_text: str = ""
    replies: list[CommentView] = field(default_factory=list)

    @property
    def shown_count(self) -> int:
        """The comments of this thread that the list shows with their text."""
        own = 0 if self.deleted or self.withheld else 1
        return own + sum(reply.shown_count for reply in self.replies)


def _clean_body(body: str) -> str:
    body = clean_text(body, max_length=5000)
    if problem := length_problem(body, minimum=2, maximum=5000):
        raise InvalidInput({"body": problem if body else N_("Please write a comment first.")})
    return body


async def _fresh_comment(
    session: AsyncSession, comment_id: int, *, lock: bool = False
) -> Comment | None:
    stmt = select(Comment).where(Comment.id == comment_id)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def _thread_of(session: AsyncSession, idea_id: int, parent_id: int) -> int:
    """The top-level comment a reply to `parent_id` attaches to (one level of replies)."""
    parent = await _fresh_comment(session, parent_id)
    if parent is None:
        raise NotFoundError(COMMENT_NOT_FOUND, code="comment_not_found")
    if parent.idea_id != idea_id:
        raise DomainError(REPLY_ELSEWHERE, code="reply_elsewhere")
    if parent.hidden or parent.deleted_at is not None:
        raise DomainError(REPLY_NOT_POSSIBLE, code="reply_not_possible")
    if parent.parent_id is None:
        return parent.id
    # A reply to a reply joins the same thread; its top-level comment may be deleted (the thread
    # goes on) but not hidden, nor elsewhere (after an unmerge).
    root = await _fresh_comment(session, parent.parent_id)
    if root is None or root.idea_id != idea_id or root.hidden:
        raise DomainError(REPLY_NOT_POSSIBLE, code="reply_not_possible")
    return root.id


async def add_comment(
    session: AsyncSession,
    *,
    idea_id: int,
    author_id: int,
    body: str,
    parent_id: int | None = None,
) -> Comment:
    """A comment, or (with `parent_id`) a reply; replies count like comments."""
    body = _clean_body(body)
    async with transaction(session):
        # Counting in the same transaction as the insert keeps comment_count exact; the update
        # also locks the idea row, before any comment row is looked at.
        status = await session.scalar(
            update(Idea)
            .where(Idea.id == idea_id)
            .values(comment_count=Idea.comment_count + 1)
            .returning(Idea.status)
        )
        if status is None:
            raise NotFoundError(N_("This idea does not exist."), code="idea_not_found")
        if status != IdeaStatus.PUBLISHED:
            raise DomainError(NOT_COMMENTABLE, code="idea_not_commentable")
        thread_id = await _thread_of(session, idea_id, parent_id) if parent_id is not None else None
        comment = Comment(
            idea_id=idea_id,
            author_id=author_id,
            parent_id=thread_id,
            body=body,
            body_html=render_markdown(body),
        )
        session.add(comment)
        await session.flush()
        # The idea's followers (and the parent's author, for a reply) hear of it.
        await notifications.on_comment(session, comment)
    return comment


async def _lock_own_changeable(
    session: AsyncSession, comment_id: int, user_id: int
) -> tuple[Comment, Idea, datetime]:
    """The viewer's own comment, still within EDIT_WINDOW, and its idea, both locked (the idea
    first), and the database's now(). Inside the caller's transaction."""
    for _attempt in range(3):
        idea_id = await session.scalar(select(Comment.idea_id).where(Comment.id == comment_id))
        if idea_id is None:
            raise NotFoundError(COMMENT_NOT_FOUND, code="comment_not_found")
        idea = await lock_idea(session, idea_id)
        row = (
            await session.execute(
                select(Comment, Comment.created_at > func.now() - EDIT_WINDOW, func.now())
                .where(Comment.id == comment_id)
                .with_for_update(of=Comment)
                .execution_options(populate_existing=True)
            )
        ).first()
        if row is None or row[0].deleted_at is not None:
            raise NotFoundError(COMMENT_NOT_FOUND, code="comment_not_found")
        comment, in_window, now = row
        if comment.idea_id != idea.id:
            continue  # a merge moved it between the two reads: lock its new idea
        if comment.author_id != user_id or not in_window:
            raise PermissionError_(NOT_CHANGEABLE, code="comment_not_changeable")
        if comment.hidden:
            raise DomainError(HIDDEN_NOT_CHANGEABLE, code="comment_hidden")
        if idea.status != IdeaStatus.PUBLISHED:
            raise DomainError(NOT_COMMENTABLE, code="idea_not_commentable")
        return comment, idea, now
    raise DomainError(CHANGED_MEANWHILE, code="changed_meanwhile")


async def edit_comment(
    session: AsyncSession, *, comment_id: int, user_id: int, body: str
) -> Comment:
    """The author changes the text within EDIT_WINDOW; the comment is marked as edited."""
    body = _clean_body(body)
    async with transaction(session):
        comment, _idea, now = await _lock_own_changeable(session, comment_id, user_id)
        if body != comment.body:
            comment.body, comment.body_html, comment.edited_at = body, render_markdown(body), now
    return comment


async def delete_comment(session: AsyncSession, *, comment_id: int, user_id: int) -> int:
    """The author deletes within EDIT_WINDOW. A comment with replies stays, emptied, as
    "deleted" so that the replies keep their place; otherwise the row goes. Answers the id of
    the idea it was on."""
    async with transaction(session):
        comment, idea, now = await _lock_own_changeable(session, comment_id, user_id)
        # What was said about it under the bell (and in mails not yet sent) goes with it.
        await notifications.forget_comment(session, comment.id)
        has_replies = await session.scalar(select(exists().where(Comment.parent_id == comment.id)))
        if has_replies:
            comment.body = comment.body_html = ""
            comment.deleted_at = now
        else:
            await session.delete(comment)
            if comment.parent_id is not None:
                # A deleted top-level comment whose last reply goes now goes too.
                other = aliased(Comment)
                await session.flush()
                await session.execute(
                    delete(Comment).where(
                        Comment.id == comment.parent_id,
                        Comment.deleted_at.is_not(None),
                        ~exists().where(other.parent_id == Comment.id),
                    )
                )
        await session.flush()
        await recount(session, idea)
    return idea.id


async def readable_comment_idea(session: AsyncSession, comment_id: int, viewer: User) -> int:
    """The idea of the comment if `viewer` may read that idea; else the comment is missing."""
    idea_id = await session.scalar(
        select(Comment.idea_id)
        .join(Idea, Idea.id == Comment.idea_id)
        .where(Comment.id == comment_id, readable_condition(viewer))
    )
    if idea_id is None:
        raise NotFoundError(COMMENT_NOT_FOUND, code="comment_not_found")
    return idea_id


async def recount(session: AsyncSession, idea: Idea) -> None:
    """Set the idea's comment_count from its visible comments (caller holds the idea's lock)."""
    visible = await session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.idea_id == idea.id, Comment.hidden.is_(False), Comment.deleted_at.is_(None))
    )
    idea.comment_count = int(visible or 0)


_ORIGIN = aliased(Idea)
# The idea page's comments, with their authors and the idea they were moved from: built once
# (issue 16: building the statement per request cost more CPU than PostgreSQL spends on it).
_COMMENTS_OF_IDEA = (
    select(Comment, User.display_name, User.sector, _ORIGIN.title)
    .outerjoin(User, User.id == Comment.author_id)
    .outerjoin(_ORIGIN, _ORIGIN.id == Comment.moved_from_idea_id)
    .where(Comment.idea_id == bindparam("idea_id", type_=BigInteger()))
    .order_by(Comment.created_at, Comment.id)
)


async def list_comments(
    session: AsyncSession, idea_id: int, viewer: User | None = None
) -> list[CommentView]:
    """Top-level comments oldest first, each with its replies (oldest first) in `replies`.

    Hidden comments only for moderators and their author (who sees why). A hidden or deleted
    top-level comment that has replies the viewer may see stays as an empty placeholder.
    """
    now = datetime.now(UTC)
    viewer_id = viewer.id if viewer is not None else None
    moderator = viewer is not None and viewer.can_moderate
    views: list[CommentView] = []
    rows = await session.execute(_COMMENTS_OF_IDEA, {"idea_id": idea_id})
    for comment, name, sector, origin_title in rows:
        deleted = comment.deleted_at is not None
        withheld = comment.hidden and not moderator and comment.author_id != viewer_id
        empty = deleted or withheld  # a placeholder: nothing of its content or author
        editable_until = comment.created_at + EDIT_WINDOW
        can_change = (
            viewer_id is not None
            and comment.author_id == viewer_id
            and not comment.hidden
            and not deleted
            and now < editable_until
        )
        views.append(
            CommentView(
                id=comment.id,
                body_html="" if empty else comment.body_html,
                created_at=comment.created_at,
                author_name=None if empty else name,
                author_sector=None if empty else sector,
                author_id=None if empty else comment.author_id,
                hidden=comment.hidden,
                moderation_note=None if withheld else comment.moderation_note,
                moved_from_id=comment.moved_from_idea_id,
                moved_from_title=origin_title,
                parent_id=comment.parent_id,
                edited_at=None if empty else comment.edited_at,
                deleted=deleted,
                withheld=withheld,
                can_change=can_change,
                editable_until=editable_until,
                body_text=comment.body if can_change else "",
            )
        )
    by_id = {view.id: view for view in views}
    threads: list[CommentView] = []
    for view in views:
        parent = by_id.get(view.parent_id) if view.parent_id is not None else None
        if parent is None:
            # top-level (or a reply whose comment an unmerge took to the other idea)
            threads.append(view)
        elif not view.withheld:
            parent.replies.append(view)
    # Placeholders only where they carry replies.
    return [view for view in threads if view.replies or not (view.deleted or view.withheld)]


def flatten(threads: list[CommentView]) -> Iterator[CommentView]:
    """The comments with their text, thread by thread (for flat lists such as the API)."""
    for view in threads:
        if not (view.deleted or view.withheld):
            yield view
        yield from flatten(view.replies)
