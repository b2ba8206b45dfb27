"""Attacks on hidden and withdrawn ideas (issue 17, items 1 and 2, and the vote fragment).

Whoever may not see an idea (anybody but its author and the moderators, once it is hidden or
withdrawn) must not learn anything of it through any route that takes its id: the answer is the
one a missing idea gets, the same status and the same body. And the public shortlist shows only
decided nominations, without the moderation's internal reasons and without hidden ideas.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, text

from ideas_platform.accounts import service as accounts
from ideas_platform.comments import service as comments
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import Role
from ideas_platform.core.requests import Principal
from ideas_platform.ideas import service as ideas
from ideas_platform.moderation import reports
from ideas_platform.shortlists import service as shortlists
from ideas_platform.votes import service as votes
from tests.helpers import htmx_headers, login, make_idea, make_process, make_user, post_form

SECRET_TITLE = "Geheimplan Braunkohle Tagebau"
SECRET_BODY = "Vertrauliche Beschreibung des Geheimplans mit vielen Einzelheiten."
SECRET_COMMENT = "Ein Kommentar, den niemand mehr lesen soll"
WITHDRAWN_TITLE = "Zurückgezogene Idee Wasserkraft"
# Distinctive ids, so that a body can be compared with the id taken out.
FIRST_ID = 424242
MISSING = 989898


async def _bearer(session_factory, user) -> dict[str, str]:
    async with session_factory() as session:
        token = await accounts.create_api_token(session, user.id, "Angriff")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def scene(session_factory, engine, driver_pool):
    async with engine.begin() as conn:
        await conn.execute(text(f"ALTER TABLE ideas ALTER COLUMN id RESTART WITH {FIRST_ID}"))
    process = await make_process(session_factory, slug="sichtbar", cluster="open")
    author = await make_user(session_factory, name="Autorin Berta")
    attacker = await make_user(session_factory, name="Neugieriger Nutzer")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    hidden = await make_idea(session_factory, process, author, title=SECRET_TITLE, body=SECRET_BODY)
    withdrawn = await make_idea(session_factory, process, author, title=WITHDRAWN_TITLE)
    assert hidden.id == FIRST_ID
    # Before the hiding: a comment, and votes (among them the attacker's).
    async with session_factory() as session:
        await comments.add_comment(
            session, idea_id=hidden.id, author_id=moderator.id, body=SECRET_COMMENT
        )
        own = await comments.add_comment(
            session, idea_id=hidden.id, author_id=attacker.id, body="Mein eigener Kommentar"
        )
    for voter in (attacker, moderator, author):
        await votes.cast_vote(driver_pool, Principal(voter.id, None), hidden.id)
    async with session_factory() as session:
        await reports.hide(
            session, idea_id=hidden.id, moderator_id=moderator.id, reason="Verstößt gegen Regeln"
        )
        await ideas.withdraw(session, idea_id=withdrawn.id, user_id=author.id)
    return {
        "process": process,
        "author": author,
        "attacker": attacker,
        "mod": moderator,
        "hidden": hidden,
        "withdrawn": withdrawn,
        "own_comment": own.id,
    }


def _same(text_: str, idea_id: int) -> str:
    """The body with the idea's id taken out (it is in links and element ids)."""
    return re.sub(rf"(?<!\d){idea_id}(?!\d)", "ID", text_)


def _assert_no_leak(response: Any) -> None:
    for secret in (SECRET_TITLE, SECRET_BODY, SECRET_COMMENT, WITHDRAWN_TITLE):
        assert secret not in response.text, response.text
    assert "Verstößt gegen Regeln" not in response.text


async def _assert_like_missing(send, idea_id: int) -> None:
    """`send(id)` answers the same for the idea as for one that does not exist."""
    seen = await send(idea_id)
    missing = await send(MISSING)
    _assert_no_leak(seen)
    assert seen.status_code == missing.status_code, (seen.status_code, seen.text)
    assert _same(seen.text, idea_id) == _same(missing.text, MISSING)


# --- item 1: the two attacks as found ---------------------------------------------------------


@pytest.mark.parametrize("which", ["hidden", "withdrawn"])
async def test_report_form_with_a_bad_reason_does_not_show_a_hidden_idea(scene, client, which):
    await login(client, scene["attacker"].email)

    async def send(idea_id: int) -> Any:
        return await post_form(client, f"/ideas/{idea_id}/report", {"reason": "quatsch"})

    response = await send(scene[which].id)
    assert response.status_code == 404
    await _assert_like_missing(send, scene[which].id)


async def test_htmx_comment_post_does_not_list_the_comments_of_a_hidden_idea(scene, client, db):
    await login(client, scene["attacker"].email)
    hidden = scene["hidden"].id
    before = len(list(await db.scalars(select(Comment.id))))

    for body in ("", "Noch ein Kommentar zu der versteckten Idee"):

        async def send(idea_id: int, body: str = body) -> Any:
            return await client.post(
                f"/ideas/{idea_id}/comments", data={"body": body}, headers=htmx_headers(client)
            )

        response = await send(hidden)
        assert response.status_code == 404
        await _assert_like_missing(send, hidden)
    assert len(list(await db.scalars(select(Comment.id)))) == before


async def test_htmx_comment_edit_does_not_list_the_comments_of_a_hidden_idea(scene, client):
    """The same list came back from a refused edit of one's own comment on the hidden idea."""
    await login(client, scene["attacker"].email)
    response = await client.post(
        f"/comments/{scene['own_comment']}/edit", data={"body": ""}, headers=htmx_headers(client)
    )
    _assert_no_leak(response)
    assert response.status_code == 404
    missing = await client.post(
        f"/comments/{MISSING}/edit", data={"body": ""}, headers=htmx_headers(client)
    )
    assert response.text == missing.text


# --- item 1: every route that takes an idea id ------------------------------------------------

HTML_ROUTES = [
    ("GET", "/ideas/{id}", None, False),
    ("GET", "/ideas/{id}/edit", None, False),
    ("POST", "/ideas/{id}/edit", {"title": "x", "body": "y", "region": "dresden"}, False),
    ("GET", "/ideas/{id}/withdraw", None, False),
    ("POST", "/ideas/{id}/withdraw", {}, False),
    ("POST", "/ideas/{id}/vote", {}, False),
    ("POST", "/ideas/{id}/vote", {}, True),
    ("POST", "/ideas/{id}/unvote", {}, False),
    ("POST", "/ideas/{id}/unvote", {}, True),
    ("POST", "/ideas/{id}/comments", {"body": ""}, False),
    ("POST", "/ideas/{id}/comments", {"body": "Ein neuer Kommentar hier"}, False),
    ("POST", "/ideas/{id}/comments", {"body": "Antwort", "parent_id": "1"}, True),
    ("GET", "/ideas/{id}/report", None, False),
    ("POST", "/ideas/{id}/report", {"reason": "spam"}, False),
    ("POST", "/ideas/{id}/report", {"reason": "quatsch"}, True),
    ("POST", "/ideas/{id}/theme", {"theme_id": ""}, False),
    ("POST", "/ideas/{id}/theme", {"theme_id": ""}, True),
    ("POST", "/ideas/{id}/follow", {"follow": "1"}, False),
    ("POST", "/ideas/{id}/follow", {"follow": "0"}, False),
]


@pytest.mark.parametrize("which", ["hidden", "withdrawn"])
@pytest.mark.parametrize(("method", "path", "data", "htmx"), HTML_ROUTES)
async def test_every_html_route_answers_a_hidden_idea_like_a_missing_one(
    scene, client, which, method, path, data, htmx
):
    await login(client, scene["attacker"].email)

    async def send(idea_id: int) -> Any:
        url = path.format(id=idea_id)
        headers = htmx_headers(client) if htmx else {}
        if method == "GET":
            return await client.get(url, headers=headers, follow_redirects=True)
        if htmx:
            return await client.post(url, data=data, headers=headers)
        return await post_form(client, url, data, follow_redirects=True)

    await _assert_like_missing(send, scene[which].id)


async def test_anonymous_visitors_get_the_same_answer_too(scene, client):
    for path in ("/ideas/{id}", "/api/ideas/{id}", "/api/ideas/{id}/comments"):

        async def send(idea_id: int, path: str = path) -> Any:
            return await client.get(path.format(id=idea_id))

        await _assert_like_missing(send, scene["hidden"].id)
        await _assert_like_missing(send, scene["withdrawn"].id)


API_ROUTES = [
    ("GET", "/api/ideas/{id}", None),
    ("GET", "/api/ideas/{id}/comments", None),
    ("POST", "/api/ideas/{id}/comments", {"body": ""}),
    ("POST", "/api/ideas/{id}/comments", {"body": "Ein Kommentar über die API"}),
    ("POST", "/api/ideas/{id}/vote", None),
    ("DELETE", "/api/ideas/{id}/vote", None),
]


@pytest.mark.parametrize("which", ["hidden", "withdrawn"])
@pytest.mark.parametrize(("method", "path", "data"), API_ROUTES)
async def test_every_api_route_answers_a_hidden_idea_like_a_missing_one(
    scene, client, session_factory, which, method, path, data
):
    headers = await _bearer(session_factory, scene["attacker"])

    async def send(idea_id: int) -> Any:
        return await client.request(method, path.format(id=idea_id), json=data, headers=headers)

    seen = await send(scene[which].id)
    missing = await send(MISSING)
    _assert_no_leak(seen)
    assert seen.status_code == missing.status_code, seen.text
    assert seen.status_code in (400, 404)
    assert seen.json() == missing.json()


async def test_author_and_moderators_still_see_what_they_saw(scene, client, session_factory):
    hidden = scene["hidden"].id
    for who in ("author", "mod"):
        client.cookies.clear()
        await login(client, scene[who].email)
        page = await client.get(f"/ideas/{hidden}")
        assert page.status_code == 200 and SECRET_TITLE in page.text
        assert (await client.get(f"/ideas/{scene['withdrawn'].id}")).status_code == 200
        form = await client.get(f"/ideas/{hidden}/report")
        assert form.status_code == 200 and SECRET_TITLE in form.text
        headers = await _bearer(session_factory, scene[who])
        api = await client.get(
            f"/api/ideas/{hidden}", headers={"Authorization": headers["Authorization"]}
        )
        assert api.status_code == 200 and api.json()["status"] == "hidden"
        # They may see it, so they are told why a vote is refused, with the frozen count.
        vote = await client.post(f"/ideas/{hidden}/unvote", headers=htmx_headers(client))
        assert vote.status_code == 200 and "<strong>3</strong>" in vote.text
    # The author still edits and withdraws under the old rules (a hidden idea: refused, 400).
    client.cookies.clear()
    await login(client, scene["author"].email)
    assert (await client.get(f"/ideas/{hidden}/edit")).status_code == 200
    refused = await post_form(client, f"/ideas/{hidden}/withdraw")
    assert refused.status_code == 400


# --- the vote fragment --------------------------------------------------------------------------


async def test_the_vote_fragment_does_not_echo_a_hidden_ideas_count(scene, client):
    await login(client, scene["attacker"].email)
    hidden = scene["hidden"].id
    for action in ("vote", "unvote"):
        response = await client.post(f"/ideas/{hidden}/{action}", headers=htmx_headers(client))
        assert "<strong>3</strong>" not in response.text
        missing = await client.post(f"/ideas/{MISSING}/{action}", headers=htmx_headers(client))
        assert response.status_code == missing.status_code
        assert _same(response.text, hidden) == _same(missing.text, MISSING)


# --- item 2: the shortlist ----------------------------------------------------------------------


@pytest.fixture
async def shortlist_scene(session_factory):
    process = await make_process(session_factory, slug="auswahl")
    author = await make_user(session_factory)
    mod = await make_user(session_factory, role=Role.MODERATOR)
    ministry = await make_user(session_factory, role=Role.MINISTRY)
    titles = {
        "pending": "Offene Nominierung Batteriefabrik",
        "accepted": "Angenommene Idee Wasserstoff",
        "declined": "Abgelehnte Idee Seilbahn",
        "hidden": "Später versteckte Idee Glasfaser",
        "withdrawn": "Später zurückgezogene Idee Radweg",
    }
    found = {
        k: await make_idea(session_factory, process, author, title=t) for k, t in titles.items()
    }
    reasons = {k: f"Interne Begründung {k} der Moderation" for k in titles}
    async with session_factory() as db:
        entries = {
            k: (
                await shortlists.nominate(
                    db, process=process, moderator=mod, rationale=reasons[k], idea_id=idea.id
                )
            ).id
            for k, idea in found.items()
        }
        # The hidden one first: the public order must not show the gap it leaves.
        for k in ("hidden", "accepted", "withdrawn"):
            await shortlists.decide(
                db, entry_id=entries[k], official=ministry, accept=True, comment=f"Ja zu {k}"
            )
        await shortlists.decide(
            db, entry_id=entries["declined"], official=ministry, accept=False, comment="Nein, weil"
        )
        await reports.hide(
            db, idea_id=found["hidden"].id, moderator_id=mod.id, reason="Urheberrecht verletzt"
        )
        await ideas.withdraw(db, idea_id=found["withdrawn"].id, user_id=author.id)
    return {
        "ideas": found,
        "titles": titles,
        "reasons": reasons,
        "mod": mod,
        "ministry": ministry,
    }


async def test_anonymous_api_shortlist_shows_no_pending_reasons_nor_hidden_ideas(
    shortlist_scene, client
):
    response = await client.get("/api/processes/auswahl/shortlist")
    assert response.status_code == 200
    body = response.text
    titles, reasons = shortlist_scene["titles"], shortlist_scene["reasons"]
    for gone in ("pending", "hidden", "withdrawn"):
        assert titles[gone] not in body and reasons[gone] not in body
    assert reasons["declined"] not in body
    entries = response.json()["entries"]
    assert {e["title"] for e in entries} == {titles["accepted"], titles["declined"]}
    assert {e["status"] for e in entries} == {"accepted", "declined"}
    # Accepted: the page shows why the moderation nominated it; the order has no gaps.
    accepted = next(e for e in entries if e["status"] == "accepted")
    assert accepted["rationale"] == reasons["accepted"] and accepted["position"] == 1


async def test_public_shortlist_page_shows_no_hidden_ideas(shortlist_scene, client):
    page = await client.get("/processes/auswahl/shortlist")
    assert page.status_code == 200
    titles, reasons = shortlist_scene["titles"], shortlist_scene["reasons"]
    assert titles["accepted"] in page.text and titles["declined"] in page.text
    for gone in ("pending", "hidden", "withdrawn"):
        assert titles[gone] not in page.text and reasons[gone] not in page.text
    assert "Ja zu hidden" not in page.text
    # The public order has no gap where the hidden idea was accepted first, on the idea too.
    assert '<span class="rank">1</span> <a href="/ideas/' in page.text
    assert '<span class="rank">2</span>' not in page.text
    idea_page = await client.get(f"/ideas/{shortlist_scene['ideas']['accepted'].id}")
    assert "Platz 1" in idea_page.text and "Platz 2" not in idea_page.text


async def test_staff_shortlist_views_keep_what_they_showed(
    shortlist_scene, client, session_factory
):
    titles, reasons = shortlist_scene["titles"], shortlist_scene["reasons"]
    for who in ("mod", "ministry"):
        headers = await _bearer(session_factory, shortlist_scene[who])
        entries = (await client.get("/api/processes/auswahl/shortlist", headers=headers)).json()[
            "entries"
        ]
        assert {e["title"] for e in entries} == set(titles.values())
        assert {e["rationale"] for e in entries} == set(reasons.values())
        client.cookies.clear()
        await login(client, shortlist_scene[who].email)
        page = await client.get("/processes/auswahl/shortlist")
        for key in ("pending", "hidden", "withdrawn", "accepted"):
            assert titles[key] in page.text
