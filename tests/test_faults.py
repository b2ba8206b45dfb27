"""The database going away mid-request: 503 with Retry-After (never 500), then recovery.

`make bench-faults` restarts a private PostgreSQL under load; here the same errors come fast
and without stopping any server: the app's backend is terminated (pg_terminate_backend, only
connections to this test run's database) while a request waits on a row lock, and the
errors of a server that is starting up are raised by a small app with the same handlers.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from typing import Any

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from ideas_platform.accounts.models import ApiToken
from ideas_platform.core.database import asyncpg_dsn
from ideas_platform.core.exception_handlers import exception_handlers
from tests.helpers import make_idea, make_process, make_users_fast


async def _token(session_factory: Any, user_id: int) -> str:
    token = f"ip_faults_{user_id}_0123456789abcdef0123456789"
    async with session_factory() as session, session.begin():
        await session.execute(
            insert(ApiToken).values(
                user_id=user_id,
                name="faults",
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
            )
        )
    return token


async def _terminate_waiting(database_url: str, query_start: str, locker_pid: int) -> int:
    """Terminate the backend of this database that waits on a lock running `query_start…`."""
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await _terminate_with(admin, query_start)
    except AssertionError:
        # Never leave the request waiting: end the lock holder, then fail.
        await admin.execute("SELECT pg_terminate_backend($1)", locker_pid)
        raise
    finally:
        await admin.close()


async def _terminate_with(admin: asyncpg.Connection, query_start: str) -> int:
    for _ in range(400):
        pids = await admin.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' "
            "AND ltrim(query, E' \\n') LIKE $1",
            query_start + "%",
        )
        if pids:
            for row in pids:
                await admin.execute("SELECT pg_terminate_backend($1)", row["pid"])
            return len(pids)
        await asyncio.sleep(0.02)
    raise AssertionError(f"no backend waiting on {query_start!r}")


async def _vote_while_backend_terminated(
    client: Any, database_url: str, lock_sql: str, lock_args: tuple[Any, ...], query_start: str,
    idea_id: int, token: str,
) -> Any:  # fmt: skip
    locker = await asyncpg.connect(asyncpg_dsn(database_url))
    terminated: list[int] = []
    try:
        tx = locker.transaction()
        await tx.start()
        await locker.execute(lock_sql, *lock_args)
        locker_pid = locker.get_server_pid()
        # The test client runs the app in another thread and blocks this loop while it waits,
        # so the terminator needs a loop of its own.
        terminator = threading.Thread(
            target=lambda: terminated.append(
                asyncio.run(_terminate_waiting(database_url, query_start, locker_pid))
            )
        )
        terminator.start()
        response = await client.post(
            f"/api/ideas/{idea_id}/vote", headers={"Authorization": f"Bearer {token}"}
        )
        terminator.join(10)
        if not locker.is_closed():
            await tx.rollback()
        assert terminated == [1]
        return response
    finally:
        await locker.close()


@pytest.mark.parametrize(
    ("path", "lock_sql", "query_start"),
    [
        # the vote statement on the asyncpg pool (raw asyncpg AdminShutdownError, 57P01)
        ("driver", "SELECT 1 FROM ideas WHERE id = $1 FOR UPDATE", "WITH idea"),
        # the token check on the asyncpg pool, outside the handler; it takes no row lock
        # (last_used_at is written at most once a minute), so the whole table is locked
        (
            "token",
            "LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE",
            "SELECT t.id, t.user_id",
        ),
    ],
)
async def test_backend_terminated_mid_request_is_503_then_recovers(
    client, session_factory, database_url, path, lock_sql, query_start
):
    process = await make_process(session_factory)
    [author, voter] = await make_users_fast(session_factory, 2)
    first = await make_idea(session_factory, process, author)
    second = await make_idea(session_factory, process, author)
    token = await _token(session_factory, voter)
    lock_args = (first.id,) if path == "driver" else ()

    response = await _vote_while_backend_terminated(
        client, database_url, lock_sql, lock_args, query_start, first.id, token
    )
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert response.json()["status_code"] == 503

    # The pools drop the dead connection: the next votes work at once.
    for idea in (first, second):
        again = await client.post(
            f"/api/ideas/{idea.id}/vote", headers={"Authorization": f"Bearer {token}"}
        )
        assert again.status_code == 201, again.text
        assert again.json()["voted"] is True


def _starting_up() -> Exception:
    return asyncpg.exceptions.CannotConnectNowError("the database system is starting up")


def _shutting_down() -> Exception:
    return asyncpg.exceptions.AdminShutdownError(
        "terminating connection due to administrator command"
    )


def _wrapped(orig: Exception) -> Exception:
    # as SQLAlchemy's asyncpg dialect raises it on connect (a plain DBAPIError, not Operational)
    error = DBAPIError("connect", None, orig)
    error.__cause__ = orig
    return error


@pytest.mark.parametrize(
    "make_error",
    [
        _starting_up,
        _shutting_down,
        lambda: _wrapped(_starting_up()),
        lambda: _wrapped(_shutting_down()),
        lambda: asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        lambda: ConnectionRefusedError(111, "Connection refused"),
        lambda: FileNotFoundError(2, "No such file or directory"),  # unix socket gone
    ],
    ids=["57P03", "57P01", "57P03-sqlalchemy", "57P01-sqlalchemy", "08003", "refused", "socket"],
)
async def test_database_away_or_starting_up_is_503_with_retry_after(make_error):
    @get("/api/fail", sync_to_thread=False)
    def fail() -> None:
        raise make_error()

    app = Litestar([fail], exception_handlers=exception_handlers)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/api/fail")
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
