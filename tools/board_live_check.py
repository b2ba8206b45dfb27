"""The cluster board in two real browser windows, against the demo served by 2 workers.

The moderator asks for suggested themes (k=6), accepts two, then drags an idea into a theme;
the second window (a participant who just registered, possibly served by another worker) must
show the card in its new column without a reload. Then the moderator locks the theme and the
participant's drag into it must be refused: the reason shown, the card back where it was.
Writes docs/screenshots/suggestions-desktop.png and
board-themes-desktop.png.

Usage: `make board-check` (needs Debian's chromium and the `e2e` extra).
"""

import sys
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools._common import (
    SLUG,
    base_url,
    demo_server,
    drag,
    embedded_database_url,
    launch,
    log_in,
    register,
    screenshot,
)

PORT = 8791
BASE = base_url(PORT)
BOARD = f"{BASE}/processes/{SLUG}/board"


def window(browser: Browser) -> Page:
    return browser.new_context(viewport={"width": 1400, "height": 900}).new_page()


def main() -> None:
    with demo_server(PORT, prefix="board-e2e-", workers=2) as data_dir, sync_playwright() as p:
        browser = launch(p)
        mod = window(browser)
        log_in(mod, BASE, "moderator@example.org")
        other = window(browser)  # a participant; the cluster phase of the demo is open
        register(
            other,
            BASE,
            "teilnehmerin.board@example.org",
            "Teilnehmerin Board",
            "Themenwand-Probe-2026",
            database_url=embedded_database_url(data_dir),
        )
        # moderator asks for suggestions with k=6, waits, accepts two
        mod.goto(BOARD)
        mod.click("details.board-tool summary")  # the suggestion form is folded away
        mod.fill("#k", "6")
        with mod.expect_navigation():
            mod.click("text=Themen vorschlagen >> nth=-1")
        mod.wait_for_selector("form[action$='/accept']", timeout=60000)
        screenshot(mod, "suggestions-desktop")
        print("suggestions shown")
        for _ in range(2):
            with mod.expect_navigation():
                mod.locator("form[action$='/accept'] button").first.click()
        mod.goto(BOARD)
        other.goto(BOARD)
        time.sleep(1.5)
        first_card = mod.locator(".board-column").nth(0).locator(".idea-card").first
        idea_id = first_card.get_attribute("data-idea-id")
        target = mod.locator(".board-column").nth(1).locator(".theme-cards")
        drag(mod, first_card, target)
        mod.wait_for_selector(f".board-column:nth-child(2) #idea-{idea_id}", timeout=5000)
        print("drag and drop moved the card in the moderator's window")
        # the other window (another worker, perhaps) shows the card in the theme column
        other.wait_for_selector(f".board-column:nth-child(2) #idea-{idea_id}", timeout=10000)
        print("live update seen in the other window for idea", idea_id)
        mod.evaluate("window.scrollTo(0, 0)")
        screenshot(mod, "board-themes-desktop")

        # The moderator locks that theme; the participant's drag into it is refused: the card
        # goes back and the reason is shown.
        theme_href = mod.locator(".board-column").nth(1).locator("h2 a").get_attribute("href")
        mod.goto(BASE + str(theme_href))
        with mod.expect_navigation():
            mod.locator("form[action$='/lock'] button").click()
        other.goto(BOARD)
        time.sleep(1.5)
        card = other.locator(".board-column").nth(0).locator(".idea-card").first
        refused_id = card.get_attribute("data-idea-id")
        drag(other, card, other.locator(".board-column").nth(1).locator(".theme-cards"))
        other.wait_for_selector("#board-message .field-error, #board-message [role=alert]")
        print("refused drag: message shown:", other.inner_text("#board-message").strip()[:80])
        other.wait_for_selector(f".board-column:nth-child(1) #idea-{refused_id}", timeout=5000)
        print("refused drag: the card is back in the unsorted column")
        browser.close()


if __name__ == "__main__":
    main()
