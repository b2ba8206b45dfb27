"""Submitting, editing, withdrawing and browsing ideas through the HTML pages."""

from __future__ import annotations

import re

from sqlalchemy import func, select, update

from ideas_platform.core.choices import Role
from ideas_platform.core.requests import Principal
from ideas_platform.ideas import visibility
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.processes import service as processes
from ideas_platform.votes import service as votes
from tests.helpers import (
    app_client,
    assert_form_error,
    htmx_headers,
    login,
    make_idea,
    make_process,
    make_user,
    post_form,
)

VALID = {
    "title": "Transferzentrum für additive Fertigung in Chemnitz",
    "body": "Ein offenes Labor, in dem kleine Betriebe 3D-Druck mit Metall erproben können.",
    "region": "chemnitz",
}


async def _idea_count(db) -> int:
    return int(await db.scalar(select(func.count()).select_from(Idea)))


async def test_submit_an_idea(client, session_factory, db):
    process = await make_process(session_factory, slug="idz")
    user = await make_user(session_factory, sector="science")
    async with session_factory() as session:
        topic = (await processes.list_topics(session, process.id))[0]
    await login(client, user.email)
    form = await client.get("/processes/idz/ideas/new")
    assert form.status_code == 200
    assert 'name="title"' in form.text
    response = await post_form(client, "/processes/idz/ideas", {**VALID, "topic_id": topic.id})
    assert response.status_code == 303
    idea = await db.scalar(select(Idea))
    assert response.headers["location"] == f"/ideas/{idea.id}"
    assert idea.author_id == user.id
    assert idea.author_sector.value == "science"
    assert idea.topic_id == topic.id
    page = await client.get(response.headers["location"])
    assert VALID["title"] in page.text
    assert user.display_name in page.text


async def test_invalid_idea_is_refused_with_messages_and_nothing_written(
    client, session_factory, db
):
    await make_process(session_factory, slug="idz")
    user = await make_user(session_factory)
    await login(client, user.email)
    response = await post_form(
        client,
        "/processes/idz/ideas",
        {"title": "kurz", "body": "", "region": "atlantis", "topic_id": "x"},
    )
    assert_form_error(response, "title", "body", "region", "topic_id")
    assert 'value="kurz"' in response.text  # the input is kept
    assert await _idea_count(db) == 0


async def test_no_submission_outside_the_collect_phase(client, session_factory, db):
    await make_process(session_factory, slug="idz", collect="closed")
    user = await make_user(session_factory)
    await login(client, user.email)
    response = await post_form(client, "/processes/idz/ideas", VALID)
    assert response.status_code == 400
    assert await _idea_count(db) == 0


async def test_submission_needs_login(client, session_factory, db):
    await make_process(session_factory, slug="idz")
    response = await client.get("/processes/idz/ideas/new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    response = await post_form(client, "/processes/idz/ideas", VALID)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert await _idea_count(db) == 0


async def test_markdown_is_sanitised(client, session_factory):
    process = await make_process(session_factory)
    user = await make_user(session_factory)
    idea = await make_idea(
        session_factory,
        process,
        user,
        title="<script>alert(1)</script> Titel",
        body="**fett** <img src=x onerror=alert(1)> [Link](https://example.org) [x](javascript:alert(1))",
    )
    page = await client.get(f"/ideas/{idea.id}")
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "<img" not in page.text  # shown as text, inert
    assert "<strong>fett</strong>" in page.text
    assert 'rel="nofollow noopener noreferrer"' in page.text
    assert 'href="javascript' not in page.text


async def test_edit_and_withdraw_only_own_idea_without_foreign_votes(
    client, driver_pool, session_factory
):
    process = await make_process(session_factory)
    author = await make_user(session_factory)
    other = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author)
    await login(client, other.email)
    response = await post_form(client, f"/ideas/{idea.id}/edit", {**VALID})
    assert response.status_code == 403
    client.cookies.clear()
    await login(client, author.email)
    response = await post_form(
        client, f"/ideas/{idea.id}/edit", {**VALID, "title": "Ein neuer, besserer Titel"}
    )
    assert response.status_code == 303
    assert "Ein neuer, besserer Titel" in (await client.get(f"/ideas/{idea.id}")).text
    # once somebody else supports it, it is no longer the author's alone
    await votes.cast_vote(driver_pool, Principal(other.id, 0), idea.id)
    response = await post_form(client, f"/ideas/{idea.id}/edit", VALID)
    assert response.status_code == 400
    response = await post_form(client, f"/ideas/{idea.id}/withdraw")
    assert response.status_code == 400


async def test_withdrawn_idea_disappears_from_the_list(client, own_idea):
    process, _, idea = await own_idea(title="Eine Idee, die zurückgezogen wird")
    assert (await post_form(client, f"/ideas/{idea.id}/withdraw")).status_code == 303
    listing = await client.get(f"/processes/{process.slug}/ideas")
    assert "Eine Idee, die zurückgezogen wird" not in listing.text
    client.cookies.clear()
    assert (await client.get(f"/ideas/{idea.id}")).status_code == 404


async def _titles(client, url: str) -> list[str]:
    page = await client.get(url)
    assert page.status_code == 200
    return re.findall(r'<h2><a href="/ideas/\d+">([^<]+)</a></h2>', page.text)


async def test_browse_sort_filter_and_search(client, driver_pool, session_factory):
    process = await make_process(session_factory, slug="idz")
    science = await make_user(session_factory, sector="science")
    industry = await make_user(session_factory, sector="industry")
    a = await make_idea(
        session_factory,
        process,
        science,
        title="Wasserstoffnetz für Zwickau",
        region="zwickau",
        body="Elektrolyseure und Leitungen für die Automobilzulieferer der Region bauen.",
    )
    b = await make_idea(
        session_factory,
        process,
        industry,
        title="Gründerzentren an Hochschulen",
        body="Technologie- und Gründerzentren helfen Ausgründungen beim Start.",
    )
    c = await make_idea(
        session_factory,
        process,
        industry,
        title="Weiterbildung in Digitalisierung",
        body="Kurse für Beschäftigte in kleinen Betrieben zu Daten und KI.",
    )
    for voter in (science, industry):
        await votes.cast_vote(driver_pool, Principal(voter.id, 0), b.id)
    await votes.cast_vote(driver_pool, Principal(science.id, 0), c.id)

    assert await _titles(client, "/processes/idz/ideas?sort=votes") == [b.title, c.title, a.title]
    assert await _titles(client, "/processes/idz/ideas?sort=newest") == [c.title, b.title, a.title]
    assert await _titles(client, "/processes/idz/ideas?region=zwickau") == [a.title]
    assert await _titles(client, "/processes/idz/ideas?sector=industry") == [b.title, c.title]
    # German full-text search finds the inflected form ("Gründerzentrum" -> "Gründerzentren")
    assert await _titles(client, "/processes/idz/ideas?q=Gründerzentrum") == [b.title]
    assert await _titles(client, "/processes/idz/ideas?q=Leitung") == [a.title]
    # a random order is stable for its seed
    first = await _titles(client, "/processes/idz/ideas?sort=random&seed=42")
    assert first == await _titles(client, "/processes/idz/ideas?sort=random&seed=42")
    assert sorted(first) == sorted([a.title, b.title, c.title])
    # nonsense in the URL is ignored, not an error
    assert (
        len(await _titles(client, "/processes/idz/ideas?sort=drop&topic=abc&page=-3&region=x")) == 3
    )


async def test_pagination_and_htmx_fragments(client, session_factory):
    process = await make_process(session_factory, slug="idz")
    author = await make_user(session_factory)
    for n in range(25):
        await make_idea(session_factory, process, author, title=f"Idee {n:02d} zur Industrie")
    page1 = await _titles(client, "/processes/idz/ideas?sort=newest")
    page2 = await _titles(client, "/processes/idz/ideas?sort=newest&page=2")
    assert len(page1) == 20 and len(page2) == 5
    assert not set(page1) & set(page2)
    assert page1[0] == "Idee 24 zur Industrie"
    # htmx "load more": only the next items, no layout
    more = await client.get(
        "/processes/idz/ideas?sort=newest&page=2", headers={"HX-Request": "true"}
    )
    assert "<html" not in more.text and "Idee 04 zur Industrie" in more.text
    assert 'id="idea-list"' not in more.text
    # htmx filter change: the whole list section
    await client.get("/")
    filtered = await client.get(
        "/processes/idz/ideas?sort=votes", headers=htmx_headers(client, target="idea-list")
    )
    assert filtered.text.lstrip().startswith('<section id="idea-list"')
    assert "25" in filtered.text


async def test_unknown_process_and_idea_are_404_pages(client):
    response = await client.get("/processes/gibt-es-nicht")
    assert response.status_code == 404
    assert "<html" in response.text
    assert (await client.get("/ideas/999999")).status_code == 404


async def test_submitting_and_commenting_are_rate_limited(
    settings, database_url, session_factory, db
):
    process = await make_process(session_factory, slug="idz")
    user = await make_user(session_factory)
    idea = await make_idea(session_factory, process, user)
    async with app_client(settings, database_url, submit_rate_limit_per_minute=2) as client:
        await login(client, user.email)
        statuses = [
            (
                await post_form(client, "/processes/idz/ideas", {**VALID, "confirmed": "1"})
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [303, 303, 429]
        # comments count against the same budget of writes; voting is never limited
        assert (
            await post_form(client, f"/ideas/{idea.id}/comments", {"body": "Gut so."})
        ).status_code == 429
        for _ in range(4):
            assert (await post_form(client, f"/ideas/{idea.id}/vote")).status_code == 303
    assert await _idea_count(db) == 3


async def test_the_readable_rule_is_the_same_built_per_request_and_built_once(session_factory, db):
    """`readable_condition(viewer)` (built per request) and `readable_by(kind)` with the viewer's
    id as a parameter (built once) let the same ideas through, for every kind of reader."""
    process = await make_process(session_factory)
    author, other = await make_user(session_factory), await make_user(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    for status in IdeaStatus:
        for owner in (author, other):
            idea = await make_idea(session_factory, process, owner)
            await db.execute(update(Idea).where(Idea.id == idea.id).values(status=status))
    await db.commit()

    async def ids(condition, params=None) -> set[int]:
        return set(await db.scalars(select(Idea.id).where(condition), params or {}))

    seen = {}
    for viewer in (None, author, moderator):
        built_once = visibility.readable_by(visibility.reader_of(viewer))
        seen[visibility.reader_of(viewer)] = await ids(visibility.readable_condition(viewer))
        assert seen[visibility.reader_of(viewer)] == await ids(
            built_once, visibility.reader_params(viewer)
        )
    # ... and the rule itself: the public statuses; the author's own; moderators all.
    assert len(seen["anonymous"]) == 4 and len(seen["moderator"]) == 8
    assert len(seen["participant"]) == 6
