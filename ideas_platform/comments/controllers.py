"""Posting a comment: the htmx fragment of the comment list, or POST-redirect-GET."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.plugins.flash import flash
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import load_user, login_required
from ideas_platform.comments import service
from ideas_platform.core.errors import InvalidInput
from ideas_platform.core.i18n import gettext
from ideas_platform.core.rate_limits import SUBMIT_RATE_LIMIT
from ideas_platform.core.web import form_data, is_htmx, page, see_other


class CommentController(Controller):
    include_in_schema = False

    @post("/ideas/{idea_id:int}/comments", guards=[login_required], middleware=[SUBMIT_RATE_LIMIT])
    async def add(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, idea_id: int
    ) -> Any:
        form = await form_data(request)
        error = None
        try:
            await service.add_comment(
                db_session,
                idea_id=idea_id,
                author_id=request.user.user_id,
                body=form.get("body", ""),
            )
        except InvalidInput as exc:
            error = exc.translated()
        if is_htmx(request):
            return page(
                request,
                "comments/_section.html",
                idea_id=idea_id,
                comments=await service.list_comments(db_session, idea_id, await load_user(request)),
                comment_error=error,
                draft=form.get("body", "") if error else "",
            )
        if error:
            flash(request, error, category="error")
        else:
            flash(request, gettext("Your comment has been posted."), category="success")
        return see_other(f"/ideas/{idea_id}#comments")
