"""The cluster board in two real browser windows, against the demo served by 2 workers.

The moderator asks for suggested themes (k=6), accepts two, then drags an idea into a theme;
the second window (a participant who just registered, possibly served by another worker) must
show the card in its new column without a reload. Then the moderator locks the theme and the
participant's drag into it must be refused: the reason shown, the card back where it was.
Writes docs/screenshots/suggestions-desktop.png and
board-themes-desktop.png.

Usage: `make board-check` (needs Debian's chromium and the `e2e` extra).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools.screenshots import OUT, stop_postgres, wait_until_up

PORT = 8791
BASE = f"http://127.0.0.1:{PORT}"
data_dir = tempfile.mkdtemp(prefix="board-e2e-")
env = {**os.environ, "DATA_DIR": data_dir}
env.pop("DATABASE_URL", None)
server = subprocess.Popen(  # noqa: S603 - our own app
    [
        sys.executable,
        "-m",
        "ideas_platform.cli",
        "serve",
        "--seed",
        "--port",
        str(PORT),
        "--workers",
        "2",
    ],
    env=env,
)


def drag(page: object, card: object, target: object) -> None:
    """A drag as a hand makes it: press, move in steps, release."""
    start, end = card.bounding_box(), target.bounding_box()  # type: ignore[attr-defined]
    assert start and end
    page.mouse.move(start["x"] + 20, start["y"] + 10)  # type: ignore[attr-defined]
    page.mouse.down()  # type: ignore[attr-defined]
    for step in range(1, 21):
        page.mouse.move(  # type: ignore[attr-defined]
            start["x"] + 20 + (end["x"] + 30 - start["x"] - 20) * step / 20,
            start["y"] + 10 + (end["y"] + 20 - start["y"] - 10) * step / 20,
        )
        time.sleep(0.02)
    page.mouse.up()  # type: ignore[attr-defined]


try:
    wait_until_up(BASE + "/")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])

        def logged_in(email):
            ctx = browser.new_context(viewport={"width": 1400, "height": 900})
            page = ctx.new_page()
            page.goto(BASE + "/login")
            page.fill("#email", email)
            page.fill("#password", "demo-passwort-2026")
            with page.expect_navigation():
                page.click("form.form button[type=submit]")
            return page

        def registered() -> object:
            ctx = browser.new_context(viewport={"width": 1400, "height": 900})
            page = ctx.new_page()
            page.goto(BASE + "/register")
            page.fill("#email", "teilnehmerin.board@example.org")
            page.fill("#display_name", "Teilnehmerin Board")
            page.fill("#password", "Themenwand-Probe-2026")
            page.select_option("#sector", index=1)
            page.select_option("#region", index=1)
            page.check("#accepted_terms")
            with page.expect_navigation():
                page.click("form.form button[type=submit]")
            return page

        mod = logged_in("moderator@example.org")
        other = registered()  # a participant; the cluster phase of the demo is open
        slug = "industrie-der-zukunft"
        # moderator asks for suggestions with k=6, waits, accepts two
        mod.goto(BASE + f"/processes/{slug}/board")
        mod.fill("#k", "6")
        with mod.expect_navigation():
            mod.click("text=Themen vorschlagen >> nth=-1")
        mod.wait_for_selector("form[action$='/accept']", timeout=60000)
        mod.screenshot(path=str(OUT / "suggestions-desktop.png"))
        print("suggestions shown")
        for _ in range(2):
            with mod.expect_navigation():
                mod.locator("form[action$='/accept'] button").first.click()
        mod.goto(BASE + f"/processes/{slug}/board")
        other.goto(BASE + f"/processes/{slug}/board")
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
        mod.screenshot(path=str(OUT / "board-themes-desktop.png"))

        # The moderator locks that theme; the participant's drag into it is refused: the card
        # goes back and the reason is shown.
        theme_href = mod.locator(".board-column").nth(1).locator("h2 a").get_attribute("href")
        mod.goto(BASE + str(theme_href))
        with mod.expect_navigation():
            mod.locator("form[action$='/lock'] button").click()
        other.goto(BASE + f"/processes/{slug}/board")
        time.sleep(1.5)
        card = other.locator(".board-column").nth(0).locator(".idea-card").first
        refused_id = card.get_attribute("data-idea-id")
        drag(other, card, other.locator(".board-column").nth(1).locator(".theme-cards"))
        other.wait_for_selector("#board-message .field-error, #board-message [role=alert]")
        print("refused drag: message shown:", other.inner_text("#board-message").strip()[:80])
        other.wait_for_selector(f".board-column:nth-child(1) #idea-{refused_id}", timeout=5000)
        print("refused drag: the card is back in the unsorted column")
        browser.close()
finally:
    server.terminate()
    server.wait(timeout=10)
    stop_postgres(Path(data_dir) / "pgdata")
    shutil.rmtree(data_dir, ignore_errors=True)
