"""Posting, replying to, editing and deleting comments: the htmx fragment of the comment list,
or POST-redirect-GET with a flash."""

from __future__ import annotations

from litestar import Controller, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import login_required
from ideas_platform.accounts.models import User
from ideas_platform.comments import service
from ideas_platform.core.choices import N_
from ideas_platform.core.errors import InvalidInput, NotFoundError
from ideas_platform.core.i18n import gettext
from ideas_platform.core.rate_limits import SUBMIT_RATE_LIMIT
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import form_data, is_htmx, optional_id, page, see_other_route
from ideas_platform.ideas import visibility
from ideas_platform.ideas.models import IdeaStatus

POSTED = N_("Your comment has been posted.")


async def _section(
    request: AppRequest,
    db_session: AsyncSession,
    viewer: User,
    idea_id: int,
    *,
    error: str | None = None,
    draft: str = "",
    error_for: str | None = None,
) -> Template:
    """The comment list as an htmx fragment; `error_for` names the form the error belongs to
    (None: the new comment, "reply-<id>" or "edit-<id>"). Only of an idea the viewer may read."""
    idea = await visibility.get_readable_idea(db_session, idea_id, viewer)
    return page(
        request,
        "comments/_section.html",
        idea_id=idea_id,
        comments_open=idea.status == IdeaStatus.PUBLISHED,
        comments=await service.list_comments(db_session, idea_id, viewer),
        comment_error=error,
        draft=draft if error else "",
        error_for=error_for if error else None,
    )


def _done(
    request: AppRequest, error: str | None, success: str, idea_id: int, fragment: str
) -> Redirect:
    """Back to the idea page, at `fragment`, with the outcome as a flash."""
    if error:
        flash(request, error, category="error")
    else:
        flash(request, gettext(success), category="success")
    return see_other_route(request, "idea", idea_id=idea_id, fragment=fragment)


class CommentController(Controller):
    include_in_schema = False

    @post(
        "/ideas/{idea_id:int}/comments",
        guards=[login_required],
        middleware=[SUBMIT_RATE_LIMIT],
        name="comment_create",
    )
    async def add(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, idea_id: int
    ) -> Template | Redirect:
        # Before the form is read: to whoever may not read it, a hidden idea does not exist.
        await visibility.get_readable_idea(db_session, idea_id, current_user)
        form = await form_data(request)
        raw_parent = form.get("parent_id", "").strip()
        parent_id = optional_id(raw_parent)
        if raw_parent and parent_id is None:
            raise NotFoundError(service.COMMENT_NOT_FOUND, code="comment_not_found")
        error = None
        try:
            await service.add_comment(
                db_session,
                idea_id=idea_id,
                author_id=current_user.id,
                body=form.get("body", ""),
                parent_id=parent_id,
            )
        except InvalidInput as exc:
            error = exc.translated()
        if is_htmx(request):
            return await _section(
                request,
                db_session,
                current_user,
                idea_id,
                error=error,
                draft=form.get("body", ""),
                error_for=f"reply-{parent_id}" if parent_id is not None else None,
            )
        success = N_("Your reply has been posted.") if parent_id else POSTED
        return _done(request, error, success, idea_id, "comments")

    @post(
        "/comments/{comment_id:int}/edit",
        guards=[login_required],
        middleware=[SUBMIT_RATE_LIMIT],
        name="comment_edit",
    )
    async def edit(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, comment_id: int
    ) -> Template | Redirect:
        idea_id = await service.readable_comment_idea(db_session, comment_id, current_user)
        form = await form_data(request)
        error = None
        try:
            await service.edit_comment(
                db_session,
                comment_id=comment_id,
                user_id=current_user.id,
                body=form.get("body", ""),
            )
        except InvalidInput as exc:
            # Nothing was written; the form comes back with the text and the message.
            error = exc.translated()
        if is_htmx(request):
            return await _section(
                request,
                db_session,
                current_user,
                idea_id,
                error=error,
                draft=form.get("body", ""),
                error_for=f"edit-{comment_id}",
            )
        return _done(
            request,
            error,
            N_("Your comment has been changed."),
            idea_id,
            f"comment-{comment_id}",
        )

    @post("/comments/{comment_id:int}/delete", guards=[login_required], name="comment_delete")
    async def delete(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, comment_id: int
    ) -> Template | Redirect:
        await service.readable_comment_idea(db_session, comment_id, current_user)
        idea_id = await service.delete_comment(
            db_session, comment_id=comment_id, user_id=current_user.id
        )
        if is_htmx(request):
            return await _section(request, db_session, current_user, idea_id)
        return _done(request, None, N_("Your comment has been deleted."), idea_id, "comments")
