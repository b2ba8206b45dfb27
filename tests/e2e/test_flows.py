"""The main flows in Chromium, each with JavaScript on and off (progressive enhancement).

With JavaScript, votes, the board and the duplicate suggestions work in place (htmx, SortableJS);
without it, the same forms post and redirect, the board has a "move to theme" select and button,
and the duplicate check is a step after "Publish".
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP
from tests.e2e.pages import SLUG, drag, log_in, register

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
PageFor = Callable[[str, bool], Page]


@pytest.fixture(scope="module")
def page_for(browser: Browser, base_url: str, e2e_database_url: str) -> Iterator[PageFor]:
    """page_for(who, js): a logged-in page per (who, js), kept for the module. `who` is a demo
    login or "participant" (registered in the browser the first time)."""
    pages: dict[tuple[str, bool], Page] = {}
    contexts = []

    def get(who: str, js: bool) -> Page:
        if (who, js) not in pages:
            context = browser.new_context(
                viewport=DESKTOP, java_script_enabled=js, accept_downloads=True
            )
            context.set_default_timeout(10_000)
            contexts.append(context)
            page = context.new_page()
            if who == "participant":
                suffix = uuid.uuid4().hex[:8]
                register(
                    page,
                    base_url,
                    f"teilnehmerin.{suffix}@example.org",
                    f"Teilnehmerin {suffix}",
                    "Werkbank-Sachsen-2030",
                    database_url=e2e_database_url,
                )
            else:
                log_in(page, base_url, who)
            pages[who, js] = page
        return pages[who, js]

    yield get
    for context in contexts:
        context.close()


def mark_document(page: Page) -> None:
    """A marker on the window: it survives in-place updates and is gone after a navigation."""
    page.evaluate("window.__e2eMarker = 'still here'")


def assert_no_navigation(page: Page, url: str) -> None:
    assert page.url == url
    assert page.evaluate("window.__e2eMarker") == "still here", "the page was reloaded"


@JS
def test_register(browser: Browser, base_url: str, e2e_database_url: str, js: bool) -> None:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=js)
    context.set_default_timeout(10_000)
    page = context.new_page()
    suffix = uuid.uuid4().hex[:8]
    register(
        page,
        base_url,
        f"neu.{suffix}@example.org",
        f"Neu {suffix}",
        "Werkbank-Sachsen-2030",
        database_url=e2e_database_url,
    )
    expect(page.locator(".field-error")).to_have_count(0)
    # the mailed link logged in: the profile (login required) shows the account
    page.goto(base_url + "/profile")
    assert page.url == base_url + "/profile"
    expect(page.locator("main")).to_contain_text(f"neu.{suffix}@example.org")
    expect(page.locator(".nav-links a[href='/profile']")).to_have_text(f"Neu {suffix}")
    expect(page.locator("form[action='/logout'] button")).to_be_visible()
    context.close()


@JS
def test_submit_idea_with_duplicate_suggestions(page_for: PageFor, base_url: str, js: bool) -> None:
    page = page_for("participant", js)
    title = "Gründerzentrum in einer Mittelstadt" + (" mit Werkstatt" if js else " am Bahnhof")
    page.goto(f"{base_url}/processes/{SLUG}/ideas/new")
    page.fill("#title", title)
    page.fill(
        "#body",
        "Ein Gründerzentrum mit Werkstätten und Beratung für junge Unternehmen der Region.",
    )
    if js:
        # while typing, similar ideas appear under the form, each with a "Support" button
        suggestions = page.locator("#similar-ideas .similar-list li")
        expect(suggestions.first).to_be_visible(timeout=10_000)
        expect(suggestions.first.locator(".vote button")).to_be_visible()
        with page.expect_navigation():
            # the last button: the suggestions inside the form bring their own "Support" buttons
            page.locator("#idea-form button[type=submit]").last.click()
    else:
        with page.expect_navigation():
            page.click("#idea-form button[type=submit]")
        # the duplicate check is a step: the similar ideas, then "No, publish my idea"
        expect(page.locator(".similar-list li").first).to_be_visible()
        with page.expect_navigation():
            page.click("form:has(input[name=confirmed]) button[type=submit]")
    assert "/ideas/" in page.url and "/new" not in page.url
    expect(page.locator("h1")).to_contain_text(title)


@JS
def test_vote_changes_the_count(page_for: PageFor, base_url: str, js: bool) -> None:
    page = page_for("participant", js)
    page.goto(f"{base_url}/processes/{SLUG}/ideas")
    widget = page.locator(".vote:has(form button[aria-pressed=false])").first
    button = widget.locator("form button")
    widget_id = widget.get_attribute("id")
    assert widget_id
    count = int(widget.locator(".vote-count strong").inner_text())
    if js:
        url = page.url
        mark_document(page)
        button.click()
        widget = page.locator(f"#{widget_id}")
        expect(widget.locator("button[aria-pressed=true]")).to_be_visible()
        expect(widget.locator(".vote-count strong")).to_have_text(str(count + 1))
        assert_no_navigation(page, url)
    else:
        with page.expect_navigation():
            button.click()
        widget = page.locator(f"#{widget_id}")
        expect(widget.locator(".vote-count strong")).to_have_text(str(count + 1))
        expect(widget.locator("button[aria-pressed=true]")).to_be_visible()


@JS
def test_moderator_merges_two_ideas(page_for: PageFor, base_url: str, js: bool) -> None:
    page = page_for("moderator@example.org", js)
    page.goto(f"{base_url}/moderation/processes/{SLUG}/duplicates")
    form = page.locator(".duplicate-pair form[action$='/merge']").first
    source = int(str(form.get_attribute("action")).split("/")[-2])
    target = int(str(form.locator("input[name=target_id]").get_attribute("value")))
    form.locator("input[name=note]").fill("Gleicher Vorschlag, zusammengeführt.")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator(".flash").first).to_be_visible()
    expect(
        page.locator(f".duplicate-pair form[action='/moderation/ideas/{source}/merge']")
    ).to_have_count(0)
    # a participant following a link to the merged idea lands on the idea it was merged into
    visitor = page_for("participant", js)
    visitor.goto(f"{base_url}/ideas/{source}")
    assert visitor.url.startswith(f"{base_url}/ideas/{target}?merged_from={source}")
    expect(visitor.locator("main")).to_contain_text("Gleicher Vorschlag, zusammengeführt.")


@JS
def test_cluster_board(page_for: PageFor, base_url: str, js: bool) -> None:
    page = page_for("moderator@example.org", js)
    page.goto(f"{base_url}/processes/{SLUG}/board")
    title = "Thema " + ("Ziehen" if js else "Auswahl") + " " + uuid.uuid4().hex[:4]
    page.fill("#theme-title", title)
    column = page.locator(".board-column", has=page.locator("h2 a", has_text=title))
    if js:
        url = page.url
        mark_document(page)
        page.click("form.new-theme button[type=submit]")
        expect(column).to_have_count(1)
        # The new theme comes back as a live event too, and the board reloads itself 0.3 s
        # later: drag on the board that stays, once its new column takes cards.
        page.wait_for_timeout(1_000)
        page.wait_for_function(
            """title => {
                const column = [...document.querySelectorAll(".board-column")]
                    .find(c => (c.querySelector("h2 a") || {}).textContent?.includes(title));
                const cards = column && column.querySelector(".theme-cards");
                return Boolean(cards && window.Sortable && Sortable.get(cards));
            }""",
            arg=title,
        )
        card = page.locator(".board-column").first.locator(".idea-card").first
        idea_id = card.get_attribute("data-idea-id")
        drag(page, card, column.locator(".theme-cards"))
        expect(column.locator(f"#idea-{idea_id}")).to_be_visible(timeout=5_000)
        assert_no_navigation(page, url)
    else:
        with page.expect_navigation():
            page.click("form.new-theme button[type=submit]")
        expect(column).to_have_count(1)
        card = page.locator(".board-column").first.locator(".idea-card").first
        idea_id = card.get_attribute("data-idea-id")
        card.locator("select").select_option(label=title)
        with page.expect_navigation():
            card.locator("button[type=submit]").click()
        expect(column.locator(f"#idea-{idea_id}")).to_be_visible()
    # the move is stored: a fresh load shows the card in the theme
    page.goto(f"{base_url}/processes/{SLUG}/board")
    expect(column.locator(f"#idea-{idea_id}")).to_be_visible()


@JS
def test_ministry_downloads_an_export(page_for: PageFor, base_url: str, js: bool) -> None:
    page = page_for("ministry@example.org", js)
    page.goto(f"{base_url}/processes/{SLUG}/shortlist")
    fmt = "csv" if js else "json"
    with page.expect_download() as info:
        page.click(f'a[href="/api/processes/{SLUG}/exports/{fmt}"]')
    path = info.value.path()
    raw = path.read_bytes()
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        assert len(rows) > 50 and len(rows[0]) > 4
    else:
        document = json.loads(raw)
        assert len(document["ideas"]) > 50
    assert info.value.suggested_filename.endswith("." + fmt)
