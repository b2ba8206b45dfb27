"""German is the default language, English the second; every string has a German translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ideas_platform.core.config import PROJECT_ROOT
from ideas_platform.core.i18n import LOCALE_DIR
from tests.helpers import make_process, post_form

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _source_messages() -> set[str]:
    found: set[str] = set()
    method_map = [("ideas_platform/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map=options, keywords=KEYWORDS
    ):
        if _file.startswith((".venv", "tests", "bench")):
            continue
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_a_german_translation():
    with Path(LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and m.string and (not isinstance(m.string, tuple) or all(m.string))
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, (
        f"{len(missing)} strings without German translation (run make messages): {missing[:10]}"
    )


async def test_pages_are_german_by_default_and_english_on_choice(client, session_factory):
    await make_process(session_factory, slug="idz")
    german = await client.get("/processes/idz")
    assert '<html lang="de">' in german.text
    assert "Ideen" in german.text
    response = await post_form(client, "/language", {"locale": "en", "next": "/processes/idz"})
    assert response.status_code == 303
    assert response.headers["location"] == "/processes/idz"
    english = await client.get("/processes/idz")
    assert '<html lang="en">' in english.text
    assert "Browse the ideas" in english.text
