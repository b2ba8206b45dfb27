"""Sets the locale of each request: the `lang` cookie, else the configured default."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.middleware import ASGIMiddleware

from ideas_platform.core.i18n import LOCALE_COOKIE, LOCALES, set_locale

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


class LocaleMiddleware(ASGIMiddleware):
    scopes = ("http",)  # type: ignore[assignment]

    def __init__(self, default_locale: str) -> None:
        self.default_locale = default_locale

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        chosen = _cookie(scope, LOCALE_COOKIE)
        set_locale(chosen if chosen in LOCALES else self.default_locale)
        await next_app(scope, receive, send)
