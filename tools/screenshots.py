"""Screenshots of the main pages (desktop and phone width) into docs/screenshots/.

Usage: `make screenshots` (serves the demo on the embedded PostgreSQL, drives Debian's Chromium).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools._common import OUT, SLUG, base_url, demo_server, launch, log_in, screenshot

PORT = 8790
BASE = base_url(PORT)
PAGES = [
    ("process", f"/processes/{SLUG}"),
    ("ideas", f"/processes/{SLUG}/ideas"),
    ("idea", "/ideas/1"),
    ("submit", f"/processes/{SLUG}/ideas/new"),
    ("board", f"/processes/{SLUG}/board"),
    ("duplicates", f"/moderation/processes/{SLUG}/duplicates"),
    ("audit", "/moderation/audit"),
]


def merge_first_duplicate_pair(page: Page) -> None:
    """As a moderator would: merge the most similar pair of the queue (fills the audit log)."""
    page.goto(BASE + f"/moderation/processes/{SLUG}/duplicates")
    form = page.locator(".duplicate-pair form.form").first
    form.locator("input[name=note]").fill("Gleicher Vorschlag, zusammengeführt.")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    screenshot(page, "merged-desktop")


def main() -> None:
    with demo_server(PORT, prefix="ideas-shots-"):
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = launch(p)
            for width_name, viewport in (("desktop", (1280, 900)), ("phone", (390, 844))):
                page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
                log_in(page, BASE, "moderator@example.org")
                if width_name == "desktop":
                    merge_first_duplicate_pair(page)
                for name, path in PAGES:
                    page.goto(BASE + path)
                    screenshot(page, f"{name}-{width_name}")
                # Similar ideas appear while a participant types a new one.
                page.goto(BASE + f"/processes/{SLUG}/ideas/new")
                page.fill("#title", "Gründerzentrum in einer Mittelstadt")
                page.locator("#title").dispatch_event("input")
                page.wait_for_selector("#similar-ideas .similar-list")
                page.locator("#similar-ideas").scroll_into_view_if_needed()
                screenshot(page, f"similar-{width_name}")
                page.close()
            browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
