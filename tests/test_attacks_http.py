"""Attacks on the HTTP layer (issue 17, items 4, 7, 8 and the caching of personal answers).

- a huge urlencoded body (millions of fields) held a worker for seconds: the CSRF check parsed it
  before any limit. Bodies are capped (size and field count) before anything parses them; the
  workshop import keeps its own, larger limit;
- a JSON body nested 1,000 deep and a NUL byte in a path were 500s;
- a cross-site link made the ministry "download" an export, written to the audit log;
- the profile and `/api/me` answers could be kept by a shared cache or the browser's history.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from ideas_platform.accounts import service as accounts
from ideas_platform.audit.models import AuditEntry
from ideas_platform.core.choices import Role
from ideas_platform.events.models import Event
from ideas_platform.ideas.models import Idea
from tests.helpers import csrf, login, make_idea, make_process, make_user, post_form, prime_csrf

FORM = {"content-type": "application/x-www-form-urlencoded"}
# The attack as found: 9 MB, about 900,000 fields, to the language switch (no login needed).
HUGE_FORM = b"locale=de" + b"&a=" * 900_000 + b"&next=/"
FAST = 0.5  # seconds: a refusal must not parse the body (the attack took 1-3 s per request)


def english(client: Any) -> None:
    client.cookies.set("lang", "en")


# --- 4: body size and field count ---------------------------------------------------------


async def test_a_huge_form_is_refused_at_once_with_413(client):
    english(client)
    await prime_csrf(client)
    started = time.perf_counter()
    response = await client.post("/language", content=HUGE_FORM, headers=FORM)
    elapsed = time.perf_counter() - started
    assert response.status_code == 413
    assert elapsed < FAST, f"the refusal took {elapsed:.2f} s"
    assert "<html" in response.text and "too large" in response.text


async def test_six_huge_forms_at_once_do_not_stall_the_api(client, session_factory):
    await make_process(session_factory, slug="stau")
    await prime_csrf(client)
    started = time.perf_counter()
    attacks = [client.post("/language", content=HUGE_FORM, headers=FORM) for _ in range(6)]
    *refused, listing = await asyncio.gather(*attacks, client.get("/api/processes"))
    elapsed = time.perf_counter() - started
    assert [r.status_code for r in refused] == [413] * 6
    assert listing.status_code == 200
    assert elapsed < 2 * FAST, f"six refusals and a listing took {elapsed:.2f} s"


async def test_too_many_fields_in_a_small_body_are_refused_before_parsing(client):
    english(client)
    token = await prime_csrf(client)
    # 300,000 fields in under a megabyte; with the token in the header too (the page's own
    # handler would parse the form then, not the CSRF check).
    body = b"locale=de" + b"&a" * 300_000
    assert len(body) < 1024 * 1024
    for headers in (FORM, {**FORM, "x-csrftoken": token}):
        started = time.perf_counter()
        response = await client.post("/language", content=body, headers=headers)
        elapsed = time.perf_counter() - started
        assert response.status_code == 413, headers
        assert elapsed < FAST, f"the refusal took {elapsed:.2f} s"
        assert "too many fields" in response.text


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit(app, client):
    """Chunked, without Content-Length (the test client always sends one: the app is called
    as the server would call it)."""
    chunks = [b"locale=de&next=/&text="] + [b"x" * 65536] * 200  # 12.5 MiB
    sent = 0
    answer: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        sent += 1
        return {"type": "http.request", "body": chunks[sent - 1], "more_body": sent < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        answer.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/language",
        "raw_path": b"/language",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver.local"),
            (b"content-type", FORM["content-type"].encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver.local", 80),
        "state": {},
    }
    await app(scope, receive, send)
    assert answer[0]["type"] == "http.response.start"
    assert answer[0]["status"] == 413
    assert sent < len(chunks) / 2, "the whole body was read before the refusal"


async def test_the_api_answers_a_huge_body_with_json_413(client, session_factory):
    await make_process(session_factory, slug="gross")
    user = await make_user(session_factory)
    await login(client, user.email)
    body = b'{"title": "Gross", "body": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/api/processes/gross/ideas",
        content=body,
        headers={"content-type": "application/json", "x-csrftoken": csrf(client)},
    )
    assert response.status_code == 413
    payload = response.json()
    assert payload["error"] == "payload_too_large" and payload["detail"]


async def test_normal_forms_still_work(client, session_factory):
    response = await post_form(client, "/language", {"locale": "en", "next": "/"})
    assert response.status_code == 303
    assert response.cookies.get("lang") == "en"
    # A long idea (the longest text fields) is far below the limits.
    process = await make_process(session_factory, slug="normal")
    user = await make_user(session_factory)
    await login(client, user.email)
    saved = await post_form(
        client,
        f"/processes/{process.slug}/ideas",
        {"title": "Eine lange Idee", "body": "Ä" * 10_000, "region": "dresden", "topic_id": ""},
    )
    assert saved.status_code == 303, saved.text[:500]


@pytest.fixture
async def workshop(session_factory):
    process = await make_process(session_factory, slug="karten")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    async with session_factory() as session, session.begin():
        event = Event(
            process_id=process.id,
            title="Zukunftswerkstatt Chemnitz",
            place="Chemnitz",
            starts_at=datetime.now(UTC),
            join_code="KARTEN42",
        )
        session.add(event)
    return {"event": event, "moderator": moderator}


async def test_the_workshop_import_keeps_its_larger_limit(client, workshop, db):
    """A file above the general limit (1 MiB) but within the import's (2 MB): the preview and
    the confirmation (the file travels back base64-encoded in a plain form) both get it; the
    importer, not the body limit, has the last word (here on one bad row)."""
    event_id = workshop["event"].id
    await login(client, workshop["moderator"].email)
    short = "Kurze Karte {n};Ein kurzer Text, der auf der Karte stand.;;dresden;\n"
    long = "Lange Karte {n};" + "Ein langer Text von der Karte. " * 300 + ";;dresden;\n"
    rows = [short.format(n=n) for n in range(20)] + [long.format(n=n) for n in range(130)]
    data = ("title;body;topic;region;author_sector\n" + "".join(rows)).encode()
    assert 1024 * 1024 < len(data) < 2 * 1024 * 1024
    preview = await post_form(
        client, f"/events/{event_id}/import/preview", files={"file": ("karten.csv", data)}
    )
    assert preview.status_code == 200, preview.text[:500]
    assert "150" in preview.text
    broken = data + b"Karte ohne Region;Ein Text, der auf der Karte stand.;;Atlantis;\n"
    confirm = await post_form(
        client,
        f"/events/{event_id}/import",
        {"content": base64.b64encode(broken).decode(), "filename": "karten.csv"},
    )
    assert confirm.status_code == 422, confirm.text[:500]
    assert "Atlantis" in confirm.text  # the row's problem, from the importer
    assert await db.scalar(select(func.count()).select_from(Idea)) == 0


# --- 7: deep JSON, NUL bytes ----------------------------------------------------------------


DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
async def api_world(session_factory):
    process = await make_process(session_factory, slug="tief")
    admin = await make_user(session_factory, role=Role.ADMIN)
    idea = await make_idea(session_factory, process, admin)
    return {"slug": process.slug, "idea_id": idea.id, "admin": admin}


async def test_json_nested_1000_deep_is_a_400(client, api_world):
    await login(client, api_world["admin"].email)
    headers = {"content-type": "application/json", "x-csrftoken": csrf(client)}
    for body in ('{"title": ' + DEEP + ', "body": "x"}', DEEP, "{" + '"a":{' * 999 + "}" * 1000):
        response = await client.post("/api/processes/tief/ideas", content=body, headers=headers)
        assert response.status_code == 400, response.text[:300]
        assert response.json()["error"] == "validation_error"


async def test_no_api_route_answers_deep_json_with_a_500(client, app, api_world):
    await login(client, api_world["admin"].email)
    headers = {"content-type": "application/json", "x-csrftoken": csrf(client)}
    values = {"slug": api_world["slug"], "idea_id": api_world["idea_id"]}
    tried = 0
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for method in sorted({"POST", "PUT", "PATCH", "DELETE"} & set(route.methods)):
            path = re.sub(r"\{(\w+):(\w+)\}", lambda m: str(values.get(m.group(1), 1)), route.path)
            response = await client.request(method, path, content=DEEP, headers=headers)
            assert response.status_code < 500, (method, route.path, response.text[:300])
            tried += 1
    assert tried >= 4


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/static/app%00.js", 404),
        ("/static/%00", 404),
        ("/static/vendor/%00/x.css", 404),
        ("/processes/tief%00/ideas", 404),
        ("/api/processes/tief%00/ideas", 404),
    ],
)
async def test_a_nul_byte_in_a_path_is_a_404(client, api_world, url, status):
    response = await client.get(url)
    assert response.status_code == status, response.text[:300]


@pytest.mark.parametrize(
    "url",
    [
        "/processes/tief/ideas?q=a%00b",
        "/processes/tief/ideas?topic=%00&region=%00&sort=%00&page=%00",
        "/api/processes/tief/ideas?q=a%00b",
        "/api/processes/tief/ideas?page=%00",
        "/api/processes/tief/similar?text=a%00b",
        "/ideas?q=%00",
    ],
)
async def test_a_nul_byte_in_a_query_is_never_a_500(client, api_world, url):
    response = await client.get(url)
    assert response.status_code < 500, response.text[:300]


async def test_a_nul_byte_in_form_and_json_fields_is_never_a_500(client, api_world):
    await login(client, api_world["admin"].email)
    form = await post_form(
        client,
        "/processes/tief/ideas",
        {"title": "Nul\x00Byte", "body": "Text\x00 mit Nullbyte " * 5, "region": "dres\x00den"},
    )
    assert form.status_code < 500
    api = await client.post(
        "/api/processes/tief/ideas",
        json={"title": "Nul\x00Byte Titel", "body": "Text\x00 mit Nullbyte " * 5},
        headers={"x-csrftoken": csrf(client)},
    )
    assert api.status_code < 500, api.text[:300]


# --- 8: exports only from the platform's own pages -----------------------------------------


@pytest.fixture
async def ministry(session_factory, client):
    process = await make_process(session_factory, slug="ausfuhr")
    author = await make_user(session_factory)
    await make_idea(session_factory, process, author)
    official = await make_user(session_factory, role=Role.MINISTRY)
    await login(client, official.email)
    return official


async def downloads(db) -> int:
    return int(
        await db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "export.download")
        )
    )


FOREIGN = [
    {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
    {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"},
    {"Referer": "https://boese.example/seite.html"},
    {"Origin": "https://boese.example"},
    {"Sec-Fetch-Site": "cross-site", "Referer": "http://testserver.local/processes/ausfuhr"},
]


@pytest.mark.parametrize("headers", FOREIGN)
@pytest.mark.parametrize("suffix", ["", "/manifest"])
async def test_a_cross_site_link_does_not_download_an_export(client, ministry, db, headers, suffix):
    english(client)
    for fmt in ("csv", "pdf"):
        response = await client.get(
            f"/api/processes/ausfuhr/exports/{fmt}{suffix}", headers=headers
        )
        assert response.status_code == 403, (headers, response.text[:200])
        body = response.json()
        assert body["error"] == "cross_site_download"
        assert "Plattform" in body["detail"]  # translated (German by default)
    assert await downloads(db) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar, a bookmark
        {"Referer": "http://testserver.local/processes/ausfuhr/shortlist"},
        {},  # a script (curl) or an old browser
    ],
)
async def test_the_platforms_own_export_buttons_still_download(client, ministry, db, headers):
    page = await client.get("/processes/ausfuhr/shortlist")
    links = re.findall(r'href="(/api/processes/ausfuhr/exports/[^"]+)"', page.text)
    assert "/api/processes/ausfuhr/exports/csv" in links
    assert "/api/processes/ausfuhr/exports/csv/manifest" in links
    for link in links:
        response = await client.get(link, headers=headers)
        assert response.status_code == 200, (link, response.text[:200])
    assert await downloads(db) == len(links)


async def test_an_api_token_may_download_from_anywhere(client, ministry, session_factory, db):
    async with session_factory() as session:
        token = await accounts.create_api_token(session, ministry.id, "Auswertung")
    client.cookies.clear()
    response = await client.get(
        "/api/processes/ausfuhr/exports/json",
        headers={"Authorization": f"Bearer {token}", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 200
    assert await downloads(db) == 1


# --- Cache-Control on personal answers --------------------------------------------------------


async def test_personal_answers_are_not_stored_by_caches(client, session_factory):
    user = await make_user(session_factory)
    await login(client, user.email)
    for url in (
        "/profile",
        "/api/me",
        "/api/me/data",
        "/profile/data",
        "/notifications",
        "/notifications/settings",
    ):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers.get("cache-control") == "no-store", url
    created = await post_form(client, "/profile/tokens", {"name": "Skript"})
    assert created.status_code == 201
    assert created.headers.get("cache-control") == "no-store"  # shows the new token once


async def test_public_pages_stay_cacheable(client, session_factory):
    await make_process(session_factory, slug="offen")
    for url in ("/", "/processes/offen/ideas", "/static/app.css"):
        response = await client.get(url)
        assert response.headers.get("cache-control") != "no-store", url
