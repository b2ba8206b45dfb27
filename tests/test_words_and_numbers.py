"""One German word for each concept, inclusive wording without the gender star, German
numbers, and every open phase named (issue 15, "Words and numbers")."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from ideas_platform.core.i18n import LOCALE_DIR, format_percent, using_locale
from ideas_platform.core.requests import Principal
from ideas_platform.votes import service as votes
from tests.helpers import make_idea, make_process, make_user

# The concept -> the German word the UI uses; the words it must not use for it.
AVOIDED = {
    "shortlist": ("Auswahlliste", re.compile(r"Shortlist")),
    "event / workshop": ("Workshop", re.compile(r"Veranstaltung|Werkstatt")),
    "gender star": ("Teilnehmende", re.compile(r"\w\*(in|innen)\b")),
    "the machine": ("Plattform", re.compile(r"\bMaschine\b")),
}


def _german() -> list[tuple[str, str]]:
    with Path(LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, str) else " ".join(message.id)
        german = message.string if isinstance(message.string, str) else " ".join(message.string)
        pairs.append((english, german))
    return pairs


def test_one_german_word_for_each_concept():
    pairs = _german()
    for concept, (_word, avoided) in AVOIDED.items():
        found = [german for _english, german in pairs if avoided.search(german)]
        assert not found, f"{concept}: {found[:3]}"
    # The topic chosen when submitting is a "Handlungsfeld"; a "Thema" is a theme on the board.
    topics = [
        (e, g)
        for e, g in pairs
        # "Off topic" is a reason to report a comment, not the topic of an idea.
        if re.search(r"\btopics?\b", e, re.IGNORECASE) and e != "Off topic" and g
    ]
    assert topics and all("Handlungsfeld" in g or "topic" in g for _e, g in topics), topics
    assert all("Thema" not in g and "Themen" not in g for _e, g in topics), topics
    # Votes are "Stimmen", also on the button; dots at a workshop are "Punkte".
    german = dict(pairs)
    assert (
        german["Support"] == "Stimme geben" and german["Withdraw support"] == "Stimme zurückziehen"
    )
    assert "Stimmen" in german["%(num)s supporter %(num)s supporters"]


def test_numbers_in_the_language_of_the_page():
    with using_locale("de"):
        assert format_percent(0.5691, 2) == "56,91\u00a0%"
        assert format_percent(0.25) == "25\u00a0%"
    with using_locale("en"):
        assert format_percent(0.5691, 2) == "56.91%"


async def test_every_open_phase_is_named(client, session_factory):
    await make_process(session_factory, slug="drei-phasen", cluster="open")
    page = await client.get("/processes/drei-phasen")
    assert "Offen sind gerade:" in page.text
    for label in ("Ideensammlung", "Abstimmung", "Themenbildung"):
        assert label in page.text.split("Offen sind gerade:")[1].split("</p>")[0], label
    home = await client.get("/")
    assert "Offen sind gerade:" in home.text


async def test_the_ranking_shows_breadth_in_german_numbers(client, session_factory, driver_pool):
    process = await make_process(session_factory, slug="zahlen")
    author = await make_user(session_factory, sector="industry")
    supporter = await make_user(session_factory, sector="science")
    idea = await make_idea(session_factory, process, author, title="Lernfabrik")
    await votes.cast_vote(driver_pool, Principal(supporter.id, 0), idea.id)
    page = await client.get("/processes/zahlen/ranking?method=breadth")
    assert re.search(r"Breite \d+,\d\d\u00a0%", page.text), page.text[-3000:]
