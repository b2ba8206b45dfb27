"""Privacy: download all my data (JSON) and delete my account (ideas stay, votes go)."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, insert, select

from ideas_platform.accounts import privacy
from ideas_platform.accounts import service as accounts
from ideas_platform.accounts.models import ApiToken, User
from ideas_platform.audit.models import AuditEntry
from ideas_platform.comments import service as comments
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import Role
from ideas_platform.core.errors import DomainError
from ideas_platform.core.invariants import find_violations
from ideas_platform.core.requests import Principal
from ideas_platform.events import service as events
from ideas_platform.events.models import EventAttendee
from ideas_platform.ideas.models import Idea
from ideas_platform.moderation import reports
from ideas_platform.moderation.models import IdeaCoauthor, Report
from ideas_platform.votes import service as votes
from ideas_platform.votes.models import Vote
from tests.helpers import (
    PASSWORD,
    login,
    make_event,
    make_idea,
    make_process,
    make_user,
    make_users_fast,
    post_form,
    try_login,
)


@pytest.fixture
async def scene(session_factory, driver_pool):
    process = await make_process(session_factory, slug="idz")
    person = await make_user(session_factory, name="Erika Muster", sector="science")
    other = await make_user(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    own = await make_idea(session_factory, process, person, title="Wasserstoff im Erzgebirge")
    others = [await make_idea(session_factory, process, other) for _ in range(3)]
    for idea in others:
        await votes.cast_vote(driver_pool, Principal(person.id, None), idea.id)
    await votes.cast_vote(driver_pool, Principal(other.id, None), own.id)
    async with session_factory() as session:
        comment = await comments.add_comment(
            session, idea_id=others[0].id, author_id=person.id, body="Ein guter Gedanke."
        )
        await reports.report(session, reporter_id=person.id, idea_id=others[1].id, reason="spam")
        token = await accounts.create_api_token(session, person.id, "Mein Skript")
        await session.execute(insert(IdeaCoauthor).values(idea_id=others[2].id, user_id=person.id))
        await session.commit()
        event = await make_event(session_factory, process, moderator)
        await events.join_as_user(session, code=event.join_code, user=person)
    return {
        "process": process,
        "person": person,
        "other": other,
        "own": own,
        "others": others,
        "comment": comment,
        "token": token,
        "event": event,
    }


async def test_export_contains_everything_and_no_secrets(scene, client):
    person = scene["person"]
    await login(client, person.email)
    response = await client.get("/profile/data")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.content)
    assert data["profile"]["email"] == person.email
    assert data["profile"]["display_name"] == "Erika Muster"
    assert [i["title"] for i in data["ideas"]] == ["Wasserstoff im Erzgebirge"]
    assert data["coauthored_idea_ids"] == [scene["others"][2].id]
    assert [c["body"] for c in data["comments"]] == ["Ein guter Gedanke."]
    assert sorted(v["idea_id"] for v in data["votes"]) == sorted(i.id for i in scene["others"])
    assert [r["idea_id"] for r in data["reports"]] == [scene["others"][1].id]
    assert [e["event_id"] for e in data["events_joined"]] == [scene["event"].id]
    assert [t["name"] for t in data["api_tokens"]] == ["Mein Skript"]
    text = response.text
    assert "password" not in text and "$argon2" not in text
    assert "hash" not in text and scene["token"] not in text
    assert accounts.hash_token(scene["token"]) not in text


async def test_export_over_the_api_and_only_when_logged_in(scene, client):
    anonymous = await client.get("/api/me/data")
    assert anonymous.status_code == 401
    assert (await client.get("/profile/data", follow_redirects=False)).status_code in (302, 303)
    response = await client.get(
        "/api/me/data", headers={"Authorization": f"Bearer {scene['token']}"}
    )
    assert response.status_code == 200
    assert response.json()["profile"]["id"] == scene["person"].id


async def test_delete_keeps_ideas_removes_votes_and_anonymises(scene, client, db):
    person, own, others = scene["person"], scene["own"], scene["others"]
    await login(client, person.email)
    response = await post_form(client, "/profile/delete", {"password": PASSWORD})
    assert response.status_code == 303
    # The session has ended, and the account cannot log in any more.
    assert (await client.get("/profile", follow_redirects=False)).status_code in (302, 303)
    again = await try_login(client, person.email)
    assert again.status_code == 400

    assert await db.scalar(select(func.count()).where(User.id == person.id)) == 0
    idea = await db.get(Idea, own.id)
    assert idea is not None and idea.author_id is None and idea.author_sector == "science"
    assert idea.vote_count == 1  # the other person's vote stays
    for other_idea in others:
        assert (await db.get(Idea, other_idea.id)).vote_count == 0
    assert await db.scalar(select(func.count()).where(Vote.user_id == person.id)) == 0
    comment = await db.get(Comment, scene["comment"].id)
    assert comment.author_id is None and comment.body == "Ein guter Gedanke."
    report = await db.scalar(select(Report).where(Report.idea_id == others[1].id))
    assert report is not None and report.reporter_id is None
    assert await db.scalar(select(func.count()).where(IdeaCoauthor.user_id == person.id)) == 0
    assert await db.scalar(select(func.count()).where(EventAttendee.user_id == person.id)) == 0
    assert await db.scalar(select(func.count()).where(ApiToken.user_id == person.id)) == 0
    assert await find_violations(db) == []
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "user.delete"))
    assert entry is not None and entry.actor_id is None
    recorded = json.dumps([entry.before, entry.after])
    assert "Erika" not in recorded and person.email not in recorded
    # The idea page says "former participant".
    page = await client.get(f"/ideas/{own.id}")
    assert page.status_code == 200 and "ehemals teilnehmenden Person" in page.text
    # The API token of the deleted account no longer works.
    gone = await client.get("/api/me", headers={"Authorization": f"Bearer {scene['token']}"})
    assert gone.status_code == 401


async def test_a_wrong_password_deletes_nothing(scene, client, db):
    person = scene["person"]
    await login(client, person.email)
    response = await post_form(client, "/profile/delete", {"password": "Falsch-Falsch-123"})
    assert response.status_code == 400
    assert "nicht gelöscht" in response.text
    assert await db.scalar(select(func.count()).where(User.id == person.id)) == 1
    assert await db.scalar(select(func.count()).where(Vote.user_id == person.id)) == 3
    assert (await client.get("/profile")).status_code == 200


async def test_delete_needs_login_and_csrf(scene, client):
    anonymous = await post_form(client, "/profile/delete", {"password": PASSWORD})
    assert anonymous.status_code in (302, 303)
    await login(client, scene["person"].email)
    no_csrf = await client.post("/profile/delete", data={"password": PASSWORD})
    assert no_csrf.status_code == 403


async def test_a_guest_confirms_with_the_display_name(
    scene, client, db, driver_pool, session_factory
):
    event = scene["event"]
    # A guest supports only ideas of its workshop (issue 17).
    at_event = await make_idea(
        session_factory, scene["process"], scene["person"], event_id=event.id
    )
    joined = await post_form(
        client,
        f"/join/{event.join_code}",
        {"display_name": "Anna aus Zwickau", "sector": "industry", "region": "zwickau"},
    )
    assert joined.status_code == 303
    guest_id = await db.scalar(select(User.id).where(User.display_name == "Anna aus Zwickau"))
    await db.commit()
    await votes.cast_vote(driver_pool, Principal(guest_id, None), at_event.id)
    wrong = await post_form(client, "/profile/delete", {"display_name": "Anna"})
    assert wrong.status_code == 400
    ok = await post_form(client, "/profile/delete", {"display_name": "Anna aus Zwickau"})
    assert ok.status_code == 303
    assert await db.scalar(select(func.count()).where(User.id == guest_id)) == 0
    assert (await db.get(Idea, at_event.id)).vote_count == 0
    assert await find_violations(db) == []


async def test_concurrent_votes_of_others_keep_the_counts_right(
    scene, session_factory, driver_pool, db
):
    person, others = scene["person"], scene["others"]
    voters = await make_users_fast(session_factory, 30)

    async def vote(user_id: int, idea_id: int) -> None:
        await votes.cast_vote(driver_pool, Principal(user_id, None), idea_id)

    async def delete() -> None:
        async with session_factory() as session:
            await privacy.delete_account(session, person.id, password=PASSWORD)

    tasks = [vote(uid, others[i % 3].id) for i, uid in enumerate(voters)]
    tasks.insert(len(tasks) // 2, delete())
    await asyncio.gather(*tasks)
    assert await find_violations(db) == []
    counts = [(await db.get(Idea, idea.id)).vote_count for idea in others]
    assert counts == [10, 10, 10]


async def test_the_service_refuses_a_wrong_password(scene, session_factory):
    async with session_factory() as session:
        with pytest.raises(DomainError):
            await privacy.delete_account(session, scene["person"].id, password="nope-nope-nope")
