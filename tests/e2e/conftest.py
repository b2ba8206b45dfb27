"""Browser tests: the demo served by one uvicorn process, driven by Debian's Chromium.

Everything here is package-scoped: the server, its seeded database and the browser exist only
while the tests of tests/e2e run. (Playwright's sync API marks its own event loop as running
between calls, so it must be gone before the async tests of the rest of the suite start.)
The tests are plain sync tests; pytest-asyncio's auto mode leaves them alone.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from ideas_platform.core.database import asyncpg_dsn
from ideas_platform.core.migrations import upgrade
from tests.conftest import _with_database
from tests.helpers import app_servers

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SLUG = "industrie-der-zukunft"
DEMO_PASSWORD = "demo-passwort-2026"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """The suite's autouse clean-up truncates the test database; the browser tests use their
    own seeded database and keep it for the whole package (the flows build on each other)."""


def _chromium_or_skip() -> None:
    if Path(CHROMIUM).exists():
        return
    message = (
        f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
        "(apt-get install chromium; .ci/run installs it)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="package")
def e2e_database_url(database_url: str) -> Iterator[str]:
    """A second database on the suite's server: migrated and seeded with the demo."""
    _chromium_or_skip()
    name = f"ideas_e2e_{uuid.uuid4().hex[:10]}"
    url = _with_database(database_url, name)

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def seed() -> None:
        from sqlalchemy.ext.asyncio import create_async_engine

        from ideas_platform.core.database import create_session_factory
        from ideas_platform.demo.seed import seed_demo

        engine = create_async_engine(url)
        try:
            assert await seed_demo(create_session_factory(engine))
        finally:
            await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(url)
        asyncio.run(seed())
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="package")
def base_url(e2e_database_url: str) -> Iterator[str]:
    """One app process (uvicorn) on a free port of 127.0.0.1."""
    with app_servers(e2e_database_url) as (url,):
        yield url


@pytest.fixture(scope="package")
def browser(base_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
