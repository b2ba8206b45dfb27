"""The app's request type: who is asking (`Principal`) and the typed aliases handlers use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller before the database confirmed it (cheap, from the request)."""

    user_id: int
    # None for API tokens; for sessions it must equal users.session_version.
    session_version: int | None
    # An API token not looked up for this request (its owner known from an earlier one): the
    # statement that acts for it must find it in `api_tokens` itself, as it checks a session's
    # version. None when the token was looked up, and for sessions.
    unconfirmed_token_hash: str | None = None


# `scope["auth"]`: how the principal was found.
AuthKind: TypeAlias = Literal["token", "session"] | None

AppRequest: TypeAlias = Request[Principal | None, AuthKind, State]
AppConnection: TypeAlias = ASGIConnection[Any, Principal | None, AuthKind, State]


def principal_of(request: AppRequest) -> Principal:
    """The caller of a route behind `login_required` (401 should the guard be missing)."""
    if request.user is None:
        from litestar.exceptions import NotAuthorizedException

        raise NotAuthorizedException("Login required.")
    return request.user
