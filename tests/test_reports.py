"""Reports, hiding and restoring: what participants, authors and moderators see."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ideas_platform.comments import service as comments
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import Role
from ideas_platform.core.errors import DomainError
from ideas_platform.core.invariants import find_violations
from ideas_platform.core.requests import Principal
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.moderation.models import Report, ReportStatus
from ideas_platform.votes import service as votes
from tests.helpers import login, make_idea, make_process, make_user, make_users_fast, post_form


@pytest.fixture
async def scene(session_factory):
    process = await make_process(session_factory, slug="meldungen")
    author = await make_user(session_factory, name="Autorin Anna")
    reporter = await make_user(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    idea = await make_idea(
        session_factory, process, author, title="Billige Werbung für meinen Onlineshop"
    )
    return {
        "process": process,
        "author": author,
        "reporter": reporter,
        "mod": moderator,
        "idea": idea,
    }


async def test_reported_idea_is_hidden_with_a_reason_the_author_sees(
    scene, client, session_factory, driver_pool, db
):
    idea, reporter, moderator = scene["idea"], scene["reporter"], scene["mod"]
    (voter,) = await make_users_fast(session_factory, 1)
    await votes.cast_vote(driver_pool, Principal(voter, 0), idea.id)

    await login(client, reporter.email)
    form = await client.get(f"/ideas/{idea.id}/report")
    assert form.status_code == 200 and 'name="reason"' in form.text
    response = await post_form(
        client, f"/ideas/{idea.id}/report", {"reason": "spam", "details": "Nur Werbung"}
    )
    assert response.status_code == 303
    again = await post_form(client, f"/ideas/{idea.id}/report", {"reason": "spam"})
    assert again.status_code == 303  # told politely; no second open report
    assert len(list(await db.scalars(select(Report)))) == 1

    client.cookies.clear()
    await login(client, moderator.email)
    queue = await client.get("/moderation/reports")
    assert "Nur Werbung" in queue.text and idea.title in queue.text
    response = await post_form(
        client,
        f"/moderation/ideas/{idea.id}/hide",
        {"reason": "Werbung ist hier nicht erlaubt", "next": "/moderation/reports"},
    )
    assert response.status_code == 303
    assert "Nur Werbung" not in (await client.get("/moderation/reports")).text

    stored = await db.get(Idea, idea.id, populate_existing=True)
    assert stored is not None and stored.status == IdeaStatus.HIDDEN
    report = await db.scalar(select(Report))
    assert report is not None and report.status == ReportStatus.HIDDEN
    # gone from lists and search, for everybody
    listing = await client.get("/processes/meldungen/ideas?q=Onlineshop")
    assert idea.title not in listing.text
    # its votes are frozen: no new support, no withdrawal
    with pytest.raises(DomainError):
        await votes.withdraw_vote(driver_pool, Principal(voter, 0), idea.id)
    assert stored.vote_count == 1

    client.cookies.clear()
    assert (await client.get(f"/ideas/{idea.id}")).status_code == 404  # anonymous
    await login(client, scene["author"].email)
    own = await client.get(f"/ideas/{idea.id}")
    assert own.status_code == 200 and "Werbung ist hier nicht erlaubt" in own.text


async def test_restore_brings_the_idea_back_and_is_logged(scene, session_factory, client, db):
    from ideas_platform.audit.models import AuditEntry
    from ideas_platform.moderation import reports

    idea, moderator = scene["idea"], scene["mod"]
    async with session_factory() as session:
        await reports.hide(session, idea_id=idea.id, moderator_id=moderator.id, reason="Prüfen")
    async with session_factory() as session:
        await reports.restore(session, idea_id=idea.id, moderator_id=moderator.id)
    stored = await db.get(Idea, idea.id, populate_existing=True)
    assert stored is not None and stored.status == IdeaStatus.PUBLISHED
    assert stored.moderation_note is None
    actions = list(await db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["idea.hide", "idea.restore"]
    assert idea.title in (await client.get("/processes/meldungen/ideas")).text


async def test_hiding_a_comment_keeps_the_count_of_visible_comments(
    scene, session_factory, client, db
):
    from ideas_platform.moderation import reports

    idea, reporter, moderator = scene["idea"], scene["reporter"], scene["mod"]
    async with session_factory() as session:
        rude = await comments.add_comment(
            session, idea_id=idea.id, author_id=reporter.id, body="Ein beleidigender Kommentar"
        )
    async with session_factory() as session:
        await comments.add_comment(
            session, idea_id=idea.id, author_id=moderator.id, body="Ein sachlicher Kommentar"
        )
    async with session_factory() as session:
        await reports.report(
            session,
            reporter_id=scene["author"].id,
            idea_id=idea.id,
            comment_id=rude.id,
            reason="offensive",
        )
    await login(client, moderator.email)
    response = await post_form(
        client,
        f"/moderation/ideas/{idea.id}/hide",
        {"comment_id": str(rude.id), "reason": "Bitte sachlich bleiben"},
    )
    assert response.status_code == 303
    stored = await db.get(Idea, idea.id, populate_existing=True)
    assert stored is not None and stored.comment_count == 1
    assert await find_violations(db) == []
    client.cookies.clear()
    public = await client.get(f"/ideas/{idea.id}")
    assert "Ein beleidigender Kommentar" not in public.text
    assert "Ein sachlicher Kommentar" in public.text
    await login(client, reporter.email)  # the comment's author sees it, and why
    own = await client.get(f"/ideas/{idea.id}")
    assert "Ein beleidigender Kommentar" in own.text and "Bitte sachlich bleiben" in own.text
    hidden = await db.get(Comment, rude.id, populate_existing=True)
    assert hidden is not None and hidden.hidden


async def test_a_kept_report_leaves_the_content_and_closes_the_report(
    scene, session_factory, client, db
):
    from ideas_platform.moderation import reports

    idea = scene["idea"]
    async with session_factory() as session:
        await reports.report(
            session, reporter_id=scene["reporter"].id, idea_id=idea.id, reason="off_topic"
        )
    await login(client, scene["mod"].email)
    response = await post_form(
        client, f"/moderation/ideas/{idea.id}/keep", {"reason": "Passt zum Prozess"}
    )
    assert response.status_code == 303
    report = await db.scalar(select(Report))
    assert report is not None and report.status == ReportStatus.KEPT
    assert report.decision_note == "Passt zum Prozess"
    stored = await db.get(Idea, idea.id, populate_existing=True)
    assert stored is not None and stored.status == IdeaStatus.PUBLISHED


@pytest.mark.parametrize(
    ("form", "field"),
    [({"reason": "nonsense"}, "reason"), ({"reason": "other", "details": ""}, "details")],
)
async def test_bad_reports_get_a_clear_message_and_store_nothing(scene, client, db, form, field):
    await login(client, scene["reporter"].email)
    response = await post_form(client, f"/ideas/{scene['idea'].id}/report", form)
    assert response.status_code == 422
    assert 'class="field-error"' in response.text
    assert list(await db.scalars(select(Report))) == []


async def test_hiding_needs_a_reason(scene, client, db):
    await login(client, scene["mod"].email)
    response = await post_form(
        client,
        f"/moderation/ideas/{scene['idea'].id}/hide",
        {"reason": "  "},
        follow_redirects=True,
    )
    assert "Grund" in response.text or "reason" in response.text
    stored = await db.get(Idea, scene["idea"].id, populate_existing=True)
    assert stored is not None and stored.status == IdeaStatus.PUBLISHED
