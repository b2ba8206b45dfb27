"""Where the vote request's time goes inside one app process (no uvicorn, no load generator).

Run after `make bench-votes` (it needs the seeded `ideas_bench` database):

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/ideas_bench \
        .venv/bin/python -m bench.profile_vote [--requests 5000] [--cprofile app|api|stub]

It logs users in, then calls the ASGI app directly with the POST /ideas/{id}/vote request of
the benchmark (session cookie, CSRF header, HX-Request) and prints the CPU microseconds per
request (of the process, and of the event loop's thread alone):

* `app`: the whole request in this process, vote statement included;
* `api`: POST /api/ideas/{id}/vote with a bearer token (the token lookup included);
* `app, cast_vote stubbed`: the same without the database (framework, session, CSRF, widget);
* `and a constant widget`: also without rendering the vote widget;
* `api, cast_vote stubbed`: the API vote without its vote statement (the token lookup stays);
* `raw ASGI + asyncpg`: bench/raw_app.py's statement alone, for comparison.

A request that waits for PostgreSQL costs far more CPU than the same request without the wait
on a busy machine (caches run cold): compare rows of one run only.

With --cprofile it prints the top functions of one of the runs; the profile counts this
thread's CPU time (`--wall` for wall time, where the waits dominate).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import asyncpg

from bench.raw_app import MINIMAL_VOTE
from bench.votes import PASSWORD, make_tokens, pg_params
from ideas_platform.core.config import Settings


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
        "extensions": {},
    }


async def asgi(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One request straight into the ASGI app: status, headers, body."""
    answer: dict[str, Any] = {"status": 0, "headers": [], "body": b""}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(_scope(method, path, headers), receive, send)
    return answer["status"], answer["headers"], answer["body"]


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run the app's start-up and shut-down hooks (pools) as a server would."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    message = await outbox.get()
    if message["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"app start-up failed: {message}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


def _set_cookies(headers: list[tuple[bytes, bytes]], jar: dict[str, str]) -> None:
    for name, value in headers:
        if name.lower() == b"set-cookie":
            pair = value.decode().split(";", 1)[0]
            key, _, val = pair.partition("=")
            jar[key.strip()] = val.strip().strip('"')


async def login(app: Any, email: str) -> tuple[str, str]:
    """GET /login, POST /login as a browser: answers (Cookie header, CSRF token)."""
    jar: dict[str, str] = {}
    status, headers, _ = await asgi(app, "GET", "/login", [])
    assert status == 200, status
    _set_cookies(headers, jar)
    token = jar["csrftoken"]
    form = urlencode({"email": email, "password": PASSWORD, "_csrf_token": token}).encode()
    status, headers, body = await asgi(
        app,
        "POST",
        "/login",
        [
            (b"cookie", "; ".join(f"{k}={v}" for k, v in jar.items()).encode()),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(form)).encode()),
        ],
        form,
    )
    assert status == 303, (status, body[:300])
    _set_cookies(headers, jar)
    return "; ".join(f"{k}={v}" for k, v in jar.items()), jar["csrftoken"]


CLEAR_VOTES = """
WITH gone AS (DELETE FROM votes WHERE user_id = ANY($1::bigint[]) RETURNING idea_id)
UPDATE ideas i SET vote_count = i.vote_count - g.n
FROM (SELECT idea_id, count(*) AS n FROM gone GROUP BY idea_id) g WHERE i.id = g.idea_id
"""


def _vote_request(idea: int, cookie: str, token: str) -> tuple[str, list[Any], bytes]:
    body = f"_csrf_token={token}&next=%2Fideas%2F{idea}".encode()
    headers = [
        (b"cookie", cookie.encode()),
        (b"x-csrftoken", token.encode()),
        (b"hx-request", b"true"),
        (b"hx-target", f"vote-{idea}".encode()),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(len(body)).encode()),
    ]
    return f"/ideas/{idea}/vote", headers, body


async def measure(label: str, n: int, call: Callable[[], Awaitable[int]]) -> None:
    """CPU time of this process per call (what limits throughput on a busy machine)."""
    statuses: dict[int, int] = {}
    for _ in range(min(n, 300)):  # warm-up: caches, prepared statements, pool
        await call()
    started, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(n):
        status = await call()
        statuses[status] = statuses.get(status, 0) + 1
    per_cpu = (time.process_time() - cpu) / n * 1e6
    per_thread = (time.thread_time() - own) / n * 1e6
    per_wall = (time.perf_counter() - started) / n * 1e6
    print(
        f"{label:44} {per_cpu:6.0f} us CPU ({per_thread:4.0f} loop thread) "
        f"{per_wall:7.0f} us wall   {statuses}",
        flush=True,
    )


async def profile(call: Callable[[], Awaitable[int]], args: argparse.Namespace) -> None:
    # CPU time of this thread, not wall time: waits for PostgreSQL (epoll) and the preemption
    # of a busy machine otherwise dominate, and they cost the worker nothing.
    profiler = cProfile.Profile(time.thread_time) if args.cpu else cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        await call()
    profiler.disable()
    print(f"\ncProfile ({args.cprofile}), {args.requests} requests; ncalls count resumptions:")
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


async def main_async(args: argparse.Namespace) -> None:
    from markupsafe import Markup
    from sqlalchemy.engine import make_url

    from bench import raw_app
    from ideas_platform.app import create_app
    from ideas_platform.votes import controllers, service
    from ideas_platform.votes.service import VoteState

    url = os.environ["DATABASE_URL"]
    params = pg_params(make_url(url))
    conn = await asyncpg.connect(**params)
    process_id = await conn.fetchval("SELECT id FROM processes WHERE slug = 'bench'")
    n_ideas, n_users = await conn.fetchrow("SELECT (SELECT max(id) FROM ideas), max(id) FROM users")
    users = await conn.fetch("SELECT id, email FROM users ORDER BY id LIMIT $1", args.users)
    app = create_app(
        Settings(
            database_url=url,
            environment="production",
            secure_cookies=False,
            secret_key="profile-secret-key-0123456789abcdef0123456789",
            auth_rate_limit_per_minute=10**8,
            db_pool_size=4,
            # The seeded users' phase announcements would be mailed by this process meanwhile.
            mail_sender_enabled=False,
        )
    )
    async with lifespan(app):
        sessions = [await login(app, user["email"]) for user in users]
        user_ids = [user["id"] for user in users]
        print(
            f"in-process, one request at a time, {args.requests} requests each, {len(users)} users:"
        )

        async def forget_votes() -> None:
            # Mostly first votes, as in the benchmark (repeats take the slower refusal path).
            await conn.execute(CLEAR_VOTES, user_ids)

        async def app_vote() -> int:
            cookie, token = random.choice(sessions)
            path, headers, body = _vote_request(random.randint(1, n_ideas), cookie, token)
            return (await asgi(app, "POST", path, headers, body))[0]

        tokens = await make_tokens(params, user_ids)

        async def api_vote() -> int:
            path = f"/api/ideas/{random.randint(1, n_ideas)}/vote"
            headers = [(b"authorization", b"Bearer " + random.choice(tokens).encode())]
            return (await asgi(app, "POST", path, headers))[0]

        await forget_votes()
        await measure("app POST /ideas/{id}/vote", args.requests, app_vote)
        await forget_votes()
        if args.cprofile == "app":
            await profile(app_vote, args)
            await forget_votes()
        await measure("api POST /api/ideas/{id}/vote (bearer)", args.requests, api_vote)
        await forget_votes()
        if args.cprofile == "api":
            await profile(api_vote, args)
            await forget_votes()

        async def stub_cast_vote(engine: Any, principal: Any, idea_id: int) -> VoteState:
            return VoteState(idea_id, True, 42)

        def constant_widget(vote: Any, idea_id: int, *_: Any, **__: Any) -> Markup:
            return Markup(f'<div class="vote" id="vote-{idea_id}"></div>')

        original_cast, original_widget = service.cast_vote, controllers.vote_widget_html
        service.cast_vote = stub_cast_vote  # type: ignore[assignment]
        try:
            await measure("  same, cast_vote stubbed (no database)", args.requests, app_vote)
            controllers.vote_widget_html = constant_widget  # type: ignore[assignment]
            await measure("  same, and a constant widget", args.requests, app_vote)
            controllers.vote_widget_html = original_widget
            if args.cprofile == "stub":
                await profile(app_vote, args)
            await measure("api, cast_vote stubbed (no database)", args.requests, api_vote)
        finally:
            service.cast_vote, controllers.vote_widget_html = original_cast, original_widget  # type: ignore[assignment]

    raw_app._pool = await asyncpg.create_pool(
        **params, min_size=1, max_size=1, reset=raw_app._no_reset
    )
    raw_app._process_id = process_id

    async def raw_vote() -> int:
        headers = [(b"x-user-id", str(random.randint(1, n_users)).encode())]
        return (await asgi(raw_app.app, "POST", f"/vote/{random.randint(1, n_ideas)}", headers))[0]

    await measure("raw ASGI app POST /vote/{id}", args.requests, raw_vote)
    await raw_app._pool.close()

    async def statement() -> int:
        await conn.execute(
            MINIMAL_VOTE, random.randint(1, n_ideas), random.randint(1, n_users), process_id
        )
        return 0

    await measure("minimal statement alone (asyncpg)", args.requests, statement)
    await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--users", type=int, default=30, help="logged-in users voting")
    parser.add_argument(
        "--cprofile",
        choices=["app", "api", "stub"],
        help="profile the vote with the database (app), the API vote with a bearer token (api)"
        " or the vote with cast_vote stubbed (stub)",
    )
    parser.add_argument(
        "--wall", dest="cpu", action="store_false", help="profile wall time, not thread CPU time"
    )
    parser.add_argument("--sort", default="cumulative", help="pstats order, e.g. tottime")
    parser.add_argument("--top", type=int, default=40, help="functions shown with --cprofile")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
