"""Test fixtures: a fresh PostgreSQL database per run (DATABASE_URL's server, else embedded)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

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

from ideas_platform.accounts.auth import forget_token_owners
from ideas_platform.accounts.models import User
from ideas_platform.app import create_app
from ideas_platform.core.config import Settings
from ideas_platform.core.database import (
    Base,
    asyncpg_dsn,
    create_driver_pool,
    create_session_factory,
    sqlalchemy_url,
)
from ideas_platform.core.embedded_pg import start_embedded
from ideas_platform.core.migrations import upgrade
from ideas_platform.core.page_cache import CHANNEL as PAGE_CACHE_CHANNEL
from ideas_platform.core.page_cache import drop_cached_pages
from ideas_platform.ideas.models import Idea
from ideas_platform.processes.models import Process
from ideas_platform.similarity.service import drop_cached_counts
from ideas_platform.similarity.vectors import drop_cached_vectors
from tests.helpers import (
    BASE_URL,
    TEST_SECRET,
    app_servers,
    login,
    make_idea,
    make_process,
    make_user,
)
from tests.smtp import smtp_server  # noqa: F401 - the fixture: a real SMTP server


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
        # Tests deliver the outbox themselves (tests/test_mail.py), against a real SMTP server.
        mail_sender_enabled=False,
        page_cache_header=True,
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


# Every table of the models (a new table is emptied between tests without being listed here).
TABLES = ", ".join(table.name for table in Base.metadata.sorted_tables)


@pytest.fixture(autouse=True)
async def clean_database(engine: AsyncEngine) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        # The app processes of `two_servers` keep pages of ideas whose ids come back now.
        await conn.execute(text(f"SELECT pg_notify('{PAGE_CACHE_CHANNEL}', '')"))
    # Identities restart, so the caches of similar ideas would hold other tests' ideas.
    drop_cached_vectors()
    drop_cached_counts()
    drop_cached_pages()
    forget_token_owners()
    yield


@pytest.fixture(scope="session")
def app(settings: Settings, database_url: str) -> Litestar:
    return create_app(settings, database_url)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def db(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session


@pytest.fixture
def own_idea(
    client: AsyncTestClient[Litestar], session_factory: async_sessionmaker[AsyncSession]
) -> Callable[..., Awaitable[tuple[Process, User, Idea]]]:
    """Makes a process (`slug`, `budget`), a participant and their idea (other keywords: the
    idea's fields), and logs the participant in on `client`:
    `process, author, idea = await own_idea()`."""

    async def make(
        *, slug: str | None = None, budget: int | None = None, **idea_fields: Any
    ) -> tuple[Process, User, Idea]:
        process = await make_process(session_factory, slug=slug, budget=budget)
        author = await make_user(session_factory)
        idea = await make_idea(session_factory, process, author, **idea_fields)
        await login(client, author.email)
        return process, author, idea

    return make


@pytest.fixture(scope="session")
def two_servers(database_url: str) -> Iterator[tuple[str, str]]:
    """Two app processes (uvicorn) on 127.0.0.1 sharing the test database."""
    with app_servers(database_url, count=2, seconds=30) as (first, second):
        yield first, second
