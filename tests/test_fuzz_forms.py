"""Fuzzing the HTML forms: hypothesis-generated posts to the main form routes.

Text of any unicode (control characters, NUL, right-to-left marks), very long strings, numbers
as strings (huge, negative, exponents), missing and extra fields; each route as the role it is
for, with a valid CSRF token, plain and as htmx. No answer may be a 5xx, and a 4xx page says what
went wrong (a visible message). Examples are generated first (derandomized: the same ones on every
run), then posted through the async test client on the test's event loop.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from ideas_platform.core.choices import Role
from ideas_platform.processes.service import now_utc
from ideas_platform.shortlists import service as shortlists
from ideas_platform.themes import service as themes
from tests.helpers import (
    PASSWORD,
    csrf,
    login,
    make_event,
    make_idea,
    make_process,
    make_user,
    prime_csrf,
)

SLUG = "idz"
BASE_URL = "http://testserver.local"
EXAMPLES = 60  # per route
SLOW_EXAMPLES = 15  # register and login hash passwords (argon2), slow on purpose

# A visible message: a flash or field error, or the error page's heading, with some text in it.
MESSAGE = re.compile(
    r'(role="alert"[^>]*>|class="field-error"[^>]*>|class="card error-page">\s*<h1>)\s*[^<\s]'
)

NUMBERS = st.sampled_from(
    [
        "0",
        "-1",
        "1",
        "2",
        "3",
        "007",
        " 1 ",
        "1.5",
        "1e309",
        "NaN",
        "-0",
        "0x10",
        "²",
        "١٢",
        "9223372036854775807",
        "9223372036854775808",
        "99999999999999999999999999",
        "-2147483649",
    ]
)
ODD = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\r\n",
        "\u202e",
        "\ufeff",
        "<script>alert(1)</script>",
        "'; DROP TABLE ideas; --",
        "%00",
        "../../etc/passwd",
        "https://evil.example/",
        "//evil.example",
        "\t\x0b\x0c\x1b",
    ]
)
LONG = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["a", "ä", "\x00", "🙂", "Wort ", "\u0301"]),
    st.sampled_from([201, 1_001, 10_001, 100_001]),
)
JUNK = st.one_of(st.text(max_size=30), NUMBERS, ODD, LONG, st.integers().map(str))


def _value(*good: str) -> tuple[str, ...]:
    """The valid values of a field (none: any text will do, so junk only)."""
    return good


def _form(fields: dict[str, tuple[str, ...]]) -> st.SearchStrategy[dict[str, str]]:
    """Either any subset of the fields with junk or valid values (missing fields), or a valid
    form with one field made junk (to reach the checks behind the first); plus unknown extras."""
    mixed = {
        name: st.one_of(JUNK, st.sampled_from(good)) if good else JUNK
        for name, good in fields.items()
    }
    valid = {name: good[0] if good else "Text" for name, good in fields.items()}
    one_bad = st.builds(
        lambda name, junk: {**valid, name: junk}, st.sampled_from(sorted(fields)), JUNK
    )
    return st.builds(
        lambda known, extra: {**extra, **known},
        st.one_of(st.fixed_dictionaries({}, optional=mixed), one_bad),
        st.dictionaries(st.text(min_size=1, max_size=10), JUNK, max_size=2),
    )


@dataclass
class Route:
    role: str  # anonymous, participant, author, moderator, ministry
    url: str
    fields: dict[str, tuple[str, ...]]
    examples: int = EXAMPLES


@dataclass
class Outcome:
    posts: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _generate(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    found: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        found.append(example)

    collect()
    return found


async def _scene(session_factory: Any) -> dict[str, Any]:
    process = await make_process(session_factory, slug=SLUG, budget=3, cluster="open")
    author = await make_user(session_factory)
    participant = await make_user(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    official = await make_user(session_factory, role=Role.MINISTRY)
    event = await make_event(
        session_factory,
        process,
        moderator,
        title="Zukunftswerkstatt",
        place="Chemnitz",
        starts_at=now_utc(),
    )
    idea = await make_idea(session_factory, process, author)
    other = await make_idea(session_factory, process, author)
    async with session_factory() as session:
        theme = await themes.create_theme(session, process=process, user=moderator, title="Energie")
    async with session_factory() as session:
        entry = await shortlists.nominate(
            session, process=process, moderator=moderator, rationale="Gut.", idea_id=other.id
        )
    return {
        "users": {
            "author": author,
            "participant": participant,
            "moderator": moderator,
            "ministry": official,
        },
        "idea": idea.id,
        "other": other.id,
        "event": event,
        "theme": theme.id,
        "entry": entry.id,
    }


def _routes(scene: dict[str, Any]) -> list[Route]:
    idea, other, event = scene["idea"], scene["other"], scene["event"]
    sector = _value("industry", "science", "civil_society")
    region = _value("dresden", "chemnitz", "leipzig")
    title = _value("Eine Lernfabrik für Industrie 4.0")
    body = _value("Eine ausführliche Beschreibung der Idee mit genug Text.")
    ids = _value(str(idea), str(other), str(scene["theme"]), str(event.id))
    when = _value("2027-03-04T09:30", "2027-03-04T09:30:00", "2027-02-30T25:61")
    return [
        Route(
            "anonymous",
            "/register",
            {
                "email": _value("neu@example.org"),
                "display_name": _value("Neue Person"),
                "password": _value("Werkbank-Sachsen-2030"),
                "sector": sector,
                "region": region,
                "organisation": (),
                "locale": _value("de", "en"),
                "next": _value("/", "/profile"),
                "accepted_terms": _value("1", ""),
            },
            SLOW_EXAMPLES,
        ),
        Route(
            "anonymous",
            "/login",
            {
                "email": _value(scene["users"]["participant"].email),
                "password": _value(PASSWORD),
                "next": (),
            },
            SLOW_EXAMPLES,
        ),
        Route(
            "anonymous",
            f"/join/{event.join_code}",
            {
                "display_name": _value("Anna aus Zwickau"),
                "sector": sector,
                "organisation": (),
                "region": region,
            },
        ),
        Route("anonymous", "/join/%00", {"display_name": ()}, 3),
        Route(
            "participant",
            f"/processes/{SLUG}/ideas",
            {
                "title": title,
                "body": body,
                "topic_id": ids,
                "region": region,
                "event_id": ids,
                "confirmed": _value("1"),
            },
        ),
        Route(
            "author",
            f"/ideas/{idea}/edit",
            {"title": title, "body": body, "topic_id": ids, "region": region, "event_id": ids},
        ),
        Route("participant", f"/ideas/{idea}/comments", {"body": body}),
        Route(
            "participant",
            f"/ideas/{idea}/report",
            {
                "reason": _value("spam", "offensive", "other"),
                "details": ("Beleidigend",),
                "comment_id": ids,
            },
        ),
        Route("participant", f"/ideas/{idea}/vote", {"next": ()}),
        Route("participant", f"/ideas/{idea}/unvote", {"next": ()}),
        Route("participant", "/profile/consent", {"name_in_exports": _value("1", "0")}),
        Route("participant", "/profile/tokens", {"name": _value("Laptop")}),
        Route(
            "moderator",
            f"/processes/{SLUG}/themes",
            {"title": _value("Wasserstoff"), "description": ()},
        ),
        Route(
            "moderator",
            f"/themes/{scene['theme']}/rename",
            {"title": _value("Energiewende"), "description": ()},
        ),
        Route("moderator", f"/ideas/{idea}/theme", {"theme_id": ids}),
        Route(
            "moderator",
            f"/processes/{SLUG}/events",
            {
                "title": title,
                "place": (),
                "starts_at": when,
                "description": (),
                "capacity": _value("50"),
                "join_until": when,
                "dot_budget": _value("3"),
            },
        ),
        Route(
            "moderator",
            f"/events/{event.id}/edit",
            {
                "title": title,
                "place": (),
                "starts_at": when,
                "description": (),
                "capacity": _value("50"),
                "join_until": when,
                "dot_budget": _value("3"),
            },
        ),
        Route(
            "moderator",
            f"/events/{event.id}/capture",
            {
                "title": title,
                "body": body,
                "author_sector": sector,
                "region": region,
                "topic_id": ids,
            },
        ),
        Route(
            "moderator",
            f"/processes/{SLUG}/shortlist/nominations",
            {"rationale": _value("Breit unterstützt."), "idea_id": ids, "theme_id": ids},
        ),
        Route(
            "ministry",
            f"/shortlist/entries/{scene['entry']}/decide",
            {"decision": _value("accept", "decline"), "comment": ()},
        ),
    ]


def _problem(response: Any, htmx: bool) -> str | None:
    status = response.status_code
    if status >= 500 or status < 200:
        return f"status {status}"
    if status < 400 or not response.headers.get("content-type", "").startswith("text/html"):
        return None
    if htmx and status == 401 and response.headers.get("HX-Redirect"):
        return None
    if not MESSAGE.search(response.text):
        return f"{status} without a visible message"
    return None


async def _post(
    client: AsyncTestClient[Any], route: Route, form: dict[str, str], htmx: bool
) -> Any:
    headers = {"HX-Request": "true", "X-CSRFToken": csrf(client)} if htmx else {}
    return await client.post(
        route.url,
        data={**form, "_csrf_token": csrf(client)},
        headers=headers,
        follow_redirects=False,
    )


async def _fuzz(
    client: AsyncTestClient[Any], session_factory: Any, pick: Callable[[Route], bool]
) -> tuple[Outcome, float]:
    scene = await _scene(session_factory)
    outcome = Outcome()
    started = time.monotonic()
    clients: dict[str, AsyncTestClient[Any]] = {"anonymous": client}
    await prime_csrf(client)
    for role in ("participant", "author", "moderator", "ministry"):
        # another browser on the same running app (its pools belong to the first client's loop)
        other = AsyncTestClient(app=client.app, base_url=str(client.base_url))
        other.blocking_portal = client.blocking_portal
        await login(other, scene["users"][role].email)
        clients[role] = other
    for route in filter(pick, _routes(scene)):
        browser = clients[route.role]
        for form, htmx in _generate(st.tuples(_form(route.fields), st.booleans()), route.examples):
            if route.role == "anonymous":  # a fresh visitor each time, with its CSRF cookie
                token = csrf(browser)
                browser.cookies.clear()
                browser.cookies.set("csrftoken", token)
            response = await _post(browser, route, form, htmx)
            outcome.posts += 1
            outcome.statuses[response.status_code] = (
                outcome.statuses.get(response.status_code, 0) + 1
            )
            if problem := _problem(response, htmx):
                shown = {
                    k: (v[:60] + f"…({len(v)})" if len(v) > 60 else v) for k, v in form.items()
                }
                outcome.failures.append(
                    f"POST {route.url} htmx={htmx} {shown!r}: {problem}\n"
                    f"    {response.text[:300]!r}"
                )
    return outcome, time.monotonic() - started


async def test_html_forms_survive_fuzzing(client, session_factory):
    outcome, seconds = await _fuzz(client, session_factory, lambda route: True)
    print(f"form fuzzing: {outcome.posts} posts in {seconds:.1f}s, statuses {outcome.statuses}")
    assert not outcome.failures, f"{len(outcome.failures)} failures:\n" + "\n".join(
        outcome.failures[:40]
    )


async def test_a_too_long_theme_description_is_explained(client, session_factory):
    # found by the fuzzing: 422 on the board without any message (no error under the field)
    scene = await _scene(session_factory)
    await login(client, scene["users"]["moderator"].email)
    response = await _post(
        client,
        Route("moderator", f"/processes/{SLUG}/themes", {}),
        {"title": "Wasserstoff", "description": "a" * 1001},
        htmx=False,
    )
    assert response.status_code == 422
    assert MESSAGE.search(response.text) and 'id="description-error"' in response.text
