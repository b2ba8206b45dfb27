"""Measures after the hand-over: the ministry turns accepted recommendations into measures,
reports on them; participants see it on the Umsetzung page and on their idea, and hear of it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from ideas_platform.audit.models import AuditEntry
from ideas_platform.core.choices import Role
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.requests import Principal
from ideas_platform.measures import service as measures
from ideas_platform.measures.models import Measure, MeasureStatus, MeasureUpdate
from ideas_platform.notifications.models import Notification, NotificationKind
from ideas_platform.votes import service as votes
from tests.helpers import csrf, login, make_idea, make_process, make_user, post_form, recommend

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
async def scene(session_factory, driver_pool):
    process = await make_process(session_factory, slug="umsetzung")
    author = await make_user(session_factory, email="autorin@example.org", sector="science")
    supporter = await make_user(session_factory, email="unterstuetzer@example.org")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    ministry = await make_user(session_factory, role=Role.MINISTRY)
    accepted = await make_idea(session_factory, process, author, title="Transferzentren stärken")
    declined = await make_idea(session_factory, process, author, title="Noch ein Förderprogramm")
    await votes.cast_vote(driver_pool, Principal(supporter.id, 0), accepted.id)
    async with session_factory() as session:
        entry = await recommend(
            session, process, moderator, accepted, official=ministry, comment="Wird umgesetzt."
        )
        declined_entry = await recommend(
            session,
            process,
            moderator,
            declined,
            official=ministry,
            accept=False,
            comment="Gibt es schon.",
        )
    return {
        "process": process,
        "author": author,
        "supporter": supporter,
        "ministry": ministry,
        "accepted": accepted,
        "entry": entry.id,
        "declined_entry": declined_entry.id,
    }


def _form(**fields: str) -> measures.MeasureForm:
    values = {"title": "Transferzentren in allen Landkreisen", "unit": "Referat 32"} | fields
    return measures.MeasureForm(**values)


async def _measure(session_factory, scene, **fields: str) -> Measure:
    async with session_factory() as session:
        return await measures.create_measure(
            session, official=scene["ministry"], entry_id=scene["entry"], form=_form(**fields)
        )


async def test_the_ministry_creates_a_measure_and_reports_on_it(client, session_factory, scene):
    await login(client, scene["ministry"].email)
    created = await post_form(
        client,
        f"/shortlist-entries/{scene['entry']}/measure",
        {
            "title": "Transferzentren in allen Landkreisen",
            "unit": "Referat 32",
            "starts_on": "2027-01-01",
            "target_on": "2028-06-30",
            "description": "**Erst** Chemnitz.",
        },
    )
    assert created.status_code == 303
    measure_id = int(created.headers["location"].rsplit("/", 1)[1])
    posted = await client.post(
        f"/measures/{measure_id}/updates",
        data={
            "body": "Ausschreibung veröffentlicht.",
            "progress": "20",
            "_csrf_token": csrf(client),
        },
        files={"attachment": ("ausschreibung.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    async with session_factory() as session:
        measure = await session.get(Measure, measure_id)
        update = await session.scalar(select(MeasureUpdate))
        audited = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.target_type == "measure")
        )
    assert measure.progress == 20 and measure.status == MeasureStatus.IN_PROGRESS
    assert update.attachment_name == "ausschreibung.pdf" and update.attachment_size == len(PDF)
    assert audited == 2

    # Everybody sees it: the Umsetzung page, the measure with its chain, the idea, the PDF.
    client.cookies.clear()
    listing = await client.get("/processes/umsetzung/umsetzung")
    assert "Transferzentren in allen Landkreisen" in listing.text and 'value="20"' in listing.text
    detail = await client.get(f"/measures/{measure_id}")
    assert "Ausschreibung veröffentlicht." in detail.text and "<strong>Erst</strong>" in detail.text
    assert (
        f'href="/ideas/{scene["accepted"].id}"' in detail.text and "Wird umgesetzt." in detail.text
    )
    idea_page = await client.get(f"/ideas/{scene['accepted'].id}")
    assert f'href="/measures/{measure_id}"' in idea_page.text
    pdf = await client.get(f"/measures/updates/{update.id}/attachment")
    assert pdf.content == PDF and pdf.headers["content-type"] == "application/pdf"

    # The supporter and the author (who follows her idea) hear of the update.
    async with session_factory() as session:
        told = set(
            await session.scalars(
                select(Notification.user_id).where(Notification.kind == NotificationKind.MEASURE)
            )
        )
    assert told == {scene["author"].id, scene["supporter"].id}

    api = await client.get(f"/api/measures/{measure_id}")
    assert api.status_code == 200 and api.json()["progress"] == 20
    assert api.json()["updates"][0]["attachment_url"] == f"/measures/updates/{update.id}/attachment"
    listed = await client.get("/api/processes/umsetzung/measures")
    assert [m["id"] for m in listed.json()] == [measure_id]


async def test_bad_input_is_refused_and_nothing_is_written(client, session_factory, scene):
    with pytest.raises(InvalidInput) as target:
        await _measure(session_factory, scene, starts_on="2027-05-01", target_on="2027-01-01")
    assert "target_on" in target.value.errors
    with pytest.raises(InvalidInput):
        await _measure(session_factory, scene, starts_on="2027-13-01")
    async with session_factory() as session:
        with pytest.raises(DomainError):
            await measures.create_measure(
                session, official=scene["ministry"], entry_id=scene["declined_entry"], form=_form()
            )
        with pytest.raises(DomainError):  # a participant is not the ministry
            await measures.create_measure(
                session, official=scene["supporter"], entry_id=scene["entry"], form=_form()
            )
    measure = await _measure(session_factory, scene)
    with pytest.raises(DomainError):  # one measure per recommendation
        await _measure(session_factory, scene)
    bad_updates = [
        {"body": "Stand", "progress": progress} for progress in ("101", "-1", "zehn", "5.5")
    ] + [
        {"body": "Mit Anhang", "attachment": attachment}
        for attachment in (
            measures.Attachment("brief.docx", "application/msword", b"PK\x03\x04..."),
            measures.Attachment("tarnung.pdf", "application/pdf", b"<html>kein PDF</html>"),
            measures.Attachment(
                "gross.pdf", "application/pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024)
            ),
        )
    ]
    async with session_factory() as session:
        for fields in bad_updates:
            with pytest.raises(InvalidInput):
                await measures.post_update(
                    session, official=scene["ministry"], measure_id=measure.id, **fields
                )

        async def drop(**fields: str) -> None:
            await measures.change_measure(
                session,
                official=scene["ministry"],
                measure_id=measure.id,
                form=_form(),
                status="dropped",
                **fields,
            )

        with pytest.raises(InvalidInput):  # dropped without a reason
            await drop(progress="0")
        await drop(progress="10", reason="Bundesprogramm deckt es ab.")
        with pytest.raises(DomainError):  # no updates on a dropped measure
            await measures.post_update(
                session, official=scene["ministry"], measure_id=measure.id, body="Noch etwas"
            )
        assert await session.scalar(select(func.count()).select_from(MeasureUpdate)) == 0

    # Through the page: a clear message and a 4xx, never a 500.
    await login(client, scene["ministry"].email)
    page = await client.post(
        f"/measures/{measure.id}/updates",
        data={"body": "Noch etwas", "_csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert page.status_code == 400 and "field-error" in page.text
    refused = await post_form(
        client,
        f"/measures/{measure.id}",
        {"title": "X", "unit": "Referat 32", "status": "done", "progress": "300"},
    )
    assert refused.status_code == 422
    api = await client.post(
        f"/api/measures/{measure.id}/updates",
        json={"body": "Stand", "progress": 150},
        headers={"x-csrftoken": csrf(client)},
    )
    assert 400 <= api.status_code < 500


async def test_two_ministry_users_reporting_at_once_are_both_kept_in_order(session_factory, scene):
    measure = await _measure(session_factory, scene)
    colleague = await make_user(session_factory, role=Role.MINISTRY)

    async def report(official, text: str, progress: str) -> MeasureUpdate:
        async with session_factory() as session:
            return await measures.post_update(
                session, official=official, measure_id=measure.id, body=text, progress=progress
            )

    await asyncio.gather(
        report(scene["ministry"], "Bericht A", "30"), report(colleague, "Bericht B", "40")
    )
    async with session_factory() as session:
        rows = list(await session.scalars(select(MeasureUpdate).order_by(MeasureUpdate.id)))
        final = await session.get(Measure, measure.id)
    assert {row.body for row in rows} == {"Bericht A", "Bericht B"}
    # In order: the later update carries the measure's final progress.
    assert rows[-1].progress == final.progress and rows[0].created_at <= rows[1].created_at


async def test_the_umsetzung_page_filters_by_unit_and_sector(client, session_factory, scene):
    await _measure(session_factory, scene)
    page = await client.get("/processes/umsetzung/umsetzung?unit=Referat%2032")
    assert "Transferzentren in allen Landkreisen" in page.text
    other_unit = await client.get("/processes/umsetzung/umsetzung?unit=Referat%2099")
    assert "Transferzentren in allen Landkreisen" not in other_unit.text
    science = await client.get("/processes/umsetzung/umsetzung?sector=science")
    assert "Transferzentren in allen Landkreisen" in science.text
    industry = await client.get("/processes/umsetzung/umsetzung?sector=industry")
    assert "Transferzentren in allen Landkreisen" not in industry.text
    nonsense = await client.get("/processes/umsetzung/umsetzung?sector=%00&theme=abc")
    assert nonsense.status_code == 200
