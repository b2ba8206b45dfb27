"""Request bodies are limited before anything parses them; a NUL byte in a path finds nothing.

Litestar's own means carry the size limit: `request_max_body_size` on the app (settings
`max_body_bytes`), larger where a route says so explicitly (the workshop import, see `app.py`;
a measure's attachment). Litestar checks it, though, only when the body is read, and the CSRF
check reads and parses every form before any route code runs. An urlencoded form has no field
limit at all in Litestar (multipart forms have `multipart_form_part_limit`), and a megabyte of
`&a` is 350,000 fields: seconds of parsing per request.

So this plain ASGI middleware sits in front of the session, the login and the CSRF middleware:
- `Content-Length` above the route's limit: 413 at once, nothing read;
- while the body streams in (also without `Content-Length`): 413 as soon as it passes the
  limit, or as soon as an urlencoded form passes `max_form_fields` fields (counted on the raw
  bytes, before any parsing);
- a NUL byte in the path: 404 (no file or record has one; the static files would fail on it).

The answers come from the exception handlers: a translated page, or `{error, detail}` JSON
for the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE

from ideas_platform.core.choices import N_

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

TOO_LARGE = N_("The request is too large. Please shorten the text or choose a smaller file.")
TOO_MANY_FIELDS = N_("The form has too many fields.")
URLENCODED = b"application/x-www-form-urlencoded"


class RequestTooLarge(HTTPException):
    """413, with the message for people (a msgid; translated by the exception handler)."""

    status_code = HTTP_413_REQUEST_ENTITY_TOO_LARGE
    message = TOO_LARGE


class TooManyFields(RequestTooLarge):
    message = TOO_MANY_FIELDS


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value
    return None


def _limit(scope: Scope) -> int | None:
    """The route's body limit (Litestar's `request_max_body_size`, handler → app)."""
    handler = scope.get("route_handler")
    resolve = getattr(handler, "resolve_request_max_body_size", None)
    return resolve() if resolve is not None else None


class BodyLimitMiddleware:
    """`DefineMiddleware(BodyLimitMiddleware, max_fields=settings.max_form_fields)`."""

    def __init__(self, app: ASGIApp, max_fields: int) -> None:
        self.app = app
        self.max_fields = max_fields

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            raise NotFoundException()
        limit = _limit(scope)
        announced = _header(scope, b"content-length")
        if (
            limit is not None
            and announced is not None
            and announced.strip().isdigit()
            and int(announced) > limit
        ):
            raise RequestTooLarge()
        content_type = (_header(scope, b"content-type") or b"").split(b";", 1)[0].strip()
        urlencoded = content_type.lower() == URLENCODED
        await self.app(scope, self._counting(receive, limit, urlencoded), send)

    def _counting(self, receive: Receive, limit: int | None, urlencoded: bool) -> Receive:
        received = 0
        separators = 0
        max_separators = self.max_fields - 1

        async def counted() -> ReceiveMessage:
            nonlocal received, separators
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if limit is not None and received > limit:
                    raise RequestTooLarge()
                if urlencoded:
                    separators += body.count(b"&")
                    if separators > max_separators:
                        raise TooManyFields()
            return message

        return counted
