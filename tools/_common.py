"""What the browser walk-throughs in tools/ share: the demo served on a throw-away embedded
PostgreSQL, Debian's Chromium, logging in and registering as a person would, screenshots."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from playwright.sync_api import Browser, Locator, Page, Playwright

from ideas_platform.demo.seed import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SLUG = "industrie-der-zukunft"


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def stop_postgres(pgdata: Path) -> None:
    """`serve` leaves its embedded PostgreSQL running; stop this throw-away one (fast mode)."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    os.kill(pid, signal.SIGINT)
    for _ in range(100):
        if not pid_file.exists():
            return
        time.sleep(0.1)


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own local server
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"server at {url} did not come up")


def serve_command(port: int, workers: int | None = None) -> list[str]:
    """`ideas-platform serve --seed` on `port` (the demo, on the embedded PostgreSQL)."""
    command = [sys.executable, "-m", "ideas_platform.cli", "serve", "--seed", "--port", str(port)]
    return command + (["--workers", str(workers)] if workers else [])


@contextmanager
def demo_server(
    port: int, *, prefix: str, workers: int | None = None, **env: str
) -> Iterator[Path]:
    """The demo served on 127.0.0.1:`port` from a fresh data folder (answered), with `env` on
    top of this process's environment; once it serves pages. Afterwards the server and its
    PostgreSQL are stopped and the folder is removed."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    server_env = {**os.environ, "DATA_DIR": str(data_dir), **env}
    server_env.pop("DATABASE_URL", None)
    server = subprocess.Popen(serve_command(port, workers), env=server_env)  # noqa: S603 - our app
    try:
        wait_until_up(base_url(port) + "/")
        yield data_dir
    finally:
        server.terminate()
        server.wait(timeout=10)
        stop_postgres(data_dir / "pgdata")
        shutil.rmtree(data_dir, ignore_errors=True)


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def log_in(page: Page, base: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """The login form filled in and sent, as a person would (a demo account by default)."""
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")


def register(
    page: Page, base: str, email: str, name: str, password: str, *, database_url: str
) -> None:
    """The registration form filled in (first sector and region, the terms agreed) and sent;
    then the link of the confirmation mail opened and confirmed, which logs the page in. The
    mail is read from the outbox in `database_url`, as the mailbox would receive it."""
    page.goto(base + "/register")
    page.fill("#email", email)
    page.fill("#display_name", name)
    page.fill("#password", password)
    page.select_option("#sector", index=1)
    page.select_option("#region", index=1)
    page.check("#accepted_terms")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    page.goto(base + mailed_path(database_url, email, "/account/confirm/"))
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def mailed_path(database_url: str, address: str, route: str) -> str:
    """The path of the `route` link in the newest mail to `address` in the outbox."""
    from ideas_platform.core.database import asyncpg_dsn

    async def newest_body() -> str | None:
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            body: str | None = await conn.fetchval(
                "SELECT body_text FROM outbox_mails WHERE to_address = $1 ORDER BY id DESC LIMIT 1",
                address.lower(),
            )
            return body
        finally:
            await conn.close()

    # Playwright's sync API keeps its own event loop marked as running in this thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        body = pool.submit(asyncio.run, newest_body()).result()
    found = re.search(r"https?://[^/\s]+(" + re.escape(route) + r"\S+)", body or "")
    if found is None:
        raise AssertionError(f"no {route} link in a mail to {address}")
    return found.group(1)


def embedded_database_url(data_dir: Path) -> str:
    """The URL of the embedded PostgreSQL that `demo_server` started in `data_dir`."""
    from ideas_platform.core.embedded_pg import start_embedded

    return start_embedded(data_dir / "pgdata")


def drag(page: Page, card: Locator, target: Locator) -> None:
    """A drag as a hand makes it: press, move in steps, release."""
    start, end = card.bounding_box(), target.bounding_box()
    assert start and end
    x0, y0 = start["x"] + 20, start["y"] + 10
    x1, y1 = end["x"] + 30, end["y"] + 20
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x0 + (x1 - x0) * step / 20, y0 + (y1 - y0) * step / 20)
        time.sleep(0.02)
    page.mouse.up()


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """docs/screenshots/`name`.png"""
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
