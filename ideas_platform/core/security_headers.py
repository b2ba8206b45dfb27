"""Security headers on every HTTP response: CSP, nosniff, framing, referrer, HSTS behind TLS.

Wired as a Litestar `before_send` hook rather than a middleware layer: Litestar runs middleware
only for matched routes, while `before_send` wraps the ASGI `send` of the whole app, so 404s of
unknown paths, 405s, error pages, static files, redirects and SSE streams all get the headers
too. It costs one header rewrite per response and no extra middleware layer.

The hook owns these headers: it replaces any value set earlier (so a response never carries
two different policies).

Policy:
- Pages: `script-src 'self'` and `style-src 'self'` — no inline scripts, no `style=` attributes,
  no `eval` (htmx runs with `allowEval: false`); images from the site or `data:` URIs;
  `frame-ancestors 'none'` (with `X-Frame-Options: DENY` for old browsers).
- `/schema` (Swagger UI, OpenAPI JSON): Litestar renders the Swagger page with an inline
  `<script>` that carries the spec and an inline `<style>`, and Swagger UI sets `style=`
  attributes; so only there `'unsafe-inline'` is allowed for scripts and styles. The page shows
  no user content (the spec comes from the code), everything else stays as strict.
- `Strict-Transport-Security` only when the settings say the cookies are secure, i.e. the
  platform runs behind TLS (production). Over plain HTTP it would lock people out.
- `Cache-Control: no-store` on what is about one person and must not stay in a shared cache
  or the browser's history (`PRIVATE_PATHS`): the profile with its API tokens and data download,
  `/api/me*`, the notifications and their settings, the consent page, the pages behind a mailed
  token (password reset, account and e-mail confirmation), and the ministry's exports.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar.types import Message, Scope

    from ideas_platform.core.config import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)
# Swagger UI (see module docstring): inline script and styles, nothing else relaxed.
SCHEMA_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts of the domain are not ours
SCHEMA_PATH = "/schema"
NO_STORE = "no-store"
PRIVATE_PATHS = re.compile(
    r"^/(?:profile|api/me|notifications|consent|password/reset|account)(?:/|$)"
    r"|^/api/processes/[^/]+/exports/"
)


def _is_schema(path: str) -> bool:
    return path == SCHEMA_PATH or path.startswith(SCHEMA_PATH + "/")


def is_private(path: str) -> bool:
    return PRIVATE_PATHS.match(path) is not None


def header_values(path: str, *, hsts: bool) -> dict[str, str]:
    """The security headers for a response to `path` (lower-case names)."""
    headers = {
        "content-security-policy": SCHEMA_CSP if _is_schema(path) else CSP,
        "x-content-type-options": "nosniff",
        "referrer-policy": "strict-origin-when-cross-origin",
        "x-frame-options": "DENY",
    }
    if hsts:
        headers["strict-transport-security"] = HSTS
    if is_private(path):
        headers["cache-control"] = NO_STORE
    return headers


class SecurityHeaders:
    """A `before_send` hook: `Litestar(before_send=[SecurityHeaders(settings)])`."""

    def __init__(self, settings: Settings) -> None:
        hsts = settings.secure_cookies
        self._page = [(k.encode(), v.encode()) for k, v in header_values("/", hsts=hsts).items()]
        self._schema = [
            (k.encode(), v.encode()) for k, v in header_values(SCHEMA_PATH, hsts=hsts).items()
        ]
        self._private = [*self._page, (b"cache-control", NO_STORE.encode())]
        self._names = {name for name, _ in self._page}
        self._private_names = {name for name, _ in self._private}

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path = scope.get("path", "")
        ours, names = self._page, self._names
        if _is_schema(path):
            ours = self._schema
        elif is_private(path):
            ours, names = self._private, self._private_names
        headers = [
            (name, value)
            for name, value in (message.get("headers") or ())
            if name.lower() not in names
        ]
        headers.extend(ours)
        message["headers"] = headers
