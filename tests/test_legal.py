"""Legal pages: linked from every page's footer, in German first, the operator's own files."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import app_client

HEADINGS = {
    "/legal/impressum": "Impressum",
    "/legal/datenschutz": "Datenschutzerklärung",
    "/legal/barrierefreiheit": "Erklärung zur Barrierefreiheit",
    "/legal/teilnahmebedingungen": "Teilnahmebedingungen",
}


async def test_footer_links_every_legal_page_and_each_one_reads_in_german(client):
    home = await client.get("/")
    footer = home.text.split('<footer class="site-footer', 1)[1]
    links = re.findall(r'href="(/legal/[a-z]+)"', footer)
    assert links == list(HEADINGS)
    for link, heading in HEADINGS.items():
        page = await client.get(link)
        assert page.status_code == 200
        assert f"<h1>{heading}</h1>" in page.text
        assert '<html lang="de"' in page.text
    statement = await client.get("/legal/barrierefreiheit")
    # BITV 2.0: the statement names a way to report barriers.
    assert "Feedback und Kontakt" in statement.text


async def test_unknown_legal_page_is_a_translated_404(client):
    response = await client.get("/legal/geheim")
    assert response.status_code == 404
    assert "Diese Seite existiert nicht." in response.text


async def test_the_operator_writes_the_pages_in_their_own_folder(
    settings, database_url, tmp_path: Path
):
    (tmp_path / "impressum.md").write_text(
        "**Staatsministerium für Wirtschaft, Arbeit und Verkehr**\\\nWilhelm-Buck-Straße 2\n\n"
        "<script>alert(1)</script>",
        encoding="utf-8",
    )
    (tmp_path / "impressum.en.md").write_text("**Ministry for Economic Affairs**", "utf-8")
    async with app_client(settings, database_url, legal_pages_dir=tmp_path) as client:
        german = await client.get("/legal/impressum")
        assert "<strong>Staatsministerium für Wirtschaft, Arbeit und Verkehr</strong><br" in (
            german.text
        )
        assert "<script>alert" not in german.text
        english = await client.get("/legal/impressum", cookies={"lang": "en"})
        assert "<strong>Ministry for Economic Affairs</strong>" in english.text
        assert "<h1>Legal notice</h1>" in english.text
        # A page the operator has not written yet is missing, not the demo's template.
        missing = await client.get("/legal/datenschutz")
        assert missing.status_code == 404
        # Changed on disk while the app runs: the next reader gets the new text.
        (tmp_path / "impressum.en.md").write_text("**Ministry for Economic Affairs, Labour**")
        changed = await client.get("/legal/impressum", cookies={"lang": "en"})
        assert "<strong>Ministry for Economic Affairs, Labour</strong>" in changed.text
