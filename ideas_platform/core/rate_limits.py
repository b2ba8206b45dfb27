"""Rate limits: Litestar's RateLimitMiddleware, attached only to the routes that need it.

`middleware=[AUTH_RATE_LIMIT]` on a route handler; the limit per minute comes from the
settings of the running app (AUTH_RATE_LIMIT_PER_MINUTE, SUBMIT_RATE_LIMIT_PER_MINUTE). The
routes of one category share a counter per client address: login and registration ("auth"),
new ideas and comments ("submit"); joining an event counts per event code ("join"). The
counters live in the PostgreSQL store, so a limit holds across all worker processes. Routes
without a limit (voting, the hottest path) never pass through this middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from litestar import Request
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

RATE_LIMIT_STORE = "rate_limit"


class SettingsRateLimitMiddleware(RateLimitMiddleware):
    def __init__(self, app: ASGIApp, config: RateLimitConfig, setting: str) -> None:
        super().__init__(app, config)
        self.setting = setting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        self.max_requests = getattr(scope["litestar_app"].state.settings, self.setting)
        await super().__call__(scope, receive, send)


def _identifier(category: str, per_path: bool) -> Callable[[Request[Any, Any, Any]], str]:
    def identify(request: Request[Any, Any, Any]) -> str:
        who = request.url.path if per_path else get_remote_address(request)
        return f"{category}:{who}"

    return identify


def rate_limited(category: str, *, per_path: bool = False) -> DefineMiddleware:
    """`per_path`: one counter per URL (e.g. per event code) instead of per client address."""
    config = RateLimitConfig(
        rate_limit=("minute", 1),  # replaced by the app's setting on each request
        identifier_for_request=_identifier(category, per_path),
        store=RATE_LIMIT_STORE,
    )
    return DefineMiddleware(
        SettingsRateLimitMiddleware, config=config, setting=f"{category}_rate_limit_per_minute"
    )


AUTH_RATE_LIMIT = rate_limited("auth")
SUBMIT_RATE_LIMIT = rate_limited("submit")
# Joining an event counts per event, not per address: a whole room shares the venue's network.
JOIN_RATE_LIMIT = rate_limited("join", per_path=True)
