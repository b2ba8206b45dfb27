"""Accessibility in Chromium: axe-core on every main page (desktop and phone width, as the
role that sees the page), labels on every form control, and keyboard-only voting and sorting.

axe-core is vendored (tests/e2e/vendor) and injected by Playwright; the contexts bypass the
app's Content-Security-Policy for that injection only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.pages import SLUG, log_in, register

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = {"serious", "critical"}

# (who sees it, path); "{theme}" and "{event}" are filled in from the seeded demo
PAGES = [
    ("anonymous", "/"),
    ("anonymous", f"/processes/{SLUG}"),
    ("anonymous", f"/processes/{SLUG}/ideas"),
    ("anonymous", "/ideas/1"),
    ("anonymous", f"/processes/{SLUG}/board"),
    ("anonymous", "/join"),
    ("anonymous", "/login"),
    ("anonymous", "/register"),
    ("participant", f"/processes/{SLUG}/ideas"),
    ("participant", "/ideas/2"),
    ("participant", f"/processes/{SLUG}/ideas/new"),
    ("participant", f"/processes/{SLUG}/board"),
    ("participant", "{event}"),
    ("participant", "/profile"),
    ("moderator@example.org", "{theme}"),
    ("moderator@example.org", f"/processes/{SLUG}/board"),
    ("moderator@example.org", f"/processes/{SLUG}/ranking"),
    ("moderator@example.org", f"/processes/{SLUG}/shortlist"),
    ("moderator@example.org", "/moderation"),
    ("moderator@example.org", f"/moderation/processes/{SLUG}/duplicates"),
    ("moderator@example.org", "/moderation/reports"),
    ("moderator@example.org", "/moderation/audit"),
    ("ministry@example.org", f"/processes/{SLUG}/ranking"),
    ("ministry@example.org", f"/processes/{SLUG}/shortlist"),
    ("admin@example.org", "/admin"),
    ("admin@example.org", "/admin/processes/new"),
]
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}

PageFor = Callable[[str, str], Page]


@pytest.fixture(scope="module")
def page_for(browser: Browser, base_url: str, e2e_database_url: str) -> Iterator[PageFor]:
    """page_for(who, width): a page per role and width, logged in, that lets axe in."""
    pages: dict[tuple[str, str], Page] = {}
    contexts = []

    def get(who: str, width: str) -> Page:
        if (who, width) not in pages:
            context = browser.new_context(viewport=WIDTHS[width], bypass_csp=True)
            context.set_default_timeout(10_000)
            contexts.append(context)
            page = context.new_page()
            if who == "participant":
                suffix = uuid.uuid4().hex[:8]
                register(
                    page,
                    base_url,
                    f"barrierefrei.{suffix}@example.org",
                    f"Barrierefrei {suffix}",
                    "Werkbank-Sachsen-2030",
                    database_url=e2e_database_url,
                )
            elif who != "anonymous":
                log_in(page, base_url, who)
            pages[who, width] = page
        return pages[who, width]

    yield get
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def placeholders(page_for: PageFor, base_url: str) -> dict[str, str]:
    """A theme (created on the board if the demo has none yet) and a workshop page."""
    page = page_for("moderator@example.org", "desktop")
    page.goto(f"{base_url}/processes/{SLUG}/board")
    links = page.locator(".board-column h2 a[href^='/themes/']")
    if links.count() == 0:
        page.fill("#theme-title", "Barrierefreiheit")
        page.click("form.new-theme button[type=submit]")
        expect(links.first).to_be_visible()
    theme = str(links.first.get_attribute("href"))
    page.goto(f"{base_url}/processes/{SLUG}")
    event = page.locator("a[href^='/events/']").first.get_attribute("href")
    return {"theme": theme, "event": str(event)}


def axe_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
            found.append(
                f"{violation['impact']}: {violation['id']} ({violation['help']}) "
                f"on {len(violation['nodes'])} node(s): {targets}"
            )
    return found


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize(("who", "path"), PAGES, ids=[f"{w.split('@')[0]}:{p}" for w, p in PAGES])
def test_no_serious_axe_violation(
    page_for: PageFor, placeholders: dict[str, str], base_url: str, who: str, path: str, width: str
) -> None:
    page = page_for(who, width)
    url = base_url + (placeholders[path.strip("{}")] if path.startswith("{") else path)
    response = page.goto(url)
    assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
    violations = axe_violations(page)
    # reflow (WCAG 1.4.10): nothing makes the page wider than the screen
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        violations.append(f"the page is {overflow}px wider than the screen")
    assert not violations, f"{who} {path} ({width}):\n" + "\n".join(violations)
    # every form control a person can use has a label (axe checks names; this checks <label>
    # or aria-label/aria-labelledby, as the issue asks)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden' && el.type !== 'submit')
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby'))
            .map(el => el.outerHTML.slice(0, 120))"""
    )
    assert not unlabelled, f"{who} {path}: form controls without a label: {unlabelled}"


def test_keyboard_only_vote(page_for: PageFor, base_url: str) -> None:
    """Tab to the first "Support" button of the list, press Enter: the count goes up."""
    page = page_for("participant", "desktop")
    page.goto(f"{base_url}/processes/{SLUG}/ideas")
    widget = page.locator(".vote:has(form button[aria-pressed=false])").first
    widget_id = widget.get_attribute("id")
    count = int(widget.locator(".vote-count strong").inner_text())
    target = f"#{widget_id} form button"
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector('{target}')"):
            break
    else:
        pytest.fail("the Support button cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(page.locator(f"#{widget_id} .vote-count strong")).to_have_text(str(count + 1))
    expect(page.locator(f"#{widget_id} button[aria-pressed=true]")).to_be_visible()


def test_keyboard_only_move_to_theme(
    page_for: PageFor, placeholders: dict[str, str], base_url: str
) -> None:
    """Tab to a card's "move to theme" select, pick a theme with the arrow keys: it moves."""
    page = page_for("moderator@example.org", "desktop")
    page.goto(f"{base_url}/processes/{SLUG}/board")
    card = page.locator(".board-column").first.locator(".idea-card").first
    idea_id = card.get_attribute("data-idea-id")
    select = f"#move-{idea_id}"
    for _ in range(300):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector('{select}')"):
            break
    else:
        pytest.fail("the move-to-theme select cannot be reached with Tab")
    page.keyboard.press("ArrowDown")  # from "Unsorted" to the first theme
    theme = page.locator(".board-column").nth(1)
    expect(theme.locator(f"#idea-{idea_id}")).to_be_visible()
    assert re.match(r"/themes/\d+", str(theme.locator("h2 a").get_attribute("href")))
