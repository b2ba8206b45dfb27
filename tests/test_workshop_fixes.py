"""Workshop fixes: a join reaches the projector, the timer's label follows the mode, and in
dot-voting mode the event page lists the ideas before the idea form."""

from __future__ import annotations

import json

import httpx

from ideas_platform.core.choices import Role
from ideas_platform.events import service as events
from tests.helpers import (
    login,
    make_event,
    make_idea,
    make_process,
    make_user,
    next_sse_data,
    post_form,
)

GUEST = {"display_name": "Jonas aus Plauen", "sector": "science", "region": "vogtlandkreis"}


async def _scene(session_factory):
    process = await make_process(session_factory, slug="werkstatt")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    event = await make_event(session_factory, process, moderator, dot_budget="3")
    return process, moderator, event


async def test_a_join_is_announced_to_the_projector_stream(session_factory, two_servers):
    _, _, event = await _scene(session_factory)
    phone_url, projector_url = two_servers
    async with (
        httpx.AsyncClient(base_url=phone_url, timeout=10) as phone,
        httpx.AsyncClient(base_url=projector_url, timeout=10) as projector,
        projector.stream("GET", f"/events/{event.id}/live/stream") as stream,
    ):
        before = await projector.get(f"/events/{event.id}/live/state")
        assert "0 Personen" in before.text
        lines = stream.aiter_lines()
        joined = await post_form(phone, f"/join/{event.join_code}", GUEST)
        assert joined.status_code == 303

        joined_message = json.loads(await next_sse_data(lines, seconds=2))  # within ~2 s
        assert joined_message["kind"] == "join"
        after = await projector.get(f"/events/{event.id}/live/state")
        assert "1 Person" in after.text


async def test_the_timer_ends_with_the_mode_it_was_for(client, session_factory, db):
    _, moderator, event = await _scene(session_factory)
    await login(client, moderator.email)
    await post_form(client, f"/events/{event.id}/mode", {"mode": "vote"})
    await post_form(
        client, f"/events/{event.id}/timer", {"minutes": "5", "label": "Punkte vergeben"}
    )
    voting = await client.get(f"/events/{event.id}/live/state")
    assert "Punkte vergeben" in voting.text and "data-ends-at" in voting.text
    await post_form(client, f"/events/{event.id}/mode", {"mode": "results"})
    results = await client.get(f"/events/{event.id}/live/state")
    assert "Punkte vergeben" not in results.text
    assert "data-ends-at" not in results.text
    # A timer started for the results shows its own label.
    await post_form(client, f"/events/{event.id}/timer", {"minutes": "3", "label": "Auswertung"})
    assert "Auswertung" in (await client.get(f"/events/{event.id}/live/state")).text


async def test_dot_voting_lists_the_ideas_before_the_idea_form(client, session_factory):
    process, moderator, event = await _scene(session_factory)
    author = await make_user(session_factory)
    await make_idea(session_factory, process, author, title="Lastenräder leihen", event_id=event.id)
    await post_form(client, f"/join/{event.join_code}", GUEST)
    collecting = (await client.get(f"/events/{event.id}")).text
    assert collecting.index('id="submit-heading"') < collecting.index('id="ideas-heading"')
    async with session_factory() as session:
        await events.set_mode(session, event_id=event.id, moderator=moderator, mode="vote")
    voting = (await client.get(f"/events/{event.id}")).text
    assert voting.index('id="ideas-heading"') < voting.index('id="submit-heading"')
    assert voting.index("Lastenräder leihen") < voting.index('id="submit-heading"')
