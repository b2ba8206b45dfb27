"""The PDF dossier: the accepted shortlist in the ministry's order, consent-aware names, umlauts,
the same bytes for the same data."""

from __future__ import annotations

from io import BytesIO

import asyncpg
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.models import User
from ideas_platform.core.choices import Role
from ideas_platform.core.i18n import set_locale
from ideas_platform.core.requests import Principal
from ideas_platform.exports import service as export_service
from ideas_platform.exports.dataset import person_label
from ideas_platform.exports.pdf_writer import plain_paragraphs, printable
from ideas_platform.exports.service import Format
from ideas_platform.processes.models import Process
from ideas_platform.shortlists import service as shortlists
from ideas_platform.votes import service as votes
from tests.helpers import Factory, make_idea, make_process, make_user, make_users_fast

BASE_URL = "https://ideen.example"
HIDDEN_NAME = "Zoë Verborgen-Schmidt"
SHOWN_NAME = "Jürgen Sichtbar"


async def _render(db: AsyncSession, process: Process) -> bytes:
    data = await export_service.load(db, process, Format.PDF)
    buffer = BytesIO()
    await export_service.write(data, Format.PDF, buffer, base_url=BASE_URL)
    return buffer.getvalue()


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def _page_of(pages: list[str], text: str) -> int:
    found = [index for index, page in enumerate(pages) if text in page]
    assert found, f"{text!r} is not in the dossier"
    return found[0]


async def _vote(pool: asyncpg.Pool, user_ids: list[int], idea_id: int) -> None:
    for user_id in user_ids:
        await votes.cast_vote(pool, Principal(user_id, None), idea_id)


async def test_dossier_of_the_accepted_shortlist(
    session_factory: Factory, db: AsyncSession, driver_pool: asyncpg.Pool
) -> None:
    set_locale("de")
    process = await make_process(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    ministry = await make_user(session_factory, role=Role.MINISTRY)
    hidden = await make_user(session_factory, name=HIDDEN_NAME, sector="industry")
    shown = await make_user(session_factory, name=SHOWN_NAME, sector="science")
    (await db.get_one(User, shown.id)).name_in_exports = True
    await db.commit()

    first = await make_idea(
        session_factory,
        process,
        shown,
        title="Wasserstoff für Görlitz – Brücken bauen",
        body="Ein **Netz** für „grünen“ Wasserstoff: 5 Mio. € für die Straße.",
    )
    second = await make_idea(session_factory, process, hidden, title="Lernfabrik im Erzgebirge")
    declined = await make_idea(session_factory, process, hidden, title="Abgelehnte Seilbahn")
    pending = await make_idea(session_factory, process, shown, title="Offene Windkraftidee")
    await _vote(driver_pool, await make_users_fast(session_factory, 3), second.id)
    await _vote(driver_pool, await make_users_fast(session_factory, 1, sector="industry"), first.id)

    entries = {}
    for idea in (first, second, declined, pending):
        entries[idea.id] = await shortlists.nominate(
            db,
            process=process,
            moderator=moderator,
            rationale=f"Begründung der Moderation zu {idea.title}",
            idea_id=idea.id,
        )
    # The ministry's order (first, then second) is not the order by votes.
    for idea in (first, second):
        await shortlists.decide(
            db,
            entry_id=entries[idea.id].id,
            official=ministry,
            accept=True,
            comment=f"Stellungnahme des Ministeriums zu {idea.title}",
        )
    await shortlists.decide(
        db, entry_id=entries[declined.id].id, official=ministry, accept=False, comment="Zu teuer."
    )

    pages = _pages(await _render(db, process))
    everything = "\n".join(pages)
    assert process.title in pages[0]
    assert "Offene Windkraftidee" not in everything  # pending
    assert "Abgelehnte Seilbahn" not in everything  # declined

    await shortlists.withdraw_nomination(db, entry_id=entries[pending.id].id, moderator=moderator)
    await shortlists.freeze(db, process=process, official=ministry)
    pdf = await _render(db, process)
    assert pdf == await _render(db, process)
    metadata = PdfReader(BytesIO(pdf)).metadata
    assert metadata is not None and metadata.title == process.title

    pages = _pages(pdf)
    everything = "\n".join(pages)
    assert process.title in pages[0]
    assert "Abgelehnte Seilbahn" not in everything
    places = []
    for idea in (first, second):
        page = _page_of(pages, idea.title)
        assert f"Begründung der Moderation zu {idea.title}" in pages[page]
        assert f"Stellungnahme des Ministeriums zu {idea.title}" in pages[page]
        assert f"{BASE_URL}/ideas/{idea.id}" in pages[page]
        places.append(page)
    assert places == sorted(places) and places[0] > 0
    assert "„grünen“ Wasserstoff: 5 Mio. € für die Straße." in pages[places[0]]
    assert "**" not in pages[places[0]]

    assert HIDDEN_NAME not in everything
    assert person_label(None, None, False, "industry", "chemnitz") in pages[places[1]]
    assert f"{SHOWN_NAME} (Beispiel GmbH)" in pages[places[0]]


def test_text_the_font_cannot_show_is_replaced() -> None:
    assert printable("Maß – „ok“ €") == "Maß – „ok“ €"
    assert printable("漢\x07") == "\ufffd"  # missing glyph replaced, control character dropped
    assert plain_paragraphs("") == []
    assert plain_paragraphs("# Titel\n\n- eins\n- *zwei*\n\n1. drei") == [
        "Titel",
        "• eins",
        "• zwei",
        "1. drei",
    ]
