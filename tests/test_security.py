"""Hardening: security headers, CSRF on every unsafe route, cookie flags, mass assignment.

Already pinned elsewhere (not repeated here):
- session rotation on login: test_accounts.test_login_rotates_the_session_cookie
- logout invalidates copies of the cookie: test_accounts.test_logout_invalidates_copies_of_the_
  session_cookie, ..._ends_the_sessions_on_other_devices_too, test_api_auth.test_logged_out_
  session_cannot_use_the_api
- bearer tokens need no CSRF (vote, comment): test_api_auth.test_bearer_writes_need_no_csrf
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from ideas_platform.accounts.models import User
from ideas_platform.app import CSRF_COOKIE, SESSION_COOKIE, create_app
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import Role
from ideas_platform.core.config import Settings
from ideas_platform.core.security_headers import CSP, SCHEMA_CSP
from ideas_platform.ideas.models import Idea
from ideas_platform.themes.models import Theme
from tests.helpers import (
    PASSWORD,
    csrf,
    login,
    make_event,
    make_idea,
    make_process,
    make_user,
    post_form,
    prime_csrf,
)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_PAGE_TEXT = ("Das Formular ist abgelaufen", "The form has expired")


def _headers_ok(response: Any, *, schema: bool = False) -> None:
    headers = response.headers
    assert headers.get_list("content-security-policy") == [SCHEMA_CSP if schema else CSP], (
        response.request.url
    )
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in headers  # plain HTTP in tests


# --- headers ----------------------------------------------------------------------------------


def test_page_csp_forbids_inline_code_and_framing():
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in CSP
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["base-uri"] == "'self'"


async def test_security_headers_on_every_kind_of_response(client, session_factory):
    process = await make_process(session_factory, slug="kopf")
    author = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author)
    responses = {
        "html": await client.get("/"),
        "idea page": await client.get(f"/ideas/{idea.id}"),
        "json": await client.get("/api/processes"),
        "json 404": await client.get("/api/ideas/999999"),
        "static": await client.get("/static/htmx.min.js"),
        "static 404": await client.get("/static/nothing-here.js"),
        "404 without route": await client.get("/no/such/page"),
        "405": await client.delete("/login"),
        "redirect": await client.get("/profile", follow_redirects=False),
        "csrf 403": await client.post("/login", data={"email": "a@b.de"}),
        "htmx fragment": await client.get(
            f"/processes/{process.slug}/ideas", headers={"HX-Request": "true"}
        ),
    }
    assert responses["static"].status_code == 200
    assert responses["static 404"].status_code == 404
    assert responses["404 without route"].status_code == 404
    assert responses["405"].status_code == 405
    assert responses["redirect"].status_code == 303
    assert responses["csrf 403"].status_code == 403
    for response in responses.values():
        _headers_ok(response)


async def test_swagger_ui_gets_only_the_relaxation_it_needs(client):
    page = await client.get("/schema")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    _headers_ok(page, schema=True)
    # Litestar starts Swagger UI with an inline script and an inline <style>; nothing else.
    assert "<script type='text/javascript'>" in page.text
    spec = await client.get("/schema/openapi.json")
    assert spec.status_code == 200
    _headers_ok(spec, schema=True)
    # Only /schema and below; a look-alike path gets the strict policy.
    _headers_ok(await client.get("/schemax"))
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        response = await client.get(f"/static/vendor/swagger-ui/{asset}")
        assert response.status_code == 200
        _headers_ok(response)


async def test_hsts_only_behind_tls(settings, database_url):
    secure = Settings(**{**settings.__dict__, "secure_cookies": True})
    app = create_app(secure, database_url)
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        response = await client.get("/")
        assert response.headers["strict-transport-security"] == "max-age=31536000"
        assert response.headers["content-security-policy"] == CSP
        missing = await client.get("/no/such/page")
        assert missing.headers["strict-transport-security"] == "max-age=31536000"


async def test_server_sent_events_keep_working_with_the_headers(client, app, session_factory):
    """The board's event stream starts with the headers and stays a stream (raw ASGI on the
    test client's loop: the client itself would wait for the never-ending body)."""
    await make_process(session_factory, slug="strom")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/processes/strom/board/events",
        "raw_path": b"/processes/strom/board/events",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver.local"), (b"accept", b"text/event-stream")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver.local", 80),
        "state": {},
    }

    async def open_stream() -> tuple[dict[str, Any], bool]:
        started: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        disconnect = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await disconnect.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and not started.done():
                started.set_result(message)

        task = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
        start = await asyncio.wait_for(started, 10)
        await asyncio.sleep(0.2)
        still_streaming = not task.done()
        disconnect.set()
        try:
            await asyncio.wait_for(task, 5)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
        return start, still_streaming

    future = client.blocking_portal.start_task_soon(open_stream)
    start, still_streaming = await asyncio.wait_for(asyncio.wrap_future(future), 20)
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    assert start["status"] == 200 and still_streaming
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"


# --- CSRF on every unsafe route ---------------------------------------------------------------


# RFC 8058 one-click unsubscribe: mail programs POST without cookies or CSRF token; the signed
# token in the path is the key (tests/test_mail.py checks that a forged one changes nothing).
CSRF_EXEMPT = {"/unsubscribe/{token:str}"}


def unsafe_routes(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if route.path in CSRF_EXEMPT:
            continue
        for method in sorted(UNSAFE & set(getattr(route, "methods", ()) or ())):
            found.append((method, route.path))
    return found


def fill(path: str, values: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values.get(name, 999_999 if match.group(2) == "int" else "unbekannt"))

    return re.sub(r"\{(\w+):(\w+)\}", one, path)


@pytest.fixture
async def world(session_factory):

    process = await make_process(session_factory, slug="welt", cluster="open")
    admin = await make_user(session_factory, role=Role.ADMIN)
    other = await make_user(session_factory)
    idea = await make_idea(session_factory, process, other)
    event = await make_event(
        session_factory,
        process,
        admin,
        title="Werkstatt",
        place="Chemnitz",
        capacity="50",
        dot_budget="3",
    )
    return {
        "process": process,
        "admin": admin,
        "other": other,
        "idea": idea,
        "event": event,
        "values": {
            "slug": process.slug,
            "idea_id": idea.id,
            "user_id": other.id,
            "process_id": process.id,
            "event_id": event.id,
            "code": event.join_code,
        },
    }


def _is_csrf_refusal(response: Any, *, api: bool) -> bool:
    if response.status_code != 403:
        return False
    if api:
        return response.json()["status_code"] == 403
    return any(text in response.text for text in CSRF_PAGE_TEXT)


async def test_every_unsafe_route_refuses_a_session_without_csrf_token(
    client, app, world, session_factory
):
    """Logged in as admin (no guard can answer first), every POST/PUT/PATCH/DELETE without the
    token is a CSRF 403: plain form, htmx request, JSON API; a wrong token too."""
    routes = unsafe_routes(app)
    assert len(routes) >= 50, routes
    await login(client, world["admin"].email)
    assert csrf(client) and client.cookies.get(SESSION_COOKIE)
    problems = []
    for method, path in routes:
        url = fill(path, world["values"])
        api = path.startswith("/api/")
        attempts = {
            "form": {"data": {"title": "x"}} if not api else {"json": {"title": "x"}},
            "htmx": {"headers": {"HX-Request": "true"}, "data": {"title": "x"}},
            "wrong token": {"headers": {"X-CSRFToken": "x" * 64}, "data": {"_csrf_token": "y"}},
        }
        for label, kwargs in attempts.items():
            response = await client.request(method, url, follow_redirects=False, **kwargs)
            if not _is_csrf_refusal(response, api=api):
                problems.append((label, method, url, response.status_code))
    assert not problems, problems
    # Nothing was written on the way.
    async with session_factory() as session:
        idea = await session.get(Idea, world["idea"].id)
        assert idea is not None and idea.vote_count == 0 and idea.comment_count == 0
    # The session is still logged in (logout was refused too).
    assert (await client.get("/profile", follow_redirects=False)).status_code == 200


async def test_a_bad_bearer_header_never_falls_back_to_the_cookie(client, app, world):
    """CSRF is skipped for `Authorization: Bearer`; then only the token counts, never the
    session cookie, so a page cannot ride on the cookie by adding a bogus header."""
    await login(client, world["admin"].email)
    problems = []
    for method, path in unsafe_routes(app):
        url = fill(path, world["values"])
        response = await client.request(
            method, url, headers={"Authorization": "Bearer nope"}, follow_redirects=False
        )
        if response.status_code != 401 and not (
            response.status_code == 303 and response.headers["location"].startswith("/login")
        ):
            problems.append((method, url, response.status_code))
    assert not problems, problems


async def test_api_writes_with_a_bearer_token_need_no_csrf(client, world, db):
    await login(client, world["admin"].email)
    created = await post_form(client, "/profile/tokens", {"name": "Skript"})
    assert created.status_code in (200, 201, 303)
    page = created if created.status_code != 303 else await client.get(created.headers["location"])
    token = re.search(r"ip_[A-Za-z0-9_\-]{20,}", page.text)
    assert token, "token not shown once on the profile page"
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {token.group(0)}"}
    idea_id = world["idea"].id
    made = await client.post(
        "/api/processes/welt/ideas",
        json={"title": "Per Skript eingereicht", "body": "Ein Text " * 5, "region": "dresden"},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    assert (await client.post(f"/api/ideas/{idea_id}/vote", headers=auth)).status_code == 201
    assert (await client.delete(f"/api/ideas/{idea_id}/vote", headers=auth)).status_code == 200
    comment = await client.post(
        f"/api/ideas/{idea_id}/comments", json={"body": "Gut."}, headers=auth
    )
    assert comment.status_code == 201


# --- cookies ----------------------------------------------------------------------------------


def _set_cookie(response: Any, name: str) -> str:
    for value in response.headers.get_list("set-cookie"):
        if value.startswith(name + "="):
            return value
    raise AssertionError(f"no {name} cookie set: {response.headers.get_list('set-cookie')}")


def _flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


async def _login_response(client: Any, email: str) -> Any:
    token = await prime_csrf(client)
    response = await client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return response


async def test_session_and_csrf_cookies_are_httponly_and_samesite_lax(client, session_factory):
    user = await make_user(session_factory)
    primed = await client.get("/login")
    csrf_flags = _flags(_set_cookie(primed, CSRF_COOKIE))
    assert {"httponly", "samesite=lax"} <= csrf_flags and "secure" not in csrf_flags
    session_flags = _flags(_set_cookie(await _login_response(client, user.email), SESSION_COOKIE))
    assert {"httponly", "samesite=lax", "path=/"} <= session_flags
    assert "secure" not in session_flags  # plain HTTP in development


async def test_cookies_are_secure_behind_tls(settings, database_url, session_factory):
    user = await make_user(session_factory)
    app = create_app(Settings(**{**settings.__dict__, "secure_cookies": True}), database_url)
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        primed = await client.get("/login")
        assert "secure" in _flags(_set_cookie(primed, CSRF_COOKIE))
        flags = _flags(_set_cookie(await _login_response(client, user.email), SESSION_COOKIE))
        assert {"secure", "httponly", "samesite=lax"} <= flags


def _session_cookies(client: Any) -> dict[str, str]:
    return {k: v for k, v in client.cookies.items() if k.split("-")[0] == SESSION_COOKIE}


async def test_a_cookie_from_before_the_login_does_not_carry_it(client, session_factory):
    """Session fixation: whatever session cookie a browser had before the login (e.g. one an
    attacker planted), the login does not make that old value a logged-in session."""
    user = await make_user(session_factory)
    await client.get("/login")
    await post_form(client, "/language", {"locale": "de"})
    before = _session_cookies(client)
    await login(client, user.email)
    after = _session_cookies(client)
    assert after and after != before
    client.cookies.clear()
    for name, value in before.items():  # what the attacker kept
        client.cookies.set(name, value)
    response = await client.get("/profile", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert (await client.get("/api/me")).status_code == 401


# --- mass assignment --------------------------------------------------------------------------

EXTRA = {
    "vote_count": "999",
    "comment_count": "999",
    "role": "admin",
    "status": "hidden",
    "is_active": "false",
    "session_version": "7",
    "locked": "true",
}


async def test_registration_ignores_role_and_other_fields(client, db):
    response = await post_form(
        client,
        "/register",
        {
            "email": "neu@example.org",
            "display_name": "Neue Person",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "sector": "industry",
            "region": "dresden",
            "organisation": "",
            "consent": "on",
            "accepted_terms": "1",
            **EXTRA,
            "id": "1",
            "is_guest": "true",
        },
    )
    assert response.status_code in (303, 422), response.text
    user = await db.scalar(select(User).where(User.email == "neu@example.org"))
    if response.status_code == 303:
        assert user is not None
        assert user.role == Role.PARTICIPANT and user.is_active and user.session_version == 0
        assert not user.is_guest
    else:
        assert user is None


async def test_idea_forms_ignore_counts_status_and_author(client, session_factory, db):
    process = await make_process(session_factory, slug="masse")
    me = await make_user(session_factory)
    other = await make_user(session_factory)
    await login(client, me.email)
    form = {
        "title": "Eine Idee mit Zusatzfeldern",
        "body": "Eine ausführliche Beschreibung der Idee mit genug Text.",
        "region": "dresden",
        **EXTRA,
        "author_id": str(other.id),
        "process_id": "999",
        "merged_into_id": "1",
    }
    made = await post_form(client, "/processes/masse/ideas", form)
    assert made.status_code in (303, 422), made.text
    idea = await db.scalar(select(Idea).where(Idea.title == form["title"]))
    assert idea is not None and made.status_code == 303
    assert idea.author_id == me.id and idea.process_id == process.id
    assert idea.vote_count == 0 and idea.comment_count == 0
    assert idea.status == "published" and idea.merged_into_id is None

    idea_id = idea.id
    edited = await post_form(
        client, f"/ideas/{idea.id}/edit", {**form, "title": "Eine Idee, bearbeitet mit Zusatz"}
    )
    assert edited.status_code in (303, 422), edited.text
    db.expire_all()
    idea = await db.get(Idea, idea_id)
    assert idea is not None
    assert idea.author_id == me.id and idea.vote_count == 0 and idea.comment_count == 0
    assert idea.status == "published" and idea.process_id == process.id
    me_now = await db.get(User, me.id)
    assert me_now is not None and me_now.role == Role.PARTICIPANT


async def test_comment_form_ignores_author_and_counts(client, session_factory, db):
    process = await make_process(session_factory, slug="kommentar")
    me = await make_user(session_factory)
    other = await make_user(session_factory)
    idea = await make_idea(session_factory, process, other)
    await login(client, me.email)
    response = await post_form(
        client,
        f"/ideas/{idea.id}/comments",
        {"body": "Ein Kommentar.", **EXTRA, "author_id": str(other.id), "hidden": "true"},
    )
    assert response.status_code in (303, 200, 422), response.text
    comment = await db.scalar(select(Comment).where(Comment.idea_id == idea.id))
    assert comment is not None and comment.author_id == me.id and not comment.hidden
    db.expire_all()
    stored = await db.get(Idea, idea.id)
    assert stored is not None
    assert stored.vote_count == 0 and stored.comment_count == 1 and stored.status == "published"


async def test_theme_forms_ignore_creator_lock_and_merge(client, session_factory, db):
    await make_process(session_factory, slug="themen", cluster="open")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    other = await make_user(session_factory)
    await login(client, moderator.email)
    extra = {
        **EXTRA,
        "created_by_id": str(other.id),
        "merged_into_id": "1",
        "process_id": "999",
    }
    made = await post_form(
        client, "/processes/themen/themes", {"title": "Wasserstoff", "description": "", **extra}
    )
    assert made.status_code in (303, 200), made.text
    theme = await db.scalar(select(Theme).where(Theme.title == "Wasserstoff"))
    assert theme is not None and theme.created_by_id == moderator.id
    assert not theme.locked and theme.merged_into_id is None
    theme_id = theme.id
    renamed = await post_form(
        client, f"/themes/{theme.id}/rename", {"title": "Wasserstoff 2", **extra}
    )
    assert renamed.status_code in (303, 200), renamed.text
    db.expire_all()
    theme = await db.get(Theme, theme_id)
    assert theme is not None and theme.title == "Wasserstoff 2"
    assert theme.created_by_id == moderator.id and not theme.locked
    assert theme.merged_into_id is None


async def test_profile_forms_do_not_change_the_role(client, session_factory, db):
    me = await make_user(session_factory)
    await login(client, me.email)
    for url in ("/profile/consent", "/profile/tokens", "/language"):
        response = await post_form(
            client, url, {"name": "Skript", "locale": "de", **EXTRA, "user_id": "1"}
        )
        assert response.status_code < 500, (url, response.status_code)
    db.expire_all()
    user = await db.get(User, me.id)
    assert user is not None and user.role == Role.PARTICIPANT and user.is_active
    assert user.session_version == me.session_version


@pytest.mark.parametrize(
    "extra",
    [{"vote_count": 999}, {"status": "hidden"}, {"author_id": 1}, {"role": "admin"}],
)
async def test_api_idea_refuses_fields_it_does_not_know(client, session_factory, db, extra):
    await make_process(session_factory, slug="api-masse")
    me = await make_user(session_factory)
    await login(client, me.email)
    response = await client.post(
        "/api/processes/api-masse/ideas",
        json={"title": "Idee mit Zusatz", "body": "Ein Text " * 5, "region": "dresden", **extra},
        headers={"X-CSRFToken": csrf(client)},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status_code"] == response.status_code
    assert await db.scalar(select(Idea).where(Idea.title == "Idee mit Zusatz")) is None
