"""The ministry's dashboard: who may see it, every figure of a small scene (sectors, regions,
calendar weeks across a change of summer time, a workshop), the map of Saxony with Berlin and
Brussels apart, a table after every chart, the XLSX sheet, the cache and an empty process."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import msgspec
import pytest
from openpyxl import load_workbook
from sqlalchemy import text, update

from ideas_platform.comments import service as comments
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import Region, Role
from ideas_platform.core.i18n import set_locale
from ideas_platform.core.requests import Principal
from ideas_platform.dashboard import charts, service
from ideas_platform.events import service as events
from ideas_platform.exports import service as exports
from ideas_platform.exports.service import Format
from ideas_platform.ideas.models import Idea
from ideas_platform.votes import service as votes
from ideas_platform.votes.models import Vote
from tests.helpers import login, make_event, make_idea, make_process, make_user, post_form

URL = "/processes/dash/dashboard"
SAXON_DISTRICTS = [r.value for r in Region][:13]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """The parts of the page the tests read: elements by id (attributes and text) and the rows
    of each table (cell texts)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, tuple[dict[str, str], list[str]]] = {}
        self.order: list[str] = []  # ids in document order
        self.tables: dict[str, list[list[str]]] = {}
        self._open: list[tuple[str, list[str]]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        texts: list[str] = []
        if "id" in found:
            self.by_id[found["id"]] = (found, texts)
            self.order.append(found["id"])
        if tag not in VOID:
            self._open.append((tag, texts))
        if tag == "table":
            self._table = found.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("th", "td") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None
        if any(open_tag == tag for open_tag, _ in self._open):
            while self._open and self._open.pop()[0] != tag:
                pass

    def handle_data(self, data: str) -> None:
        for _, texts in self._open:
            texts.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def text(self, element_id: str) -> str:
        return " ".join(" ".join(self.by_id[element_id][1]).split())

    def attr(self, element_id: str, name: str) -> str:
        return self.by_id[element_id][0][name]

    def rows(self, table_id: str) -> dict[str, list[str]]:
        """First cell -> the other cells, for the body and foot rows."""
        return {row[0]: row[1:] for row in self.tables[table_id][1:]}


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
async def scene(session_factory, driver_pool, db):
    """Alice (industry, Chemnitz) writes two ideas, one at the workshop, and attends it; Bob
    (science, Dresden) votes and comments; Carl (science, Berlin) votes twice; Dora (civil
    society, Brussels) only attends the workshop. Nobody else takes part."""
    process = await make_process(session_factory, slug="dash")
    moderator = await make_user(session_factory, role=Role.MODERATOR, region="leipzig")
    staff = {
        "moderator": moderator,
        "ministry": await make_user(session_factory, role=Role.MINISTRY),
        "admin": await make_user(session_factory, role=Role.ADMIN),
        "participant": await make_user(session_factory),  # takes no part in this process
    }
    alice = await make_user(session_factory, sector="industry", region="chemnitz")
    bob = await make_user(session_factory, sector="science", region="dresden")
    carl = await make_user(session_factory, sector="science", region="berlin")
    dora = await make_user(session_factory, sector="civil_society", region="brussels")
    workshop = await make_event(session_factory, process, moderator, title="Werkstatt Chemnitz")
    first = await make_idea(session_factory, process, alice, event_id=workshop.id)
    second = await make_idea(session_factory, process, alice)
    for voter, idea in ((bob, first), (carl, first), (carl, second)):
        await votes.cast_vote(driver_pool, Principal(voter.id, None), idea.id)
    await comments.add_comment(db, idea_id=first.id, author_id=bob.id, body="Gute Idee, machen!")
    for person in (dora, alice):
        await events.join_as_user(db, code=workshop.join_code, user=person)
    # When it all happened (UTC). Berlin weeks start Monday 00:00 local time:
    await db.execute(update(Idea).where(Idea.id == first.id).values(created_at=at(2026, 3, 4, 10)))
    await db.execute(update(Idea).where(Idea.id == second.id).values(created_at=at(2026, 3, 11, 9)))
    await db.execute(update(Comment).values(created_at=at(2026, 3, 5, 12)))
    for voter, idea, when in (
        (bob, first, at(2026, 3, 8, 22, 30)),  # Sunday 23:30 in winter: still week 10
        (carl, first, at(2026, 3, 9, 10)),  # week 11
        (carl, second, at(2026, 5, 31, 22, 30)),  # Monday 00:30 in summer: week 23
    ):
        await db.execute(
            update(Vote)
            .where(Vote.user_id == voter.id, Vote.idea_id == idea.id)
            .values(created_at=when)
        )
    await db.commit()
    return {"process": process, "workshop": workshop, **staff}


async def test_moderators_ministry_and_admins_see_it_nobody_else(scene, client):
    anonymous = await client.get(URL, follow_redirects=False)
    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["location"].startswith("/login")
    await login(client, scene["participant"].email)
    assert (await client.get(URL)).status_code == 403
    for role in ("moderator", "ministry", "admin"):
        await login(client, scene[role].email)
        response = await client.get(URL)
        assert response.status_code == 200, role
        assert 'id="totals"' in response.text
    assert (await client.get("/processes/gibt-es-nicht/dashboard")).status_code == 404


async def test_every_figure_of_the_scene(scene, engine):
    figures = await service.compute(engine, scene["process"].id)
    assert figures.totals == service.Counts(participants=4, ideas=2, votes=3, comments=1)
    by_sector = {g.key: g.counts for g in figures.by_sector}
    assert list(by_sector) == [
        "industry",
        "science",
        "administration",
        "social_partners",
        "civil_society",
        "other",
    ]
    assert by_sector["industry"] == service.Counts(1, 2, 0, 0)
    assert by_sector["science"] == service.Counts(2, 0, 3, 1)
    assert by_sector["civil_society"] == service.Counts(1, 0, 0, 0)
    assert by_sector["administration"] == service.Counts()  # the staff took no part
    by_region = {g.key: g.counts for g in figures.by_region}
    assert list(by_region) == [r.value for r in Region]
    assert by_region["chemnitz"] == service.Counts(1, 2, 0, 0)
    assert by_region["dresden"] == service.Counts(1, 0, 1, 1)
    assert by_region["berlin"] == service.Counts(1, 0, 2, 0)
    assert by_region["brussels"] == service.Counts(1, 0, 0, 0)
    assert by_region["leipzig"] == service.Counts()
    # calendar weeks 10 to 23 of 2026, the empty ones too
    assert [w.iso for w in figures.weeks] == [(2026, n) for n in range(10, 24)]
    weeks = {w.iso[1]: (w.ideas, w.votes, w.comments) for w in figures.weeks}
    assert weeks[10] == (1, 1, 1)  # the Sunday-night vote in winter belongs here
    assert weeks[11] == (1, 1, 0)
    assert weeks[23] == (0, 1, 0)  # the Monday-00:30 vote in summer belongs here
    assert all(weeks[n] == (0, 0, 0) for n in range(12, 23))
    assert figures.weeks[0].monday == date(2026, 3, 2)
    [workshop] = figures.workshops
    assert (workshop.title, workshop.attendees, workshop.ideas, workshop.votes) == (
        "Werkstatt Chemnitz",
        2,
        1,
        2,
    )


async def test_hidden_comments_withdrawn_votes_and_other_processes_do_not_count(
    scene, engine, session_factory, driver_pool, db
):
    other = await make_process(session_factory, slug="anderswo")
    outsider = await make_user(session_factory, sector="other", region="elsewhere")
    elsewhere = await make_idea(session_factory, other, outsider)
    await votes.cast_vote(driver_pool, Principal(outsider.id, None), elsewhere.id)
    await db.execute(update(Comment).values(hidden=True))
    await db.commit()
    figures = await service.compute(engine, scene["process"].id)
    assert figures.totals == service.Counts(participants=4, ideas=2, votes=3, comments=0)
    assert figures.region("elsewhere") == service.Counts()


async def test_the_page_has_the_map_each_chart_with_its_table_and_how_we_count(scene, client):
    await login(client, scene["ministry"].email)
    await post_form(client, "/language", {"locale": "en", "next": URL})
    response = await client.get(URL)
    assert response.status_code == 200
    page = Page(response.text)
    assert page.text("totals").split() == [
        "Participants",
        "4",
        "Ideas",
        "2",
        "Votes",
        "3",
        "Comments",
        "1",
    ]
    # the map: all 13 districts of Saxony, each with its name and count in its title
    districts = [i for i in page.order if i.startswith("district-")]
    assert sorted(districts) == sorted(f"district-{r}" for r in SAXON_DISTRICTS)
    assert page.attr("district-chemnitz", "data-participants") == "1"
    assert page.text("district-chemnitz").startswith("Chemnitz (city): 1 participant")
    assert page.text("district-dresden").startswith("Dresden (city): 1 participant")
    assert page.text("district-goerlitz").startswith("Görlitz (district): 0 participants")
    assert "map-l5" in page.attr("district-chemnitz", "class")
    assert "map-l0" in page.attr("district-goerlitz", "class")
    assert page.attr("district-chemnitz", "d").startswith("M")
    # Berlin, Brussels and elsewhere apart, as tiles with their counts
    for region, count in (("berlin", "1"), ("brussels", "1"), ("elsewhere", "0")):
        assert page.attr(f"tile-{region}", "data-participants") == count
    assert "Berlin: 1 participant" in page.text("tile-berlin")
    assert "GeoBasis-DE / BKG" in response.text
    # every chart is followed by a table with the same data, caption and header scopes
    for chart, table in (
        ("chart-sector", "table-sector"),
        ("map", "table-region"),
        ("chart-weeks-comments", "table-weeks"),
        ("chart-workshops", "table-workshops"),
    ):
        assert page.order.index(chart) < page.order.index(table)
        assert f"{table}-caption" in page.by_id
    assert response.text.count("<caption") == 4
    assert 'scope="col"' in response.text and 'scope="row"' in response.text
    assert page.rows("table-sector")["Science"] == ["2", "0", "3", "1"]
    assert page.rows("table-sector")["In total"] == ["4", "2", "3", "1"]
    assert page.rows("table-region")["Berlin"] == ["1", "0", "2", "0"]
    assert page.rows("table-region")["Chemnitz (city)"] == ["1", "2", "0", "0"]
    weeks = page.rows("table-weeks")
    assert len(weeks) == 14
    assert weeks["Week 10/2026"] == ["1", "1", "1"] and weeks["Week 23/2026"] == ["0", "1", "0"]
    [(title, cells)] = page.rows("table-workshops").items()
    assert title.startswith("Werkstatt Chemnitz") and cells[1:] == ["2", "1", "2"]
    assert page.text("counting-heading") == "How we count"
    assert 'style="' not in response.text  # the CSP allows no inline styles


async def test_the_page_is_german_by_default_with_german_numbers(scene, client, engine, db):
    await db.execute(
        text("UPDATE ideas SET vote_count = 1234 WHERE event_id = :e"),
        {"e": scene["workshop"].id},
    )
    await db.commit()
    await login(client, scene["moderator"].email)
    page = Page((await client.get(URL)).text)
    assert page.rows("table-workshops")  # a workshop row
    [cells] = page.rows("table-workshops").values()
    assert cells[-1] == "1.234"


async def test_figures_are_cached_for_a_minute_then_refreshed_without_waiting(
    scene, client, engine, db, driver_pool, session_factory
):
    await login(client, scene["ministry"].email)
    first = Page((await client.get(URL)).text)
    assert first.attr("district-dresden", "data-participants") == "1"
    key = f"{service.CACHE_NAMESPACE}:{service.cache_key(scene['process'].id)}"
    newcomer = await make_user(session_factory, sector="science", region="dresden")
    idea_id = await db.scalar(text("SELECT min(id) FROM ideas"))
    await votes.cast_vote(driver_pool, Principal(newcomer.id, None), idea_id)
    cached = Page((await client.get(URL)).text)
    assert cached.attr("district-dresden", "data-participants") == "1"  # under a minute old

    # A minute later: the next view still answers at once with the figures it has, and
    # computes fresh ones in the background for the views after it.
    stored = msgspec.json.decode(
        await db.scalar(text("SELECT value FROM kv_store WHERE key = :k"), {"k": key}),
        type=service.Figures,
    )
    aged = msgspec.structs.replace(stored, computed_at=stored.computed_at - timedelta(seconds=61))
    await db.execute(
        text("UPDATE kv_store SET value = :v WHERE key = :k"),
        {"k": key, "v": msgspec.json.encode(aged)},
    )
    await db.commit()
    stale = Page((await client.get(URL)).text)
    assert stale.attr("district-dresden", "data-participants") == "1"
    for _ in range(50):
        refreshed = Page((await client.get(URL)).text)
        if refreshed.attr("district-dresden", "data-participants") == "2":
            break
        await asyncio.sleep(0.1)
    assert refreshed.attr("district-dresden", "data-participants") == "2"

    # After a change the ministry wants to see at once, the cache can be dropped.
    await votes.cast_vote(driver_pool, Principal(scene["admin"].id, None), idea_id)
    await service.invalidate(engine, scene["process"].id)
    fresh = Page((await client.get(URL)).text)
    assert fresh.text("totals").split()[1] == "6"


async def test_an_empty_process_has_zeros_and_no_errors(session_factory, client, engine, db):
    process = await make_process(session_factory, slug="leer")
    ministry = await make_user(session_factory, role=Role.MINISTRY)
    figures = await service.compute(engine, process.id)
    assert figures.totals == service.Counts()
    assert figures.weeks == [] and figures.workshops == []
    assert all(d.level == 0 for d in charts.saxony_map(figures).districts)
    assert [(e.level, e.low, e.high) for e in charts.legend(0)] == [(0, 0, 0)]
    await login(client, ministry.email)
    response = await client.get("/processes/leer/dashboard")
    assert response.status_code == 200
    page = Page(response.text)
    assert page.attr("district-leipzig", "data-participants") == "0"
    assert "table-weeks" not in page.by_id and "table-workshops" not in page.by_id
    set_locale("en")
    data = await exports.load(db, process, Format.XLSX)
    out = io.BytesIO()
    await exports.write(data, Format.XLSX, out, base_url="https://ideen.example")
    assert "Participation" in load_workbook(io.BytesIO(out.getvalue())).sheetnames


async def test_the_xlsx_export_has_a_participation_sheet_with_the_figures(scene, db):
    set_locale("en")
    data = await exports.load(db, scene["process"], Format.XLSX)
    out = io.BytesIO()
    await exports.write(data, Format.XLSX, out, base_url="https://ideen.example")
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames[-1] == "Participation"
    sheet = book["Participation"]
    rows: list[tuple[Any, ...]] = list(sheet.iter_rows(values_only=True))
    assert sheet["A2"].hyperlink.target == "https://ideen.example/processes/dash/dashboard"
    by_first = {row[0]: row[1:] for row in rows if row and row[0]}
    assert by_first["By sector"][:4] == ("Participants", "Ideas", "Votes", "Comments")
    assert by_first["Science"][:4] == (2, 0, 3, 1)
    assert by_first["Berlin"][:4] == (1, 0, 2, 0)
    assert by_first["Week 10/2026"][0].date() == date(2026, 3, 2)
    assert by_first["Week 10/2026"][1:4] == (1, 1, 1)
    assert by_first["Week 23/2026"][1:4] == (0, 1, 0)
    assert by_first["Werkstatt Chemnitz"][2:5] == (2, 1, 2)
    # the same data gives the same bytes (no time of computing in the file)
    again = io.BytesIO()
    await exports.write(data, Format.XLSX, again, base_url="https://ideen.example")
    assert again.getvalue() == out.getvalue()


def test_the_map_data_has_the_13_districts_and_its_source():
    data = charts.map_data()
    assert sorted(d["region"] for d in data["districts"]) == sorted(SAXON_DISTRICTS)
    assert sorted(d["ags"] for d in data["districts"]) == [
        "14511",
        "14521",
        "14522",
        "14523",
        "14524",
        "14612",
        "14625",
        "14626",
        "14627",
        "14628",
        "14713",
        "14729",
        "14730",
    ]
    assert "GeoBasis-DE / BKG" in data["attribution"]
    assert 15_000 < charts.MAP_FILE.stat().st_size < 30_000
    assert charts.MAP_FILE.with_name("SOURCES.md").exists()
    for d in data["districts"]:
        x, y = d["label"]
        assert 0 <= x <= data["width"] and 0 <= y <= data["height"]


def test_colour_classes_and_legend():
    assert [charts.level(n, 10) for n in (0, 1, 2, 3, 5, 10)] == [0, 1, 1, 2, 3, 5]
    assert [(e.level, e.low, e.high) for e in charts.legend(10)] == [
        (0, 0, 0),
        (1, 1, 2),
        (2, 3, 4),
        (3, 5, 6),
        (4, 7, 8),
        (5, 9, 10),
    ]
    # few people: no empty classes in the legend
    assert [(e.level, e.low, e.high) for e in charts.legend(2)] == [(0, 0, 0), (3, 1, 1), (5, 2, 2)]
    assert charts.level(1, 2) == 3 and charts.level(2, 2) == 5
