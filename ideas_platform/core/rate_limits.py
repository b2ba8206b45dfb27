"""Rate limits (Litestar's RateLimitMiddleware) for the routes tagged `opt={"rate_limit": ...}`.

The counters live in the PostgreSQL store, so the limit holds across all worker processes.
Untagged routes (e.g. voting, the hottest path) pass straight through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address

if TYPE_CHECKING:
    from litestar.types import Receive, Scope, Send

RATE_LIMIT_STORE = "rate_limit"


class TaggedRateLimitMiddleware(RateLimitMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        config: TaggedRateLimitConfig = self.config  # type: ignore[assignment]
        if (
            scope.get("method") != "POST"
            or handler is None
            or handler.opt.get("rate_limit") != config.category
        ):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


@dataclass
class TaggedRateLimitConfig(RateLimitConfig):
    category: str = ""


def _identifier(category: str) -> Callable[[Request[Any, Any, Any]], str]:
    def identify(request: Request[Any, Any, Any]) -> str:
        return f"{category}:{get_remote_address(request)}"

    return identify


def rate_limit_config(category: str, per_minute: int) -> RateLimitConfig:
    return TaggedRateLimitConfig(
        rate_limit=("minute", per_minute),
        category=category,
        identifier_for_request=_identifier(category),
        store=RATE_LIMIT_STORE,
        middleware_class=TaggedRateLimitMiddleware,
    )
