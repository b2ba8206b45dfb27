"""Screenshots of the main pages (desktop and phone width) into docs/screenshots/.

Usage: `make screenshots` (serves the demo on the embedded PostgreSQL, drives Debian's Chromium).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PORT = 8790
BASE = f"http://127.0.0.1:{PORT}"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PAGES = [
    ("process", "/processes/industrie-der-zukunft"),
    ("ideas", "/processes/industrie-der-zukunft/ideas"),
    ("idea", "/ideas/1"),
    ("submit", "/processes/industrie-der-zukunft/ideas/new"),
    ("board", "/processes/industrie-der-zukunft/board"),
    ("duplicates", "/moderation/processes/industrie-der-zukunft/duplicates"),
    ("audit", "/moderation/audit"),
]


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


def merge_first_duplicate_pair(page: Page) -> None:
    """As a moderator would: merge the most similar pair of the queue (fills the audit log)."""
    page.goto(BASE + "/moderation/processes/industrie-der-zukunft/duplicates")
    form = page.locator(".duplicate-pair form.form").first
    form.locator("input[name=note]").fill("Gleicher Vorschlag, zusammengeführt.")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.screenshot(path=str(OUT / "merged-desktop.png"), full_page=False)


def main() -> None:
    data_dir = tempfile.mkdtemp(prefix="ideas-shots-")
    env = {**os.environ, "DATA_DIR": data_dir}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "ideas_platform.cli", "serve", "--seed", "--port", str(PORT)],
        env=env,
    )
    try:
        wait_until_up(BASE + "/")
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for width_name, viewport in (("desktop", (1280, 900)), ("phone", (390, 844))):
                page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
                page.goto(BASE + "/login")
                page.fill("#email", "moderator@example.org")
                page.fill("#password", "demo-passwort-2026")
                with page.expect_navigation():
                    page.click("form.form button[type=submit]")
                if width_name == "desktop":
                    merge_first_duplicate_pair(page)
                for name, path in PAGES:
                    page.goto(BASE + path)
                    page.screenshot(path=str(OUT / f"{name}-{width_name}.png"), full_page=False)
                # Similar ideas appear while a participant types a new one.
                page.goto(BASE + "/processes/industrie-der-zukunft/ideas/new")
                page.fill("#title", "Gründerzentrum in einer Mittelstadt")
                page.locator("#title").dispatch_event("input")
                page.wait_for_selector("#similar-ideas .similar-list")
                page.locator("#similar-ideas").scroll_into_view_if_needed()
                page.screenshot(path=str(OUT / f"similar-{width_name}.png"), full_page=False)
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        stop_postgres(Path(data_dir) / "pgdata")
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
