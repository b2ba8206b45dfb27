"""A workshop in Chromium: a phone (390x844) sees the ideas to give dots to without scrolling
while the room votes; the projector's people count follows a join within ~2 s; the timer's
label ends with the mode it was started for. The test makes its own event (the demo's stay)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.pages import SLUG, log_in


@pytest.fixture(scope="module")
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def _page(browser: Browser, contexts: list[BrowserContext], viewport: dict[str, int]) -> Page:
    phone = viewport == PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    context.set_default_timeout(10_000)
    contexts.append(context)
    return context.new_page()


@pytest.fixture(scope="module")
def moderator(browser: Browser, base_url: str, contexts: list[BrowserContext]) -> Page:
    page = _page(browser, contexts, DESKTOP)
    log_in(page, base_url, "moderator@example.org")
    return page


@pytest.fixture(scope="module")
def event(moderator: Page, base_url: str) -> tuple[str, str]:
    """(the event's URL, its join code): a new workshop with 3 dots per person."""
    moderator.goto(f"{base_url}/processes/{SLUG}/events/new")
    moderator.fill("#title", f"Werkstatt Handy {uuid.uuid4().hex[:6]}")
    moderator.fill("#starts_at", (datetime.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    moderator.fill("#dot_budget", "3")
    with moderator.expect_navigation():
        moderator.click("form.form button[type=submit]")
    assert re.search(r"/events/\d+$", moderator.url), moderator.url
    return moderator.url, moderator.locator(".join-code").first.inner_text().strip()


def _join(page: Page, base_url: str, code: str, name: str) -> None:
    page.goto(f"{base_url}/join/{code}")
    page.fill("#display_name", name)
    page.select_option("#sector", index=1)
    page.select_option("#region", index=1)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")


def _switch_mode(moderator: Page, url: str, mode: str) -> None:
    moderator.goto(url)
    with moderator.expect_navigation():
        moderator.click(f"form[action$='/mode'] button[value={mode}]")


def _people(projector: Page) -> int:
    text = projector.locator(".live-figures").inner_text()
    return int(re.match(r"\s*(\d+)", text).group(1))  # type: ignore[union-attr]


def test_the_projector_counts_a_join_within_two_seconds(
    browser: Browser, base_url: str, contexts: list[BrowserContext], moderator: Page, event
) -> None:
    url, code = event
    projector = _page(browser, contexts, DESKTOP)
    log_in(projector, base_url, "moderator@example.org")
    projector.goto(url + "/live")
    before = _people(projector)
    _join(_page(browser, contexts, PHONE), base_url, code, "Mira aus Meißen")
    expect(projector.locator(".live-figures")).to_contain_text(f"{before + 1} ", timeout=2_500)


def test_in_dot_voting_the_ideas_come_first_on_a_phone(
    browser: Browser, base_url: str, contexts: list[BrowserContext], moderator: Page, event
) -> None:
    url, code = event
    phone = _page(browser, contexts, PHONE)
    _join(phone, base_url, code, "Timo aus Torgau")
    for title in ("Lastenräder für den Lieferverkehr", "Solardächer auf Gewerbehallen"):
        phone.fill("#title", title)
        phone.fill("#body", "Aus dem Workshop, kurz beschrieben.")
        with phone.expect_navigation():
            phone.click("#submit-heading ~ form button[type=submit]")
    phone.goto(url)
    # Collecting: the form is on top, as before.
    assert _top(phone, "#submit-heading") < _top(phone, "#ideas-heading")

    _switch_mode(moderator, url, "vote")
    phone.goto(url)
    first_dot = phone.locator("#ideas .vote button[type=submit]").first
    expect(first_dot).to_be_visible()
    box = first_dot.bounding_box()
    assert box and box["y"] + box["height"] <= PHONE["height"], f"dot below the fold: {box}"
    assert _top(phone, "#ideas-heading") < _top(phone, "#submit-heading")
    # A dot given from the top of the page counts.
    first_dot.click()
    expect(phone.locator("#ideas .vote").first).to_contain_text("1")
    _switch_mode(moderator, url, "collect")


def test_the_timer_label_follows_the_mode(
    browser: Browser, base_url: str, contexts: list[BrowserContext], moderator: Page, event
) -> None:
    url, _ = event
    _switch_mode(moderator, url, "vote")
    moderator.fill("#timer-minutes", "5")
    moderator.fill("#timer-label", "Punkte vergeben")
    with moderator.expect_navigation():
        moderator.click("form[action$='/timer'] button[type=submit]")
    projector = _page(browser, contexts, DESKTOP)
    log_in(projector, base_url, "moderator@example.org")
    projector.goto(url + "/live")
    expect(projector.locator(".live-timer")).to_contain_text("Punkte vergeben")
    _switch_mode(moderator, url, "results")
    # The projector hears the change and shows the results without the voting's timer.
    expect(projector.locator(".live-bar")).to_have_attribute("data-mode", "results")
    expect(projector.locator(".live-timer")).to_have_count(0)
    expect(projector.locator("#live-state")).not_to_contain_text("Punkte vergeben")
    _switch_mode(moderator, url, "collect")


def _top(page: Page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box, selector
    return box["y"]
