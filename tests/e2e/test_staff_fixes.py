"""Staff pages in Chromium: the theme board on a laptop and under the CSP, the admin's slug."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages import SLUG, drag, log_in

LAPTOP = {"width": 1366, "height": 768}
TALL = {"width": 1366, "height": 1400}

# Collects the page's Content-Security-Policy violations from the first script on.
LISTEN_FOR_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(
    event.violatedDirective + " " + event.sourceFile + ":" + event.columnNumber
  );
});
"""

PageFor = Callable[[str, dict[str, int]], Page]


@pytest.fixture(scope="module")
def page_for(browser: Browser, base_url: str) -> Iterator[PageFor]:
    contexts = []

    def get(who: str, viewport: dict[str, int]) -> Page:
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(10_000)
        context.add_init_script(LISTEN_FOR_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        log_in(page, base_url, who)
        return page

    yield get
    for context in contexts:
        context.close()


def new_theme(page: Page, title: str) -> None:
    page.fill("#theme-title", title)
    page.click("form.new-theme button[type=submit]")
    expect(page.locator(".board-column h2 a", has_text=title)).to_have_count(1)


def settle(page: Page) -> None:
    """Wait for the live update that follows each change (it swaps the whole board)."""
    time.sleep(1)


def test_dragging_a_card_breaks_no_content_security_policy(
    page_for: PageFor, base_url: str
) -> None:
    page = page_for("moderator@example.org", TALL)
    page.goto(f"{base_url}/processes/{SLUG}/board")
    title = "Thema CSP " + uuid.uuid4().hex[:4]
    new_theme(page, title)
    column = page.locator(".board-column", has=page.locator("h2 a", has_text=title))
    settle(page)
    card = page.locator(".board-column").first.locator(".idea-card").first
    idea_id = card.get_attribute("data-idea-id")
    drag(page, card, column.locator(".theme-cards"))
    expect(column.locator(f"#idea-{idea_id}")).to_be_visible(timeout=5_000)
    settle(page)
    # a second drag, between themes, once the board was swapped in
    first_theme = page.locator(".board-column").nth(1)
    if first_theme.locator("h2 a").inner_text() != title:
        drag(page, column.locator(f"#idea-{idea_id}"), first_theme.locator(".theme-cards"))
        expect(first_theme.locator(f"#idea-{idea_id}")).to_be_visible(timeout=5_000)
    settle(page)
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], violations


def test_the_board_fits_a_laptop_screen(page_for: PageFor, base_url: str) -> None:
    page = page_for("moderator@example.org", LAPTOP)
    page.goto(f"{base_url}/processes/{SLUG}/board")
    if page.locator(".board-column").count() < 2:
        new_theme(page, "Thema Laptop " + uuid.uuid4().hex[:4])
        page.goto(f"{base_url}/processes/{SLUG}/board")
    # the tools do not push the board down: suggestions folded, the new theme in one row
    expect(page.locator("details.board-tool")).not_to_have_attribute("open", "")
    expect(page.locator("#theme-title")).to_be_visible()
    unsorted, first_theme = (
        page.locator(".board-column").nth(0),
        page.locator(".board-column").nth(1),
    )
    # "Unsorted" says how many ideas wait and scrolls inside itself
    expect(unsorted.locator("h2")).to_contain_text("Ideen")
    cards = unsorted.locator(".theme-cards")
    assert cards.evaluate("list => list.scrollHeight > list.clientHeight")
    # the first theme is on screen without scrolling
    heading = first_theme.locator("h2").bounding_box()
    assert heading is not None and heading["y"] + heading["height"] <= LAPTOP["height"], heading
    assert page.evaluate("window.scrollY") == 0
    # themes stand side by side, not below each other
    if page.locator(".board-column").count() > 2:
        second = page.locator(".board-column").nth(2).bounding_box()
        assert second is not None and abs(second["y"] - first_theme.bounding_box()["y"]) < 2


def test_the_slug_follows_the_title_until_the_admin_edits_it(
    page_for: PageFor, base_url: str
) -> None:
    page = page_for("admin@example.org", LAPTOP)
    page.goto(f"{base_url}/admin/processes/new")
    page.locator("#title").press_sequentially("Größere Übergänge für Straßen, 2030!")
    expect(page.locator("#slug")).to_have_value("groessere-uebergaenge-fuer-strassen-2030")
    page.fill("#slug", "mein-prozess")
    page.locator("#title").press("End")
    page.locator("#title").press_sequentially(" neu")
    expect(page.locator("#slug")).to_have_value("mein-prozess")
    # emptied again, the slug follows the title once more
    page.fill("#slug", "")
    page.locator("#title").press("End")
    page.locator("#title").press_sequentially("x")
    expect(page.locator("#slug")).to_have_value("groessere-uebergaenge-fuer-strassen-2030-neux")
    assert page.evaluate("window.__cspViolations") == []
