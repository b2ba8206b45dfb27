"""The raw limit for `bench.votes`: a bare ASGI app (no framework) on an asyncpg pool.

`POST /vote/{idea_id}` with the header `X-User-Id` runs the minimal vote statement and answers
`ok`; `GET /health` answers `ok`. With `BENCH_RAW_STATEMENT=app` it runs the app's own vote
statement instead (`votes.service.CAST_SQL`, all its rules, no budget): the same request without
the framework, which tells the statement's share of the gap from the framework's.
Served by uvicorn exactly like the real app:

    BENCH_RAW_PG='{"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "x"}' \
    BENCH_PROCESS_ID=1 uvicorn bench.raw_app:app --workers 2
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import asyncpg

# The same statement pgbench runs (see bench/votes.py): one vote, one round trip.
MINIMAL_VOTE = (
    "WITH ins AS (INSERT INTO votes (idea_id, user_id, process_id) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING RETURNING idea_id) "
    "UPDATE ideas SET vote_count = vote_count + 1 WHERE id IN (SELECT idea_id FROM ins)"
)

_pool: asyncpg.Pool | None = None
_app_statement: str | None = None  # votes.service.CAST_SQL with BENCH_RAW_STATEMENT=app
_process_id = int(os.environ.get("BENCH_PROCESS_ID", "1"))
_user_range = (1, int(os.environ.get("BENCH_USERS", "2000")))

_TEXT = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2")]
_NOT_FOUND = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"9")]


async def _no_reset(connection: asyncpg.Connection) -> None:
    """The pool's default reset costs a round trip per release (RESET ALL, UNLISTEN *, ...);
    a single autocommit statement leaves nothing to reset (an open transaction would still
    be rolled back by asyncpg). The app's SQLAlchemy pool does not reset over the wire either."""


async def _lifespan(receive: Any, send: Any) -> None:
    global _pool, _app_statement
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            params = json.loads(os.environ["BENCH_RAW_PG"])
            if os.environ.get("BENCH_RAW_STATEMENT") == "app":
                # Imported only here: the minimal endpoint stays free of the app's modules.
                from ideas_platform.votes.service import CAST_SQL

                _app_statement = CAST_SQL
            size = int(os.environ.get("DB_POOL_SIZE", "10"))
            # Connections idle for 10 s close: bench-votes keeps every server up while the
            # others are measured, and PostgreSQL's max_connections is shared by all of them.
            _pool = await asyncpg.create_pool(
                **params,
                min_size=1,
                max_size=size,
                max_inactive_connection_lifetime=10,
                reset=_no_reset,
            )
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _pool is not None:
                await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _answer(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path: str = scope["path"]
    if scope["method"] == "POST" and path.startswith("/vote/"):
        # Drain the request body (the load generator may send one).
        message = await receive()
        while message.get("more_body"):
            message = await receive()
        user_id = None
        for name, value in scope["headers"]:
            if name == b"x-user-id":
                user_id = int(value)
                break
        if user_id is None:
            user_id = random.randint(*_user_range)
        assert _pool is not None
        if _app_statement:
            # idea, voter, no session version, no unconfirmed token, no budget to check
            await _pool.fetchrow(_app_statement, int(path[6:]), user_id, None, None, False)
        else:
            await _pool.execute(MINIMAL_VOTE, int(path[6:]), user_id, _process_id)
        await _answer(send, 200, _TEXT, b"ok")
    elif path == "/health":
        await _answer(send, 200, _TEXT, b"ok")
    else:
        await _answer(send, 404, _NOT_FOUND, b"not found")
