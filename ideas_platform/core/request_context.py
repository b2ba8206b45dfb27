"""Per-request context in one plain ASGI middleware: the locale of the request.

(Security headers are added in `core.security_headers`, which also reaches unmatched routes.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.enums import ScopeType

from ideas_platform.core.i18n import LOCALE_COOKIE, LOCALES, set_locale

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send


def cookie_value(scope: Scope, name: str) -> str | None:
    prefix = name + "="
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                part = part.strip()
                if part.startswith(prefix):
                    return part[len(prefix) :]
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, default_locale: str) -> None:
        self.app = app
        self.default_locale = default_locale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            chosen = cookie_value(scope, LOCALE_COOKIE)
            set_locale(chosen if chosen in LOCALES else self.default_locale)
        await self.app(scope, receive, send)
