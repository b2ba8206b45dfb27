"""Builders for tests. They go through the real services (and so through the real database)."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ideas_platform.accounts import service as accounts
from ideas_platform.accounts.models import User
from ideas_platform.app import create_app
from ideas_platform.core.choices import Role
from ideas_platform.core.config import Settings
from ideas_platform.core.i18n import BERLIN
from ideas_platform.core.passwords import hash_password
from ideas_platform.events import service as events
from ideas_platform.events.models import Event
from ideas_platform.ideas import service as ideas
from ideas_platform.ideas.models import Idea
from ideas_platform.processes import service as processes
from ideas_platform.processes.models import Process
from ideas_platform.shortlists import service as shortlists
from ideas_platform.shortlists.models import ShortlistEntry

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"
BASE_URL = "http://testserver.local"
PASSWORD = "Werkbank-Sachsen-2030"
_counter = itertools.count(1)
_FAST_HASH: str | None = None

Factory = async_sessionmaker[AsyncSession]


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def phases(**open_or_closed: str) -> dict[str, tuple[str, str]]:
    """phases(collect="open", vote="closed") -> form values; 'open' = now inside the dates."""
    now = datetime.now(UTC)
    spans = {
        "open": (now - timedelta(days=1), now + timedelta(days=30)),
        "closed": (now - timedelta(days=30), now - timedelta(days=1)),
        "future": (now + timedelta(days=1), now + timedelta(days=30)),
    }
    return {kind: tuple(_iso(d) for d in spans[state]) for kind, state in open_or_closed.items()}  # type: ignore[misc]


async def make_process(
    factory: Factory,
    *,
    slug: str | None = None,
    budget: int | None = None,
    topics: str = "Digitalisierung\nEnergie",
    collect: str = "open",
    vote: str = "open",
    cluster: str | None = None,
) -> Process:
    async with factory() as session:
        return await processes.save_process(
            session,
            actor_id=None,
            form=processes.ProcessForm(
                slug=slug or f"prozess-{next(_counter)}",
                title="Industrie der Zukunft",
                description="Ein Testprozess.",
                vote_budget=str(budget or ""),
                topics=topics,
                phases=phases(
                    collect=collect, vote=vote, **({"cluster": cluster} if cluster else {})
                ),
            ),
        )


async def make_user(
    factory: Factory,
    *,
    email: str | None = None,
    role: Role = Role.PARTICIPANT,
    sector: str = "industry",
    region: str = "chemnitz",
    password: str = PASSWORD,
    name: str | None = None,
) -> User:
    n = next(_counter)
    async with factory() as session:
        return await accounts.register(
            session,
            accounts.Registration(
                email=email or f"person{n}@example.org",
                display_name=name or f"Person {n}",
                password=password,
                sector=sector,
                region=region,
                organisation="Beispiel GmbH",
            ),
            role=role,
            # agreed to the current terms (registration form); no confirmation mail
            settings=Settings(secret_key=TEST_SECRET),
            confirm_by_mail=False,
        )


async def make_users_fast(factory: Factory, count: int, *, sector: str = "science") -> list[int]:
    """Many users at once, sharing one password hash (argon2 is slow on purpose)."""
    global _FAST_HASH
    _FAST_HASH = _FAST_HASH or hash_password(PASSWORD)
    start = next(_counter) * 10_000
    rows = [
        {
            "email": f"bulk{start + i}@example.org",
            "display_name": f"Bulk {start + i}",
            "password_hash": _FAST_HASH,
            "sector": sector,
            "organisation": "",
            "region": "dresden",
            "role": "participant",
            "locale": "de",
            "session_version": 0,
            "is_active": True,
            "email_confirmed_at": datetime.now(UTC),
            "consent_version": Settings(secret_key=TEST_SECRET).consent_version,
        }
        for i in range(count)
    ]
    async with factory() as session, session.begin():
        result = await session.execute(insert(User).returning(User.id), rows)
        return [row[0] for row in result]


async def make_idea(factory: Factory, process: Process, author: User | int, **fields: Any) -> Idea:
    author_id = author if isinstance(author, int) else author.id
    n = next(_counter)
    form = ideas.IdeaForm(
        title=fields.get("title", f"Idee Nummer {n} für die Region"),
        body=fields.get("body", "Eine ausführliche Beschreibung der Idee mit genug Text."),
        topic_id=fields.get("topic_id"),
        region=fields.get("region", "dresden"),
        event_id=fields.get("event_id"),
    )
    async with factory() as session:
        process = await processes.get_by_id(session, process.id)
        return await ideas.submit(session, process=process, author_id=author_id, form=form)


async def make_event(
    factory: Factory,
    process: Process,
    moderator: User,
    *,
    title: str = "Zukunftswerkstatt Chemnitz",
    starts_at: datetime | None = None,
    **fields: str,
) -> Event:
    """An event of the process through the events service (default: starts in an hour).
    `fields`: the other form fields as typed (place, capacity, dot_budget, join_until …)."""
    start = starts_at or datetime.now(UTC) + timedelta(hours=1)
    async with factory() as session:
        return await events.save_event(
            session,
            process=process,
            moderator=moderator,
            form=events.EventForm(
                title=title,
                starts_at=start.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M"),
                **fields,
            ),
        )


async def recommend(
    session: AsyncSession,
    process: Process,
    moderator: User,
    idea: Idea,
    *,
    official: User | None = None,
    accept: bool = True,
    comment: str = "",
    rationale: str = "Breit getragen",
) -> ShortlistEntry:
    """The moderation nominates `idea`; with `official`, the ministry decides on it."""
    entry = await shortlists.nominate(
        session, process=process, moderator=moderator, rationale=rationale, idea_id=idea.id
    )
    if official is not None:
        await shortlists.decide(
            session, entry_id=entry.id, official=official, accept=accept, comment=comment
        )
    return entry


async def set_phase(factory: Factory, process: Process, **states: str) -> None:
    async with factory() as session:
        current = await processes.get_by_id(session, process.id)
        form_phases = {p.kind.value: (_iso(p.starts_at), _iso(p.ends_at)) for p in current.phases}
        form_phases.update(phases(**states))
        await processes.save_process(
            session,
            actor_id=None,
            process_id=process.id,
            form=processes.ProcessForm(
                slug=current.slug,
                title=current.title,
                description=current.description,
                vote_budget=str(current.vote_budget or ""),
                phases=form_phases,
            ),
        )


def csrf(client: AsyncTestClient[Any]) -> str:
    return client.cookies.get("csrftoken") or ""


async def prime_csrf(client: AsyncTestClient[Any]) -> str:
    if not csrf(client):
        await client.get("/login")
    return csrf(client)


async def post_form(
    client: AsyncTestClient[Any], url: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    token = await prime_csrf(client)
    kwargs.setdefault("follow_redirects", False)
    return await client.post(url, data={**(data or {}), "_csrf_token": token}, **kwargs)


async def try_login(client: AsyncTestClient[Any], email: str, password: str = PASSWORD) -> Any:
    """The login form sent as typed (with the CSRF token); answers the response, whatever it is."""
    return await post_form(client, "/login", {"email": email, "password": password})


async def login(client: AsyncTestClient[Any], email: str, password: str = PASSWORD) -> None:
    response = await try_login(client, email, password)
    assert response.status_code == 303, response.text


def assert_form_error(response: Any, *fields: str) -> None:
    """The form came back (422) with a message under each of `fields`."""
    assert response.status_code == 422, response.text
    for field in fields:
        assert f'id="{field}-error"' in response.text, field


@asynccontextmanager
async def app_client(
    settings: Settings, database_url: str, **changes: Any
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client of an app of its own, made with `settings` changed by `changes` (e.g. limits)."""
    app = create_app(replace(settings, **changes), database_url)
    async with AsyncTestClient(app=app, base_url=BASE_URL) as client:
        yield client


@asynccontextmanager
async def second_browser(client: AsyncTestClient[Any]) -> AsyncIterator[AsyncTestClient[Any]]:
    """Another browser (own cookies) on the same running app as `client`."""
    other = AsyncTestClient(app=client.app, base_url=str(client.base_url))
    # The app runs in the first client's event loop; its database pool belongs to that loop.
    other.blocking_portal = client.blocking_portal
    yield other


async def bearer_headers(factory: Factory, user: User | int, name: str = "Test") -> dict[str, str]:
    """The header of a personal API token of `user`, made through the accounts service."""
    user_id = user if isinstance(user, int) else user.id
    async with factory() as session:
        token = await accounts.create_api_token(session, user_id, name)
    return {"Authorization": f"Bearer {token}"}


def htmx_headers(client: AsyncTestClient[Any], target: str | None = None) -> dict[str, str]:
    headers = {"HX-Request": "true", "X-CSRFToken": csrf(client)}
    if target:
        headers["HX-Target"] = target
    return headers


T = TypeVar("T")


async def until(
    fetch: Callable[[], Awaitable[T]], holds: Callable[[T], bool], seconds: float = 5
) -> T:
    """`fetch()` every 50 ms until what it answers `holds`, for `seconds` at most: the last answer
    (the caller asserts on it, with its own message). For what another process shows later."""
    deadline = time.monotonic() + seconds
    while True:
        answer = await fetch()
        if holds(answer) or time.monotonic() >= deadline:
            return answer
        await asyncio.sleep(0.05)


async def next_sse_data(lines: AsyncIterator[str], seconds: float = 10) -> str:
    """The next non-empty `data:` of a server-sent event stream (after the `data:`), waiting at
    most `seconds` for each line."""
    while True:
        line = await asyncio.wait_for(anext(lines), seconds)
        if line.startswith("data:") and line[5:].strip():
            return line[5:]


async def logout_keeping_old_cookies(client: AsyncTestClient[Any]) -> None:
    """Log out, then put back the cookies from before: a copied or stolen session cookie."""
    old = dict(client.cookies.items())
    response = await post_form(client, "/logout")
    assert response.status_code == 303
    client.cookies.clear()
    for name, value in old.items():
        client.cookies.set(name, value)


async def stored(db: AsyncSession, idea_id: int, column: str) -> int:
    """A denormalised counter as stored on the idea (`vote_count`, `comment_count`)."""
    return int(await db.scalar(select(getattr(Idea, column)).where(Idea.id == idea_id)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def app_servers(database_url: str, count: int = 1, seconds: float = 60) -> Iterator[list[str]]:
    """`count` real app processes (uvicorn) on free ports of 127.0.0.1, sharing a database;
    answers their URLs once each serves pages, and stops them afterwards."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "APP_ENV": "test",
        "AUTH_RATE_LIMIT_PER_MINUTE": "10000",
        "SUBMIT_RATE_LIMIT_PER_MINUTE": "10000",
        # Tests deliver mail themselves; a sender polling the shared test database would race
        # with the next test's TRUNCATE.
        "MAIL_SENDER_ENABLED": "false",
        # Kept pages must vanish by NOTIFY, not by age (tests/test_page_cache.py); the tests'
        # TRUNCATE tells them (conftest.clean_database).
        "PAGE_CACHE_SECONDS": "600",
        "PAGE_CACHE_HEADER": "1",
    }
    servers: list[tuple[subprocess.Popen[bytes], str]] = []
    try:
        for _ in range(count):
            port = free_port()
            command = [sys.executable, "-m", "uvicorn", "--factory"]
            command += ["ideas_platform.app:app_for_uvicorn", "--host", "127.0.0.1"]
            command += ["--port", str(port), "--log-level", "warning"]
            process = subprocess.Popen(command, env=env)  # noqa: S603 - our own app
            servers.append((process, f"http://127.0.0.1:{port}"))
        for process, url in servers:
            deadline = time.monotonic() + seconds
            while True:
                try:
                    urllib.request.urlopen(url + "/", timeout=2)  # noqa: S310 - local server
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.2)
        yield [url for _, url in servers]
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=10)


async def mailed_path(session: AsyncSession, address: str, route: str) -> str:
    """The path of the `route` link (e.g. "/account/confirm/") in the newest mail written to
    `address` (read from the outbox, as the mailbox would receive it)."""
    from ideas_platform.mail.models import OutboxMail

    body = await session.scalar(
        select(OutboxMail.body_text)
        .where(OutboxMail.to_address == address)
        .order_by(OutboxMail.id.desc())
        .limit(1)
    )
    assert body, f"no mail to {address}"
    found = re.search(r"https?://[^/\s]+(" + re.escape(route) + r"[^\s]+)", body)
    assert found, f"no {route} link in the mail to {address}"
    return found.group(1)
