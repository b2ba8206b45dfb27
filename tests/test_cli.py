"""The operator's command line against the test database."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from ideas_platform.cli import main
from ideas_platform.ideas.models import Idea
from tests.helpers import make_idea, make_process, make_user

CSV = (
    "title;body;topic;region;author_sector\n"
    "Werkstatt für Kreislaufwirtschaft;Ein Ort, an dem Betriebe Reststoffe tauschen und verwerten.;"
    "Kreislaufwirtschaft;Leipzig (city);industry\n"
    "Kooperationsbörse Hochschule und KMU;Eine Plattform, die Abschlussarbeiten und Betriebe zusammenbringt.;"
    "Transfer;dresden;science\n"
)


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    from ideas_platform.core.config import get_settings

    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


async def _run(cli, *args):
    return await asyncio.to_thread(cli.invoke, main, list(args), catch_exceptions=False)


async def test_check_passes_and_detects_a_broken_count(cli, session_factory, engine):
    process = await make_process(session_factory)
    author = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author)
    ok = await _run(cli, "check")
    assert ok.exit_code == 0, ok.output
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE ideas SET vote_count = 5 WHERE id = :id"), {"id": idea.id})
    broken = await _run(cli, "check")
    assert broken.exit_code == 1
    assert f"idea {idea.id}: vote_count 5 but 0 votes" in broken.output


async def test_import_ideas_all_or_nothing(cli, session_factory, db, tmp_path):
    process = await make_process(session_factory, slug="idz")
    good = tmp_path / "ideen.csv"
    good.write_text(CSV, encoding="utf-8-sig")
    result = await _run(cli, "import-ideas", "--process", "idz", str(good))
    assert result.exit_code == 0, result.output
    rows = (
        await db.execute(select(Idea.title, Idea.region, Idea.author_sector).order_by(Idea.id))
    ).all()
    assert [(r.region.value, r.author_sector.value) for r in rows] == [
        ("leipzig", "industry"),
        ("dresden", "science"),
    ]
    bad = tmp_path / "kaputt.csv"
    bad.write_text(CSV + "Kurz;zu kurz;;Atlantis;aliens\n", encoding="utf-8")
    result = await _run(cli, "import-ideas", "--process", "idz", str(bad))
    assert result.exit_code == 1
    assert "row 4" in result.output and "Atlantis" in result.output
    assert (
        await db.scalar(select(func.count()).select_from(Idea).where(Idea.process_id == process.id))
        == 2
    )


async def test_find_duplicates_fills_the_queue_of_an_unindexed_process(
    cli, session_factory, engine, db
):
    from ideas_platform.similarity.models import DuplicatePair

    process = await make_process(session_factory, slug="alt")
    author = await make_user(session_factory)
    first = await make_idea(
        session_factory, process, author, title="Gründerzentren in Mittelstädten"
    )
    second = await make_idea(
        session_factory, process, author, title="Ein Gründerzentrum je Mittelstadt"
    )
    async with engine.begin() as conn:  # as after an upgrade: nothing indexed yet
        await conn.execute(text("DELETE FROM duplicate_pairs"))
        await conn.execute(text("DELETE FROM idea_terms"))
    result = await _run(cli, "find-duplicates", "--process", "alt")
    assert result.exit_code == 0, result.output
    assert "2 ideas indexed" in result.output
    pair = await db.scalar(select(DuplicatePair))
    assert pair is not None and (pair.first_idea_id, pair.second_idea_id) == (first.id, second.id)


async def test_create_admin_and_migrate(cli, session_factory):
    assert (await _run(cli, "migrate")).exit_code == 0
    result = await _run(
        cli,
        "create-admin",
        "--email",
        "Chefin@Example.org",
        "--name",
        "Chefin",
        "--password",
        "Sehr-geheimes-Passwort-42",
    )
    assert result.exit_code == 0, result.output
    weak = await _run(
        cli, "create-admin", "--email", "neu@example.org", "--name", "Neu", "--password", "kurz"
    )
    assert weak.exit_code == 2


async def test_seed_demo_works_in_a_fresh_interpreter(database_url):
    """The command line alone (no web app imported) knows every table: `make run` seeds."""
    import os
    import subprocess
    import sys

    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ideas_platform.cli", "seed-demo"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Demo process created" in result.stdout
