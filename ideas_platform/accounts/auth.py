"""Who is asking: a session cookie or a personal API token (`Authorization: Bearer ...`)."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import asyncpg
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.csrf import CSRFMiddleware
from sqlalchemy import select

from ideas_platform.accounts.models import User
from ideas_platform.core.choices import Role
from ideas_platform.core.page_cache import page_cache_of
from ideas_platform.core.requests import AppConnection, AppRequest, Principal
from ideas_platform.core.web import CURRENT_USER_STATE_KEY, UNREAD_STATE_KEY

if TYPE_CHECKING:
    from litestar.handlers.base import BaseRouteHandler
    from litestar.types import ASGIApp, Guard, Receive, Scope, Send

SESSION_USER_KEY = "uid"
SESSION_VERSION_KEY = "sv"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return None


# How stale `api_tokens.last_used_at` may get: a client's parallel requests would otherwise all
# wait for one row lock, one UPDATE per request (issue 16: 260 bearer votes/s).
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


# The token of an active account, on the driver pool: the ORM's session, greenlet bridge and
# transaction cost an API request ~1.5 ms of CPU each (issue 16, bench/README.md).
OWNER_BY_HASH_SQL = """SELECT t.id, t.user_id,
       t.last_used_at IS NULL OR t.last_used_at < now() - make_interval(secs => $2) AS stale
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND u.is_active
"""
MARK_USED_SQL = """UPDATE api_tokens SET last_used_at = now()
WHERE id IN (SELECT id FROM api_tokens WHERE id = $1
               AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))
             FOR UPDATE SKIP LOCKED)
"""


async def principal_for_token(pool: asyncpg.Pool, token_hash: str) -> Principal | None:
    """The owner of the token if the account is active. Reading takes no lock; `last_used_at`
    is written at most once a minute per token (and skipped while another request writes it)."""
    seconds = TOKEN_USE_RESOLUTION.total_seconds()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(OWNER_BY_HASH_SQL, token_hash, seconds)
        if row is None:
            return None
        if row["stale"]:
            await conn.execute(MARK_USED_SQL, row["id"], seconds)
    return Principal(user_id=row["user_id"], session_version=None)


# Route option: the route's statement confirms an API token itself (the vote routes, issue 16).
# Their caller's token is not looked up when this process found it active less than
# TOKEN_USE_RESOLUTION ago: one round trip instead of two. Such routes take no guard.
VOTER_CHECKED_BY_STATEMENT = "voter_checked_by_statement"


# Whose each API token is, as this process last found it active: (user id, when). A token never
# changes hands, so an entry can only be stale about whether the token still works, and that is
# what the statements of VOTER_CHECKED_BY_STATEMENT routes check.
_token_owners: dict[str, tuple[int, float]] = {}
TOKEN_OWNERS_KEPT = 10_000


def forget_token_owners() -> None:
    """Forget whose the tokens are (the database was emptied or restored underneath)."""
    _token_owners.clear()


def _recent_owner(token_hash: str) -> int | None:
    """The owner if found active within TOKEN_USE_RESOLUTION; after that the token is looked up
    again, which also records its use (`last_used_at`)."""
    found = _token_owners.get(token_hash)
    if found is None or time.monotonic() - found[1] >= TOKEN_USE_RESOLUTION.total_seconds():
        return None
    return found[0]


async def _token_principal(scope: Scope, token: str) -> Principal | None:
    token_hash = hash_token(token)
    if scope["route_handler"].opt.get(VOTER_CHECKED_BY_STATEMENT):
        owner = _recent_owner(token_hash)
        if owner is not None:
            return Principal(owner, None, unconfirmed_token_hash=token_hash)
    principal = await principal_for_token(scope["litestar_app"].state.driver_pool, token_hash)
    if principal is not None:
        if len(_token_owners) >= TOKEN_OWNERS_KEPT:
            _token_owners.clear()
        _token_owners[token_hash] = (principal.user_id, time.monotonic())
    return principal


class AuthenticationMiddleware:
    """Sets `request.user` to a Principal or None. Never touches the database for sessions;
    looks up API tokens (see VOTER_CHECKED_BY_STATEMENT for the exception)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        principal: Principal | None = None
        token = bearer_token(scope)
        if token is not None:
            # With an Authorization header only the token counts, never the cookie.
            if token:
                principal = await _token_principal(scope, token)
            if principal is None:
                raise NotAuthorizedException("Invalid API token.")
        else:
            session = scope.get("session")
            if isinstance(session, dict):
                uid = session.get(SESSION_USER_KEY)
                if isinstance(uid, int):
                    principal = Principal(uid, int(session.get(SESSION_VERSION_KEY, 0)))
        scope["user"] = principal
        scope["auth"] = "token" if token else ("session" if principal else None)
        await self.app(scope, receive, send)


class TokenAwareCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, skipped for API-token requests (browsers cannot forge them)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and (
            bearer_token(scope) or _sessionless_api_call(scope)
        ):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _sessionless_api_call(scope: Scope) -> bool:
    """An API call without a session cookie (`app.SESSION_COOKIE`, maybe split in `-N` parts)
    carries nothing to forge: the login guard answers it with 401, not a CSRF 403."""
    if not scope["path"].startswith("/api/"):
        return False
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie = part.strip().partition("=")[0]
                if cookie == "session" or cookie.startswith("session-"):
                    return False
    return True


# In the request's state: its user came from `confirm_viewer`'s kept copy, not the database.
_FROM_KEPT_COPY = "user_from_kept_copy"


async def load_user(connection: AppConnection, *, for_access: bool = False) -> User | None:
    """The confirmed user of this request (cached on the request), or None. `for_access`: for
    a decision who may do or see something (guards), never from the copy a page keeps to show
    who is logged in (`confirm_viewer`)."""
    state = connection.scope.setdefault("state", {})
    if CURRENT_USER_STATE_KEY in state and not (for_access and state.get(_FROM_KEPT_COPY)):
        return state[CURRENT_USER_STATE_KEY]
    state[_FROM_KEPT_COPY] = False
    principal: Principal | None = connection.scope.get("user")
    user: User | None = None
    if principal is not None and principal.unconfirmed_token_hash is not None:
        principal = await principal_for_token(
            connection.app.state.driver_pool, principal.unconfirmed_token_hash
        )
    if principal is not None:
        async with connection.app.state.session_factory() as session:
            user = await session.scalar(select(User).where(User.id == principal.user_id))
        if user is not None and (
            not user.is_active
            or (
                principal.session_version is not None
                and principal.session_version != user.session_version
            )
        ):
            user = None
    state[CURRENT_USER_STATE_KEY] = user
    return user


async def provide_current_user(request: AppRequest) -> User:
    """Dependency `current_user`: the confirmed user of a route behind `login_required`."""
    user = await load_user(request, for_access=True)
    if user is None:
        raise NotAuthorizedException("Login required.")
    return user


async def provide_viewer(request: AppRequest) -> User | None:
    """Dependency `viewer`: the confirmed user, or None for an anonymous visitor."""
    return await load_user(request)


async def login_required(connection: AppConnection, _: BaseRouteHandler) -> None:
    principal: Principal | None = connection.scope.get("user")
    if (
        connection.scope.get("auth") == "token"
        and principal is not None
        and principal.unconfirmed_token_hash is None
    ):
        return  # the token's account was found active by `principal_for_token`
    if await load_user(connection, for_access=True) is None:
        raise NotAuthorizedException("Login required.")


def role_required(*roles: Role) -> Guard:
    allowed = set(roles) | {Role.ADMIN}

    async def guard(connection: AppConnection, _: BaseRouteHandler) -> None:
        user = await load_user(connection, for_access=True)
        if user is None:
            raise NotAuthorizedException("Login required.")
        if user.role not in allowed:
            raise PermissionDeniedException("Your role does not allow this.")

    return guard


admin_required = role_required(Role.ADMIN)
moderator_required = role_required(Role.MODERATOR)
ministry_required = role_required(Role.MINISTRY)


async def load_user_for_pages(request: AppRequest) -> None:
    """Before every page (GET, not the API, not assets or event streams): confirm the user, so
    that the header of every page knows who is logged in."""
    # The cheap tests first: a POST (a vote) never builds the URL.
    if request.method != "GET" or request.scope.get("user") is None:
        return
    path = request.url.path
    if not path.startswith(("/api/", "/static/", "/schema")) and not path.endswith(
        ("/stream", "/events")
    ):
        await confirm_viewer(request)


async def confirm_viewer(connection: AppConnection) -> User | None:
    """The confirmed user of a page and their unread notifications (the bell in the header),
    kept in this process until the next write (`PageCache.kept`): pages show them on every
    request, and a logout, a deactivation or a new notification is a write. Guards and routes
    that act (POST and the rest) confirm the user in the database (`load_user`)."""
    principal: Principal | None = connection.scope.get("user")
    state = connection.scope.setdefault("state", {})
    cache = page_cache_of(connection.app)
    key = ("viewer", principal)
    kept: tuple[User | None, int] | None = cache.kept(key)
    if kept is None:
        generation = cache.generation
        loaded_before = CURRENT_USER_STATE_KEY in state  # by a guard, in the database
        user = await load_user(connection)
        unread = 0
        if user is not None:
            from ideas_platform.notifications.service import unread_count

            async with connection.app.state.session_factory() as session:
                unread = await unread_count(session, user.id)
        if not loaded_before:  # else read before `generation`, which may miss a write
            cache.keep(key, generation, (user, unread))
        state[UNREAD_STATE_KEY] = unread
        return user
    if CURRENT_USER_STATE_KEY not in state:  # a guard's user from the database stays
        state[CURRENT_USER_STATE_KEY], state[_FROM_KEPT_COPY] = kept[0], True
    state[UNREAD_STATE_KEY] = kept[1]
    return state[CURRENT_USER_STATE_KEY]
