"""What a new participant ran into: the favicon, comment forms on ideas that take no comments,
the withdraw confirmation, the profile's API hint and the empty search result."""

from __future__ import annotations

from ideas_platform.core.choices import Role
from tests.helpers import (
    htmx_headers,
    login,
    make_idea,
    make_process,
    make_user,
    post_form,
    stored,
)


async def test_favicon_is_linked_and_served(client):
    page = await client.get("/")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text
    svg = await client.get("/static/favicon.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg")
    # browsers ask for /favicon.ico by themselves, on every page
    ico = await client.get("/favicon.ico", follow_redirects=False)
    assert ico.status_code == 301
    assert ico.headers["location"] == "/static/favicon.svg"


async def test_no_comment_form_on_a_withdrawn_idea(client, db, own_idea):
    _, _, idea = await own_idea()
    await post_form(client, f"/ideas/{idea.id}/comments", {"body": "Ein früher Kommentar"})
    page = await client.get(f"/ideas/{idea.id}")
    assert 'id="comment-body"' in page.text
    assert 'action="/comments/' in page.text  # the author may still edit the fresh comment

    assert (await post_form(client, f"/ideas/{idea.id}/withdraw")).status_code == 303
    page = await client.get(f"/ideas/{idea.id}")
    assert page.status_code == 200
    assert "Ein früher Kommentar" in page.text
    assert 'id="comment-body"' not in page.text
    assert f'action="/ideas/{idea.id}/comments"' not in page.text  # no reply form either
    assert 'action="/comments/' not in page.text  # nor edit or delete
    assert 'class="comments-closed"' in page.text
    assert await stored(db, idea.id, "comment_count") == 1


async def test_no_comment_form_on_a_hidden_idea_for_the_moderation(client, session_factory):
    process = await make_process(session_factory)
    author = await make_user(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    idea = await make_idea(session_factory, process, author)
    await login(client, moderator.email)
    hidden = await post_form(
        client, f"/moderation/ideas/{idea.id}/hide", {"reason": "Doppelt eingereicht"}
    )
    assert hidden.status_code == 303
    page = await client.get(f"/ideas/{idea.id}")
    assert 'id="comment-body"' not in page.text
    assert 'class="comments-closed"' in page.text


async def test_comment_section_fragment_knows_the_idea_is_closed(client, own_idea):
    """The htmx answer of an edit on a withdrawn idea offers no forms either."""
    _, _, idea = await own_idea()
    await client.get(f"/ideas/{idea.id}")
    open_section = await client.post(
        f"/ideas/{idea.id}/comments", data={"body": "  "}, headers=htmx_headers(client)
    )
    assert 'id="comment-body"' in open_section.text
    await post_form(client, f"/ideas/{idea.id}/withdraw")
    refused = await client.post(
        f"/ideas/{idea.id}/comments", data={"body": "Zu spät"}, headers=htmx_headers(client)
    )
    # the htmx error fragment: a short message that app.js shows next to the form
    assert refused.status_code == 400
    assert 'role="alert"' in refused.text
    assert "Comments are only possible on published ideas." in refused.text or (
        "Kommentare sind nur zu veröffentlichten Ideen möglich." in refused.text
    )
    closed_section = await client.post(
        f"/ideas/{idea.id}/comments", data={"body": "  "}, headers=htmx_headers(client)
    )
    assert 'id="comment-body"' not in closed_section.text


async def test_withdraw_is_confirmed_on_its_own_page(client, session_factory, db, own_idea):
    _, author, idea = await own_idea()
    other = await make_user(session_factory)
    detail = await client.get(f"/ideas/{idea.id}")
    # the idea page only links to the confirmation; no form withdraws on one click
    assert f'href="/ideas/{idea.id}/withdraw"' in detail.text
    assert f'action="/ideas/{idea.id}/withdraw"' not in detail.text
    confirm = await client.get(f"/ideas/{idea.id}/withdraw")
    assert confirm.status_code == 200
    assert f'action="/ideas/{idea.id}/withdraw"' in confirm.text
    assert f'href="/ideas/{idea.id}"' in confirm.text  # the way back keeps the idea
    assert (await stored(db, idea.id, "vote_count")) == 0
    status = (await client.get(f"/ideas/{idea.id}")).text
    assert 'class="comments-closed"' not in status  # still published after just asking

    await post_form(client, "/logout")
    await login(client, other.email)
    assert (await client.get(f"/ideas/{idea.id}/withdraw")).status_code == 403

    await post_form(client, "/logout")
    await login(client, author.email)
    assert (await post_form(client, f"/ideas/{idea.id}/withdraw")).status_code == 303
    again = await client.get(f"/ideas/{idea.id}/withdraw", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == f"/ideas/{idea.id}"


async def test_profile_shows_the_token_placeholder_literally(client, session_factory):
    user = await make_user(session_factory)
    await login(client, user.email)
    page = await client.get("/profile")
    assert "Bearer &lt;token&gt;" in page.text
    assert "<token>" not in page.text


async def test_empty_search_result_helps(client, session_factory):
    process = await make_process(session_factory)
    author = await make_user(session_factory)
    await make_idea(session_factory, process, author)
    page = await client.get(f"/processes/{process.slug}/ideas?q=Quantenzwiebel&region=dresden")
    assert 'class="empty-result' in page.text
    assert "Quantenzwiebel" in page.text.split('class="empty-result', 1)[1]
    assert f'href="/processes/{process.slug}/ideas"' in page.text
    # a search that finds something shows no such box
    found = await client.get(f"/processes/{process.slug}/ideas")
    assert 'class="empty-result' not in found.text
