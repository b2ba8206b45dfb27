"""Pages kept for visitors without a login (core.page_cache): served again, each with the
visitor's own CSRF token, and dropped by every write, also in the other app processes."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
from sqlalchemy import select, update

from ideas_platform.accounts.models import User
from ideas_platform.comments import service as comments
from ideas_platform.core.choices import Role
from ideas_platform.core.database import create_session_factory
from ideas_platform.core.page_cache import (
    CACHE_HEADER,
    NOT_ON_PAGES,
    VOTES_SECONDS,
    PageCache,
    _Page,
    drop_cached_pages,
)
from ideas_platform.core.requests import Principal
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.notifications.digest import announce_started_phases
from ideas_platform.notifications.models import Frequency, MailState, Notification, NotificationKind
from ideas_platform.votes import service as votes
from tests.helpers import (
    PASSWORD,
    csrf,
    htmx_headers,
    login,
    make_idea,
    make_process,
    make_user,
    make_users_fast,
    post_form,
    second_browser,
    until,
)

META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
FORM_TOKEN = re.compile(r'name="_csrf_token" value="([^"]*)"')


def kept(response: httpx.Response) -> str | None:
    return response.headers.get(CACHE_HEADER)


def count(html: str, idea: Idea) -> str:
    """The number on the idea's vote button."""
    found = re.search(rf'id="vote-{idea.id}">\s*<span class="vote-count">\s*<strong>(\d+)', html)
    assert found, html
    return found.group(1)


async def test_a_visitor_gets_the_kept_page_with_their_own_csrf_token(session_factory, client):
    process = await make_process(session_factory, slug="werk")
    author = await make_user(session_factory, name="Ada Beispiel")
    await make_idea(session_factory, process, author, title="Lernfabrik für Additive Fertigung")
    first = await client.get("/processes/werk/ideas")
    again = await client.get("/processes/werk/ideas")
    assert (first.status_code, kept(first), kept(again)) == (200, "miss", "hit")
    assert again.text == first.text
    assert "Lernfabrik für Additive Fertigung" in again.text

    async with second_browser(client) as other:
        page = await other.get("/processes/werk/ideas")
        assert kept(page) == "hit"
        own = csrf(other)  # set by this very answer: a browser that came for the first time
        assert own and own != csrf(client)
        assert META_TOKEN.findall(page.text) == [own]
        assert set(FORM_TOKEN.findall(page.text)) == {own}
        assert "page-cache-csrf-" not in page.text
        # The language switch of the kept page works for this visitor (the form's own token).
        switched = await other.post(
            "/language",
            data={"locale": "en", "next": "/processes/werk/ideas", "_csrf_token": own},
            follow_redirects=False,
        )
        assert switched.status_code == 303
        english = await other.get("/processes/werk/ideas")
        assert (kept(english), english.text.count('lang="en"')) == ("miss", 1)
        assert "Submit idea" in english.text or "Ideas" in english.text
        assert kept(await other.get("/processes/werk/ideas")) == "hit"
    german = await client.get("/processes/werk/ideas")
    assert (kept(german), german.text) == ("hit", first.text)


async def test_what_is_written_shows_at_once(session_factory, client):
    process = await make_process(session_factory, slug="werk")
    author = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author, title="Wasserstoff im Mittelstand")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    for path in (f"/ideas/{idea.id}", "/processes/werk/ideas", "/processes/werk/ranking"):
        await client.get(path)
        assert kept(await client.get(path)) == "hit", path

    async with second_browser(client) as voter:
        await login(voter, author.email)
        # A vote is written on the driver pool, without SQLAlchemy: it drops the pages that
        # show it other than in a vote button (here: the list sorted by votes).
        voted = await voter.post(f"/ideas/{idea.id}/vote", headers=htmx_headers(voter))
        assert voted.status_code == 200
        # The idea's page shows votes only in its vote button, which every request gets anew:
        # it stays kept.
        shown = await client.get(f"/ideas/{idea.id}")
        assert kept(shown) == "hit"
        assert "<strong>1</strong>" in shown.text
        listed = await client.get("/processes/werk/ideas")
        assert kept(listed) == "miss"

        await login(voter, moderator.email)
        hidden = await post_form(voter, f"/moderation/ideas/{idea.id}/hide", {"reason": "Test"})
        assert hidden.status_code == 303
    assert (await client.get(f"/ideas/{idea.id}")).status_code == 404
    assert "Wasserstoff im Mittelstand" not in (await client.get("/processes/werk/ideas")).text
    assert "Wasserstoff im Mittelstand" not in (await client.get("/processes/werk/ranking")).text


async def test_waiting_messages_never_get_a_kept_page_nor_a_visitors_one(session_factory, client):
    process = await make_process(session_factory, slug="werk")
    author = await make_user(session_factory, name="Ada Beispiel")
    await make_idea(session_factory, process, author, title="Kreislaufwirtschaft in Sachsen")
    for path in ("/", "/processes/werk/ideas"):
        await client.get(path)
        assert kept(await client.get(path)) == "hit"

    async with second_browser(client) as person:
        await login(person, author.email)
        # Not the visitors' page: one kept for her role, with her own name put in.
        own = await person.get("/")
        assert kept(own) == "miss" and "Ada Beispiel" in own.text and 'action="/logout"' in own.text
        # Deleting the account: the message waits in the session for the start page, and the
        # name is gone from what everybody sees at once.
        deleted = await post_form(person, "/profile/delete", {"password": PASSWORD})
        assert deleted.status_code == 303
        home = await person.get(deleted.headers["location"])
        assert kept(home) is None
        assert "Ihr Konto wurde gelöscht." in home.text
        after = await person.get("/")  # the deletion dropped the kept start page
        assert kept(after) == "miss" and "Ihr Konto wurde gelöscht." not in after.text
        assert kept(await person.get("/")) == "hit"
    assert "Ada Beispiel" not in (await client.get("/processes/werk/ideas")).text


async def test_pages_read_while_comments_are_written_never_keep_an_old_state(
    session_factory, client
):
    """Anonymous visitors load an idea page over and over (most answers kept pages) while 12
    people comment at once: once the last comment is committed, the page served shows all 12,
    never a page kept from before one of them."""
    process = await make_process(session_factory, slug="werk")
    author = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author, title="Offene Werkstatt Robotik")
    people = await make_users_fast(session_factory, 12)
    writing = True

    async def comment(number: int, user_id: int) -> None:
        await asyncio.sleep(0.01 * number)
        async with session_factory() as session:
            await comments.add_comment(
                session, idea_id=idea.id, author_id=user_id, body=f"Beitrag Nummer {number}."
            )

    async def read() -> int:
        served = 0
        while writing:
            assert (await client.get(f"/ideas/{idea.id}")).status_code == 200
            served += 1
            await asyncio.sleep(0)  # a kept page is served without waiting for anything
        return served

    readers = [asyncio.create_task(read()) for _ in range(3)]
    await asyncio.gather(*(comment(n, user_id) for n, user_id in enumerate(people)))
    writing = False
    assert sum(await asyncio.gather(*readers)) > 12
    for _ in range(2):  # built anew, then kept: both with every comment
        page = await client.get(f"/ideas/{idea.id}")
        assert [n for n in range(12) if f"Beitrag Nummer {n}." in page.text] == list(range(12))


async def test_visitors_asking_at_once_wait_for_one_page_being_built(session_factory, client):
    process = await make_process(session_factory, slug="werk")
    author = await make_user(session_factory)
    await make_idea(session_factory, process, author, title="Smarte Instandhaltung")
    answers = await asyncio.gather(*(client.get("/processes/werk/ideas") for _ in range(8)))
    assert sorted(kept(a) or "" for a in answers) == ["hit"] * 7 + ["miss"]
    assert len({a.text for a in answers}) == 1 and "Smarte Instandhaltung" in answers[0].text


async def test_while_people_vote_an_order_by_votes_shows_within_two_seconds(
    session_factory, client
):
    """A page whose order depends on votes is dropped by the first vote after a quiet time at
    once, by the next ones within VOTES_SECONDS (2 s) once that time is over, not by each of
    them; a visitor's copy shows the counts of the same moment as its order (logged-in people
    get their vote buttons anew on every request: see the test of their kept list)."""
    process = await make_process(session_factory, slug="werk")
    author = await make_user(session_factory)
    first = await make_idea(session_factory, process, author, title="Wärmepumpen aus Sachsen")
    second = await make_idea(session_factory, process, author, title="Lernfabrik im Erzgebirge")
    voters = [await make_user(session_factory) for _ in range(3)]
    page = "/processes/werk/ideas"  # sorted by votes

    def order(html: str) -> list[str]:
        titles = ("Wärmepumpen aus Sachsen", "Lernfabrik im Erzgebirge")
        return sorted(titles, key=html.index)

    async with second_browser(client) as voter:
        await login(voter, voters[0].email)
        assert (await voter.post(f"/ideas/{first.id}/vote", headers=htmx_headers(voter))).is_success
        began = time.monotonic()  # (at once, unless an earlier test voted just before)
        while order((await client.get(page)).text)[0] != "Wärmepumpen aus Sachsen":
            assert time.monotonic() - began < VOTES_SECONDS + 1, "the first vote never showed"
            await asyncio.sleep(0.1)
        for other in voters[1:]:
            await login(voter, other.email)
            answer = await voter.post(f"/ideas/{second.id}/vote", headers=htmx_headers(voter))
            assert answer.is_success
    began = time.monotonic()
    shown = await client.get(page)
    assert kept(shown) == "hit" and count(shown.text, second) == "0"  # not dropped by each vote
    assert order(shown.text)[0] == "Wärmepumpen aus Sachsen"
    while order((shown := await client.get(page)).text)[0] != "Lernfabrik im Erzgebirge":
        assert time.monotonic() - began < VOTES_SECONDS + 1, "the new order never showed"
        await asyncio.sleep(0.1)
    assert count(shown.text, second) == "2"


async def test_a_transaction_that_changes_no_row_keeps_the_pages(session_factory, client):
    """Background jobs poll with statements that mostly change nothing (the mail sender every
    2 s): those must not drop every page; a changed row must."""
    process = await make_process(session_factory, slug="werk")
    author = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author, title="Batteriespeicher im Quartier")
    await client.get(f"/ideas/{idea.id}")
    async with session_factory() as session:
        await session.execute(update(Idea).where(Idea.id == -1).values(title="Niemand"))
        await session.commit()
    assert kept(await client.get(f"/ideas/{idea.id}")) == "hit"
    async with session_factory() as session:
        await session.execute(update(Idea).where(Idea.id == idea.id).values(title="Speicher"))
        await session.commit()
    page = await client.get(f"/ideas/{idea.id}")
    assert kept(page) == "miss" and "Speicher" in page.text


async def test_a_page_rendered_while_something_was_written_is_not_kept():
    cache = PageCache(seconds=60)
    started = cache.generation
    cache.clear()  # a write committed while the page was being rendered
    cache.put(("/x",), _Page(started, time.monotonic(), 200, (), b"old"))
    assert cache.get(("/x",)) is None
    cache.put(("/x",), _Page(cache.generation, time.monotonic(), 200, (), b"new"))
    page = cache.get(("/x",))
    assert page is not None and page.body == b"new"
    expired = PageCache(seconds=0.05)
    expired.put(("/x",), _Page(expired.generation, time.monotonic() - 1, 200, (), b"old"))
    assert expired.get(("/x",)) is None


async def test_a_write_in_one_app_process_drops_the_pages_of_the_other(
    session_factory, two_servers
):
    """Two uvicorn processes keep pages for 600 s (tests.helpers.app_servers): the idea a
    moderator hides through the first must vanish from the second's kept page by NOTIFY."""
    first_url, second_url = two_servers
    process = await make_process(session_factory, slug="zwei")
    author = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author, title="Digitaler Zwilling der Halle")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    async with (
        httpx.AsyncClient(base_url=first_url, timeout=10) as one,
        httpx.AsyncClient(base_url=second_url, timeout=10) as two,
    ):
        await two.get(f"/ideas/{idea.id}")
        assert kept(await two.get(f"/ideas/{idea.id}")) == "hit"
        await login(one, moderator.email)
        assert (
            await post_form(one, f"/moderation/ideas/{idea.id}/hide", {"reason": "x"})
        ).status_code == 303
        async with session_factory() as session:
            status = await session.scalar(select(Idea.status).where(Idea.id == idea.id))
        assert status == IdeaStatus.HIDDEN
        hidden = await until(lambda: two.get(f"/ideas/{idea.id}"), lambda r: r.status_code == 404)
        assert hidden.status_code == 404, (
            "the second process still serves the hidden idea after 5 s"
        )
        # A write of another program (here: this test process, as a CLI tool would) reaches
        # the kept pages too: its transaction carries the NOTIFY.
        await two.get("/processes/zwei/ideas")
        assert kept(await two.get("/processes/zwei/ideas")) == "hit"
        other = await make_idea(session_factory, process, author, title="Zweites Werkstück")
        listed = await until(
            lambda: two.get("/processes/zwei/ideas"), lambda r: "Zweites Werkstück" in r.text
        )
        assert "Zweites Werkstück" in listed.text, (
            f"idea {other.id} is not listed by the second process after 5 s"
        )


async def test_who_is_logged_in_is_kept_only_until_the_next_write(session_factory, two_servers):
    """Pages keep who a logged-in person is and their unread count (one query less per page),
    in each process until a write: a new notification and a deactivated account written by
    another program show on the second process's next pages."""
    _, second_url = two_servers
    process = await make_process(session_factory, slug="wer")
    person = await make_user(session_factory, name="Berta Beispiel")
    await make_idea(session_factory, process, person, title="Wärmepumpen aus der Region")
    page = "/processes/wer/ideas"

    async with httpx.AsyncClient(base_url=second_url, timeout=10) as two:
        await login(two, person.email)
        assert "Berta Beispiel" in (await two.get(page)).text
        assert 'class="badge-count"' not in (await two.get(page)).text
        async with session_factory() as session, session.begin():
            session.add(
                Notification(
                    user_id=person.id,
                    kind=NotificationKind.PHASE,
                    event="vote",
                    mail_state=MailState.NONE,
                    mail_frequency=Frequency.OFF,
                )
            )
        bell = '<span class="badge-count" aria-hidden="true">1</span>'
        assert bell in (await until(lambda: two.get(page), lambda r: bell in r.text)).text
        async with session_factory() as session, session.begin():
            await session.execute(update(User).where(User.id == person.id).values(is_active=False))
        answer = await until(lambda: two.get(page), lambda r: "Berta Beispiel" not in r.text)
        assert "Berta Beispiel" not in answer.text, "the deactivated account still shows after 5 s"
        assert 'action="/logout"' not in answer.text and 'href="/login"' in answer.text


async def test_logged_in_people_share_a_kept_list_each_with_their_own_parts(
    session_factory, client, driver_pool
):
    """The idea list is kept for the participants of a role too: each gets their own name,
    notice, vote buttons (with the current counts and budget) and CSRF token put in, also when
    their vote came after the page was kept; a moderator gets a page of their own role."""
    process = await make_process(session_factory, slug="werk", budget=3)
    author = await make_user(session_factory)
    first = await make_idea(session_factory, process, author, title="Lernfabrik Additive Fertigung")
    second = await make_idea(session_factory, process, author, title="Wasserstoff im Mittelstand")
    ada = await make_user(session_factory, name="Ada Beispiel")
    ben = await make_user(session_factory, name="Ben Beispiel")
    page = "/processes/werk/ideas"

    def pressed(html: str, idea: Idea) -> bool:
        return f'id="vote-button-{idea.id}" class="button secondary" aria-pressed="true"' in html

    await votes.cast_vote(driver_pool, Principal(ada.id, None), first.id)
    await login(client, ada.email)
    own = await client.get(page)
    assert kept(own) == "miss" and "Ada Beispiel" in own.text and pressed(own.text, first)
    assert "Sie haben noch 2 von 3 Stimmen." in own.text

    async with second_browser(client) as other:
        await login(other, ben.email)
        theirs = await other.get(page)
        assert kept(theirs) == "hit"
        assert "Ben Beispiel" in theirs.text and "Ada Beispiel" not in theirs.text
        assert not pressed(theirs.text, first) and count(theirs.text, first) == "1"
        assert "Sie haben noch 3 von 3 Stimmen." in theirs.text
        assert set(FORM_TOKEN.findall(theirs.text)) == {csrf(other)}
        assert "page-cache-csrf-" not in theirs.text

        # Votes that did not drop the kept page (as during a vote storm, VOTES_SECONDS; here
        # written beside the app): Ben's next page is the kept one, with his votes and the
        # counts of now.
        await votes.cast_vote(driver_pool, Principal(ben.id, None), second.id)
        await votes.cast_vote(driver_pool, Principal(ben.id, None), first.id)
        after = await other.get(page)
        assert kept(after) == "hit"
        assert pressed(after.text, first) and pressed(after.text, second)
        assert count(after.text, first) == "2"
        assert "Sie haben noch 1 von 3 Stimmen." in after.text
        # Byte for byte the page built for Ben himself: nothing of Ada's is left in it.
        drop_cached_pages()
        built = await other.get(page)
        assert kept(built) == "miss" and built.text == after.text

        # New terms for Ben only: the notice on his pages, not on Ada's.
        async with session_factory() as session, session.begin():
            await session.execute(
                update(User).where(User.id == ben.id).values(consent_version="alt")
            )
        assert "Bitte lesen und zustimmen" not in (await client.get(page)).text
        notice = await other.get(page)
        assert kept(notice) == "hit" and "Bitte lesen und zustimmen" in notice.text

    async with second_browser(client) as moderation:
        moderator = await make_user(session_factory, role=Role.MODERATOR, name="Mo Derator")
        await login(moderation, moderator.email)
        theirs = await moderation.get(page)
        assert kept(theirs) == "miss" and 'href="/moderation"' in theirs.text
    assert 'href="/moderation"' not in (await client.get(page)).text


async def test_an_idea_page_is_kept_for_people_who_neither_wrote_it_nor_commented(
    session_factory, client
):
    """An idea's page kept for one participant serves another with their own follow button;
    its author and whoever commented on it get a page built for them (their buttons), and a
    page of an idea only its author may read is never kept for anybody else."""
    process = await make_process(session_factory, slug="werk")
    carl = await make_user(session_factory, name="Carl Autor")
    idea = await make_idea(session_factory, process, carl, title="Lernfabrik Additive Fertigung")
    ada, ben, dora = [
        await make_user(session_factory, name=name)
        for name in ("Ada Beispiel", "Ben Beispiel", "Dora Kommentar")
    ]
    async with session_factory() as session:
        comment = await comments.add_comment(
            session, idea_id=idea.id, author_id=dora.id, body="Gute Idee, wir machen mit."
        )
    page = f"/ideas/{idea.id}"
    edit_idea = f'href="/ideas/{idea.id}/edit"'
    edit_comment = f'action="/comments/{comment.id}/edit"'

    def following(html: str) -> bool:
        found = re.search(r'class="inline follow-form">.*?aria-pressed="(true|false)"', html, re.S)
        assert found, "no follow button"
        return found.group(1) == "true"

    await login(client, ada.email)
    first = await client.get(page)
    assert kept(first) == "miss" and not following(first.text)
    async with second_browser(client) as other:
        await login(other, ben.email)
        assert (await post_form(other, f"/ideas/{idea.id}/follow", {"follow": "1"})).status_code
        assert kept(await other.get(page)) is None  # the follow's message was waiting
        assert kept(await client.get(page)) == "miss"  # the follow was a write: kept anew
        theirs = await other.get(page)
        assert kept(theirs) == "hit" and "Ben Beispiel" in theirs.text
        assert "Ada Beispiel" not in theirs.text and following(theirs.text)
        assert edit_idea not in theirs.text and edit_comment not in theirs.text
        drop_cached_pages()
        built = await other.get(page)
        assert kept(built) == "miss" and built.text == theirs.text

        for person, own in ((carl, edit_idea), (dora, edit_comment)):
            await login(other, person.email)
            assert kept(await client.get(page)) in ("hit", "miss")  # kept for Ada's role
            theirs = await other.get(page)
            assert kept(theirs) is None and own in theirs.text, person.display_name

        # Hidden: only its author (and the moderation) may read it; nothing is kept for others.
        moderator = await make_user(session_factory, role=Role.MODERATOR)
        await login(other, moderator.email)
        hidden = await post_form(other, f"/moderation/ideas/{idea.id}/hide", {"reason": "Doppelt"})
        assert hidden.status_code == 303
        await login(other, carl.email)
        assert (await other.get(page)).status_code == 200
        assert (await client.get(page)).status_code == 404


async def test_a_phase_announced_by_the_mail_sender_shows_on_the_bell(
    session_factory, client, engine
):
    """The mail sender's sessions write nothing pages show (NOT_ON_PAGES), except the phase
    announcements: the kept unread count of a logged-in person must follow them."""
    process = await make_process(session_factory, slug="werk")
    ada = await make_user(session_factory, name="Ada Beispiel")
    await make_idea(session_factory, process, ada)  # she takes part: phases are announced to her
    await login(client, ada.email)
    page = "/processes/werk/ideas"
    assert 'class="badge-count"' not in (await client.get(page)).text
    assert 'class="badge-count"' not in (await client.get(page)).text  # kept
    mail_sender_sessions = create_session_factory(engine, info=NOT_ON_PAGES)
    async with mail_sender_sessions() as session:
        assert await announce_started_phases(session) >= 1
    assert '<span class="badge-count" aria-hidden="true">' in (await client.get(page)).text


async def test_guards_ask_the_database_not_the_kept_copy_of_who_is_logged_in(
    session_factory, client, driver_pool
):
    """Pages show who is logged in from a copy kept until the next write; a guard decides from
    the database, also if the copy missed a change (here written without the ORM)."""
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    await login(client, moderator.email)
    assert (await client.get("/moderation")).status_code == 200
    assert (await client.get("/processes")).status_code in (200, 404)
    async with driver_pool.acquire() as conn:
        await conn.execute("UPDATE users SET role = 'participant' WHERE id = $1", moderator.id)
    assert (await client.get("/moderation")).status_code == 403


async def test_the_start_and_process_pages_are_kept_per_role_with_the_own_header(
    session_factory, client
):
    await make_process(session_factory, slug="werk")
    ada = await make_user(session_factory, name="Ada Beispiel")
    ben = await make_user(session_factory, name="Ben Beispiel")
    await login(client, ada.email)
    async with second_browser(client) as other:
        await login(other, ben.email)
        for path in ("/", "/processes/werk"):
            assert kept(await client.get(path)) == "miss"
            theirs = await other.get(path)
            assert kept(theirs) == "hit" and "Ben Beispiel" in theirs.text
            assert "Ada Beispiel" not in theirs.text
            drop_cached_pages()
            built = await other.get(path)
            assert kept(built) == "miss" and built.text == theirs.text, path


async def test_a_vote_in_one_app_process_reorders_the_other_and_keeps_its_idea_pages(
    session_factory, two_servers
):
    first_url, second_url = two_servers
    process = await make_process(session_factory, slug="zwei")
    author = await make_user(session_factory)
    older = await make_idea(session_factory, process, author, title="Erste Idee")
    newer = await make_idea(session_factory, process, author, title="Zweite Idee")
    voter = await make_user(session_factory)
    listed = "/processes/zwei/ideas"
    async with (
        httpx.AsyncClient(base_url=first_url, timeout=10) as one,
        httpx.AsyncClient(base_url=second_url, timeout=10) as two,
    ):
        for path in (listed, f"/ideas/{older.id}"):
            await two.get(path)
            assert kept(await two.get(path)) == "hit"
        before = (await two.get(listed)).text
        assert before.index("Zweite Idee") < before.index("Erste Idee")  # the newest first
        await login(one, voter.email)
        assert (await one.post(f"/ideas/{older.id}/vote", headers=htmx_headers(one))).is_success
        idea_page = await two.get(f"/ideas/{older.id}")
        assert kept(idea_page) == "hit" and "<strong>1</strong>" in idea_page.text

        def older_first(page: httpx.Response) -> bool:
            return page.text.index("Erste Idee") < page.text.index("Zweite Idee")

        assert older_first(await until(lambda: two.get(listed), older_first)), (
            f"idea {older.id} is not first after 5 s (idea {newer.id} is)"
        )
