"""Every moderation route refuses participants (403) and sends anonymous visitors to the login;
the audit log can be read and filtered by moderators, and changed by nobody."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ideas_platform.core.choices import Role
from ideas_platform.moderation import merge as merging
from tests.helpers import csrf, login, make_idea, make_process, make_user, post_form, prime_csrf

GET_ROUTES = [
    "/moderation",
    "/moderation/processes/{slug}/duplicates",
    "/moderation/reports",
    "/moderation/audit",
]
POST_ROUTES = [
    "/moderation/duplicates/dismiss",
    "/moderation/ideas/{a}/merge",
    "/moderation/ideas/{a}/unmerge",
    "/moderation/ideas/{a}/hide",
    "/moderation/ideas/{a}/restore",
    "/moderation/ideas/{a}/keep",
]


@pytest.fixture
async def scene(session_factory):
    process = await make_process(session_factory, slug="zugriff")
    author = await make_user(session_factory)
    a = await make_idea(session_factory, process, author)
    b = await make_idea(session_factory, process, author)
    return {"slug": process.slug, "a": a.id, "b": b.id}


def _urls(routes: list[str], scene: dict) -> list[str]:
    return [route.format(**scene) for route in routes]


async def test_anonymous_visitors_are_sent_to_the_login(scene, client):
    for url in _urls(GET_ROUTES, scene):
        response = await client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login"), url
    await prime_csrf(client)
    for url in _urls(POST_ROUTES, scene):
        response = await post_form(client, url, {"target_id": str(scene["b"]), "reason": "x"})
        assert response.status_code == 303 and "/login" in response.headers["location"], url


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.MINISTRY])
async def test_other_roles_are_refused_and_nothing_changes(
    scene, client, session_factory, db, role
):
    from ideas_platform.ideas.models import Idea, IdeaStatus

    user = await make_user(session_factory, role=role)
    await login(client, user.email)
    for url in _urls(GET_ROUTES, scene):
        assert (await client.get(url)).status_code == 403, url
    for url in _urls(POST_ROUTES, scene):
        response = await post_form(client, url, {"target_id": str(scene["b"]), "reason": "x"})
        assert response.status_code == 403, url
    idea = await db.get(Idea, scene["a"], populate_existing=True)
    assert idea is not None and idea.status == IdeaStatus.PUBLISHED


async def test_moderators_and_admins_get_in(scene, client, session_factory):
    for role in (Role.MODERATOR, Role.ADMIN):
        user = await make_user(session_factory, role=role)
        client.cookies.clear()
        await login(client, user.email)
        for url in _urls(GET_ROUTES, scene):
            assert (await client.get(url)).status_code == 200, (role, url)


async def test_the_audit_log_is_filtered_by_object_and_actor(scene, client, session_factory):
    first = await make_user(session_factory, role=Role.MODERATOR, name="Moderatorin Maria")
    second = await make_user(session_factory, role=Role.ADMIN, name="Admin Alex")
    async with session_factory() as session:
        await merging.merge(
            session,
            source_id=scene["a"],
            target_id=scene["b"],
            moderator_id=first.id,
            note="<script>alert(1)</script> zusammengeführt",
        )
    async with session_factory() as session:
        await merging.unmerge(session, source_id=scene["a"], moderator_id=second.id)
    await login(client, first.email)
    everything = await client.get("/moderation/audit")
    assert "idea.merge" in everything.text and "idea.unmerge" in everything.text
    assert "<script>alert" not in everything.text and "zusammengeführt" in everything.text
    by_actor = await client.get("/moderation/audit", params={"actor_id": second.id})
    assert "idea.unmerge" in by_actor.text and "idea.merge<" not in by_actor.text
    by_object = await client.get(
        "/moderation/audit", params={"target_type": "idea", "target_id": scene["b"]}
    )
    assert "idea.merge" not in by_object.text  # the entries are about idea a
    assert "Keine Einträge" in by_object.text or "No entries" in by_object.text
    assert csrf(client)


async def test_audit_entries_cannot_be_changed_or_deleted(scene, session_factory, engine):
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    async with session_factory() as session:
        await merging.merge(
            session, source_id=scene["a"], target_id=scene["b"], moderator_id=moderator.id
        )
    for statement in (
        "UPDATE audit_entries SET action = 'idea.nothing'",
        "DELETE FROM audit_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    # a deleted account leaves its entries, without the person
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": moderator.id})
        remaining = await conn.scalar(
            text("SELECT count(*) FROM audit_entries WHERE action = 'idea.merge'")
        )
    assert remaining == 1


async def test_odd_numbers_in_urls_and_forms_get_no_server_error(scene, client, session_factory):
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    await login(client, moderator.email)
    huge = "9" * 30
    for url in (
        f"/moderation/processes/{scene['slug']}/duplicates?page={huge}",
        f"/moderation/audit?target_id={huge}&actor_id=abc&page=-3",
        f"/processes/{scene['slug']}/similar-ideas?title=Gr%C3%BCnder&exclude={huge}",
        f"/ideas/{scene['a']}?merged_from={huge}",
        f"/ideas/{scene['a']}?merged_from=%C2%B2",  # "²" is a digit to Python, not to int()
        f"/processes/{scene['slug']}/similar-ideas?exclude=%C2%B2",
        f"/processes/{scene['slug']}/similar-ideas?title={'ab' * 4000}",
    ):
        assert (await client.get(url)).status_code == 200, url
    for form in ({"target_id": huge}, {"target_id": "zwölf"}, {"target_id": str(scene["a"])}):
        response = await post_form(
            client, f"/moderation/ideas/{scene['a']}/merge", form, follow_redirects=True
        )
        assert response.status_code == 200 and "flash-error" in response.text, form
