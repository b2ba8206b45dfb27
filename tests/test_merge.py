"""Merge and unmerge (DESIGN.md invariants 3 and 4), through the services and the pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ideas_platform.audit.models import AuditEntry
from ideas_platform.comments import service as comments
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import Role
from ideas_platform.core.errors import DomainError
from ideas_platform.core.invariants import find_violations
from ideas_platform.core.requests import Principal
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.moderation import merge as merging
from ideas_platform.moderation.models import IdeaCoauthor, MergeRecord
from ideas_platform.votes import service as votes
from ideas_platform.votes.models import Vote
from tests.helpers import login, make_idea, make_process, make_user, make_users_fast, post_form


async def vote(pool, user_id: int, idea_id: int) -> None:
    await votes.cast_vote(pool, Principal(user_id, 0), idea_id)


async def voters(db, idea_id: int) -> set[int]:
    return set(await db.scalars(select(Vote.user_id).where(Vote.idea_id == idea_id)))


async def fresh(db, idea_id: int) -> Idea:
    idea = await db.get(Idea, idea_id, populate_existing=True)
    assert idea is not None
    return idea


@pytest.fixture
async def scene(session_factory, driver_pool):
    """Two ideas of one process with budget 3: u1, u2 support A; u2, u3 support B."""
    process = await make_process(session_factory, budget=3)
    author_a = await make_user(session_factory, name="Anna Autorin")
    author_b = await make_user(session_factory, name="Bernd Autor")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    a = await make_idea(session_factory, process, author_a, title="Gründerzentren im Erzgebirge")
    b = await make_idea(session_factory, process, author_b, title="Ein Gründerzentrum für Annaberg")
    u1, u2, u3 = await make_users_fast(session_factory, 3)
    for user_id, idea in ((u1, a), (u2, a), (u2, b), (u3, b)):
        await vote(driver_pool, user_id, idea.id)
    async with session_factory() as session:
        await comments.add_comment(session, idea_id=a.id, author_id=u1, body="Sehr gute Idee!")
    return {
        "process": process,
        "a": a,
        "b": b,
        "moderator": moderator,
        "authors": (author_a, author_b),
        "users": (u1, u2, u3),
    }


async def test_merge_moves_votes_comments_and_authors_in_one_go(scene, session_factory, db):
    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    u1, u2, u3 = scene["users"]
    async with session_factory() as session:
        record = await merging.merge(
            session, source_id=a.id, target_id=b.id, moderator_id=moderator.id, note="Doppelt"
        )

    assert await voters(db, b.id) == {u1, u2, u3}  # u2 supported both: counted once
    assert await voters(db, a.id) == set()
    source, target = await fresh(db, a.id), await fresh(db, b.id)
    assert (source.status, source.merged_into_id, source.vote_count) == (IdeaStatus.MERGED, b.id, 0)
    assert (target.vote_count, target.comment_count, source.comment_count) == (3, 1, 0)
    moved = await db.scalar(select(Comment).where(Comment.idea_id == b.id))
    assert moved is not None and moved.moved_from_idea_id == a.id
    coauthors = set(
        await db.scalars(select(IdeaCoauthor.user_id).where(IdeaCoauthor.idea_id == b.id))
    )
    assert coauthors == {scene["authors"][0].id}
    assert (record.moved_vote_user_ids, record.dropped_vote_user_ids) == ([u1], [u2])
    assert record.source_status == "published" and record.note == "Doppelt"
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "idea.merge"))
    assert entry is not None and entry.actor_id == moderator.id and entry.target_id == a.id
    assert entry.before["source"]["status"] == "published"
    assert entry.after["source"]["status"] == "merged" and entry.after["target"]["votes"] == 3
    assert await find_violations(db) == []


async def test_double_supporter_gets_the_freed_budget_back(scene, session_factory, driver_pool):
    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    u2 = scene["users"][1]
    state = await votes.current_state(driver_pool, u2, b.id)
    assert state is not None and state.remaining == 1
    async with session_factory() as session:
        await merging.merge(session, source_id=a.id, target_id=b.id, moderator_id=moderator.id)
    state = await votes.current_state(driver_pool, u2, b.id)
    assert state is not None and state.remaining == 2


async def test_unmerge_restores_both_ideas_exactly(scene, session_factory, db):
    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    before = (await voters(db, a.id), await voters(db, b.id))
    async with session_factory() as session:
        await merging.merge(session, source_id=a.id, target_id=b.id, moderator_id=moderator.id)
    async with session_factory() as session:
        await merging.unmerge(session, source_id=a.id, moderator_id=moderator.id)

    assert (await voters(db, a.id), await voters(db, b.id)) == before
    source, target = await fresh(db, a.id), await fresh(db, b.id)
    assert (source.status, source.merged_into_id) == (IdeaStatus.PUBLISHED, None)
    assert (source.vote_count, target.vote_count) == (2, 2)
    assert (source.comment_count, target.comment_count) == (1, 0)
    comment = await db.scalar(select(Comment).where(Comment.idea_id == a.id))
    assert comment is not None and comment.moved_from_idea_id is None
    assert list(await db.scalars(select(IdeaCoauthor))) == []
    record = await db.scalar(select(MergeRecord))
    assert record is not None and record.undone_at is not None
    assert await db.scalar(select(AuditEntry.id).where(AuditEntry.action == "idea.unmerge"))
    assert await find_violations(db) == []


async def test_unmerge_keeps_what_users_did_since(scene, session_factory, driver_pool, db):
    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    u1, u2, u3 = scene["users"]
    (u4,) = await make_users_fast(session_factory, 1)
    async with session_factory() as session:
        await merging.merge(session, source_id=a.id, target_id=b.id, moderator_id=moderator.id)
    # after the merge: u1 (moved from A) withdraws, u4 is new on B
    await votes.withdraw_vote(driver_pool, Principal(u1, 0), b.id)
    await vote(driver_pool, u4, b.id)
    async with session_factory() as session:
        await merging.unmerge(session, source_id=a.id, moderator_id=moderator.id)

    assert await voters(db, a.id) == {u2}  # u1's withdrawal stands; u2 supported both before
    assert await voters(db, b.id) == {u2, u3, u4}
    assert await find_violations(db) == []


async def test_a_double_supporter_who_spent_the_freed_vote_is_not_put_over_budget(
    scene, session_factory, driver_pool, db
):
    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    u2 = scene["users"][1]
    process = scene["process"]
    others = [await make_idea(session_factory, process, scene["authors"][0]) for _ in range(2)]
    async with session_factory() as session:
        await merging.merge(session, source_id=a.id, target_id=b.id, moderator_id=moderator.id)
    for idea in others:  # budget 3: B plus two others
        await vote(driver_pool, u2, idea.id)
    async with session_factory() as session:
        await merging.unmerge(session, source_id=a.id, moderator_id=moderator.id)
    assert u2 not in await voters(db, a.id)
    assert await find_violations(db) == []


async def test_chains_redirect_to_the_live_idea_and_unmerge_in_reverse_order(
    scene, session_factory, client, db
):
    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    c = await make_idea(session_factory, scene["process"], scene["authors"][1])
    async with session_factory() as session:
        await merging.merge(session, source_id=a.id, target_id=b.id, moderator_id=moderator.id)
    async with session_factory() as session:
        await merging.merge(
            session, source_id=b.id, target_id=c.id, moderator_id=moderator.id, note="Gleiches Ziel"
        )
    assert await voters(db, c.id) == set(scene["users"])

    response = await client.get(f"/ideas/{a.id}", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == f"/ideas/{c.id}?merged_from={a.id}"
    page = await client.get(f"/ideas/{b.id}", follow_redirects=True)
    assert "Gleiches Ziel" in page.text  # the participants see why

    async with session_factory() as session:
        with pytest.raises(DomainError) as refused:
            await merging.unmerge(session, source_id=a.id, moderator_id=moderator.id)
    assert refused.value.message == merging.UNMERGE_TARGET_FIRST
    for source in (b, a):
        async with session_factory() as session:
            await merging.unmerge(session, source_id=source.id, moderator_id=moderator.id)
    assert await voters(db, a.id) == {scene["users"][0], scene["users"][1]}
    assert await find_violations(db) == []


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("self", merging.INTO_ITSELF),
        ("into_merged", merging.INTO_MERGED),
        ("other_process", merging.OTHER_PROCESS),
    ],
)
async def test_impossible_merges_are_refused_and_change_nothing(
    scene, session_factory, db, case, message
):
    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    target = a
    if case == "into_merged":
        c = await make_idea(session_factory, scene["process"], scene["authors"][1])
        async with session_factory() as session:
            await merging.merge(session, source_id=b.id, target_id=c.id, moderator_id=moderator.id)
        target = b
    elif case == "other_process":
        other = await make_process(session_factory)
        target = await make_idea(session_factory, other, scene["authors"][1])
    before = await voters(db, a.id)
    async with session_factory() as session:
        with pytest.raises(DomainError) as refused:
            await merging.merge(
                session, source_id=a.id, target_id=target.id, moderator_id=moderator.id
            )
    assert refused.value.message == message
    assert (await fresh(db, a.id)).status == IdeaStatus.PUBLISHED
    assert await voters(db, a.id) == before


async def test_a_merged_idea_takes_no_votes(scene, session_factory, driver_pool):
    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    (u4,) = await make_users_fast(session_factory, 1)
    async with session_factory() as session:
        await merging.merge(session, source_id=a.id, target_id=b.id, moderator_id=moderator.id)
    with pytest.raises(DomainError) as refused:
        await vote(driver_pool, u4, a.id)
    assert refused.value.message == votes.NOT_VOTABLE


async def test_moderator_merges_and_unmerges_from_the_pages(scene, client, db):
    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    await login(client, moderator.email)
    page = await client.get(f"/ideas/{a.id}")
    assert f'action="/moderation/ideas/{a.id}/merge"' in page.text
    response = await post_form(
        client, f"/moderation/ideas/{a.id}/merge", {"target_id": str(b.id), "note": "Dublette"}
    )
    assert response.status_code == 303
    assert (await fresh(db, a.id)).merged_into_id == b.id
    target_page = await client.get(f"/ideas/{b.id}")
    assert "Gründerzentren im Erzgebirge" in target_page.text  # listed as merged into B
    assert "Anna Autorin" in target_page.text  # co-author

    refused = await post_form(
        client, f"/moderation/ideas/{b.id}/merge", {"target_id": str(b.id)}, follow_redirects=True
    )
    assert "nicht mit sich selbst" in refused.text or "into itself" in refused.text
    response = await post_form(client, f"/moderation/ideas/{a.id}/unmerge", {})
    assert response.status_code == 303
    assert (await fresh(db, a.id)).status == IdeaStatus.PUBLISHED


async def test_undoing_a_chain_restores_double_votes(scene, session_factory, driver_pool, db):
    """u2 supports A and B (and now C): A into B, B into C, then undo both; u2's votes return."""
    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    c = await make_idea(session_factory, scene["process"], scene["authors"][1])
    u2 = scene["users"][1]
    await vote(driver_pool, u2, c.id)
    before = {idea.id: await voters(db, idea.id) for idea in (a, b, c)}
    for source, target in ((a, b), (b, c)):
        async with session_factory() as session:
            await merging.merge(
                session, source_id=source.id, target_id=target.id, moderator_id=moderator.id
            )
    for source in (b, a):
        async with session_factory() as session:
            await merging.unmerge(session, source_id=source.id, moderator_id=moderator.id)
    assert {idea.id: await voters(db, idea.id) for idea in (a, b, c)} == before
    assert await find_violations(db) == []


async def test_a_hidden_idea_cannot_be_merged(scene, session_factory, db):
    from ideas_platform.moderation import reports

    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    async with session_factory() as session:
        await reports.hide(session, idea_id=a.id, moderator_id=moderator.id, reason="Werbung")
    async with session_factory() as session:
        with pytest.raises(DomainError) as refused:
            await merging.merge(session, source_id=a.id, target_id=b.id, moderator_id=moderator.id)
    assert refused.value.message == merging.SOURCE_NOT_MERGEABLE
    hidden = await fresh(db, a.id)
    assert (hidden.status, hidden.moderation_note) == (IdeaStatus.HIDDEN, "Werbung")


async def test_reports_on_moved_comments_move_with_them(scene, session_factory, db):
    from ideas_platform.moderation import reports
    from ideas_platform.moderation.models import Report, ReportStatus

    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    comment = await db.scalar(select(Comment).where(Comment.idea_id == a.id))
    assert comment is not None
    async with session_factory() as session:
        await reports.report(
            session,
            reporter_id=scene["users"][2],
            idea_id=a.id,
            comment_id=comment.id,
            reason="offensive",
        )
    async with session_factory() as session:
        await merging.merge(session, source_id=a.id, target_id=b.id, moderator_id=moderator.id)
    async with session_factory() as session:  # the queue links to the comment's new idea
        (group,) = await reports.open_reports(session)
        assert (group.idea.id, group.comment and group.comment.id) == (b.id, comment.id)
        await reports.keep(session, idea_id=b.id, comment_id=comment.id, moderator_id=moderator.id)
    report = await db.scalar(select(Report))
    assert report is not None and report.status == ReportStatus.KEPT


async def test_a_merge_does_not_deadlock_with_a_budget_vote_of_the_sources_author(
    scene, session_factory, database_url
):
    """The voter's lock (budget) must not block the merge adding that voter as co-author."""
    import asyncio

    import asyncpg

    from ideas_platform.core.database import asyncpg_dsn

    a, b, moderator = scene["a"], scene["b"], scene["moderator"]
    author = scene["authors"][0]  # author of A: becomes co-author of B
    voter = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with voter.transaction():
            await voter.execute(votes._LOCK_VOTER, author.id)  # a budget vote has begun

            async def merge() -> None:
                async with session_factory() as session:
                    await merging.merge(
                        session, source_id=a.id, target_id=b.id, moderator_id=moderator.id
                    )

            merging_task = asyncio.create_task(merge())
            await asyncio.sleep(0.2)
            # the vote goes on to lock idea B, as CAST_SQL does: it waits for the merge, no deadlock
            await voter.execute("SELECT 1 FROM ideas WHERE id = $1 FOR NO KEY UPDATE", b.id)
            await asyncio.wait_for(merging_task, 5)
    finally:
        await voter.close()
