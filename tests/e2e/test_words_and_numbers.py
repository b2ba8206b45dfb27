"""Words and numbers as a participant reads them in the browser (issue 15): every open phase
named, German numbers, one word per concept on the pages people use most."""

from __future__ import annotations

import re

from playwright.sync_api import Browser

from tests.e2e.conftest import PHONE
from tests.e2e.pages import SLUG


def test_a_participant_reads_one_word_per_concept_and_german_numbers(
    browser: Browser, base_url: str
) -> None:
    context = browser.new_context(viewport=PHONE, locale="de-DE")
    page = context.new_page()
    try:
        # The demo has collecting, voting and the theme board open at once: all three named.
        page.goto(f"{base_url}/processes/{SLUG}")
        phases = page.locator("p", has_text="Offen sind gerade:").inner_text()
        for label in ("Ideensammlung", "Abstimmung", "Themenbildung"):
            assert label in phases, phases
        text = page.locator("main").inner_text()
        assert "Auswahlliste" in text and "Shortlist" not in text
        assert "Fortsetzung" in text or "setzt fort" in text  # the earlier cycle, linked

        # The breadth of support in German figures: "Breite 12,34 %".
        page.goto(f"{base_url}/processes/{SLUG}/ranking?method=breadth")
        ranking = page.locator("main").inner_text()
        assert re.search(r"Breite \d+,\d\d\s%", ranking), ranking[:500]

        # The list's filter says "Handlungsfeld" for the topic; no gender star anywhere.
        page.goto(f"{base_url}/processes/{SLUG}/ideas")
        listing = page.locator("main").inner_text()
        assert "Handlungsfeld" in page.content() and "*in " not in listing
        assert "Stimmen" in listing
    finally:
        context.close()
