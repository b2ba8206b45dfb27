"""Access matrix: every route x every role gets exactly the answer it should.

The table ACCESS names, for every route of the app (method + path, /static and /schema aside),
who may use it: "public", "login" (any account, guests too), "moderator", "ministry" or
"admin" (admins may do everything moderators and the ministry may), or "author" (only the
author of the idea: editing and withdrawing it; 403 for everybody else, admins included). The test enumerates `app.routes`, so a new route without a
line in the table fails `test_every_route_has_an_entry`.

For each route and each of the six roles (anonymous, participant, guest, moderator, ministry,
admin) one request is sent, with the CSRF token (so the guard is tested, not CSRF) and with path
parameters pointing at real objects:
* anonymous on a non-public route: 401 JSON under /api, else a redirect to /login;
* a logged-in role that is not allowed: 403;
* an allowed role: neither 401 nor 403 (validation or state errors such as 400/404/409/422 are
  fine: the guard let it through);
* never a 5xx.
STREAMS (server-sent events, never ending) are in the table but not requested.
Pairs checked: (len(ACCESS) - len(STREAMS)) x 6 (the test asserts the number).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from ideas_platform.accounts import service as accounts
from ideas_platform.audit.models import AuditEntry
from ideas_platform.core.choices import Role
from ideas_platform.core.requests import Principal
from ideas_platform.shortlists import service as shortlists
from ideas_platform.themes import jobs as theme_jobs
from ideas_platform.themes import service as themes
from ideas_platform.votes import service as votes
from tests.helpers import (
    csrf,
    login,
    make_event,
    make_idea,
    make_process,
    make_user,
    post_form,
    prime_csrf,
)

P, L, MOD, MIN, ADM = "public", "login", "moderator", "ministry", "admin"
STAFF = "staff"  # moderators, the ministry and admins
OWN = "author"  # only the idea's author (the participant here), not even an admin

ACCESS: dict[str, str] = {
    # pages of the process
    "GET /": P,
    "GET /favicon.ico": P,
    "GET /legal/{page_name:str}": P,
    "GET /processes/{slug:str}": P,
    "GET /processes/{slug:str}/ideas": P,
    "GET /processes/{slug:str}/ideas/new": L,
    "POST /processes/{slug:str}/ideas": L,
    "GET /processes/{slug:str}/similar-ideas": P,
    "GET /processes/{slug:str}/ranking": P,
    "GET /processes/{slug:str}/shortlist": P,
    "GET /processes/{slug:str}/board": P,
    "GET /processes/{slug:str}/board/events": P,
    "POST /processes/{slug:str}/themes": L,
    "POST /processes/{slug:str}/suggestions": MOD,
    "GET /processes/{slug:str}/events/new": MOD,
    "POST /processes/{slug:str}/events": MOD,
    "POST /processes/{slug:str}/shortlist/nominations": MOD,
    "POST /processes/{slug:str}/shortlist/freeze": MIN,
    "POST /processes/{slug:str}/shortlist/unfreeze": ADM,
    "GET /processes/{slug:str}/dashboard": STAFF,
    # ideas
    "GET /ideas/{idea_id:int}": P,
    "GET /ideas/{idea_id:int}/edit": OWN,
    "POST /ideas/{idea_id:int}/edit": OWN,
    "POST /ideas/{idea_id:int}/withdraw": OWN,
    "GET /ideas/{idea_id:int}/withdraw": OWN,
    "POST /ideas/{idea_id:int}/vote": L,
    "POST /ideas/{idea_id:int}/unvote": L,
    "POST /ideas/{idea_id:int}/comments": L,
    "GET /ideas/{idea_id:int}/report": L,
    "POST /ideas/{idea_id:int}/report": L,
    "POST /ideas/{idea_id:int}/theme": L,
    # themes and suggestions
    "GET /themes/{theme_id:int}": P,
    "POST /themes/{theme_id:int}/rename": MOD,
    "POST /themes/{theme_id:int}/lock": MOD,
    "POST /themes/{theme_id:int}/merge": MOD,
    "GET /suggestions/{job_id:int}": MOD,
    "POST /suggestions/{job_id:int}/proposals/{index:int}/accept": MOD,
    "POST /suggestions/{job_id:int}/proposals/{index:int}/drop": MOD,
    # shortlist
    "POST /shortlist/entries/{entry_id:int}/withdraw": MOD,
    "POST /shortlist/entries/{entry_id:int}/decide": MIN,
    "POST /shortlist/entries/{entry_id:int}/move": MIN,
    # moderation
    "GET /moderation": MOD,
    "GET /moderation/audit": MOD,
    "GET /moderation/reports": MOD,
    "GET /moderation/processes/{slug:str}/duplicates": MOD,
    "POST /moderation/duplicates/dismiss": MOD,
    "POST /moderation/ideas/{idea_id:int}/hide": MOD,
    "POST /moderation/ideas/{idea_id:int}/keep": MOD,
    "POST /moderation/ideas/{idea_id:int}/merge": MOD,
    "POST /moderation/ideas/{idea_id:int}/restore": MOD,
    "POST /moderation/ideas/{idea_id:int}/unmerge": MOD,
    "POST /moderation/moves/{entry_id:int}/undo": MOD,
    # events and workshops
    "GET /events/{event_id:int}": P,
    "GET /events/{event_id:int}/edit": MOD,
    "POST /events/{event_id:int}/edit": MOD,
    "POST /events/{event_id:int}/ideas": L,
    "GET /events/{event_id:int}/capture": MOD,
    "POST /events/{event_id:int}/capture": MOD,
    "GET /events/{event_id:int}/import": MOD,
    "POST /events/{event_id:int}/import": MOD,
    "POST /events/{event_id:int}/import/preview": MOD,
    "GET /events/{event_id:int}/import/template.csv": MOD,
    "POST /events/{event_id:int}/joining": MOD,
    "POST /events/{event_id:int}/mode": MOD,
    "POST /events/{event_id:int}/timer": MOD,
    "GET /events/{event_id:int}/live": MOD,
    "GET /events/{event_id:int}/qr.svg": MOD,
    "GET /events/{event_id:int}/live/state": P,
    "GET /events/{event_id:int}/live/stream": P,
    "GET /join": P,
    "GET /join/{code:str}": P,
    "POST /join/{code:str}": P,
    # accounts
    "GET /register": P,
    "POST /register": P,
    "GET /login": P,
    "POST /login": P,
    "POST /language": P,
    "GET /profile": L,
    "GET /profile/data": L,
    "POST /profile/delete": L,
    "POST /profile/tokens": L,
    "POST /profile/tokens/{token_id:int}/revoke": L,
    "POST /profile/full-account": L,
    "POST /profile/consent": L,
    "POST /logout": L,
    # account self-service (links from mails are public: the token is the key)
    "GET /password/forgot": P,
    "POST /password/forgot": P,
    "GET /password/reset/{token:str}": P,
    "POST /password/reset/{token:str}": P,
    "GET /account/confirm/{token:str}": P,
    "POST /account/confirm/{token:str}": P,
    "GET /account/email/{token:str}": P,
    "POST /account/email/{token:str}": P,
    "POST /profile/confirmation": L,
    "POST /profile/edit": L,
    "POST /profile/email": L,
    "POST /profile/password": L,
    "GET /consent": L,
    "POST /consent": L,
    # notifications
    "GET /notifications": L,
    "GET /notifications/{notification_id:int}": L,
    "POST /notifications/read": L,
    "GET /notifications/settings": L,
    "POST /notifications/settings": L,
    "GET /unsubscribe/{token:str}": P,
    "POST /unsubscribe/{token:str}": P,
    "POST /ideas/{idea_id:int}/follow": L,
    "POST /themes/{theme_id:int}/follow": L,
    # implementation: measures and their updates (read public, write ministry)
    "GET /processes/{slug:str}/umsetzung": P,
    "GET /measures/{measure_id:int}": P,
    "GET /measures/updates/{update_id:int}/attachment": P,
    "GET /shortlist-entries/{entry_id:int}/measure/new": MIN,
    "POST /shortlist-entries/{entry_id:int}/measure": MIN,
    "POST /measures/{measure_id:int}": MIN,
    "POST /measures/{measure_id:int}/updates": MIN,
    "GET /api/processes/{slug:str}/measures": P,
    "GET /api/measures/{measure_id:int}": P,
    "POST /api/measures/{measure_id:int}/updates": MIN,
    # comments: editing and deleting one's own (the service refuses others' with 403)
    "POST /comments/{comment_id:int}/edit": L,
    "POST /comments/{comment_id:int}/delete": L,
    # administration
    "GET /admin": ADM,
    "GET /admin/processes/new": ADM,
    "POST /admin/processes": ADM,
    "GET /admin/processes/{process_id:int}/edit": ADM,
    "POST /admin/processes/{process_id:int}": ADM,
    "GET /admin/processes/{process_id:int}/next-cycle": ADM,
    "POST /admin/processes/{process_id:int}/next-cycle": ADM,
    "POST /admin/users/{user_id:int}/role": ADM,
    "POST /admin/users/{user_id:int}/deactivate": ADM,
    "POST /admin/users/{user_id:int}/activate": ADM,
    "POST /admin/users/{user_id:int}/send-reset": ADM,
    "GET /admin/outbox": ADM,
    "GET /admin/outbox/{mail_id:int}": ADM,
    # JSON API
    "GET /api/me": L,
    "GET /api/me/data": L,
    "GET /api/processes": P,
    "GET /api/processes/{slug:str}": P,
    "GET /api/processes/{slug:str}/ideas": P,
    "POST /api/processes/{slug:str}/ideas": L,
    "GET /api/processes/{slug:str}/similar-ideas": P,
    "GET /api/processes/{slug:str}/ranking": P,
    "GET /api/processes/{slug:str}/shortlist": P,
    "GET /api/processes/{slug:str}/exports/{fmt:str}": MIN,
    "GET /api/processes/{slug:str}/exports/{fmt:str}/manifest": MIN,
    "GET /api/ideas/{idea_id:int}": P,
    "GET /api/ideas/{idea_id:int}/comments": P,
    "POST /api/ideas/{idea_id:int}/comments": L,
    "POST /api/ideas/{idea_id:int}/vote": L,
    "DELETE /api/ideas/{idea_id:int}/vote": L,
}
STREAMS = {"GET /processes/{slug:str}/board/events", "GET /events/{event_id:int}/live/stream"}
# Requests that end the session run last for each role.
LAST = ["POST /profile/delete", "POST /logout"]

ROLES = ["anonymous", "participant", "guest", "moderator", "ministry", "admin"]
ALLOWED = {
    P: set(ROLES),
    L: set(ROLES) - {"anonymous"},
    MOD: {"moderator", "admin"},
    MIN: {"ministry", "admin"},
    STAFF: {"moderator", "ministry", "admin"},
    ADM: {"admin"},
    OWN: {"participant"},
}
SKIPPED_PREFIXES = ("/static", "/schema")


def app_routes(app: Any) -> set[str]:
    found = set()
    for route in app.routes:
        if route.path.startswith(SKIPPED_PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods:
                if method not in ("HEAD", "OPTIONS"):
                    found.add(f"{method} {route.path}")
    return found


def test_every_route_has_an_entry(app):
    routes = app_routes(app)
    missing = sorted(routes - set(ACCESS))
    assert not missing, f"routes without an entry in ACCESS: {missing}"
    stale = sorted(set(ACCESS) - routes)
    assert not stale, f"entries in ACCESS without a route: {stale}"


@pytest.fixture
async def world(session_factory, driver_pool):
    process = await make_process(session_factory, slug="matrix", cluster="open")
    users = {
        role: await make_user(session_factory, role=getattr(Role, role.upper()))
        for role in ("participant", "moderator", "ministry", "admin")
    }
    event = await make_event(
        session_factory, process, users["moderator"], title="Zukunftswerkstatt"
    )
    # An idea of the workshop the guest joins: a guest may support only its workshop's ideas.
    idea = await make_idea(session_factory, process, users["participant"], event_id=event.id)
    # Somebody else supports it, so the author's withdrawal is refused: a withdrawn idea would
    # answer 404 to the roles after (it does not exist for them), not the 403 tested here.
    supporter = await make_user(session_factory, email="supporter@example.org")
    await votes.cast_vote(driver_pool, Principal(supporter.id, None), idea.id)
    other_idea = await make_idea(session_factory, process, users["participant"])
    async with session_factory() as session:
        theme = await themes.create_theme(
            session, process=process, user=users["moderator"], title="Wasserstoff"
        )
        await themes.move_idea(
            session, idea_id=other_idea.id, theme_id=theme.id, user=users["moderator"]
        )
        entry = await shortlists.nominate(
            session,
            process=process,
            moderator=users["moderator"],
            rationale="Breite Unterstützung",
            idea_id=idea.id,
        )
        move_entry = await session.scalar(
            select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)
        )
        await session.commit()
        await accounts.create_api_token(session, users["participant"].id, "Skript")
        token_id = (await accounts.list_api_tokens(session, users["participant"].id))[0].id
    params = {
        "slug": "matrix",
        "idea_id": idea.id,
        "event_id": event.id,
        "theme_id": theme.id,
        "entry_id": entry.id,
        "job_id": 1,
        "index": 0,
        "token_id": token_id,
        # a bystander: deactivating them must not log out one of the roles under test
        "user_id": (await make_user(session_factory, email="bystander@example.org")).id,
        "notification_id": 999_999,
        "comment_id": 999_999,
        "measure_id": 999_999,
        "update_id": 999_999,
        "mail_id": 999_999,
        "token": "kein-gueltiges-token",
        "process_id": process.id,
        "code": event.join_code,
        "fmt": "csv",
        "page_name": "impressum",
    }
    return {"users": users, "params": params, "move_entry": move_entry, "event": event}


def _url(route: str, params: dict[str, Any]) -> str:
    path = route.split(" ", 1)[1]
    return re.sub(r"\{(\w+):\w+\}", lambda m: str(params[m.group(1)]), path)


async def _request(client: AsyncTestClient[Any], route: str, url: str) -> Any:
    method = route.split(" ", 1)[0]
    if method == "GET":
        return await client.get(url, follow_redirects=False)
    token = await prime_csrf(client)
    if url.startswith("/api/"):
        return await client.request(
            method, url, json={}, headers={"X-CSRFToken": token}, follow_redirects=False
        )
    return await post_form(client, url, {})


def _problem(role: str, level: str, route: str, response: Any) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{status} (server error)"
    if role in ALLOWED[level]:
        if status in (401, 403):
            return f"{status}, but {role} may use it"
        if role == "anonymous" and "/login" in response.headers.get("location", ""):
            return "redirect to /login, but the route is public"
        return None
    if role == "anonymous":
        if route.split(" ", 1)[1].startswith("/api/"):
            ok = status == 401 and response.headers["content-type"].startswith("application/json")
            return None if ok else f"{status}, expected 401 JSON"
        location = response.headers.get("location", "")
        ok = status in (302, 303) and location.startswith("/login")
        return None if ok else f"{status} {location!r}, expected a redirect to /login"
    return None if status == 403 else f"{status}, expected 403"


async def test_every_route_answers_every_role_as_it_should(app, world, monkeypatch):
    # The theme suggestion job (a worker process) is not what is tested here: do not start it.
    monkeypatch.setattr(theme_jobs, "launch", lambda *args: None)
    routes = sorted(set(ACCESS) - STREAMS - set(LAST)) + LAST
    problems: list[str] = []
    checked = 0
    for role in ROLES:
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
            if role == "guest":
                await prime_csrf(client)
                joined = await post_form(
                    client,
                    f"/join/{world['event'].join_code}",
                    {"display_name": "Gast Matrix", "sector": "industry", "region": "zwickau"},
                )
                assert joined.status_code == 303
            elif role != "anonymous":
                await login(client, world["users"][role].email)
            assert csrf(client) or role == "anonymous"
            for route in routes:
                params = dict(world["params"])
                if route == "POST /moderation/moves/{entry_id:int}/undo":
                    params["entry_id"] = world["move_entry"]
                response = await _request(client, route, _url(route, params))
                checked += 1
                if problem := _problem(role, ACCESS[route], route, response):
                    problems.append(f"{role:11} {route}: {problem}")
    assert checked == (len(ACCESS) - len(STREAMS)) * len(ROLES)
    assert not problems, "\n".join(problems)
