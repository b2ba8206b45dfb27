"""Audit entries for edits: only the fields that changed, both sides, JSON-safe; an edit that
changes nothing leaves no entry."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from ideas_platform.audit.labels import changes
from ideas_platform.audit.models import AuditEntry
from ideas_platform.audit.service import json_safe, record_change
from ideas_platform.core.choices import Role
from ideas_platform.core.i18n import BERLIN
from ideas_platform.events import service as events
from ideas_platform.events.models import LiveMode
from ideas_platform.measures import service as measures
from ideas_platform.measures.models import MeasureStatus
from ideas_platform.processes import service as processes
from ideas_platform.shortlists import service as shortlists
from ideas_platform.themes import service as themes
from tests.helpers import login, make_event, make_idea, make_process, make_user, recommend


async def entries(db, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(
        await db.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


# --- the helper -------------------------------------------------------------------------------


class Recorder:
    """Stands in for the session: collects what would be added."""

    def __init__(self) -> None:
        self.added: list[AuditEntry] = []

    def add(self, entry: AuditEntry) -> None:
        self.added.append(entry)


def change(before: dict[str, Any], after: dict[str, Any]) -> list[AuditEntry]:
    recorder = Recorder()
    record_change(
        recorder,  # type: ignore[arg-type]
        actor_id=1,
        action="theme.rename",
        target_type="theme",
        target_id=7,
        before=before,
        after=after,
    )
    return recorder.added


def test_only_changed_fields_are_kept_with_both_sides():
    [entry] = change(
        {"title": "Alt", "description": "gleich", "locked": False, "capacity": 1},
        {"title": "Neu", "description": "gleich", "locked": True, "capacity": True, "new": None},
    )
    assert entry.before == {"title": "Alt", "locked": False, "capacity": 1}
    assert entry.after == {"title": "Neu", "locked": True, "capacity": True}
    assert (entry.action, entry.target_type, entry.target_id) == ("theme.rename", "theme", 7)


def test_a_field_on_one_side_only_counts_as_none_on_the_other():
    [entry] = change({"mode": "vote"}, {"mode": "vote", "label": "Punkte"})
    assert entry.before == {"label": None} and entry.after == {"label": "Punkte"}


def test_nothing_changed_writes_nothing():
    assert change({"title": "Gleich"}, {"title": "Gleich"}) == []
    # the same moment in another time zone is no change
    moment = datetime(2027, 1, 10, 9, 0, tzinfo=BERLIN)
    assert change({"starts_at": moment}, {"starts_at": moment.astimezone(UTC)}) == []


def test_dates_moments_and_choices_are_stored_as_json():
    assert json_safe(
        {
            "on": date(2027, 6, 30),
            "at": datetime(2027, 1, 10, 9, 0, tzinfo=BERLIN),
            "status": MeasureStatus.IN_PROGRESS,
            "phases": {"vote": [datetime(2027, 5, 1, tzinfo=UTC), None]},
            "ideas": {3, 1},
        }
    ) == {
        "on": "2027-06-30",
        "at": "2027-01-10T08:00:00+00:00",
        "status": "in_progress",
        "phases": {"vote": ["2027-05-01T00:00:00+00:00", None]},
        "ideas": [1, 3],
    }


# --- through the services ---------------------------------------------------------------------


@pytest.fixture
async def people(session_factory):
    return {
        "mod": await make_user(session_factory, role=Role.MODERATOR, name="Mo Deration"),
        "ministry": await make_user(session_factory, role=Role.MINISTRY),
    }


async def assert_switch_recorded(
    db, switch, field: str, *, now: bool, unchanged: str, changed: str
) -> None:
    """Setting `field` to the value it has (`now`) leaves no `unchanged` entry; setting it to the
    other one leaves one `changed` entry with both sides."""
    await switch(now)
    assert await entries(db, unchanged) == []
    await switch(not now)
    [entry] = await entries(db, changed)
    assert (entry.before, entry.after) == ({field: now}, {field: not now})


def event_form(**fields: str) -> events.EventForm:
    values = {
        "title": "Zukunftswerkstatt Chemnitz",
        "place": "Smart Systems Hub",
        "starts_at": "2027-01-10T09:00",
        "capacity": "50",
    } | fields
    return events.EventForm(**values)


async def test_editing_an_event_records_exactly_what_changed(session_factory, db, people, client):
    process = await make_process(session_factory, slug="werkstatt-aenderung")
    async with session_factory() as session:
        event = await events.save_event(
            session, process=process, moderator=people["mod"], form=event_form()
        )
        [created] = await entries(db, "event.create")
        assert created.before is None and created.after["place"] == "Smart Systems Hub"
        assert created.after["starts_at"] == "2027-01-10T08:00:00+00:00"  # 9:00 in Berlin

        await events.save_event(
            session,
            process=process,
            moderator=people["mod"],
            event_id=event.id,
            form=event_form(place="Kraftwerk Mitte, Dresden", starts_at="2027-01-10T10:30"),
        )
        [edit] = await entries(db, "event.update")
        assert edit.actor_id == people["mod"].id and edit.target_id == event.id
        assert edit.before == {
            "place": "Smart Systems Hub",
            "starts_at": "2027-01-10T08:00:00+00:00",
        }
        assert edit.after == {
            "place": "Kraftwerk Mitte, Dresden",
            "starts_at": "2027-01-10T09:30:00+00:00",
        }

        # a description is not in the creation entry, but editing it is on the record; saving
        # the form again unchanged: nothing more to audit
        for _ in range(2):
            await events.save_event(
                session,
                process=process,
                moderator=people["mod"],
                event_id=event.id,
                form=event_form(
                    place="Kraftwerk Mitte, Dresden",
                    starts_at="2027-01-10T10:30",
                    description="Bitte Laptop mitbringen.",
                ),
            )
            edits = await entries(db, "event.update")
            assert len(edits) == 2
            assert edits[1].before == {"description": ""}
            assert edits[1].after == {"description": "Bitte Laptop mitbringen."}

    # the log page shows the change in words
    await login(client, people["mod"].email)
    page = (await client.get("/moderation/audit?target_type=event")).text
    assert "Smart Systems Hub" in page and "Kraftwerk Mitte, Dresden" in page
    assert "Zukunftswerkstatt Chemnitz" in page  # in the creation entry only
    assert page.count("Zukunftswerkstatt Chemnitz") == 1


async def test_projector_changes_record_the_view_and_the_timer(session_factory, db, people):
    process = await make_process(session_factory, slug="werkstatt-beamer")
    event = await make_event(session_factory, process, people["mod"])
    async with session_factory() as session:
        await events.set_timer(
            session, event_id=event.id, moderator=people["mod"], minutes="10", label="Punkte"
        )
        [timer] = await entries(db, "event.timer")
        running = dict(timer.after)
        assert timer.before == {"timer_ends_at": None, "label": ""}
        assert set(timer.after) == {"timer_ends_at", "label"} and timer.after["label"] == "Punkte"
        ends = datetime.fromisoformat(timer.after["timer_ends_at"])
        assert ends.utcoffset() is not None and ends.utcoffset().total_seconds() == 0

        await events.set_mode(session, event_id=event.id, moderator=people["mod"], mode="vote")
        [mode] = await entries(db, "event.mode")
        assert mode.before == {"mode": "collect", **running}
        assert mode.after == {"mode": LiveMode.VOTE.value, "timer_ends_at": None, "label": ""}

        # stopping a timer that does not run, opening what is open: nothing happened
        await events.set_timer(
            session, event_id=event.id, moderator=people["mod"], minutes="", label=""
        )
        assert len(await entries(db, "event.timer")) == 1

        async def joining(open_: bool) -> None:
            await events.set_joining(
                session, event_id=event.id, moderator=people["mod"], open_=open_
            )

        await assert_switch_recorded(
            db,
            joining,
            "joining_open",
            now=True,
            unchanged="event.joining_open",
            changed="event.joining_closed",
        )


async def test_renaming_a_theme_records_the_changed_field_only(session_factory, db, people):
    process = await make_process(session_factory, slug="themen-aenderung", cluster="open")
    async with session_factory() as session:
        theme = await themes.create_theme(
            session, process=process, user=people["mod"], title="Energie", description="Alt"
        )
        for _ in range(2):  # the second time, nothing changes: still one entry
            await themes.rename_theme(
                session,
                theme_id=theme.id,
                moderator=people["mod"],
                title="Energie",
                description="Neu",
            )
            [rename] = await entries(db, "theme.rename")
            assert (rename.before, rename.after) == ({"description": "Alt"}, {"description": "Neu"})
            assert [c.key for c in changes(rename.before, rename.after)] == ["description"]

        async def locked(locked: bool) -> None:
            await themes.set_locked(
                session, theme_id=theme.id, moderator=people["mod"], locked=locked
            )

        await assert_switch_recorded(
            db, locked, "locked", now=False, unchanged="theme.unlock", changed="theme.lock"
        )


async def test_changing_a_measure_records_status_and_dates_as_text(session_factory, db, people):
    process = await make_process(session_factory, slug="massnahme-aenderung")
    author = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author, title="Transferzentren stärken")
    form = measures.MeasureForm(title="Transferzentren", unit="Referat 32", starts_on="2027-01-01")
    async with session_factory() as session:
        entry = await recommend(
            session, process, people["mod"], idea, official=people["ministry"], comment="Ja."
        )
        # deciding the same again changes nothing
        await shortlists.decide(
            session, entry_id=entry.id, official=people["ministry"], accept=True, comment="Ja."
        )
        [accepted] = await entries(db, "shortlist.accept")
        assert accepted.before == {"decision": "pending", "comment": "", "position": None}
        assert accepted.after == {"decision": "accepted", "comment": "Ja.", "position": 1}

        measure = await measures.create_measure(
            session, official=people["ministry"], entry_id=entry.id, form=form
        )
        [created] = await entries(db, "measure.create")
        assert created.after["status"] == "planned" and created.after["starts_on"] == "2027-01-01"
        assert created.after["entry_id"] == entry.id and "description" not in created.after

        for _ in range(2):  # the second time, nothing changes: still one entry
            await measures.change_measure(
                session,
                official=people["ministry"],
                measure_id=measure.id,
                form=measures.MeasureForm(
                    title="Transferzentren",
                    unit="Referat 32",
                    starts_on="2027-01-01",
                    target_on="2027-06-30",
                ),
                status=MeasureStatus.IN_PROGRESS.value,
                progress="0",
            )
            [edit] = await entries(db, "measure.change")
            assert edit.before == {"status": "planned", "target_on": None}
            assert edit.after == {"status": "in_progress", "target_on": "2027-06-30"}


def process_form(**fields: Any) -> processes.ProcessForm:
    values: dict[str, Any] = {
        "slug": "prozess-aenderung",
        "title": "Industrie der Zukunft",
        "description": "Ein Testprozess.",
        "vote_budget": "5",
        "topics": "Energie",
        "phases": {
            "collect": ("2027-03-01T09:00", "2027-04-30T18:00"),
            "vote": ("2027-05-01T09:00", "2027-05-31T18:00"),
        },
    } | fields
    return processes.ProcessForm(**values)


async def test_editing_a_process_records_the_changed_fields(session_factory, db, people):
    async with session_factory() as session:
        process = await processes.save_process(
            session, actor_id=people["mod"].id, form=process_form()
        )
        [created] = await entries(db, "process.create")
        assert created.after["phases"]["vote"] == [
            "2027-05-01T07:00:00+00:00",
            "2027-05-31T16:00:00+00:00",
        ]
        phases = {
            "collect": ("2027-03-01T09:00", "2027-04-30T18:00"),
            "vote": ("2027-05-02T09:00", "2027-05-31T18:00"),
        }
        for _ in range(2):  # the second time, nothing changes: still one entry
            await processes.save_process(
                session,
                actor_id=people["mod"].id,
                process_id=process.id,
                form=process_form(title="Industrie von morgen", phases=phases),
            )
            [edit] = await entries(db, "process.update")
            assert set(edit.before) == set(edit.after) == {"title", "phases"}
            assert edit.before["title"] == "Industrie der Zukunft"
            assert edit.after["title"] == "Industrie von morgen"
            assert edit.after["phases"]["vote"][0] == "2027-05-02T07:00:00+00:00"
            assert edit.after["phases"]["collect"] == edit.before["phases"]["collect"]
            # the page shows just the moved phase date and the title
            shown = [c.labels for c in changes(edit.before, edit.after)]
            assert shown == [("Phases", "vote"), ("Title",)]
