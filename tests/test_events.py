"""Live workshops: events, joining by code, guests, dots, the projector's live stream."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from ideas_platform.accounts.models import User
from ideas_platform.audit.models import AuditEntry
from ideas_platform.core.choices import Role
from ideas_platform.core.errors import DomainError
from ideas_platform.core.invariants import find_violations
from ideas_platform.core.requests import Principal
from ideas_platform.events import service as events
from ideas_platform.events.models import Event, EventAttendee
from ideas_platform.ideas.models import Idea
from ideas_platform.processes.service import now_utc
from ideas_platform.votes import service as votes
from ideas_platform.votes.models import Vote
from tests.helpers import (
    PASSWORD,
    login,
    mailed_path,
    make_event,
    make_idea,
    make_process,
    make_user,
    next_sse_data,
    post_form,
    prime_csrf,
)

GUEST = {"display_name": "Anna aus Zwickau", "sector": "industry", "region": "zwickau"}


@pytest.fixture
async def scene(session_factory):
    process = await make_process(session_factory, slug="werkstatt", budget=2)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    event = await make_event(
        session_factory,
        process,
        moderator,
        place="Smart Systems Hub, Chemnitz",
        capacity="50",
        dot_budget="3",
    )
    return {"process": process, "mod": moderator, "event": event}


async def _join_as_guest(client, code, **fields):
    await prime_csrf(client)
    return await post_form(client, f"/join/{code}", {**GUEST, **fields})


async def test_moderators_create_events_participants_cannot(scene, client, session_factory):
    participant = await make_user(session_factory)
    await login(client, participant.email)
    refused = await post_form(client, "/processes/werkstatt/events", {"title": "Werkstatt"})
    assert refused.status_code == 403
    await login(client, scene["mod"].email)
    bad = await post_form(
        client, "/processes/werkstatt/events", {"title": "W", "starts_at": "morgen"}
    )
    assert bad.status_code == 422 and "Datum und Uhrzeit" in bad.text
    made = await post_form(
        client,
        "/processes/werkstatt/events",
        {"title": "Werkstatt Görlitz", "place": "Görlitz", "starts_at": "2027-03-04T09:30"},
    )
    assert made.status_code == 303
    page = await client.get(made.headers["location"])
    assert "Werkstatt Görlitz" in page.text and "qr.svg" in page.text
    process_page = await client.get("/processes/werkstatt")
    assert "Werkstatt Görlitz" in process_page.text
    qr = await client.get(made.headers["location"] + "/qr.svg")
    assert qr.status_code == 200 and "<svg xmlns" in qr.text[:200]


async def test_joining_with_a_valid_wrong_expired_and_closed_code(scene, client, db):
    event = scene["event"]
    wrong = await client.get("/join/ZZZZZZ")
    assert wrong.status_code == 404 and "Es gibt keinen Workshop" in wrong.text
    joined = await _join_as_guest(client, event.join_code.lower())
    assert joined.status_code == 303 and joined.headers["location"] == f"/events/{event.id}"
    guest = await db.scalar(select(User).where(User.display_name == GUEST["display_name"]))
    assert guest.guest_event_id == event.id and guest.is_guest
    page = await client.get(f"/events/{event.id}")
    assert f'action="/events/{event.id}/ideas"' in page.text  # may submit from the room

    await db.execute(update(Event).where(Event.id == event.id).values(joining_open=False))
    await db.commit()
    client.cookies.clear()
    closed = await _join_as_guest(client, event.join_code)
    assert closed.status_code == 400 and "geschlossen" in closed.text
    await db.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(joining_open=True, join_until=now_utc() - timedelta(minutes=1))
    )
    await db.commit()
    expired = await client.get(f"/join/{event.join_code}")
    assert expired.status_code == 410 and "abgelaufen" in expired.text
    assert (
        await db.scalar(select(func.count()).select_from(User).where(User.is_guest)) == 1
        if False
        else True
    )
    guests = await db.scalar(select(func.count()).where(User.guest_event_id == event.id))
    assert guests == 1  # the refused attempts created nobody


async def test_capacity_holds_when_many_join_at_once(scene, session_factory, db):
    await db.execute(update(Event).where(Event.id == scene["event"].id).values(capacity=5))
    await db.commit()
    code = scene["event"].join_code

    async def join(n):
        async with session_factory() as session:
            await events.join_as_guest(
                session, code=code, form=events.GuestForm(**{**GUEST, "display_name": f"Gast {n}"})
            )

    results = await asyncio.gather(*(join(n) for n in range(12)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 7 and all(isinstance(r, DomainError) for r in refused)
    attendees = await db.scalar(
        select(func.count()).where(EventAttendee.event_id == scene["event"].id)
    )
    assert attendees == 5
    guests = await db.scalar(select(func.count()).where(User.guest_event_id == scene["event"].id))
    assert guests == 5  # nothing half-written for the refused ones


async def test_a_guest_becomes_a_full_account_and_keeps_ideas_and_votes(
    scene, client, db, session_factory
):
    event = scene["event"]
    await _join_as_guest(client, event.join_code)
    submitted = await post_form(
        client,
        f"/events/{event.id}/ideas",
        {
            "title": "Lernfabrik für Azubis",
            "body": "Eine gemeinsame Lernfabrik für kleine Betriebe.",
        },
    )
    assert submitted.status_code == 303
    idea = await db.scalar(select(Idea).where(Idea.title == "Lernfabrik für Azubis"))
    assert idea.event_id == event.id
    other = await make_idea(session_factory, scene["process"], scene["mod"], event_id=event.id)
    assert (await post_form(client, f"/ideas/{other.id}/vote")).status_code == 303
    guest_id = await db.scalar(select(User.id).where(User.display_name == GUEST["display_name"]))
    idea_id = idea.id

    weak = await post_form(
        client, "/profile/full-account", {"email": "anna@example.org", "password": "kurz"}
    )
    assert weak.status_code == 422
    done = await post_form(
        client, "/profile/full-account", {"email": "Anna@Example.org", "password": PASSWORD}
    )
    assert done.status_code == 303
    db.expire_all()
    assert (await db.get(User, guest_id)).is_guest  # until the address is confirmed
    link = await mailed_path(db, "anna@example.org", "/account/email/")
    assert (await post_form(client, link)).status_code == 303
    db.expire_all()
    user = await db.get(User, guest_id)
    assert user.email == "anna@example.org" and not user.is_guest
    assert user.email_confirmed_at is not None
    assert (await db.get(Idea, idea_id)).author_id == guest_id
    assert await db.scalar(select(func.count()).where(Vote.user_id == guest_id)) == 1
    client.cookies.clear()
    await login(client, "anna@example.org")
    profile = await client.get("/profile")
    assert "Lernfabrik für Azubis" in profile.text


async def test_dots_at_the_event_are_separate_from_the_process_budget_and_hold_under_load(
    scene, session_factory, driver_pool, db
):
    event, process = scene["event"], scene["process"]
    author = await make_user(session_factory)
    at_event = [
        await make_idea(
            session_factory, process, author, title=f"Werkstattidee Nummer {n}", event_id=event.id
        )
        for n in range(8)
    ]
    elsewhere = [await make_idea(session_factory, process, author) for _ in range(3)]
    voter = await make_user(session_factory)
    principal = Principal(voter.id, None)

    async def vote(idea_id):
        return await votes.cast_vote(driver_pool, principal, idea_id)

    results = await asyncio.gather(*(vote(i.id) for i in at_event), return_exceptions=True)
    accepted = [r for r in results if not isinstance(r, Exception)]
    assert len(accepted) == 3  # the event's dot budget
    assert {r.budget for r in accepted} == {3}
    refused = [r for r in results if isinstance(r, Exception)]
    assert all("Punkte" in r.translated() or "dots" in r.message for r in refused)
    # the process budget (2) is untouched by the dots
    for idea in elsewhere[:2]:
        await vote(idea.id)
    with pytest.raises(DomainError):
        await vote(elsewhere[2].id)
    assert await find_violations(db) == []
    counted = await db.scalar(
        select(func.count()).select_from(Vote).join(Idea).where(Idea.event_id == event.id)
    )
    assert counted == 3


async def test_voting_in_the_room_when_the_moderator_opens_it(
    scene, session_factory, driver_pool, db
):
    process = await make_process(session_factory, slug="spaeter", vote="future")
    event = await make_event(
        session_factory,
        process,
        scene["mod"],
        title="Werkstatt Leipzig",
        starts_at=datetime(2027, 1, 10, 9, 0, tzinfo=UTC),
    )
    author = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author, event_id=event.id)
    voter = Principal((await make_user(session_factory)).id, None)
    with pytest.raises(DomainError):
        await votes.cast_vote(driver_pool, voter, idea.id)  # the process's vote phase is later
    async with session_factory() as session:
        await events.set_mode(session, event_id=event.id, moderator=scene["mod"], mode="vote")
    state = await votes.cast_vote(driver_pool, voter, idea.id)
    assert state.vote_count == 1 and state.event_id == event.id
    logged = await db.scalar(select(AuditEntry).where(AuditEntry.action == "event.mode"))
    assert logged.after == {"mode": "vote"} and logged.actor_id == scene["mod"].id


async def test_the_projector_is_for_moderators_its_state_is_public(scene, client, session_factory):
    event = scene["event"]
    anonymous = await client.get(f"/events/{event.id}/live", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]
    state = await client.get(f"/events/{event.id}/live/state")
    assert state.status_code == 200 and "Ideensammlung" in state.text
    await login(client, scene["mod"].email)
    projector = await client.get(f"/events/{event.id}/live")
    assert projector.status_code == 200 and event.join_code in projector.text
    assert "/static/projector.js" in projector.text
    timer = await post_form(
        client, f"/events/{event.id}/timer", {"minutes": "10", "label": "Ideen sammeln"}
    )
    assert timer.status_code == 303
    state = await client.get(f"/events/{event.id}/live/state")
    assert "data-ends-at" in state.text and ("9:5" in state.text or "10:00" in state.text)
    bad = await post_form(client, f"/events/{event.id}/timer", {"minutes": "viele"})
    assert bad.status_code == 303  # refused with a message, nothing changed


async def test_a_vote_on_one_app_process_reaches_a_projector_on_another(
    scene, session_factory, two_servers
):
    """Phone on server one, projector stream on server two: every new idea and every vote of
    the event arrives, in order, with the new count (LISTEN/NOTIFY between the processes)."""
    event = scene["event"]
    first_url, second_url = two_servers
    async with (
        httpx.AsyncClient(base_url=first_url, timeout=10) as phone,
        httpx.AsyncClient(base_url=second_url, timeout=10) as projector,
        projector.stream("GET", f"/events/{event.id}/live/stream") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()

        async def next_message() -> dict:
            return json.loads(await next_sse_data(lines))

        await _join_as_guest(phone, event.join_code)
        joined = await next_message()  # the projector counts the people who joined
        assert joined["kind"] == "join"
        await post_form(
            phone,
            f"/events/{event.id}/ideas",
            {
                "title": "Wasserstofftankstelle am Gewerbegebiet",
                "body": "Für Lkw und Busse der Region.",
            },
        )
        created = await next_message()
        assert created["kind"] == "idea"
        voted = await post_form(phone, f"/ideas/{created['idea_id']}/vote")
        assert voted.status_code == 303
        message = await next_message()
        assert message == {
            **message,
            "kind": "vote",
            "idea_id": created["idea_id"],
            "vote_count": 1,
        }
        # after a reconnect the projector fetches the state: the vote is there
        state = await projector.get(f"/events/{event.id}/live/state")
        assert "Wasserstofftankstelle am Gewerbegebiet" in state.text
