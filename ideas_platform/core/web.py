"""Helpers for HTML controllers: page rendering, redirects, form data, htmx detection."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from litestar import MediaType
from litestar.response import Redirect, Template

from ideas_platform.core.requests import AppRequest

if TYPE_CHECKING:
    from ideas_platform.accounts.models import User

HTMX_HEADER = "hx-request"
_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only ("²".isdigit() is true), fits a bigint


def is_htmx(request: AppRequest) -> bool:
    return (
        request.headers.get(HTMX_HEADER) == "true" and request.headers.get("hx-boosted") != "true"
    )


# Where `accounts.auth.load_user` keeps the confirmed user of a request.
CURRENT_USER_STATE_KEY = "current_user"
# The number of unread notifications (set for pages by `accounts.auth.load_user_for_pages`).
UNREAD_STATE_KEY = "unread_notifications"


def current_user_of(request: AppRequest) -> User | None:
    """The user `accounts.auth.load_user` confirmed for this request (None: anonymous or not
    loaded). Handlers take the typed `current_user`/`viewer` dependencies instead."""
    user: User | None = request.scope.get("state", {}).get(CURRENT_USER_STATE_KEY)
    return user


def page(request: AppRequest, template: str, *, status_code: int = 200, **context: Any) -> Template:
    user = context.setdefault("user", current_user_of(request))
    if user is not None and hasattr(user, "consent_version") and "consent_outdated" not in context:
        # New terms since the person agreed: a notice on every page until they agree.
        context["consent_outdated"] = (
            not user.is_guest and user.consent_version != request.app.state.settings.consent_version
        )
    context.setdefault(
        "unread_notifications", request.scope.get("state", {}).get(UNREAD_STATE_KEY, 0)
    )
    return Template(
        template_name=template, context=context, status_code=status_code, media_type=MediaType.HTML
    )


def see_other(path: str) -> Redirect:
    """POST-redirect-GET."""
    return Redirect(path=path, status_code=303)


def see_other_route(
    request: AppRequest, route: str, /, *, fragment: str = "", **path_params: Any
) -> Redirect:
    """POST-redirect-GET to a named route (`fragment`: the part after '#')."""
    path = request.app.route_reverse(route, **path_params)
    return see_other(f"{path}#{fragment}" if fragment else path)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: never redirect to another site after login."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        # browsers drop tabs and newlines: "/\t/evil.example" would become "//evil.example"
        and target.isprintable()
    ):
        return target
    return default


async def form_data(request: AppRequest) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items() if key != "_csrf_token"}


def optional_id(value: str | None) -> int | None:
    """A database id (or page number) from a form or URL; None when none is given or it cannot
    be one (not a number, or too big for a bigint)."""
    value = (value or "").strip()
    return int(value) if _ID.fullmatch(value) else None


def page_number(value: str | None, last: int = 10_000) -> int:
    return min(max(optional_id(value) or 1, 1), last)
