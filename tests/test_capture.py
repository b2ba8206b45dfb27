"""Capturing a workshop's paper cards: the fast form, and the CSV/XLSX import (preview, then all
rows or none)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from datetime import UTC, datetime

import asyncpg
import openpyxl
import pytest
from sqlalchemy import func, select

from ideas_platform.core.choices import Role
from ideas_platform.core.database import asyncpg_dsn
from ideas_platform.events import live
from ideas_platform.events.models import Event
from ideas_platform.ideas import importer
from ideas_platform.ideas.models import Idea
from ideas_platform.processes.service import get_by_id
from tests.helpers import login, make_process, make_user, post_form

HEADER = "title;body;topic;region;author_sector\n"
GOOD_ROWS = (
    "Reparaturcafé im Stadtteil;Einmal im Monat reparieren Ehrenamtliche Geräte mit Nachbarn.;"
    "Energie;Dresden (Stadt);Zivilgesellschaft\n"
    "Lernwerkstatt für Robotik;Schülerinnen bauen mit Betrieben aus der Region kleine Roboter.;"
    "digitalisierung;CHEMNITZ;Industry\n"
)
BAD_ROW = (
    "Wasserstoff-Tankstellen;Tankstellen für Lastwagen an den Autobahnen im Land.;;Atlantis;\n"
)


@pytest.fixture
async def scene(session_factory):
    process = await make_process(session_factory, slug="werkstatt")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    participant = await make_user(session_factory)
    async with session_factory() as session, session.begin():
        event = Event(
            process_id=process.id,
            title="Zukunftswerkstatt Chemnitz",
            place="Chemnitz",
            starts_at=datetime.now(UTC),
            join_code="ABCD1234",
        )
        session.add(event)
    return {"process": process, "event": event, "mod": moderator, "participant": participant}


@pytest.fixture
async def announced(database_url, scene):
    """What a projector of the event hears: a LISTEN on the event's channel in PostgreSQL
    (the channels backend publishes with pg_notify), as (event id, idea title) of new ideas."""
    event_id = scene["event"].id
    heard = Heard()

    def on_notify(_conn, _pid, _channel, payload: str) -> None:
        message = json.loads(payload)
        if message["kind"] == "idea":
            heard.append((event_id, message["title"]))

    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    await conn.add_listener(live.event_channel(event_id), on_notify)
    yield heard
    await conn.close()


class Heard(list):
    async def settle(self, expected: int, seconds: float = 5) -> Heard:
        """Wait until `expected` messages arrived (or the time is up), then a moment more."""
        for _ in range(int(seconds * 20)):
            if len(self) >= expected:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        return self


async def count_ideas(db) -> int:
    return int(await db.scalar(select(func.count()).select_from(Idea)))


async def upload(client, event_id: int, name: str, data: bytes):
    return await post_form(
        client, f"/events/{event_id}/import/preview", files={"file": (name, data)}
    )


async def confirm(client, event_id: int, data: bytes, name: str = "karten.csv"):
    content = base64.b64encode(data).decode()
    return await post_form(
        client, f"/events/{event_id}/import", {"content": content, "filename": name}
    )


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def test_a_moderator_captures_cards_one_after_another(scene, client, db, announced):
    event, moderator = scene["event"], scene["mod"]
    url = f"/events/{event.id}/capture"
    await login(client, moderator.email)
    first = await client.get(url)
    assert first.status_code == 200
    assert 'id="title" name="title" value=""' in first.text and "autofocus" in first.text
    cards = [
        ("Reparaturcafé im Stadtteil", "civil_society", "dresden"),
        ("Lernwerkstatt für Robotik", "industry", "chemnitz"),
        ("Mitfahrbank für Pendler", "", "zwickau"),
    ]
    for title, sector, region in cards:
        saved = await post_form(
            client,
            url,
            {
                "title": title,
                "body": f"Auf der Karte stand: {title}, mit ein paar Sätzen dazu.",
                "author_sector": sector,
                "region": region,
                "topic_id": "",
            },
        )
        assert saved.status_code == 303 and saved.headers["location"] == url

    after = await client.get(url)
    assert "gespeichert" in after.text  # the flash of the last save
    assert 'id="title" name="title" value=""' in after.text  # empty again, focus on the title
    assert '<option value="zwickau" selected>' in after.text  # the region of the last card
    assert "3 Karten erfasst" in after.text
    listed = after.text.split('id="cards-heading"')[1]
    positions = [listed.index(title) for title, _, _ in cards]
    assert positions == sorted(positions, reverse=True)  # newest first
    ideas = (await db.scalars(select(Idea).order_by(Idea.id))).all()
    assert [
        (i.title, i.event_id, i.captured_by_id, i.author_id, i.author_sector, i.region.value)
        for i in ideas
    ] == [
        (title, event.id, moderator.id, None, sector or None, region)
        for title, sector, region in cards
    ]
    assert await announced.settle(3) == [(event.id, title) for title, _, _ in cards]


async def test_an_invalid_card_comes_back_with_its_message_and_nothing_is_saved(scene, client, db):
    event = scene["event"]
    await login(client, scene["mod"].email)
    refused = await post_form(
        client,
        f"/events/{event.id}/capture",
        {"title": "Kurz", "body": "Ein Text, der lang genug ist.", "region": "dresden"},
    )
    assert refused.status_code == 422
    assert "Dieser Text ist zu kurz." in refused.text
    assert "Ein Text, der lang genug ist." in refused.text  # the typed values stay
    assert 'value="Kurz" maxlength="200" required' in refused.text
    assert await count_ideas(db) == 0


async def test_participants_may_not_capture_and_unknown_events_are_404(scene, client, db):
    event = scene["event"]
    await login(client, scene["participant"].email)
    assert (await client.get(f"/events/{event.id}/capture")).status_code == 403
    refused = await post_form(
        client,
        f"/events/{event.id}/capture",
        {
            "title": "Eine Idee von mir",
            "body": "Ein Text, der lang genug ist.",
            "region": "dresden",
        },
    )
    assert refused.status_code == 403
    assert (
        await upload(client, event.id, "k.csv", (HEADER + GOOD_ROWS).encode())
    ).status_code == 403
    assert (await confirm(client, event.id, (HEADER + GOOD_ROWS).encode())).status_code == 403
    assert await count_ideas(db) == 0
    await login(client, scene["mod"].email)
    assert (await client.get("/events/999999/capture")).status_code == 404
    assert (await client.get("/events/999999/import")).status_code == 404


async def test_csv_import_previews_every_row_then_creates_them_all(scene, client, db, announced):
    event, moderator = scene["event"], scene["mod"]
    await login(client, moderator.email)
    form = await client.get(f"/events/{event.id}/import")
    assert form.status_code == 200 and 'type="file"' in form.text and 'for="file"' in form.text
    data = (HEADER + GOOD_ROWS).encode("utf-8-sig")
    preview = await upload(client, event.id, "karten.csv", data)
    assert preview.status_code == 200, preview.text
    assert (
        "Reparaturcafé im Stadtteil" in preview.text and "Lernwerkstatt für Robotik" in preview.text
    )
    assert "Dresden (Stadt)" in preview.text and "Zivilgesellschaft" in preview.text
    assert f'action="/events/{event.id}/import"' in preview.text
    assert "2 Ideen anlegen" in preview.text
    assert await count_ideas(db) == 0 and await announced.settle(0) == []  # preview: nothing

    created = await confirm(client, event.id, data)
    assert created.status_code == 303
    assert created.headers["location"] == f"/events/{event.id}/capture"
    page = await client.get(created.headers["location"])
    assert "2 Ideen importiert" in page.text and "Lernwerkstatt für Robotik" in page.text
    ideas = (await db.scalars(select(Idea).order_by(Idea.id))).all()
    assert [(i.event_id, i.captured_by_id, i.author_id) for i in ideas] == [
        (event.id, moderator.id, None)
    ] * 2
    assert [(i.region.value, i.author_sector.value) for i in ideas] == [
        ("dresden", "civil_society"),
        ("chemnitz", "industry"),
    ]
    assert all(i.topic_id is not None for i in ideas)  # "digitalisierung" is "Digitalisierung"
    assert await announced.settle(len(ideas)) == [(event.id, i.title) for i in ideas]


async def test_an_import_with_a_bad_row_creates_nothing_and_names_the_row(scene, client, db):
    event = scene["event"]
    await login(client, scene["mod"].email)
    data = (HEADER + GOOD_ROWS.splitlines(keepends=True)[0] + BAD_ROW + GOOD_ROWS).encode()
    preview = await upload(client, event.id, "karten.csv", data)
    assert preview.status_code == 422
    assert "Zeile 3" in preview.text and "Atlantis" in preview.text
    assert "Zeile 2" not in preview.text and "Zeile 4" not in preview.text
    assert f'action="/events/{event.id}/import"' not in preview.text  # no create button
    assert "anlegen" not in preview.text

    before = await count_ideas(db)
    forced = await confirm(client, event.id, data)  # the confirmation posted anyway
    assert forced.status_code == 422
    assert "Zeile 3" in forced.text and "Atlantis" in forced.text
    assert await count_ideas(db) == before == 0


async def test_xlsx_import_creates_exactly_its_rows_or_none(scene, client, db):
    event, moderator = scene["event"], scene["mod"]
    await login(client, moderator.email)
    header = ["Title", "Body", "Topic", "Region", "Author_Sector"]
    good = [
        [
            "Reparaturcafé im Stadtteil",
            "Ehrenamtliche reparieren Geräte mit Nachbarn.",
            "",
            "Leipzig (Stadt)",
            "Wissenschaft",
        ],
        [
            "Lernwerkstatt für Robotik",
            "Schülerinnen bauen mit Betrieben kleine Roboter.",
            "Energie",
            "bautzen",
            "science",
        ],
        [
            "Mitfahrbank für Pendler",
            "Bänke an Ortsausgängen, auf denen man mitgenommen wird.",
            None,
            "Görlitz",
            None,
        ],
    ]
    bad = xlsx([header, *good, ["Zu kurz", "kurz", None, "Dresden", None]])
    refused = await confirm(client, event.id, bad, "karten.xlsx")
    assert refused.status_code == 422 and "Zeile 5" in refused.text
    assert await count_ideas(db) == 0

    data = xlsx([header, *good, [None, None, None, None, None]])  # a blank row is left out
    preview = await upload(client, event.id, "karten.xlsx", data)
    assert preview.status_code == 200, preview.text
    assert "3 Ideen anlegen" in preview.text
    created = await confirm(client, event.id, data, "karten.xlsx")
    assert created.status_code == 303
    ideas = (await db.scalars(select(Idea).order_by(Idea.id))).all()
    assert [(i.title, i.event_id, i.captured_by_id) for i in ideas] == [
        (row[0], event.id, moderator.id) for row in good
    ]
    assert [(i.region.value, i.author_sector) for i in ideas] == [
        ("leipzig", "science"),
        ("bautzen", "science"),
        ("goerlitz", None),
    ]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("gross.csv", (HEADER + GOOD_ROWS).encode() + b"x" * (2 * 1024 * 1024), "größer als 2 MB"),
        (
            "bild.png",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "nicht gelesen werden",
        ),
        ("kaputt.xlsx", b"PK\x03\x04" + b"\x00garbage" * 50, "nicht gelesen werden"),
        ("latin1.csv", (HEADER + GOOD_ROWS).encode("latin-1"), "nicht UTF-8"),
        ("leer.csv", b"", "enthält keine Ideen"),
        ("spalten.csv", b"name;text\nA;B\n", "Es fehlen: title, body, region"),
    ],
)
async def test_an_unusable_file_is_refused_with_a_message(scene, client, db, name, data, message):
    event = scene["event"]
    await login(client, scene["mod"].email)
    refused = await upload(client, event.id, name, data)
    assert refused.status_code == 422
    assert message in refused.text and 'type="file"' in refused.text
    forced = await confirm(client, event.id, data, name)
    assert forced.status_code == 422 and message in forced.text
    assert await count_ideas(db) == 0


async def test_a_missing_or_broken_file_is_refused(scene, client, db):
    event = scene["event"]
    await login(client, scene["mod"].email)
    missing = await post_form(client, f"/events/{event.id}/import/preview", {"x": "1"})
    assert (
        missing.status_code == 422 and "Bitte wählen Sie eine CSV- oder Excel-Datei" in missing.text
    )
    broken = await post_form(client, f"/events/{event.id}/import", {"content": "nicht base64!"})
    assert broken.status_code == 422
    huge = "A" * (3 * 1024 * 1024)
    too_large = await post_form(client, f"/events/{event.id}/import", {"content": huge})
    assert too_large.status_code == 422 and "größer als 2 MB" in too_large.text
    assert await count_ideas(db) == 0


def test_too_many_rows_are_refused():
    data = (HEADER + "Titel;Text;;dresden;\n" * (importer.MAX_ROWS + 1)).encode()
    with pytest.raises(importer.ImportFailed) as failed:
        importer.parse_rows(data)
    assert failed.value.problems == [
        "The file has more than 2000 rows. Please import at most 2000 at a time."
    ]


async def test_the_template_is_german_and_imports_as_it_is(scene, client, db):
    event = scene["event"]
    await login(client, scene["mod"].email)
    response = await client.get(f"/events/{event.id}/import/template.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "title;body;topic;region;author_sector"
    assert lines[1].endswith(";Digitalisierung;Dresden (Stadt);Zivilgesellschaft")
    process = await get_by_id(db, scene["process"].id)
    preview = await importer.preview(db, process, response.content, "vorlage.csv")
    assert preview.ok and len(preview.rows) == 1


def test_regions_and_sectors_by_code_english_or_german_label():
    regions, sectors = importer.region_spellings(), importer.sector_spellings()
    assert (
        regions["dresden"] == regions["dresden (city)"] == regions["dresden (stadt)"] == "dresden"
    )
    assert regions["landkreis leipzig"] == regions["leipzig (district)"] == "landkreis_leipzig"
    assert regions["leipzig"] == "leipzig"  # the code wins over the district's short name
    assert regions["meissen"] == "meissen" and regions["görlitz"] == "goerlitz"
    assert sectors["öffentliche verwaltung"] == sectors["public administration"] == "administration"
