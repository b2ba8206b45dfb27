from tests.helpers import htmx_headers, login, make_idea, make_process, make_user, post_form, stored


async def test_comments_are_listed_oldest_first_and_counted(client, db, own_idea):
    _, _, idea = await own_idea()
    for body in ("Erster Kommentar", "Zweiter Kommentar", "Dritter Kommentar"):
        response = await post_form(client, f"/ideas/{idea.id}/comments", {"body": body})
        assert response.status_code == 303
    page = await client.get(f"/ideas/{idea.id}")
    positions = [page.text.index(b) for b in ("Erster", "Zweiter", "Dritter")]
    assert positions == sorted(positions)
    assert await stored(db, idea.id, "comment_count") == 3


async def test_htmx_comment_answers_the_section(client, db, own_idea):
    _, _, idea = await own_idea()
    await client.get(f"/ideas/{idea.id}")
    response = await client.post(
        f"/ideas/{idea.id}/comments",
        data={"body": "Gute Idee, **unbedingt** umsetzen."},
        headers=htmx_headers(client),
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="comments"')
    assert "<strong>unbedingt</strong>" in response.text
    empty = await client.post(
        f"/ideas/{idea.id}/comments", data={"body": "  "}, headers=htmx_headers(client)
    )
    assert 'role="alert"' in empty.text
    assert await stored(db, idea.id, "comment_count") == 1


async def test_comment_needs_login_and_a_published_idea(client, session_factory, db):
    process = await make_process(session_factory)
    author = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author)
    response = await post_form(
        client,
        f"/ideas/{idea.id}/comments",
        {"body": "Anonym"},
        headers={"referer": f"http://testserver.local/ideas/{idea.id}"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Fideas%2F{idea.id}"
    await login(client, author.email)
    assert (await post_form(client, f"/ideas/{idea.id}/withdraw")).status_code == 303
    response = await post_form(client, f"/ideas/{idea.id}/comments", {"body": "Zu spät"})
    assert response.status_code == 400
    assert await stored(db, idea.id, "comment_count") == 0
    assert (
        await post_form(client, "/ideas/424242/comments", {"body": "Wohin?"})
    ).status_code == 404
