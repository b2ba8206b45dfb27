"""Rate limits.

Submitting ideas and comments ("submit", per client address) and joining an event ("join", per
event code) use Litestar's RateLimitMiddleware: `middleware=[SUBMIT_RATE_LIMIT]` on a route
handler, the limit per minute from the running app's settings (SUBMIT_RATE_LIMIT_PER_MINUTE,
JOIN_RATE_LIMIT_PER_MINUTE). Routes without a limit (voting, the hottest path) never pass
through it.

Login, registration and the other account forms call `limit_attempt` once they know whose
account the attempt is for: AUTH_RATE_LIMIT_PER_MINUTE attempts per account (the email as
typed, a reset link, a logged-in user) and ADDRESS_ALLOWANCE times as many per client address,
because a whole workshop room logs in through the venue's one address. Over either limit the
form comes back with a translated "try again in N seconds" (TooManyAttempts, HTTP 429,
Retry-After). All counters live in PostgreSQL, so a limit holds across all worker processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address
from sqlalchemy import text

from ideas_platform.core.errors import DomainError
from ideas_platform.core.i18n import ngettext
from ideas_platform.core.requests import AppRequest

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

    from ideas_platform.core.kv_store import PostgresStore

RATE_LIMIT_STORE = "rate_limit"
# Attempts per minute from one client address = ADDRESS_ALLOWANCE x the limit per account:
# 5 per account and 300 per address with the defaults.
ADDRESS_ALLOWANCE = 60
WINDOW_SECONDS = 60


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


def _identifier(category: str, per_path: bool) -> Callable[[AppRequest], str]:
    def identify(request: AppRequest) -> str:
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


SUBMIT_RATE_LIMIT = rate_limited("submit")
# Joining an event counts per event, not per address: a whole room shares the venue's network.
JOIN_RATE_LIMIT = rate_limited("join", per_path=True)


class TooManyAttempts(DomainError):
    """Over an account's or an address's limit of attempts: try again in `retry_after` s."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, seconds: float) -> None:
        self.retry_after = max(1, int(seconds + 0.999))
        super().__init__("Too many attempts.")

    def translated(self) -> str:
        return ngettext(
            "Too many attempts. Please try again in %(num)s second.",
            "Too many attempts. Please try again in %(num)s seconds.",
            self.retry_after,
        )


# One statement, so that parallel attempts all count: a fixed window of WINDOW_SECONDS that
# starts with the first attempt; answers the attempts in it and the seconds it has left.
_COUNT = text(
    "INSERT INTO kv_store AS kv (key, value, expires_at) "
    "VALUES (:k, convert_to('1', 'UTF8'), now() + make_interval(secs => :w)) "
    "ON CONFLICT (key) DO UPDATE SET "
    "value = CASE WHEN kv.expires_at > now() "
    "THEN convert_to((convert_from(kv.value, 'UTF8')::int + 1)::text, 'UTF8') "
    "ELSE convert_to('1', 'UTF8') END, "
    "expires_at = CASE WHEN kv.expires_at > now() THEN kv.expires_at "
    "ELSE now() + make_interval(secs => :w) END "
    "RETURNING convert_from(kv.value, 'UTF8')::int, "
    "extract(epoch FROM kv.expires_at - now())::float8"
)


async def _count(store: PostgresStore, key: str) -> tuple[int, float]:
    async with store.engine.begin() as conn:
        hits, left = (
            await conn.execute(_COUNT, {"k": f"{store.namespace}:{key}", "w": WINDOW_SECONDS})
        ).one()
    return int(hits), float(left)


def _account_key(account: str) -> str:
    # Hashed: the store keeps no email addresses or reset links in clear.
    return hashlib.sha256(account.strip().lower().encode()).hexdigest()


async def limit_attempt(request: AppRequest, account: str) -> None:
    """Counts one attempt at an account form; raises TooManyAttempts over a limit.

    `account`: whose account the attempt is for (the email typed, "user:<id>", a reset link)."""
    store = cast("PostgresStore", request.app.stores.get(RATE_LIMIT_STORE))
    per_account = request.app.state.settings.auth_rate_limit_per_minute
    hits, left = await _count(store, f"auth-address:{get_remote_address(request)}")
    if hits > per_account * ADDRESS_ALLOWANCE:
        raise TooManyAttempts(left)
    hits, left = await _count(store, f"auth-account:{_account_key(account)}")
    if hits > per_account:
        raise TooManyAttempts(left)


def with_retry_after(response: Any, exc: DomainError) -> Any:
    """Adds Retry-After to the page that answers a refused attempt (429)."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response
