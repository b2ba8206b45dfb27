"""The cluster board: themes, moves, locks, merges, undo, live events, theme pages."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest
from sqlalchemy import func, select

from ideas_platform.audit.models import AuditEntry
from ideas_platform.core.choices import Role
from ideas_platform.core.errors import DomainError, PermissionError_
from ideas_platform.core.requests import Principal
from ideas_platform.ideas.models import Idea
from ideas_platform.themes import service as themes
from ideas_platform.themes.models import Theme
from ideas_platform.votes import service as votes
from tests.helpers import (
    htmx_headers,
    login,
    make_idea,
    make_process,
    make_user,
    make_users_fast,
    next_sse_data,
    post_form,
    set_phase,
)


@pytest.fixture
async def scene(session_factory):
    process = await make_process(session_factory, slug="wand", cluster="open")
    author = await make_user(session_factory)
    participant = await make_user(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    ideas = [
        await make_idea(session_factory, process, author, title=title)
        for title in (
            "Wasserstoffleitungen für die Lausitz",
            "Elektrolyseure in Chemieparks",
            "Ausbildungsverbund Mikroelektronik",
        )
    ]
    return {"process": process, "participant": participant, "mod": moderator, "ideas": ideas}


async def new_theme(session_factory, scene, title: str, user=None) -> Theme:
    """A theme on the scene's board, made in a session of its own (by the moderator unless
    `user` is given)."""
    async with session_factory() as session:
        return await themes.create_theme(
            session, process=scene["process"], user=user or scene["mod"], title=title
        )


async def move_into(session_factory, idea_id: int, theme_id: int | None, user) -> None:
    async with session_factory() as session:
        await themes.move_idea(session, idea_id=idea_id, theme_id=theme_id, user=user)


async def theme_of(db, idea_id: int) -> int | None:
    idea = await db.get(Idea, idea_id, populate_existing=True)
    assert idea is not None
    return idea.theme_id


async def test_participants_build_themes_on_the_board_without_javascript(scene, client, db):
    idea = scene["ideas"][0]
    await login(client, scene["participant"].email)
    page = await client.get("/processes/wand/board")
    assert page.status_code == 200 and "Unsortiert" in page.text
    created = await post_form(client, "/processes/wand/themes", {"title": "Wasserstoff"})
    assert created.status_code == 303
    theme = await db.scalar(select(Theme))
    assert theme is not None and theme.title == "Wasserstoff"
    moved = await post_form(client, f"/ideas/{idea.id}/theme", {"theme_id": str(theme.id)})
    assert moved.status_code == 303
    assert await theme_of(db, idea.id) == theme.id
    board = await client.get("/processes/wand/board")
    assert f'<option value="{theme.id}" selected>' in board.text  # the card's select
    back = await post_form(client, f"/ideas/{idea.id}/theme", {"theme_id": ""})
    assert back.status_code == 303 and await theme_of(db, idea.id) is None
    actions = list(
        await db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.actor_id == scene["participant"].id)
            .order_by(AuditEntry.id)
        )
    )
    assert actions == ["theme.create", "idea.move", "idea.move"]


async def test_with_htmx_a_move_answers_the_new_board(scene, client, db, session_factory):
    idea = scene["ideas"][1]
    theme = await new_theme(session_factory, scene, "Energie")
    await login(client, scene["participant"].email)
    response = await client.post(
        f"/ideas/{idea.id}/theme", data={"theme_id": str(theme.id)}, headers=htmx_headers(client)
    )
    assert response.status_code == 200 and 'id="board"' in response.text
    assert "<html" not in response.text


async def test_outside_the_cluster_phase_only_moderators_sort(scene, session_factory, client, db):
    await set_phase(session_factory, scene["process"], cluster="closed")
    idea = scene["ideas"][0]
    await login(client, scene["participant"].email)
    refused = await post_form(client, "/processes/wand/themes", {"title": "Zu spät"})
    assert refused.status_code == 403
    board = await client.get("/processes/wand/board")
    assert 'name="theme_id"' not in board.text  # no move controls for them
    client.cookies.clear()
    await login(client, scene["mod"].email)
    assert (
        await post_form(client, "/processes/wand/themes", {"title": "Energie"})
    ).status_code == 303
    theme = await db.scalar(select(Theme))
    assert theme is not None
    ok = await post_form(client, f"/ideas/{idea.id}/theme", {"theme_id": str(theme.id)})
    assert ok.status_code == 303 and await theme_of(db, idea.id) == theme.id


async def test_a_locked_theme_keeps_its_ideas_except_for_moderators(scene, session_factory, db):
    idea = scene["ideas"][0]
    theme = await new_theme(session_factory, scene, "Wasserstoff")
    await move_into(session_factory, idea.id, theme.id, scene["mod"])
    async with session_factory() as session:
        await themes.set_locked(session, theme_id=theme.id, moderator=scene["mod"], locked=True)
    async with session_factory() as session:
        with pytest.raises(PermissionError_) as refused:
            await themes.move_idea(
                session, idea_id=idea.id, theme_id=None, user=scene["participant"]
            )
    assert refused.value.message == themes.THEME_LOCKED
    await move_into(session_factory, idea.id, None, scene["mod"])
    assert await theme_of(db, idea.id) is None


async def test_merging_themes_moves_their_ideas_and_is_logged(scene, session_factory, db, client):
    first, second = scene["ideas"][:2]
    a = await new_theme(session_factory, scene, "H2-Netz")
    b = await new_theme(session_factory, scene, "Wasserstoff")
    for idea, theme in ((first, a), (second, b)):
        await move_into(session_factory, idea.id, theme.id, scene["mod"])
    async with session_factory() as session:
        await themes.merge_themes(session, source_id=a.id, target_id=b.id, moderator=scene["mod"])
    assert (await theme_of(db, first.id), await theme_of(db, second.id)) == (b.id, b.id)
    async with session_factory() as session:
        board = await themes.board(session, scene["process"])
    assert [t.title for t in board.themes] == ["Wasserstoff"]
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "theme.merge"))
    assert entry is not None and entry.before["ideas"] == [first.id]
    page = await client.get(f"/themes/{a.id}", follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"] == f"/themes/{b.id}"
    async with session_factory() as session:
        with pytest.raises(DomainError):
            await themes.merge_themes(
                session, source_id=b.id, target_id=b.id, moderator=scene["mod"]
            )


async def test_a_moderator_undoes_a_move_unless_it_moved_again(scene, session_factory, client, db):
    idea = scene["ideas"][0]
    theme = await new_theme(session_factory, scene, "Energie", user=scene["participant"])
    await move_into(session_factory, idea.id, theme.id, scene["participant"])
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "idea.move"))
    assert entry is not None
    await login(client, scene["mod"].email)
    log = await client.get("/moderation/audit")
    assert f'action="/moderation/moves/{entry.id}/undo"' in log.text
    response = await post_form(client, f"/moderation/moves/{entry.id}/undo", {})
    assert response.status_code == 303 and await theme_of(db, idea.id) is None
    again = await post_form(client, f"/moderation/moves/{entry.id}/undo", {}, follow_redirects=True)
    assert "flash-error" in again.text  # it is unsorted now, not in "Energie"
    client.cookies.clear()
    await login(client, scene["participant"].email)
    assert (await post_form(client, f"/moderation/moves/{entry.id}/undo", {})).status_code == 403


async def test_concurrent_moves_of_one_idea_end_in_one_consistent_state(scene, session_factory, db):
    idea = scene["ideas"][0]
    created = [
        await new_theme(session_factory, scene, title)
        for title in ("Energie", "Wasserstoff", "Netze")
    ]
    targets = [t.id for t in created] + [None]

    async def move(i: int) -> None:
        user = scene["participant"] if i % 2 else scene["mod"]
        await move_into(session_factory, idea.id, targets[i % len(targets)], user)

    await asyncio.gather(*(move(i) for i in range(24)))
    entries = list(
        await db.scalars(
            select(AuditEntry).where(AuditEntry.action == "idea.move").order_by(AuditEntry.id)
        )
    )
    assert entries, "no move was recorded"
    for earlier, later in itertools.pairwise(entries):
        assert later.before == earlier.after  # one chain of moves, none lost in between
    assert await theme_of(db, idea.id) == entries[-1].after["theme_id"]


async def test_a_move_reaches_a_board_served_by_another_app_process(
    scene, database_url, session_factory, two_servers
):
    """Two uvicorn processes on 127.0.0.1: a board's event stream open on the second hears a
    theme created and an idea moved through the first (PostgreSQL LISTEN/NOTIFY)."""
    first_url, second_url = two_servers
    async with (
        httpx.AsyncClient(base_url=first_url, timeout=10) as one,
        httpx.AsyncClient(base_url=second_url, timeout=10) as two,
        two.stream("GET", "/processes/wand/board/events") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        await login(one, scene["participant"].email)
        await post_form(one, "/processes/wand/themes", {"title": "Wasserstoff"})
        assert '"kind":"theme"' in await next_sse_data(lines)
        async with session_factory() as session:
            theme_id = await session.scalar(select(Theme.id))
        await post_form(one, f"/ideas/{scene['ideas'][0].id}/theme", {"theme_id": str(theme_id)})
        moved = await next_sse_data(lines)
        assert '"kind":"move"' in moved and f'"theme_id":{theme_id}' in moved


async def test_theme_page_counts_distinct_supporters_by_sector_and_ranks_the_theme(
    scene, session_factory, driver_pool, client
):
    first, second, third = scene["ideas"]
    energy = await new_theme(session_factory, scene, "Energie")
    skills = await new_theme(session_factory, scene, "Fachkräfte")
    for idea, theme in ((first, energy), (second, energy), (third, skills)):
        await move_into(session_factory, idea.id, theme.id, scene["mod"])
    scientists = await make_users_fast(session_factory, 2, sector="science")
    industry = await make_users_fast(session_factory, 1, sector="industry")
    for user_id in scientists + industry:  # everyone supports both energy ideas: 3 distinct
        for idea in (first, second):
            await votes.cast_vote(driver_pool, Principal(user_id, 0), idea.id)
    await votes.cast_vote(driver_pool, Principal(industry[0], 0), third.id)
    async with session_factory() as session:
        view = await themes.theme_view(session, energy.id)
    assert view.supporters == 3
    assert {s.value: n for s, n in view.supporters_by_sector.items()} == {
        "industry": 1,
        "science": 2,
    }
    assert (view.rank, view.themes) == (1, 2)
    page = await client.get(f"/themes/{skills.id}")
    assert page.status_code == 200 and "Platz 2 von 2" in page.text


async def test_undo_only_for_the_latest_move_of_an_idea(scene, session_factory, db):
    idea, mod = scene["ideas"][0], scene["mod"]
    x = await new_theme(session_factory, scene, "Energie", user=mod)
    y = await new_theme(session_factory, scene, "Netze", user=mod)
    for target in (x.id, y.id, x.id):  # None -> X -> Y -> X
        await move_into(session_factory, idea.id, target, mod)
    first = await db.scalar(
        select(AuditEntry).where(AuditEntry.action == "idea.move").order_by(AuditEntry.id)
    )
    assert first is not None
    async with session_factory() as session:
        with pytest.raises(DomainError):
            await themes.undo_move(session, entry_id=first.id, moderator=mod)
    assert await theme_of(db, idea.id) == x.id


async def test_moves_while_their_theme_is_merged_never_land_in_the_merged_theme(
    scene, session_factory, db
):
    mod = scene["mod"]
    for round_number in range(4):
        a = await new_theme(session_factory, scene, f"Quelle {round_number}", user=mod)
        b = await new_theme(session_factory, scene, f"Ziel {round_number}", user=mod)

        async def move(idea_id: int, theme_id: int = a.id) -> None:
            async with session_factory() as session:
                try:
                    await themes.move_idea(session, idea_id=idea_id, theme_id=theme_id, user=mod)
                except DomainError:
                    pass  # refused: the theme is gone

        async def merge(source: int = a.id, target: int = b.id) -> None:
            async with session_factory() as session:
                await themes.merge_themes(
                    session, source_id=source, target_id=target, moderator=mod
                )

        await asyncio.gather(*(move(i.id) for i in scene["ideas"]), merge())
        stranded = await db.scalar(
            select(func.count())
            .select_from(Idea)
            .join(Theme, Theme.id == Idea.theme_id)
            .where(Theme.merged_into_id.is_not(None))
        )
        assert stranded == 0


async def test_a_board_opened_again_still_hears_the_changes(scene, two_servers):
    """The second viewer of a board (after the first left) must get the live updates too."""
    first_url, second_url = two_servers
    async with httpx.AsyncClient(base_url=first_url, timeout=10) as one:
        await login(one, scene["participant"].email)
        async with httpx.AsyncClient(base_url=second_url, timeout=10) as two:
            for number in range(3):
                async with two.stream("GET", "/processes/wand/board/events") as stream:
                    lines = stream.aiter_lines()
                    await asyncio.wait_for(anext(lines), 10)  # connected
                    await post_form(one, "/processes/wand/themes", {"title": f"Thema {number}"})
                    while "theme" not in await next_sse_data(lines):
                        pass


async def test_theme_moderation_is_for_moderators_only(scene, session_factory, client, db):
    theme = await new_theme(session_factory, scene, "Energie", user=scene["participant"])
    routes = [
        (f"/themes/{theme.id}/rename", {"title": "Umbenannt"}),
        (f"/themes/{theme.id}/lock", {"locked": "1"}),
        (f"/themes/{theme.id}/merge", {"target_id": str(theme.id)}),
        ("/processes/wand/suggestions", {}),
    ]
    for url, form in routes:  # anonymous: to the login
        response = await post_form(client, url, form)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    await login(client, scene["participant"].email)  # participant, even in the cluster phase
    for url, form in routes:
        assert (await post_form(client, url, form)).status_code == 403, url
    stored = await db.get(Theme, theme.id, populate_existing=True)
    assert stored is not None and (stored.title, stored.locked) == ("Energie", False)
    assert (
        f'action="/themes/{theme.id}/rename"' not in (await client.get(f"/themes/{theme.id}")).text
    )
    client.cookies.clear()
    await login(client, scene["mod"].email)
    page = await client.get(f"/themes/{theme.id}")  # the moderation panel
    assert f'action="/themes/{theme.id}/rename"' in page.text
    assert f'action="/themes/{theme.id}/lock"' in page.text
    renamed = await post_form(client, f"/themes/{theme.id}/rename", {"title": "Energie & Netze"})
    assert renamed.status_code == 303
    stored = await db.get(Theme, theme.id, populate_existing=True)
    assert stored is not None and stored.title == "Energie & Netze"


async def test_the_board_keeps_listening_after_the_database_connection_was_lost(
    scene, two_servers, engine
):
    """PostgreSQL ends the server's listening connection (as on a restart): the server
    reconnects, tells the board to reload (resync), and later changes arrive again."""
    from sqlalchemy import text

    first_url, second_url = two_servers
    async with (
        httpx.AsyncClient(base_url=first_url, timeout=10) as one,
        httpx.AsyncClient(base_url=second_url, timeout=10) as two,
        two.stream("GET", "/processes/wand/board/events") as stream,
    ):
        lines = stream.aiter_lines()
        await asyncio.wait_for(anext(lines), 10)  # connected

        async with engine.connect() as conn:
            ended = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            )
        assert ended >= 1
        assert '"kind":"resync"' in await next_sse_data(lines, seconds=15)
        await login(one, scene["participant"].email)
        await post_form(one, "/processes/wand/themes", {"title": "Nach dem Neustart"})
        assert '"kind":"theme"' in await next_sse_data(lines, seconds=15)
