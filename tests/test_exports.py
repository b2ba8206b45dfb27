"""Exports for the ministry: parsed back and compared with the database, reproducible,
consent respected in every format, formulas neutralised, guarded by role, CLI."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select, update

from ideas_platform.accounts.models import User
from ideas_platform.cli import main
from ideas_platform.core.choices import Role
from ideas_platform.core.config import get_settings
from ideas_platform.core.i18n import set_locale
from ideas_platform.core.requests import Principal
from ideas_platform.exports import service as exports
from ideas_platform.exports.service import Format
from ideas_platform.ideas.models import Idea
from ideas_platform.moderation import merge
from ideas_platform.shortlists import service as shortlists
from ideas_platform.votes import service as votes
from ideas_platform.votes.models import Vote
from tests.helpers import login, make_idea, make_process, make_user, make_users_fast, recommend

BASE = "https://ideen.example"


@pytest.fixture
async def scene(session_factory, driver_pool, db):
    set_locale("de")
    process = await make_process(session_factory, slug="export")
    named = await make_user(
        session_factory, name="Erika Beispiel", sector="science", region="leipzig"
    )
    anonymous = await make_user(
        session_factory, name="Max Verborgen", sector="industry", region="goerlitz"
    )
    await db.execute(update(User).where(User.id == named.id).values(name_in_exports=True))
    await db.commit()
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    ministry = await make_user(session_factory, role=Role.MINISTRY)
    first = await make_idea(
        session_factory,
        process,
        named,
        title="Wasserstoff für Görlitz – Brücken bauen",
        body="Ein Elektrolyseur am Klärwerk; Abwärme für das Fernwärmenetz.",
    )
    second = await make_idea(
        session_factory,
        process,
        anonymous,
        title='=HYPERLINK("http://evil.example","Klick")',
        body="@SUM(1+1) als Text, nicht als Formel.",
    )
    duplicate = await make_idea(
        session_factory, process, anonymous, title="H2-Elektrolyse an Kläranlagen"
    )
    third = await make_idea(session_factory, process, named, title="Lernfabrik 3D-Druck")
    voters = await make_users_fast(session_factory, 6, sector="industry")
    voters += await make_users_fast(session_factory, 5, sector="science")
    for user_id in voters[:8]:
        await votes.cast_vote(driver_pool, Principal(user_id, None), first.id)
    for user_id in voters[3:6]:
        await votes.cast_vote(driver_pool, Principal(user_id, None), second.id)
    for user_id in voters[9:]:
        await votes.cast_vote(driver_pool, Principal(user_id, None), duplicate.id)
    await merge.merge(
        db,
        source_id=duplicate.id,
        target_id=first.id,
        moderator_id=moderator.id,
        note="Gleiche Idee",
    )
    for idea, comment in ((first, "Wird Teil der Wasserstoffstrategie."), (second, "Ja.")):
        await recommend(
            db,
            process,
            moderator,
            idea,
            official=ministry,
            comment=comment,
            rationale="Breit getragen.",
        )
    await shortlists.freeze(db, process=process, official=ministry)
    return {
        "process": process,
        "first": first,
        "second": second,
        "third": third,
        "duplicate": duplicate,
        "ministry": ministry,
        "moderator": moderator,
    }


async def _export(db, process, fmt: Format) -> bytes:
    data = await exports.load(db, process, fmt)
    out = io.BytesIO()
    await exports.write(data, fmt, out, base_url=BASE)
    return out.getvalue()


async def _published_counts(db, process_id) -> dict[int, int]:
    rows = await db.execute(
        select(Idea.id, func.count(Vote.user_id))
        .outerjoin(Vote, Vote.idea_id == Idea.id)
        .where(Idea.process_id == process_id, Idea.status == "published")
        .group_by(Idea.id)
    )
    return dict(rows.all())


async def test_csv_opens_in_excel_and_matches_the_database(scene, db):
    raw = await _export(db, scene["process"], Format.CSV)
    assert raw.startswith("\ufeff".encode())  # Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    assert {int(r[col["ID"]]) for r in body} == set(
        await _published_counts(db, scene["process"].id)
    )
    counts = await _published_counts(db, scene["process"].id)
    for row in body:
        assert int(row[col["Stimmen"]]) == counts[int(row[col["ID"]])]
    # the shortlist first, in the ministry's order
    assert [r[col["Platz auf der Auswahlliste"]] for r in body] == ["1", "2", ""]
    first = body[0]
    assert first[col["Titel"]] == "Wasserstoff für Görlitz – Brücken bauen"
    assert first[col["Verfasst von"]] == "Erika Beispiel (Beispiel GmbH)"
    assert "H2-Elektrolyse an Kläranlagen" in first[col["Zusammengeführte Duplikate"]]
    assert first[col["Stellungnahme des Ministeriums"]] == "Wird Teil der Wasserstoffstrategie."
    assert first[col["Link"]] == f"{BASE}/ideas/{scene['first'].id}"
    # formula injection neutralised
    second = body[1]
    assert second[col["Titel"]].startswith("'=HYPERLINK")
    assert second[col["Beschreibung"]].startswith("'@SUM")
    # no consent: no name, but sector and region
    assert "Max Verborgen" not in raw.decode("utf-8-sig")
    assert second[col["Verfasst von"]] == "Person aus Industrie, Landkreis Görlitz"


async def test_xlsx_has_four_sheets_that_match_the_database(scene, db):
    raw = await _export(db, scene["process"], Format.XLSX)
    book = load_workbook(io.BytesIO(raw), read_only=True)
    assert book.sheetnames[:4] == ["Ideen", "Themen", "Stimmen nach Sektor und Region", "Herkunft"]
    assert len(book.sheetnames) == 5  # and the dashboard's figures (tests/test_dashboard.py)
    ideas = list(book["Ideen"].iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(ideas[0])}
    counts = await _published_counts(db, scene["process"].id)
    assert {row[col["ID"]]: row[col["Stimmen"]] for row in ideas[1:]} == counts
    assert ideas[2][col["Titel"]].startswith("'=")  # stored as text, neutralised
    by_sector = list(book["Stimmen nach Sektor und Region"].iter_rows(values_only=True))
    sector_col = {name: i for i, name in enumerate(by_sector[0])}
    first = next(r for r in by_sector[1:] if r[0] == scene["first"].id)
    # 8 voted directly (6 industry, 2 science), 2 science came with the merged duplicate
    assert first[sector_col["Industrie"]] == 6 and first[sector_col["Wissenschaft"]] == 4
    provenance = list(book["Herkunft"].iter_rows(values_only=True))
    merged = [r for r in provenance[1:] if r[2] == "Zusammengeführtes Duplikat"]
    assert merged[0][0] == scene["first"].id and merged[0][7] == 2
    everything = " ".join(
        str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
    )
    assert "Max Verborgen" not in everything and "Erika Beispiel" in everything


async def test_json_follows_its_schema_and_matches_the_database(scene, db):
    raw = await _export(db, scene["process"], Format.JSON)
    document = json.loads(raw)
    assert document["schema"] == "ideas-platform/export/v1"
    assert document["shortlist"]["frozen"] is True
    counts = await _published_counts(db, scene["process"].id)
    assert {i["id"]: i["votes"] for i in document["ideas"]} == counts
    first = document["ideas"][0]
    assert first["shortlist"]["position"] == 1 and first["shortlist"]["status"] == "accepted"
    assert first["merged"][0]["id"] == scene["duplicate"].id
    assert first["votes_by_sector"] == {"industry": 6, "science": 4}
    assert "Max Verborgen" not in raw.decode()
    schema = json.loads((Path(__file__).parents[1] / "docs" / "export-schema.json").read_text())
    jsonschema.validate(document, schema)


async def test_pdf_dossier_holds_the_shortlist_only(scene, db):
    raw = await _export(db, scene["process"], Format.PDF)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(raw)).pages)
    assert "Wasserstoff für Görlitz" in text and "Wird Teil der Wasserstoffstrategie." in text
    assert "Lernfabrik 3D-Druck" not in text  # not on the shortlist
    assert "Max Verborgen" not in text


@pytest.mark.parametrize("fmt", list(Format))
async def test_the_same_frozen_shortlist_gives_the_same_bytes(scene, db, fmt):
    assert await _export(db, scene["process"], fmt) == await _export(db, scene["process"], fmt)


async def test_consent_changes_what_every_format_shows(scene, db):
    await db.execute(update(User).values(name_in_exports=False))
    await db.commit()
    for fmt in Format:
        raw = await _export(db, scene["process"], fmt)
        if fmt == Format.XLSX:
            book = load_workbook(io.BytesIO(raw), read_only=True)
            text = " ".join(
                str(c) for s in book for row in s.iter_rows(values_only=True) for c in row
            )
        elif fmt == Format.PDF:
            text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(raw)).pages)
        else:
            text = raw.decode("utf-8-sig")
        assert "Erika Beispiel" not in text, fmt
        assert "Person aus Wissenschaft" in text, fmt


async def test_exports_are_for_the_ministry_only_and_come_with_a_manifest(scene, client, db):
    response = await client.get("/api/processes/export/exports/csv")
    assert response.status_code == 401
    await login(client, scene["moderator"].email)
    assert (await client.get("/api/processes/export/exports/csv")).status_code == 403
    await login(client, scene["ministry"].email)
    download = await client.get("/api/processes/export/exports/xlsx")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    manifest = await client.get("/api/processes/export/exports/xlsx/manifest")
    digest, name = manifest.text.split()
    assert hashlib.sha256(download.content).hexdigest() == digest
    assert download.headers["x-content-sha256"] == digest
    assert name.startswith("export-shortlist-") and name.endswith(".xlsx")
    assert (await client.get("/api/processes/export/exports/docx")).status_code == 404
    logged = await db.scalar(
        select(func.count())
        .select_from(__import__("ideas_platform.audit.models", fromlist=["AuditEntry"]).AuditEntry)
        .where(
            __import__("ideas_platform.audit.models", fromlist=["AuditEntry"]).AuditEntry.action
            == "export.download"
        )
    )
    assert logged >= 2


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PUBLIC_URL", BASE)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


async def test_cli_exports_with_a_manifest_and_verifies(scene, cli, tmp_path):
    async def run(*args):
        return await asyncio.to_thread(cli.invoke, main, list(args))

    target = tmp_path / "liste.xlsx"
    result = await run("export", "--process", "export", "--format", "xlsx", "--output", str(target))
    assert result.exit_code == 0, result.output
    manifest = tmp_path / "liste.xlsx.sha256"
    assert manifest.read_text().split()[1] == "liste.xlsx"
    ok = await run("verify-export", str(target), str(manifest))
    assert ok.exit_code == 0 and "OK" in ok.output
    tampered = bytearray(target.read_bytes())
    tampered[len(tampered) // 2] ^= 0xFF
    target.write_bytes(bytes(tampered))
    bad = await run("verify-export", str(target), str(manifest))
    assert bad.exit_code == 1 and "MISMATCH" in bad.output
    missing = await run(
        "export",
        "--process",
        "gibt-es-nicht",
        "--format",
        "csv",
        "--output",
        str(tmp_path / "x.csv"),
    )
    assert missing.exit_code != 0 and not (tmp_path / "x.csv").exists()
