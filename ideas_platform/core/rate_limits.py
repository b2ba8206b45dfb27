"""Rate limits.

Submitting ideas and comments ("submit", per client address) and joining an event ("join", per
event: the key function names it by its normalised code, see events/controllers.py) use
Litestar's RateLimitMiddleware: `middleware=[SUBMIT_RATE_LIMIT]` on a route handler, the limit
per minute from the running app's settings (SUBMIT_RATE_LIMIT_PER_MINUTE,
JOIN_RATE_LIMIT_PER_MINUTE). Routes without a limit (voting, the hottest path) never pass
through it.

Login, registration and the other account forms call `limit_attempt` once they know whose
account the attempt is for: AUTH_RATE_LIMIT_PER_MINUTE attempts per account from one client
address (the email as typed, a reset link, a logged-in user), and ADDRESS_ALLOWANCE times as
many per client address across all accounts, because a whole workshop room logs in through the
venue's one address. Counting an account per address means that somebody elsewhere cannot use
up the owner's attempts (issue 17). Over either limit the form comes back with a translated
"try again in N seconds" (TooManyAttempts, HTTP 429, Retry-After).

Creating guest accounts is limited per client address and hour (`limit_guest_creation`,
GUEST_JOINS_PER_ADDRESS_PER_HOUR), so one address cannot make guests to stuff votes.

A client address is the IPv4 address, or the /64 network of an IPv6 address (one connection
usually holds a whole /64 and may pick any address in it). All counters live in PostgreSQL, so
a limit holds across all worker processes.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address
from litestar.response import Response
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


def client_address(request: AppRequest) -> str:
    """Whom a limit per address counts: the IPv4 address, or the /64 network of an IPv6 one."""
    raw = get_remote_address(request)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:100]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _identifier(
    category: str, key: Callable[[AppRequest], str] | None
) -> Callable[[AppRequest], str]:
    def identify(request: AppRequest) -> str:
        return f"{category}:{key(request) if key else client_address(request)}"

    return identify


def rate_limited(
    category: str, *, key: Callable[[AppRequest], str] | None = None
) -> DefineMiddleware:
    """One counter per client address, or per what `key` names (e.g. the event of a code)."""
    config = RateLimitConfig(
        rate_limit=("minute", 1),  # replaced by the app's setting on each request
        identifier_for_request=_identifier(category, key),
        store=RATE_LIMIT_STORE,
    )
    return DefineMiddleware(
        SettingsRateLimitMiddleware, config=config, setting=f"{category}_rate_limit_per_minute"
    )


SUBMIT_RATE_LIMIT = rate_limited("submit")


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


class TooManyGuests(TooManyAttempts):
    """One client address made GUEST_JOINS_PER_ADDRESS_PER_HOUR guests within the hour."""

    def translated(self) -> str:
        minutes = max(1, -(-self.retry_after // 60))
        return ngettext(
            "Too many people have joined as guests from this network. Please try again in "
            "%(num)s minute, or log in with your account.",
            "Too many people have joined as guests from this network. Please try again in "
            "%(num)s minutes, or log in with your account.",
            minutes,
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


async def _count(store: PostgresStore, key: str, window: int = WINDOW_SECONDS) -> tuple[int, float]:
    async with store.engine.begin() as conn:
        hits, left = (
            await conn.execute(_COUNT, {"k": f"{store.namespace}:{key}", "w": window})
        ).one()
    return int(hits), float(left)


def _store(request: AppRequest) -> PostgresStore:
    return cast("PostgresStore", request.app.stores.get(RATE_LIMIT_STORE))


def _account_key(account: str) -> str:
    # Hashed: the store keeps no email addresses or reset links in clear.
    return hashlib.sha256(account.strip().lower().encode()).hexdigest()


async def limit_attempt(request: AppRequest, account: str) -> None:
    """Counts one attempt at an account form; raises TooManyAttempts over a limit.

    `account`: whose account the attempt is for (the email typed, "user:<id>", a reset link).
    The account is counted per client address: attempts elsewhere never block its owner."""
    store = _store(request)
    per_account = request.app.state.settings.auth_rate_limit_per_minute
    address = client_address(request)
    hits, left = await _count(store, f"auth-address:{address}")
    if hits > per_account * ADDRESS_ALLOWANCE:
        raise TooManyAttempts(left)
    hits, left = await _count(store, f"auth-account:{_account_key(account)}:{address}")
    if hits > per_account:
        raise TooManyAttempts(left)


GUEST_WINDOW_SECONDS = 3600


async def limit_guest_creation(request: AppRequest) -> None:
    """Counts one new guest account from this client address; raises TooManyGuests over
    GUEST_JOINS_PER_ADDRESS_PER_HOUR."""
    limit = request.app.state.settings.guest_joins_per_address_per_hour
    hits, left = await _count(
        _store(request), f"guest-address:{client_address(request)}", GUEST_WINDOW_SECONDS
    )
    if hits > limit:
        raise TooManyGuests(left)


AnyResponse = TypeVar("AnyResponse", bound=Response[Any])


def with_retry_after(response: AnyResponse, exc: DomainError) -> AnyResponse:
    """Adds Retry-After to the page that answers a refused attempt (429)."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response
