"""Vote and withdraw buttons: an htmx fragment in place, or POST-redirect-GET without JS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from litestar import Controller, MediaType, Response, post
from litestar.plugins.flash import flash
from litestar.response import Redirect
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from ideas_platform.core.errors import DomainError, NotFoundError
from ideas_platform.core.requests import AppRequest, Principal, principal_of
from ideas_platform.core.web import is_htmx, safe_next, see_other
from ideas_platform.votes import service
from ideas_platform.votes.service import VoteState, announce_vote
from ideas_platform.votes.widget import csrf_input, vote_widget_html


async def _respond(
    request: AppRequest,
    idea_id: int,
    state: VoteState | None,
    error: DomainError | None,
) -> Response[bytes] | Redirect:
    if is_htmx(request):
        # The widget straight into the response: what `partials/vote_button.html` shows, without
        # the template machinery (it was ~110 of the ~230 us of CPU a vote costs in-process
        # without the database, issue 16, bench/README.md).
        widget = vote_widget_html(
            state,
            idea_id,
            error.translated() if error else None,
            vote_open=True,
            signed_in=request.user is not None,
            csrf=csrf_input(value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")),
        )
        return Response(widget.encode(), status_code=200, media_type=MediaType.HTML)
    if error is not None:
        flash(request, error.translated(), category="error")
    form = await request.form()
    return see_other(safe_next(str(form.get("next") or ""), f"/ideas/{idea_id}"))


class VoteController(Controller):
    include_in_schema = False

    # No guard here on purpose: the vote statement itself checks the session against the
    # database, so the hot path is one round trip.
    # The pool and the channels come from the app, not as injected dependencies: two
    # dependencies are resolved in an anyio task group (two tasks per request), which cost
    # about a fifth of the framework's time on this path (issue 16, bench/README.md).
    @post("/ideas/{idea_id:int}/vote")
    async def vote(self, request: AppRequest, idea_id: int) -> Response[bytes] | Redirect:
        return await _act(request, idea_id, service.cast_vote)

    @post("/ideas/{idea_id:int}/unvote")
    async def unvote(self, request: AppRequest, idea_id: int) -> Response[bytes] | Redirect:
        return await _act(request, idea_id, service.withdraw_vote)


async def _act(
    request: AppRequest,
    idea_id: int,
    action: Callable[[asyncpg.Pool, Principal, int], Awaitable[VoteState]],
) -> Response[bytes] | Redirect:
    pool: asyncpg.Pool = request.app.state.driver_pool
    principal = principal_of(request)
    try:
        state = await action(pool, principal, idea_id)
    except NotFoundError as exc:
        # Missing, or hidden from this voter (the service decides): no count to show.
        return await _respond(request, idea_id, None, exc)
    except DomainError as exc:
        # e.g. a double click: answer the true state of the button, with the reason
        current = await service.current_state(pool, principal.user_id, idea_id)
        return await _respond(request, idea_id, current, exc)
    announce_vote(request.app, state)
    return await _respond(request, idea_id, state, None)
