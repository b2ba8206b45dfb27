"""Test fixtures: a fresh PostgreSQL database per run (DATABASE_URL's server, else embedded)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from ideas_platform.app import create_app
from ideas_platform.core.config import Settings
from ideas_platform.core.database import (
    asyncpg_dsn,
    create_driver_pool,
    create_session_factory,
    sqlalchemy_url,
)
from ideas_platform.core.embedded_pg import start_embedded
from ideas_platform.core.migrations import upgrade
from tests.helpers import TEST_SECRET


def _server_url() -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return sqlalchemy_url(configured)
    parent = Path(tempfile.mkdtemp(prefix="ideas-test-pg-"))
    # registered first, so it runs after the server's own clean-up at exit
    atexit.register(shutil.rmtree, parent, ignore_errors=True)
    return start_embedded(parent / "pgdata", cleanup_mode="delete")


def _with_database(url: str, database: str) -> str:
    base, _, query = url.partition("?")
    prefix = base.rsplit("/", 1)[0]
    return f"{prefix}/{database}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A new, migrated database for this test run; dropped afterwards."""
    import asyncio

    server = _server_url()
    name = f"ideas_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(server))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = _with_database(server, name)
    upgrade(url)
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(
        secret_key=TEST_SECRET,
        environment="test",
        db_pool_size=20,
        db_max_overflow=40,
        auth_rate_limit_per_minute=10_000,
        submit_rate_limit_per_minute=10_000,
    )


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    # Bounded like the app's pool: concurrency tests queue for connections, as in production.
    engine = create_async_engine(database_url, pool_size=10, max_overflow=20)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def driver_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_driver_pool(database_url, 20)
    yield pool
    await pool.close()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


TABLES = (
    "audit_entries, comments, votes, ideas, events, topics, process_phases, processes, "
    "api_tokens, users, kv_store"
)


@pytest.fixture(autouse=True)
async def clean_database(engine: AsyncEngine) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    yield


@pytest.fixture(scope="session")
def app(settings: Settings, database_url: str) -> Litestar:
    return create_app(settings, database_url)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


@pytest.fixture
async def db(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def two_servers(database_url: str) -> Iterator[tuple[str, str]]:
    """Two app processes (uvicorn) on 127.0.0.1 sharing the test database."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "APP_ENV": "test",
        "AUTH_RATE_LIMIT_PER_MINUTE": "10000",
        "SUBMIT_RATE_LIMIT_PER_MINUTE": "10000",
    }
    servers, urls = [], []
    for _ in range(2):
        port = _free_port()
        servers.append(
            subprocess.Popen(  # noqa: S603 - our own app
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "ideas_platform.app:app_for_uvicorn",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                env=env,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(url + "/", timeout=2)  # noqa: S310 - local server
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        yield urls[0], urls[1]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
