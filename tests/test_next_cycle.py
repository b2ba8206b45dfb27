"""The next agenda cycle: an admin starts a process that carries on an earlier one, with the
measures and open ideas chosen; history stays where it was, votes start afresh, links go back."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from ideas_platform.audit.models import AuditEntry
from ideas_platform.core.choices import Role
from ideas_platform.core.errors import InvalidInput
from ideas_platform.core.requests import Principal
from ideas_platform.cycles import service as cycles
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.measures import service as measures
from ideas_platform.measures.models import CarriedMeasure
from ideas_platform.notifications.models import Follow
from ideas_platform.processes.models import Process
from ideas_platform.processes.service import ProcessForm
from ideas_platform.votes import service as votes
from ideas_platform.votes.models import Vote
from tests.helpers import login, make_idea, make_process, make_user, phases, post_form, recommend


@pytest.fixture
async def cycle(session_factory, driver_pool):
    process = await make_process(session_factory, slug="zyklus-eins")
    author = await make_user(session_factory, email="autor@example.org")
    supporter = await make_user(session_factory, email="fan@example.org")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    ministry = await make_user(session_factory, role=Role.MINISTRY)
    admin = await make_user(session_factory, email="admin@example.org", role=Role.ADMIN)
    accepted = await make_idea(session_factory, process, author, title="Transferzentren stärken")
    open_idea = await make_idea(session_factory, process, author, title="Lernfabrik für KMU")
    other = await make_idea(session_factory, process, supporter, title="Wasserstoff-Netzwerk")
    for idea in (accepted, open_idea):
        await votes.cast_vote(driver_pool, Principal(supporter.id, 0), idea.id)
    async with session_factory() as session:
        entry = await recommend(
            session,
            process,
            moderator,
            accepted,
            official=ministry,
            comment="Machen wir.",
            rationale="Breit",
        )
        measure = await measures.create_measure(
            session,
            official=ministry,
            entry_id=entry.id,
            form=measures.MeasureForm(title="Transferzentren in jedem Kreis", unit="Referat 32"),
        )
        await measures.post_update(
            session, official=ministry, measure_id=measure.id, body="Gestartet.", progress="30"
        )
    return {
        "process": process,
        "admin": admin,
        "author": author,
        "supporter": supporter,
        "measure": measure,
        "accepted": accepted,
        "open": open_idea,
        "other": other,
    }


def _fields(slug: str) -> dict[str, str]:
    dates = phases(collect="open", vote="open")
    return {
        "slug": slug,
        "title": "Industrie der Zukunft – zweiter Zyklus",
        "description": "Weiter geht's.",
        "topics": "Digitalisierung\nEnergie",
        "collect_start": dates["collect"][0],
        "collect_end": dates["collect"][1],
        "vote_start": dates["vote"][0],
        "vote_end": dates["vote"][1],
    }


async def _counts(session_factory) -> tuple[int, int, int]:
    async with session_factory() as session:
        return (
            await session.scalar(select(func.count()).select_from(Process)),
            await session.scalar(select(func.count()).select_from(Idea)),
            await session.scalar(select(func.count()).select_from(CarriedMeasure)),
        )


async def test_an_admin_carries_measures_and_ideas_into_the_next_cycle(
    client, session_factory, driver_pool, cycle
):
    await login(client, cycle["admin"].email)
    form_page = await client.get(f"/admin/processes/{cycle['process'].id}/next-cycle")
    assert form_page.status_code == 200
    # The open measure is offered (and chosen), the open ideas too; the accepted idea is marked.
    assert f'name="measure" value="{cycle["measure"].id}" checked' in form_page.text
    assert f'name="idea" value="{cycle["open"].id}"' in form_page.text
    assert "Transferzentren in jedem Kreis" in form_page.text

    started = await post_form(
        client,
        f"/admin/processes/{cycle['process'].id}/next-cycle",
        _fields("zyklus-zwei")
        | {"measure": str(cycle["measure"].id), "idea": str(cycle["open"].id)},
    )
    assert started.status_code == 303 and started.headers["location"] == "/processes/zyklus-zwei"

    async with session_factory() as session:
        new = await session.scalar(select(Process).where(Process.slug == "zyklus-zwei"))
        copy = await session.scalar(select(Idea).where(Idea.process_id == new.id))
        fresh_votes = await session.scalar(
            select(func.count()).select_from(Vote).where(Vote.idea_id == copy.id)
        )
        original = await session.get(Idea, cycle["open"].id)
        author_follows = await session.scalar(
            select(func.count())
            .select_from(Follow)
            .where(Follow.idea_id == copy.id, Follow.user_id == cycle["author"].id)
        )
        audited = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "process.next_cycle")
        )
    assert new.carried_over_from_id == cycle["process"].id
    # One copy (only the chosen idea), with its text, author and a fresh vote.
    assert copy.title == "Lernfabrik für KMU" and copy.author_id == cycle["author"].id
    assert copy.carried_over_from_id == original.id and copy.status == IdeaStatus.PUBLISHED
    assert copy.vote_count == 0 and fresh_votes == 0
    # The history stays in the earlier cycle.
    assert original.vote_count == 1 and original.process_id == cycle["process"].id
    assert author_follows == 1
    assert audited.after["measures"] == [cycle["measure"].id]
    assert audited.after["ideas"] == {str(original.id): copy.id}

    client.cookies.clear()
    # Links both ways: processes, ideas, the measure.
    new_page = await client.get("/processes/zyklus-zwei")
    assert 'href="/processes/zyklus-eins"' in new_page.text
    old_page = await client.get("/processes/zyklus-eins")
    assert 'href="/processes/zyklus-zwei"' in old_page.text
    copy_page = await client.get(f"/ideas/{copy.id}")
    assert f'href="/ideas/{original.id}"' in copy_page.text
    assert "Übernommen aus dem vorigen Zyklus" in copy_page.text
    original_page = await client.get(f"/ideas/{original.id}")
    assert f'href="/ideas/{copy.id}"' in original_page.text
    # The measure is listed in the new cycle with its progress, and still in the old one.
    carried = await client.get("/processes/zyklus-zwei/umsetzung")
    assert (
        f'href="/measures/{cycle["measure"].id}"' in carried.text and 'value="30"' in carried.text
    )
    assert "Fortgeführt aus" in carried.text
    assert (
        f'href="/measures/{cycle["measure"].id}"'
        in (await client.get("/processes/zyklus-eins/umsetzung")).text
    )
    measure_page = await client.get(f"/measures/{cycle['measure'].id}")
    assert 'href="/processes/zyklus-zwei/umsetzung"' in measure_page.text

    # The copy takes fresh votes; an idea carried once is not offered again.
    await votes.cast_vote(driver_pool, Principal(cycle["supporter"].id, 0), copy.id)
    async with session_factory() as session:
        offered = await cycles.candidates(session, await session.get(Process, cycle["process"].id))
    assert cycle["open"].id not in {i.id for i in offered.ideas}
    assert cycle["other"].id in {i.id for i in offered.ideas}


async def test_bad_input_writes_nothing(client, session_factory, cycle):
    await login(client, cycle["admin"].email)
    before = await _counts(session_factory)
    url = f"/admin/processes/{cycle['process'].id}/next-cycle"

    taken = await post_form(client, url, _fields("zyklus-eins") | {"idea": str(cycle["open"].id)})
    assert taken.status_code == 422 and "bereits verwendet" in taken.text

    bad_dates = _fields("zyklus-zwei") | {"vote_end": "2020-01-01T00:00", "idea": "1"}
    refused = await post_form(client, url, bad_dates)
    assert refused.status_code == 422

    # An idea withdrawn after the form was opened, a measure of another process, junk ids.
    async with session_factory() as session:
        idea = await session.get(Idea, cycle["other"].id)
        idea.status = IdeaStatus.WITHDRAWN
        await session.commit()
    for chosen in (
        {"idea": str(cycle["other"].id)},
        {"measure": "999999"},
        {"idea": "abc"},
        {"idea": "99999999999999999999"},
    ):
        stale = await post_form(client, url, _fields("zyklus-zwei") | chosen)
        assert stale.status_code == 422, chosen
        assert "nicht mehr übernommen werden" in stale.text
        # What was chosen is still chosen on the page shown again.
        assert 'value="zyklus-zwei"' in stale.text
    assert await _counts(session_factory) == before


async def test_two_admins_carrying_the_same_idea_at_once(session_factory, cycle):
    async def start(slug: str) -> Process:
        async with session_factory() as session:
            source = await session.get(Process, cycle["process"].id)
            form = _fields(slug)
            return await cycles.start_next_cycle(
                session,
                actor_id=cycle["admin"].id,
                source=source,
                form=ProcessForm(
                    slug=form["slug"],
                    title=form["title"],
                    topics=form["topics"],
                    phases={"collect": (form["collect_start"], form["collect_end"])},
                ),
                measure_ids=[],
                idea_ids=[cycle["open"].id],
            )

    results = await asyncio.gather(start("zyklus-a"), start("zyklus-b"), return_exceptions=True)
    started = [r for r in results if isinstance(r, Process)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(started) == 1 and len(refused) == 1, results
    async with session_factory() as session:
        copies = await session.scalar(
            select(func.count())
            .select_from(Idea)
            .where(Idea.carried_over_from_id == cycle["open"].id)
        )
        processes = await session.scalar(select(func.count()).select_from(Process))
    # One copy, and the refused cycle was not half-created.
    assert copies == 1 and processes == 2
