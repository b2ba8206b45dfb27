"""Replies to comments (one level) and the author's edit/delete within 15 minutes, through the
real pages and the real database."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select, text

from ideas_platform.comments import service as comments
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import Role
from ideas_platform.core.invariants import find_violations
from ideas_platform.moderation import reports
from tests.helpers import htmx_headers, login, make_idea, make_process, make_user, post_form, stored

EDITED = ("(edited)", "(bearbeitet)")
DELETED = ("Comment deleted", "Kommentar gelöscht")


class CommentTree(HTMLParser):
    """Which comment <li> each comment <li> sits in (None: top level), and all ids of the page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.stack: list[int | None] = []
        self.enclosing: dict[int, int | None] = {}
        self.ids: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag == "li":
            own = str(attributes.get("id") or "")
            comment_id = int(own.removeprefix("comment-")) if own.startswith("comment-") else None
            if comment_id is not None:
                self.enclosing[comment_id] = next((c for c in reversed(self.stack) if c), None)
            self.stack.append(comment_id)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self.stack.pop()


async def as_user(client, user) -> None:
    client.cookies.clear()
    await login(client, user.email)


async def comment_id(db, body: str) -> int:
    found = await db.scalar(select(Comment.id).where(Comment.body == body))
    assert found is not None, body
    return int(found)


async def fresh(db, id_: int) -> Comment | None:
    return await db.get(Comment, id_, populate_existing=True)


async def rows(db) -> int:
    return int(await db.scalar(select(func.count()).select_from(Comment)))


async def assert_counts_exact(db, *idea_ids: int) -> None:
    for idea_id in idea_ids:
        visible = await db.scalar(
            select(func.count())
            .select_from(Comment)
            .where(
                Comment.idea_id == idea_id,
                Comment.hidden.is_(False),
                Comment.deleted_at.is_(None),
            )
        )
        assert await stored(db, idea_id, "comment_count") == visible
    assert await find_violations(db) == []


async def reply(client, idea_id: int, parent_id: int | str, body: str, **kwargs):
    return await post_form(
        client, f"/ideas/{idea_id}/comments", {"body": body, "parent_id": str(parent_id)}, **kwargs
    )


async def htmx_reply(client, idea_id: int, parent_id: int, body: str):
    return await client.post(
        f"/ideas/{idea_id}/comments",
        data={"body": body, "parent_id": str(parent_id)},
        headers=htmx_headers(client),
    )


async def posted(client, db, idea_id: int, body: str) -> int:
    """A top-level comment of the logged-in user (accepted); answers its id."""
    response = await post_form(client, f"/ideas/{idea_id}/comments", {"body": body})
    assert response.status_code == 303, response.text
    return await comment_id(db, body)


async def replied(client, db, idea_id: int, parent_id: int, body: str) -> int:
    """A reply of the logged-in user (accepted); answers its id."""
    response = await reply(client, idea_id, parent_id, body)
    assert response.status_code == 303, response.text
    return await comment_id(db, body)


async def authors_comment(client, db, scene, body: str) -> int:
    """The author of the scene's idea logs in and comments on it; answers the comment's id."""
    await as_user(client, scene["author"])
    return await posted(client, db, scene["idea"].id, body)


async def hide(session_factory, scene, comment: int, reason: str) -> None:
    """The moderator hides a comment of the scene's idea."""
    async with session_factory() as session:
        await reports.hide(
            session,
            idea_id=scene["idea"].id,
            comment_id=comment,
            moderator_id=scene["moderator"].id,
            reason=reason,
        )


async def assert_change_refused(client, own: int, body: str) -> None:
    """Editing (to `body`) and deleting the comment are refused, naming the 15 minutes."""
    edit = await post_form(client, f"/comments/{own}/edit", {"body": body})
    assert edit.status_code == 403
    assert "15 minutes" in edit.text or "15 Minuten" in edit.text
    assert (await post_form(client, f"/comments/{own}/delete")).status_code == 403


async def assert_untouched(db, own: int, body: str) -> None:
    comment = await fresh(db, own)
    assert comment is not None and comment.body == body and comment.edited_at is None


@pytest.fixture
async def scene(session_factory):
    process = await make_process(session_factory)
    author = await make_user(session_factory, name="Anna Autorin")
    other = await make_user(session_factory, name="Otto Andere")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    idea = await make_idea(session_factory, process, author)
    second = await make_idea(session_factory, process, other)
    return {
        "author": author,
        "other": other,
        "moderator": moderator,
        "idea": idea,
        "second": second,
    }


async def test_a_reply_is_shown_nested_under_its_comment(scene, client, db):
    idea, other = scene["idea"], scene["other"]
    top = await authors_comment(client, db, scene, "Oben")
    await as_user(client, other)
    response = await reply(client, idea.id, top, "Eine *Antwort* darauf")
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{idea.id}#comments"
    answer = await comment_id(db, "Eine *Antwort* darauf")
    stored_reply = await fresh(db, answer)
    assert stored_reply is not None and stored_reply.parent_id == top

    page = await client.get(f"/ideas/{idea.id}")
    tree = CommentTree(page.text)
    assert tree.enclosing == {top: None, answer: top}
    assert "<em>Antwort</em>" in page.text
    assert len(tree.ids) == len(set(tree.ids)), "ids must be unique on the page"
    # Only top-level comments offer a reply form, each with its own label.
    assert f'for="reply-body-{top}"' in page.text
    assert f'id="reply-body-{answer}"' not in page.text
    await assert_counts_exact(db, idea.id)
    assert await stored(db, idea.id, "comment_count") == 2


async def test_htmx_reply_answers_the_section_with_the_reply_nested(scene, client, db):
    idea = scene["idea"]
    top = await authors_comment(client, db, scene, "Oben")
    response = await htmx_reply(client, idea.id, top, "Per htmx geantwortet")
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="comments"')
    answer = await comment_id(db, "Per htmx geantwortet")
    assert CommentTree(response.text).enclosing[answer] == top
    # An empty reply comes back in its own form, with the message, and writes nothing.
    empty = await htmx_reply(client, idea.id, top, " ")
    assert empty.status_code == 200
    assert 'role="alert"' in empty.text
    assert await rows(db) == 2
    await assert_counts_exact(db, idea.id)


async def test_a_reply_to_a_reply_joins_the_top_level_comment(scene, client, db):
    idea = scene["idea"]
    top = await authors_comment(client, db, scene, "Oben")
    first = await replied(client, db, idea.id, top, "Erste Antwort")
    await as_user(client, scene["other"])
    second = await replied(client, db, idea.id, first, "Antwort auf Antwort")
    stored_reply = await fresh(db, second)
    assert stored_reply is not None and stored_reply.parent_id == top
    tree = CommentTree((await client.get(f"/ideas/{idea.id}")).text)
    assert tree.enclosing == {top: None, first: top, second: top}
    await assert_counts_exact(db, idea.id)
    assert await stored(db, idea.id, "comment_count") == 3


async def test_replies_only_to_visible_comments_of_the_same_idea(
    scene, client, db, session_factory
):
    idea, second = scene["idea"], scene["second"]
    await as_user(client, scene["author"])
    elsewhere = await posted(client, db, second.id, "Auf der anderen Idee")
    hidden = await posted(client, db, idea.id, "Wird versteckt")
    await hide(session_factory, scene, hidden, "Unsachlich")
    before = await rows(db)

    response = await reply(client, idea.id, elsewhere, "Quer verlinkt")
    assert response.status_code == 400
    assert "same idea" in response.text or "derselben Idee" in response.text
    assert (await reply(client, idea.id, hidden, "Auf Verstecktes")).status_code == 400
    assert (await reply(client, idea.id, 987654, "Ins Leere")).status_code == 404
    assert (await reply(client, idea.id, "abc", "Kaputt")).status_code == 404
    htmx = await htmx_reply(client, idea.id, elsewhere, "Quer per htmx")
    assert htmx.status_code == 400 and 'role="alert"' in htmx.text

    assert await rows(db) == before
    assert await stored(db, idea.id, "comment_count") == 0
    assert await stored(db, second.id, "comment_count") == 1
    await assert_counts_exact(db, idea.id, second.id)


async def test_the_author_edits_within_the_window(scene, client, db):
    idea = scene["idea"]
    own = await authors_comment(client, db, scene, "Mit Tippfehlr")
    page = await client.get(f"/ideas/{idea.id}")
    assert f'id="edit-body-{own}"' in page.text and "Mit Tippfehlr</textarea>" in page.text
    assert not any(marker in page.text for marker in EDITED)

    response = await post_form(client, f"/comments/{own}/edit", {"body": "Ohne **Tippfehler**"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{idea.id}#comment-{own}"
    edited = await fresh(db, own)
    assert edited is not None and edited.edited_at is not None
    assert edited.body == "Ohne **Tippfehler**"
    assert "<strong>Tippfehler</strong>" in edited.body_html
    page = await client.get(f"/ideas/{idea.id}")
    assert "<strong>Tippfehler</strong>" in page.text and "Tippfehlr" not in page.text
    assert any(marker in page.text for marker in EDITED)

    # htmx: the section comes back; an empty text is refused in the edit form, nothing changes.
    fragment = await client.post(
        f"/comments/{own}/edit", data={"body": "Nochmals"}, headers=htmx_headers(client)
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="comments"')
    assert "Nochmals" in fragment.text
    empty = await client.post(
        f"/comments/{own}/edit", data={"body": ""}, headers=htmx_headers(client)
    )
    assert empty.status_code == 200 and 'role="alert"' in empty.text
    assert '<details class="comment-action" open>' in empty.text
    assert (await post_form(client, f"/comments/{own}/edit", {"body": ""})).status_code == 303
    unchanged = await fresh(db, own)
    assert unchanged is not None and unchanged.body == "Nochmals"
    await assert_counts_exact(db, idea.id)


async def test_only_the_author_may_edit_or_delete(scene, client, db):
    idea = scene["idea"]
    own = await authors_comment(client, db, scene, "Meins")
    for user in (scene["other"], scene["moderator"]):
        await as_user(client, user)
        page = await client.get(f"/ideas/{idea.id}")
        assert f"/comments/{own}/edit" not in page.text
        assert f"/comments/{own}/delete" not in page.text
        await assert_change_refused(client, own, "Fremd geändert")
    await assert_untouched(db, own, "Meins")
    client.cookies.clear()
    anonymous = await post_form(
        client,
        f"/comments/{own}/delete",
        headers={"referer": f"http://testserver.local/ideas/{idea.id}"},
    )
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await as_user(client, scene["author"])
    assert (await post_form(client, "/comments/987654/edit", {"body": "Weg"})).status_code == 404
    assert (await post_form(client, "/comments/987654/delete")).status_code == 404
    assert await rows(db) == 1
    await assert_counts_exact(db, idea.id)


async def test_no_changes_after_fifteen_minutes(scene, client, db):
    idea = scene["idea"]
    own = await authors_comment(client, db, scene, "Schon älter")
    await db.execute(
        text("UPDATE comments SET created_at = now() - interval '16 minutes' WHERE id = :id"),
        {"id": own},
    )
    await db.commit()
    page = await client.get(f"/ideas/{idea.id}")
    assert f"/comments/{own}/edit" not in page.text
    await assert_change_refused(client, own, "Zu spät geändert")
    await assert_untouched(db, own, "Schon älter")
    await assert_counts_exact(db, idea.id)
    assert await stored(db, idea.id, "comment_count") == 1


async def test_a_hidden_comment_cannot_be_changed(scene, client, db, session_factory):
    idea = scene["idea"]
    own = await authors_comment(client, db, scene, "Grenzwertig")
    await hide(session_factory, scene, own, "Bitte sachlich")
    assert (
        await post_form(client, f"/comments/{own}/edit", {"body": "Harmlos"})
    ).status_code == 400
    assert (await post_form(client, f"/comments/{own}/delete")).status_code == 400
    comment = await fresh(db, own)
    assert comment is not None and comment.body == "Grenzwertig"
    await assert_counts_exact(db, idea.id)


async def test_deleting_a_comment_without_replies_removes_it(scene, client, db):
    idea = scene["idea"]
    await as_user(client, scene["author"])
    await posted(client, db, idea.id, "Bleibt")
    own = await posted(client, db, idea.id, "Versehentlich")
    response = await post_form(client, f"/comments/{own}/delete")
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{idea.id}#comments"
    assert await fresh(db, own) is None
    page = await client.get(f"/ideas/{idea.id}")
    assert "Versehentlich" not in page.text
    assert not any(marker in page.text for marker in DELETED)
    await assert_counts_exact(db, idea.id)
    assert await stored(db, idea.id, "comment_count") == 1


async def test_deleting_a_comment_with_replies_keeps_the_replies(scene, client, db):
    idea, author, other = scene["idea"], scene["author"], scene["other"]
    top = await authors_comment(client, db, scene, "Bereue ich gleich")
    await as_user(client, other)
    first = await replied(client, db, idea.id, top, "Antwort eins")
    second = await replied(client, db, idea.id, top, "Antwort zwei")
    assert await stored(db, idea.id, "comment_count") == 3

    await as_user(client, author)
    response = await client.post(f"/comments/{top}/delete", data={}, headers=htmx_headers(client))
    assert response.status_code == 200
    assert any(marker in response.text for marker in DELETED)
    kept = await fresh(db, top)
    assert kept is not None and kept.deleted_at is not None
    assert kept.body == "" and kept.body_html == ""
    await assert_counts_exact(db, idea.id)
    assert await stored(db, idea.id, "comment_count") == 2

    client.cookies.clear()
    page = await client.get(f"/ideas/{idea.id}")
    assert "Bereue ich gleich" not in page.text
    assert any(marker in page.text for marker in DELETED)
    assert "Antwort eins" in page.text and "Antwort zwei" in page.text
    assert CommentTree(page.text).enclosing == {top: None, first: top, second: top}
    assert "2 " in page.text.split('id="comments-heading">')[1][:20]

    # The thread goes on (a reply to a reply), but the deleted comment itself takes no replies.
    await as_user(client, author)
    assert (await reply(client, idea.id, top, "Direkt darauf")).status_code == 400
    third = await replied(client, db, idea.id, first, "Weiter im Faden")
    # A deleted comment cannot be deleted or edited again.
    assert (await post_form(client, f"/comments/{top}/delete")).status_code == 404
    assert (await post_form(client, f"/comments/{top}/edit", {"body": "Doch"})).status_code == 404
    await assert_counts_exact(db, idea.id)

    # When the last reply goes, the deleted comment goes with it.
    assert (await post_form(client, f"/comments/{third}/delete")).status_code == 303
    await as_user(client, other)
    assert (await post_form(client, f"/comments/{first}/delete")).status_code == 303
    assert await fresh(db, top) is not None
    assert (await post_form(client, f"/comments/{second}/delete")).status_code == 303
    assert await fresh(db, top) is None
    assert await rows(db) == 0
    await assert_counts_exact(db, idea.id)
    assert await stored(db, idea.id, "comment_count") == 0


async def test_replies_under_a_hidden_comment_stay_visible(scene, client, db, session_factory):
    idea = scene["idea"]
    top = await authors_comment(client, db, scene, "Etwas Unsachliches")
    await as_user(client, scene["other"])
    answer = await replied(client, db, idea.id, top, "Sachliche Antwort")
    await hide(session_factory, scene, top, "Unsachlich")
    await assert_counts_exact(db, idea.id)
    assert await stored(db, idea.id, "comment_count") == 1
    page = await client.get(f"/ideas/{idea.id}")
    assert "Etwas Unsachliches" not in page.text and "Unsachlich" not in page.text
    assert "Sachliche Antwort" in page.text
    assert CommentTree(page.text).enclosing == {top: None, answer: top}
    await as_user(client, scene["author"])  # the author sees the hidden comment, and why
    page = await client.get(f"/ideas/{idea.id}")
    assert "Etwas Unsachliches" in page.text and "Unsachlich" in page.text


async def test_service_listing_nests_and_flattens(scene, session_factory, db):
    idea, author, other = scene["idea"], scene["author"], scene["other"]
    async with session_factory() as session:
        top = await comments.add_comment(
            session, idea_id=idea.id, author_id=author.id, body="A oben"
        )
        answer = await comments.add_comment(
            session, idea_id=idea.id, author_id=other.id, body="B antwortet", parent_id=top.id
        )
        later = await comments.add_comment(
            session, idea_id=idea.id, author_id=other.id, body="C später"
        )
    async with session_factory() as session:
        threads = await comments.list_comments(session, idea.id, author)
    assert [view.id for view in threads] == [top.id, later.id]
    assert [view.id for view in threads[0].replies] == [answer.id]
    assert threads[0].replies[0].parent_id == top.id
    assert threads[0].can_change and not threads[0].replies[0].can_change
    assert threads[0].editable_until == threads[0].created_at + comments.EDIT_WINDOW
    assert [view.id for view in comments.flatten(threads)] == [top.id, answer.id, later.id]
    assert sum(view.shown_count for view in threads) == 3
    await assert_counts_exact(db, idea.id)


async def test_unmerge_takes_replies_to_moved_comments_back_with_their_thread(session_factory, db):
    from ideas_platform.moderation import merge as merging

    process = await make_process(session_factory, slug="faden")
    author = await make_user(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    source = await make_idea(session_factory, process, author, title="Lernfabrik als Quelle")
    target = await make_idea(session_factory, process, author, title="Lernfabrik als Ziel")
    async with session_factory() as session:
        moved = await comments.add_comment(
            session, idea_id=source.id, author_id=author.id, body="Frage zur Quelle"
        )
    async with session_factory() as session:
        await merging.merge(
            session, source_id=source.id, target_id=target.id, moderator_id=moderator.id
        )
    async with session_factory() as session:
        reply = await comments.add_comment(
            session,
            idea_id=target.id,
            author_id=moderator.id,
            body="Antwort nach dem Zusammenführen",
            parent_id=moved.id,
        )
    async with session_factory() as session:
        await merging.unmerge(session, source_id=source.id, moderator_id=moderator.id)
    back = await fresh(db, reply.id)
    assert back is not None and back.idea_id == source.id and back.parent_id == moved.id
    assert await stored(db, source.id, "comment_count") == 2
    assert await stored(db, target.id, "comment_count") == 0
    assert await find_violations(db) == []
