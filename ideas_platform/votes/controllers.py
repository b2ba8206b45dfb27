"""Vote and withdraw buttons: an htmx fragment in place, or POST-redirect-GET without JS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from litestar import Controller, post
from litestar.channels import ChannelsPlugin
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from ideas_platform.core.errors import DomainError, NotFoundError
from ideas_platform.core.requests import AppRequest, Principal, principal_of
from ideas_platform.core.web import is_htmx, page, safe_next, see_other
from ideas_platform.votes import service
from ideas_platform.votes.service import VoteState, announce_vote


async def _respond(
    request: AppRequest,
    idea_id: int,
    state: VoteState | None,
    error: DomainError | None,
) -> Template | Redirect:
    if is_htmx(request):
        return page(
            request,
            "partials/vote_button.html",
            vote=state,
            idea_id=idea_id,
            user=request.user,
            error=error.translated() if error else None,
            vote_open=True,
        )
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
    async def vote(self, request: AppRequest, idea_id: int) -> Any:
        return await _act(request, idea_id, service.cast_vote)

    @post("/ideas/{idea_id:int}/unvote")
    async def unvote(self, request: AppRequest, idea_id: int) -> Any:
        return await _act(request, idea_id, service.withdraw_vote)


async def _act(
    request: AppRequest,
    idea_id: int,
    action: Callable[[asyncpg.Pool, Principal, int], Awaitable[VoteState]],
) -> Template | Redirect:
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
    announce_vote(request.app.plugins.get(ChannelsPlugin), state)
    return await _respond(request, idea_id, state, None)
