"""Rate limits (Litestar's RateLimitMiddleware) for the routes tagged `opt={"rate_limit": ...}`.

The counters live in the PostgreSQL store, so the limit holds across all worker processes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address

RATE_LIMIT_STORE = "rate_limit"


def _tagged(category: str) -> Callable[[Request[Any, Any, Any]], Awaitable[bool]]:
    # async on purpose: Litestar would run a sync check in a worker thread, on every request.
    async def check(request: Request[Any, Any, Any]) -> bool:
        handler = request.scope.get("route_handler")
        return (
            request.method == "POST"
            and handler is not None
            and handler.opt.get("rate_limit") == category
        )

    return check


def _identifier(category: str) -> Callable[[Request[Any, Any, Any]], str]:
    def identify(request: Request[Any, Any, Any]) -> str:
        return f"{category}:{get_remote_address(request)}"

    return identify


def rate_limit_config(category: str, per_minute: int) -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", per_minute),
        check_throttle_handler=_tagged(category),
        identifier_for_request=_identifier(category),
        store=RATE_LIMIT_STORE,
        exclude=["^/static/", "^/schema"],
    )
