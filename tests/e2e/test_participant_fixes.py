"""What a new participant ran into, in Chromium at desktop and phone width: failed htmx requests
that said nothing, a one-click withdraw, typed searches outside the URL and empty results
without help, the phone's filter and long German words, the focus after voting, and the
profile's API hint. Every idea changed here is the test's own; the demo's stay as they are.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.pages import SLUG, register

LONG_WORD = "Ingenieurausbildungsstättenmodernisierungsförderprogramm"


def new_participant(
    browser: Browser, base_url: str, e2e_database_url: str, *, js: bool = True
) -> BrowserContext:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=js)
    context.set_default_timeout(10_000)
    page = context.new_page()
    suffix = uuid.uuid4().hex[:8]
    register(
        page,
        base_url,
        f"neugierig.{suffix}@example.org",
        f"Neugierig {suffix}",
        "Werkbank-Sachsen-2030",
        database_url=e2e_database_url,
    )
    page.close()
    return context


def submit_idea(page: Page, base_url: str, title: str, body: str) -> str:
    """Publishes an idea through the form (past the "similar ideas" step if one comes)."""
    page.goto(f"{base_url}/processes/{SLUG}/ideas/new")
    page.fill("#title", title)
    page.fill("#body", body)
    with page.expect_navigation():
        # the last one: the suggestions inside the form bring their own "Support" buttons
        page.locator("#idea-form button[type=submit]").last.click()
    if not re.search(r"/ideas/\d+$", page.url):
        with page.expect_navigation():
            page.locator(f"form[action='/processes/{SLUG}/ideas'] button[type=submit]").click()
    assert re.search(r"/ideas/\d+$", page.url), page.url
    return page.url


@pytest.fixture(scope="module")
def participant(browser: Browser, base_url: str, e2e_database_url: str) -> Iterator[BrowserContext]:
    context = new_participant(browser, base_url, e2e_database_url)
    yield context
    context.close()


@pytest.fixture(scope="module")
def own_idea(participant: BrowserContext, base_url: str) -> str:
    """A published idea of the participant, with a long German word in title and text."""
    page = participant.new_page()
    url = submit_idea(
        page,
        base_url,
        f"{LONG_WORD} für Sachsen {uuid.uuid4().hex[:6]}",
        f"Ein {LONG_WORD} soll Werkstätten der Hochschulen und Berufsschulen erneuern.",
    )
    page.close()
    return url


def test_refused_comment_shows_the_servers_message(
    participant: BrowserContext, base_url: str
) -> None:
    """The idea is withdrawn in one tab while the other still shows the comment form."""
    here = participant.new_page()
    idea_url = submit_idea(
        here,
        base_url,
        f"Zurückzuziehende Idee {uuid.uuid4().hex[:6]}",
        "Eine Idee, die gleich wieder zurückgezogen wird, weil sie doppelt ist.",
    )
    there = participant.new_page()
    there.goto(idea_url)
    here.locator(f"a[href='{idea_url.removeprefix(base_url)}/withdraw']").click()
    with here.expect_navigation():
        here.locator("form[action$='/withdraw'] button[type=submit]").click()

    there.fill("#comment-body", "Ein Kommentar zu spät")
    there.locator("#comments > form button[type=submit]").click()
    message = there.locator("#comments .htmx-error[role=alert]")
    expect(message).to_have_text("Kommentare sind nur zu veröffentlichten Ideen möglich.")
    expect(message).to_be_in_viewport()
    # reloaded, the page offers no form that must fail, and says why
    there.reload()
    expect(there.locator("#comment-body")).to_have_count(0)
    expect(there.locator(".comments-closed")).to_be_visible()
    here.close()
    there.close()


def test_failed_request_without_a_message_says_so(
    participant: BrowserContext, own_idea: str
) -> None:
    """No connection, or an answer that is not the app's own (a proxy's error page): a
    translated generic message next to the form."""
    page = participant.new_page()
    page.goto(own_idea)
    body = page.locator("body")
    network, server = (
        body.get_attribute("data-error-network"),
        body.get_attribute("data-error-server"),
    )
    assert network and server
    message = page.locator("#comments .htmx-error[role=alert]")

    page.route("**/comments", lambda route: route.abort())
    page.fill("#comment-body", "Kommt nie an")
    page.locator("#comments > form button[type=submit]").click()
    expect(message).to_have_text(network)
    expect(message).to_be_in_viewport()
    page.unroute("**/comments")

    proxy_page = "<html><body><h1>502 Bad Gateway</h1>" + "<p>upstream</p>" * 200 + "</body></html>"
    page.route(
        "**/comments",
        lambda route: route.fulfill(status=502, content_type="text/html", body=proxy_page),
    )
    page.locator("#comments > form button[type=submit]").click()
    expect(message).to_have_text(server)
    expect(message).to_have_count(1)  # one message per form, the newest
    page.unroute("**/comments")
    expect(page.locator("#comments .comment")).to_have_count(0)  # nothing was posted
    page.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_withdraw_asks_first(
    browser: Browser, base_url: str, e2e_database_url: str, js: bool
) -> None:
    context = new_participant(browser, base_url, e2e_database_url, js=js)
    page = context.new_page()
    idea_url = submit_idea(
        page,
        base_url,
        f"Idee mit Bedenkzeit {uuid.uuid4().hex[:6]}",
        "Eine Idee, deren Autorin sich das Zurückziehen noch einmal überlegt.",
    )
    path = idea_url.removeprefix(base_url)
    withdraw = page.locator(f"a[href='{path}/withdraw']")
    withdraw.click()
    page.wait_for_url(f"**{path}/withdraw")
    confirm = page.locator("form[action$='/withdraw'] button[type=submit]")
    expect(confirm).to_be_visible()
    # changing one's mind keeps the idea as it was
    page.locator(f"main a[href='{path}']").last.click()
    page.wait_for_url(idea_url)
    expect(page.locator("#comment-body")).to_be_visible()
    withdraw.click()
    with page.expect_navigation():
        confirm.click()
    assert page.url.endswith(f"/processes/{SLUG}/ideas")
    expect(page.locator(".flash-success")).to_contain_text("zurückgezogen")
    page.goto(idea_url)
    expect(page.locator(f"a[href='{path}/withdraw']")).to_have_count(0)
    expect(page.locator(".comments-closed")).to_be_visible()
    context.close()


def test_typed_search_is_in_the_url_and_an_empty_result_helps(
    browser: Browser, base_url: str
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    list_url = f"{base_url}/processes/{SLUG}/ideas"
    page.goto(list_url)
    # pasted (an input event, no key pressed) ...
    page.fill("#q", "Wasserstoff")
    expect(page).to_have_url(re.compile(r"[?&]q=Wasserstoff(&|$)"))
    # ... and typed
    page.fill("#q", "")
    page.locator("#q").press_sequentially("Quantenzwiebel", delay=30)
    expect(page).to_have_url(re.compile(r"[?&]q=Quantenzwiebel(&|$)"))
    expect(page.locator(".result-count")).to_have_text("0 Ideen")
    empty = page.locator(".empty-result")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("Quantenzwiebel")
    # the URL is the view: opened again, it shows the same
    page.reload()
    expect(page.locator("#q")).to_have_value("Quantenzwiebel")
    expect(page.locator(".empty-result")).to_contain_text("Quantenzwiebel")
    page.locator(".empty-result a[href$='/ideas']").click()
    page.wait_for_url(list_url)
    expect(page.locator("#q")).to_have_value("")
    expect(page.locator(".ideas .idea").first).to_be_visible()
    context.close()


def test_phone_filter_folded_and_long_words_hyphenated(
    browser: Browser, base_url: str, own_idea: str
) -> None:
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base_url}/processes/{SLUG}/ideas")
    expect(page.locator("#q")).to_be_visible()
    expect(page.locator("#sort")).to_be_hidden()
    first_card = page.locator(".ideas .idea").first.bounding_box()
    assert first_card and first_card["y"] < PHONE["height"], "the filter fills the first screen"
    page.locator("details.filters-fold > summary").click()
    expect(page.locator("#region")).to_be_visible()
    # a filter in the URL: the filter shows what is set
    page.goto(f"{base_url}/processes/{SLUG}/ideas?region=dresden")
    expect(page.locator("#region")).to_be_visible()
    assert_no_horizontal_overflow(page)

    page.goto(own_idea)
    assert page.evaluate("document.documentElement.lang") == "de"
    for selector in ("h1", ".prose p"):
        element = page.locator(selector).first
        assert element.evaluate("e => getComputedStyle(e).hyphens") == "auto", selector
        assert element.evaluate("e => e.closest('[lang]').lang") == "de", selector
    assert_no_horizontal_overflow(page)

    # in English the page says so, and English words hyphenate as English
    page.locator(".lang-switch button").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "en"
    context.close()

    desktop = browser.new_context(viewport=DESKTOP)
    page = desktop.new_page()
    page.goto(f"{base_url}/processes/{SLUG}/ideas")
    expect(page.locator("#sort")).to_be_visible()  # open on a wide screen, no click needed
    desktop.close()


def assert_no_horizontal_overflow(page: Page) -> None:
    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert not too_wide, f"{page.url}: wider than the screen: {too_wide[:5]}"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_focus_stays_on_the_vote_button(participant: BrowserContext, own_idea: str) -> None:
    page = participant.new_page()
    page.goto(own_idea)
    widget = page.locator(".idea-detail .vote")
    count = int(widget.locator(".vote-count strong").inner_text())
    widget.locator("button[aria-pressed=false]").focus()
    page.keyboard.press("Enter")
    pressed = page.locator(".idea-detail .vote button[aria-pressed=true]")
    expect(pressed).to_be_focused()
    expect(widget.locator(".vote-count strong")).to_have_text(str(count + 1))
    # Enter again on the same spot takes the support back (once htmx has settled the new form,
    # some milliseconds later: a person is never that fast)
    page.wait_for_function("!document.querySelector('.htmx-added, .htmx-settling')")
    page.keyboard.press("Enter")
    expect(page.locator(".idea-detail .vote button[aria-pressed=false]")).to_be_focused()
    expect(page.locator(".idea-detail .vote .vote-count strong")).to_have_text(str(count))
    page.close()


def test_profile_shows_the_token_placeholder(participant: BrowserContext, base_url: str) -> None:
    page = participant.new_page()
    page.goto(f"{base_url}/profile")
    hint = page.locator("section[aria-labelledby=tokens-heading] > p").first
    expect(hint).to_contain_text("Authorization: Bearer <token>")
    page.close()
