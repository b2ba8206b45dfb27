"""Every error becomes a clear, translated page (HTML) or a JSON body (API). Never a bare 500."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from litestar import MediaType, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ideas_platform.core.body_limits import RequestTooLarge
from ideas_platform.core.choices import N_
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.i18n import gettext
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import is_htmx, page, safe_next

log = logging.getLogger(__name__)

MESSAGES = {
    400: N_("The request could not be understood. Please check your input."),
    401: N_("Please log in first."),
    403: N_("You are not allowed to do this."),
    404: N_("This page does not exist."),
    405: N_("This action is not possible here."),
    413: N_("The upload is too large."),
    429: N_("Too many attempts. Please wait a minute and try again."),
    500: N_("Something went wrong on our side. Please try again."),
    503: N_("The service is briefly unavailable. Please try again in a few seconds."),
}
CSRF_MESSAGE = N_("The form has expired. Please reload the page and try again.")


def is_api(request: AppRequest) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


# The stable machine codes of errors that are not DomainErrors (see `core.errors` for those).
HTTP_CODES = {
    400: "validation_error",  # the request did not fit: malformed body, wrong parameters
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
CSRF_CODE = "csrf_failed"
FIELD_PROBLEM = N_("Please check this value.")


def _json(
    status: int, code: str, detail: str, fields: dict[str, str] | None = None
) -> Response[Any]:
    """The one error shape of the API (`api.schemas.ErrorResponse`)."""
    body: dict[str, Any] = {"error": code, "detail": detail, "status_code": status}
    if fields:
        body["fields"] = fields
    return Response(content=body, status_code=status, media_type=MediaType.JSON)


def _http_code(status: int) -> str:
    return HTTP_CODES.get(status, "bad_request" if status < 500 else HTTP_CODES[500])


def _validation_fields(exc: ValidationException) -> dict[str, str]:
    """Litestar names the offending parameters or body keys; msgspec's English text stays out."""
    problems = exc.extra if isinstance(exc.extra, list) else []
    keys = [str(p.get("key")) for p in problems if isinstance(p, dict) and p.get("key")]
    return dict.fromkeys(keys, gettext(FIELD_PROBLEM))


def _html(request: AppRequest, status: int, message: str) -> Response[Any]:
    if is_htmx(request):
        response = page(request, "partials/error_inline.html", status_code=status, message=message)
        # htmx does not swap error responses by default; this fragment says what went wrong.
        response.headers["HX-Reswap"] = "innerHTML"
        response.headers["HX-Retarget"] = "#flash-area"
        return response
    # Unmatched routes never pass the session middleware, so the page must not need a session.
    return page(
        request, "error.html", status_code=status, message=message, status=status, error_page=True
    )


def domain_error_handler(request: AppRequest, exc: DomainError) -> Response[Any]:
    if is_api(request):
        fields = exc.translated_errors() if isinstance(exc, InvalidInput) else None
        response = _json(exc.status_code, exc.code, exc.translated(), fields)
        retry_after = getattr(exc, "retry_after", None)  # TooManyAttempts, AccountLocked
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response
    return _html(request, exc.status_code, exc.translated())


def _referring_path(request: AppRequest) -> str:
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    return safe_next(referer.path or "/")


def http_exception_handler(request: AppRequest, exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = _http_code(status)
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        message, code = gettext(CSRF_MESSAGE), CSRF_CODE
    elif isinstance(exc, RequestTooLarge):  # the body limits (core.body_limits)
        message = gettext(exc.message)
    else:
        message = gettext(MESSAGES.get(status, MESSAGES[400] if status < 500 else MESSAGES[500]))
    if is_api(request):
        fields = None
        if isinstance(exc, ValidationException):
            fields = _validation_fields(exc)
        response = _json(status, code, message, fields)
    elif isinstance(exc, NotAuthorizedException) and is_htmx(request):
        login = request.app.route_reverse("login")
        response = Response(content="", status_code=401, headers={"HX-Redirect": login})
    elif isinstance(exc, NotAuthorizedException):
        # To the login, and afterwards back to the page (a form posts back to where it was).
        back = str(request.url.path) if request.method == "GET" else _referring_path(request)
        return Redirect(
            path=request.app.route_reverse("login"), query_params={"next": back}, status_code=303
        )
    else:
        response = _html(request, status, message)
    if exc.headers:  # e.g. Retry-After of a rate limit
        response.headers.update(exc.headers)
    return response


def database_unavailable_handler(request: AppRequest, exc: Exception) -> Response[Any]:
    log.warning("database unavailable: %s", exc)
    message = gettext(MESSAGES[503])
    response = (
        _json(503, HTTP_CODES[503], message) if is_api(request) else _html(request, 503, message)
    )
    response.headers["Retry-After"] = "2"
    return response


def internal_error_handler(request: AppRequest, exc: Exception) -> Response[Any]:
    if isinstance(exc, RecursionError):
        # A body nested too deep for the decoders (JSON `[[[[...` a thousand levels): bad input.
        log.warning("too deeply nested input on %s %s", request.method, request.url.path)
        return http_exception_handler(request, HTTPException(status_code=400))
    if _is_bad_value(exc):
        # e.g. /ideas/99999999999999999999: no such thing can exist
        status = 404 if request.method == "GET" else 400
        return http_exception_handler(request, HTTPException(status_code=status))
    # Raw asyncpg errors come from the hot paths that use the driver connection directly.
    if (
        isinstance(exc, (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError))
        or _sqlstates(exc) & RETRYABLE_SQLSTATES
        or _database_away(exc)
    ):
        return database_unavailable_handler(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = gettext(MESSAGES[500])
    if is_api(request):
        return _json(500, HTTP_CODES[500], message)
    return _html(request, 500, message)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (`__cause__`, SQLAlchemy's `orig`)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or getattr(seen, "orig", None)
    return chain


def _sqlstates(exc: BaseException) -> set[str]:
    return {str(getattr(seen, "sqlstate", "") or "") for seen in _chain(exc)}


# A deadlock or serialization failure: the transaction was rolled back whole; trying again works.
RETRYABLE_SQLSTATES = {"40P01", "40001"}


def _database_away(exc: BaseException) -> bool:
    """The server is shutting down, starting up or gone (SQLSTATE class 08, 57P01-57P03)."""
    return any(s.startswith("08") or s in UNAVAILABLE_SQLSTATES for s in _sqlstates(exc))


# admin_shutdown (a restart ended the connection), crash_shutdown, cannot_connect_now (the
# server is starting up or shutting down): come back in a moment.
UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}


def _is_bad_value(exc: BaseException) -> bool:
    """A value PostgreSQL cannot take (SQLSTATE class 22, or asyncpg's client-side check)."""
    return any(isinstance(seen, asyncpg.exceptions.DataError) for seen in _chain(exc)) or any(
        state.startswith("22") for state in _sqlstates(exc)
    )


def _dbapi_handler(request: AppRequest, exc: DBAPIError) -> Response[Any]:
    if _is_bad_value(exc):
        return internal_error_handler(request, exc)
    if (
        exc.connection_invalidated
        or isinstance(exc, (OperationalError, InterfaceError))
        or _sqlstates(exc) & RETRYABLE_SQLSTATES
        or _database_away(exc)
    ):
        return database_unavailable_handler(request, exc)
    return internal_error_handler(request, exc)


exception_handlers: dict[Any, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_exception_handler,
    NotFoundException: http_exception_handler,
    DBAPIError: _dbapi_handler,
    PoolTimeoutError: database_unavailable_handler,
    HTTP_503_SERVICE_UNAVAILABLE: database_unavailable_handler,
    Exception: internal_error_handler,
}
