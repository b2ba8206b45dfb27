"""Notifications: who hears of what (in the app and by mail), following, bundling and digests,
one-click unsubscribe. Mails go through the outbox to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import func, select, text

from ideas_platform.core.choices import Role
from ideas_platform.core.i18n import BERLIN
from ideas_platform.mail.compose import unsubscribe_token
from ideas_platform.mail.sender import deliver_due
from ideas_platform.moderation import merge as merging
from ideas_platform.notifications import service as notifications
from ideas_platform.notifications.digest import dispatch_due, due_at
from ideas_platform.notifications.models import (
    Frequency,
    MailState,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from tests.helpers import (
    login,
    make_event,
    make_idea,
    make_process,
    make_user,
    post_form,
    recommend,
)
from tests.smtp import text_part


async def _mail_out(session_factory, settings, smtp, *, everything: bool = False) -> None:
    """One turn of an app process's sender: notifications due → mails → SMTP."""
    async with session_factory() as session:
        await dispatch_due(session, settings, everything=everything)
        while await deliver_due(session, smtp):
            pass


async def _rows(session_factory, user_id: int) -> list[Notification]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            )
        )


async def _comment_news(session, user_id: int, idea, *, actor_id=None, excerpt=None) -> None:
    """What a new comment on `idea` writes for `user_id` (with `excerpt`: also who wrote what)."""
    data = {"idea": idea.title}
    if excerpt is not None:
        data |= {"actor": "Kommentator", "excerpt": excerpt}
    await notifications.notify(
        session,
        [user_id],
        kind=NotificationKind.COMMENT,
        event="new",
        actor_id=actor_id,
        idea_id=idea.id,
        data=data,
    )


async def _one_click(client, token: str):
    """What a mail program does (RFC 8058): a POST with this body, no cookie, no CSRF token."""
    return await client.post(
        f"/unsubscribe/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


async def _scene(session_factory):
    process = await make_process(session_factory, slug="benachrichtigung")
    author = await make_user(session_factory, email="autorin@example.org", name="Autorin")
    other = await make_user(session_factory, email="kommentator@example.org", name="Kommentator")
    idea = await make_idea(session_factory, process, author, title="Lernfabrik für Lehrkräfte")
    async with session_factory() as session, session.begin():
        # The phases that began yesterday count as announced (test_a_new_phase_... checks that).
        await session.execute(
            text(
                "INSERT INTO phase_announcements (process_id, kind, starts_at) "
                "SELECT process_id, kind, starts_at FROM process_phases ON CONFLICT DO NOTHING"
            )
        )
    return process, author, other, idea


async def test_a_comment_on_my_idea_reaches_the_bell_and_one_mail(
    client, session_factory, settings, smtp_server
):
    settings = dataclasses.replace(settings, notification_bundle_seconds=0)
    smtp = smtp_server.settings(settings)
    _, author, other, idea = await _scene(session_factory)
    await login(client, other.email)
    posted = await post_form(
        client, f"/ideas/{idea.id}/comments", {"body": "Gute Idee, wir machen mit!"}
    )
    assert posted.status_code in (200, 303)
    # The commenter hears nothing of their own comment; the author does (follows automatically).
    assert await _rows(session_factory, other.id) == []
    [note] = await _rows(session_factory, author.id)
    assert note.kind == NotificationKind.COMMENT and note.mail_state == MailState.PENDING

    await client.post("/logout", headers={"x-csrftoken": client.cookies.get("csrftoken")})
    client.cookies.clear()
    await login(client, author.email)
    home = await client.get("/")
    assert 'class="badge-count" aria-hidden="true">1<' in home.text
    listing = await client.get("/notifications")
    assert "Kommentator" in listing.text and "Lernfabrik für Lehrkräfte" in listing.text
    opened = await client.get(f"/notifications/{note.id}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"].startswith(f"/ideas/{idea.id}")
    assert 'class="badge-count"' not in (await client.get("/")).text

    await _mail_out(session_factory, settings, smtp)
    [mail] = smtp_server.mailbox.to("autorin@example.org")
    body = text_part(mail)
    assert "Lernfabrik für Lehrkräfte" in body and "Gute Idee, wir machen mit!" in body
    assert f"/ideas/{idea.id}" in body
    await _mail_out(session_factory, settings, smtp)
    assert len(smtp_server.mailbox.messages) == 1  # nothing twice


async def test_a_thousand_notifications_in_a_minute_are_one_mail(
    session_factory, settings, smtp_server
):
    smtp = smtp_server.settings(settings)  # bundling window: 60 s
    _, author, other, idea = await _scene(session_factory)
    async with session_factory() as session, session.begin():
        for n in range(1000):
            await _comment_news(session, author.id, idea, actor_id=other.id, excerpt=f"Beitrag {n}")
    await _mail_out(session_factory, settings, smtp)
    assert smtp_server.mailbox.messages == []  # the minute is not over
    async with session_factory() as session, session.begin():
        await session.execute(
            text("UPDATE notifications SET created_at = now() - interval '61 seconds'")
        )
    await _mail_out(session_factory, settings, smtp)
    [mail] = smtp_server.mailbox.messages
    assert text_part(mail).count("Beitrag ") == 1000
    assert "1000" in str(mail["Subject"]) or "1.000" in str(mail["Subject"])
    rows = await _rows(session_factory, author.id)
    assert {row.mail_state for row in rows} == {MailState.MAILED} and len(
        {row.mail_id for row in rows}
    ) == 1


async def test_the_daily_digest_groups_by_idea_and_is_never_empty(
    session_factory, settings, smtp_server
):
    smtp = smtp_server.settings(settings)
    process, author, other, idea = await _scene(session_factory)
    second = await make_idea(session_factory, process, author, title="Wasserstoff im Erzgebirge")
    async with session_factory() as session:
        await notifications.save_frequencies(session, author.id, {"comment": "daily"})
    await _mail_out(session_factory, settings, smtp, everything=True)
    assert smtp_server.mailbox.messages == []  # nothing waiting: no mail at all
    async with session_factory() as session, session.begin():
        for target, words in ((idea, "Erster"), (second, "Zweiter"), (idea, "Dritter")):
            await _comment_news(session, author.id, target, actor_id=other.id, excerpt=words)
    await _mail_out(session_factory, settings, smtp)
    assert smtp_server.mailbox.messages == []  # waits for 7:00
    await _mail_out(session_factory, settings, smtp, everything=True)
    [mail] = smtp_server.mailbox.messages
    body = text_part(mail)
    assert "tägliche" in str(mail["Subject"]).lower()
    assert (
        body.count("== Lernfabrik für Lehrkräfte ==") == 1
        and body.count("== Wasserstoff im Erzgebirge ==") == 1
    )
    first_group = body.split("== Wasserstoff")[0]
    assert "Erster" in first_group and "Dritter" in first_group


def test_digests_are_due_at_seven_in_berlin():
    evening = datetime(2026, 12, 8, 20, 0, tzinfo=BERLIN)  # a Tuesday
    assert due_at(Frequency.DAILY, evening, 60) == datetime(2026, 12, 9, 7, 0, tzinfo=BERLIN)
    early = datetime(2026, 12, 9, 6, 59, tzinfo=BERLIN)
    assert due_at(Frequency.DAILY, early, 60) == datetime(2026, 12, 9, 7, 0, tzinfo=BERLIN)
    assert due_at(Frequency.WEEKLY, evening, 60) == datetime(2026, 12, 14, 7, 0, tzinfo=BERLIN)
    instant = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    assert (due_at(Frequency.IMMEDIATE, instant, 60) - instant).total_seconds() == 60


async def test_off_means_no_mail_but_still_the_bell(session_factory, settings, smtp_server):
    _, author, _other, idea = await _scene(session_factory)
    async with session_factory() as session:
        await notifications.save_frequencies(session, author.id, {"comment": "off"})
    async with session_factory() as session, session.begin():
        await _comment_news(session, author.id, idea)
    await _mail_out(session_factory, settings, smtp_server.settings(settings), everything=True)
    assert smtp_server.mailbox.messages == []
    [row] = await _rows(session_factory, author.id)
    assert row.mail_state == MailState.NONE and row.read_at is None


async def test_following_an_idea_and_unfollowing_it(client, session_factory):
    _, author, _other, idea = await _scene(session_factory)
    follower = await make_user(session_factory, email="folgt@example.org")
    await login(client, follower.email)
    followed = await post_form(client, f"/ideas/{idea.id}/follow", {"follow": "1"})
    assert followed.status_code == 303
    async with session_factory() as session, session.begin():
        assert await notifications.idea_followers(session, idea.id) == {author.id, follower.id}
    unfollowed = await post_form(client, f"/ideas/{idea.id}/follow", {"follow": "0"})
    assert unfollowed.status_code == 303
    async with session_factory() as session:
        assert await notifications.idea_followers(session, idea.id) == {author.id}
    missing = await post_form(client, "/ideas/999999/follow", {"follow": "1"})
    assert missing.status_code == 404


async def test_a_merge_and_the_ministrys_decision_reach_the_author_and_followers(session_factory):
    process, author, other, idea = await _scene(session_factory)
    target = await make_idea(session_factory, process, other, title="Lernfabriken in Sachsen")
    follower = await make_user(session_factory, email="folgt@example.org")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    ministry = await make_user(session_factory, role=Role.MINISTRY)
    async with session_factory() as session:
        await notifications.set_following(session, follower.id, idea_id=idea.id, follow=True)
    async with session_factory() as session:
        await merging.merge(
            session, source_id=idea.id, target_id=target.id, moderator_id=moderator.id
        )
    for person in (author, follower):
        [merged] = await _rows(session_factory, person.id)
        assert (merged.kind, merged.event) == (NotificationKind.MODERATION, "merged")
        assert merged.data["target"] == "Lernfabriken in Sachsen"
    # Followers of the merged idea now follow the idea it went into.
    async with session_factory() as session:
        assert follower.id in await notifications.idea_followers(session, target.id)
        await recommend(
            session, process, moderator, target, official=ministry, comment="Wird umgesetzt"
        )
    kinds = [(n.kind, n.event) for n in await _rows(session_factory, follower.id)]
    assert kinds[-2:] == [
        (NotificationKind.SHORTLIST, "nominated"),
        (NotificationKind.SHORTLIST, "accepted"),
    ]
    accepted = (await _rows(session_factory, other.id))[-1]
    assert accepted.data["note"] == "Wird umgesetzt"


async def test_hiding_an_idea_tells_only_its_author(session_factory):
    from ideas_platform.moderation import reports

    _, author, other, idea = await _scene(session_factory)
    async with session_factory() as session:
        await notifications.set_following(session, other.id, idea_id=idea.id, follow=True)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    async with session_factory() as session:
        await reports.hide(session, idea_id=idea.id, moderator_id=moderator.id, reason="Werbung")
    [hidden] = await _rows(session_factory, author.id)
    assert hidden.event == "hidden" and hidden.data["note"] == "Werbung"
    assert await _rows(session_factory, other.id) == []


async def test_a_new_phase_is_announced_once_to_the_participants(session_factory, settings):
    process, author, _other, _idea = await _scene(session_factory)
    outsider = await make_user(session_factory, email="aussen@example.org")
    async with session_factory() as session, session.begin():
        await session.execute(
            text(
                "UPDATE process_phases SET starts_at = now() - interval '1 hour' "
                "WHERE process_id = :p AND kind = 'vote'"
            ),
            {"p": process.id},
        )
    for _ in range(2):  # two turns (or two workers): announced once
        async with session_factory() as session:
            await dispatch_due(session, settings)
    phase_rows = [
        n for n in await _rows(session_factory, author.id) if n.kind == NotificationKind.PHASE
    ]
    assert {n.data["phase"] for n in phase_rows} >= {"vote"}
    assert len([n for n in phase_rows if n.data["phase"] == "vote"]) == 1
    assert [
        n for n in await _rows(session_factory, outsider.id) if n.kind == NotificationKind.PHASE
    ] == []


async def test_one_click_unsubscribe_works_without_a_login_and_a_forged_link_does_nothing(
    client, session_factory, settings
):
    _, author, other, _idea = await _scene(session_factory)
    token = unsubscribe_token(settings, author.id)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    refused = await _one_click(client, forged)
    assert refused.status_code == 400
    other_person = await client.post(f"/unsubscribe/{unsubscribe_token(settings, other.id)[:-2]}xx")
    assert other_person.status_code == 400
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(NotificationPreference)) == 0
    done = await _one_click(client, token)
    assert done.status_code == 200
    async with session_factory() as session:
        chosen = await notifications.frequencies(session, author.id)
    assert set(chosen.values()) == {Frequency.OFF}
    # The link in a mail opened in a browser asks first (a link checker does not unsubscribe).
    page = await client.get(f"/unsubscribe/{unsubscribe_token(settings, other.id)}")
    assert page.status_code == 200 and "<form" in page.text
    async with session_factory() as session:
        assert set((await notifications.frequencies(session, other.id)).values()) != {Frequency.OFF}


async def test_the_settings_page_saves_per_kind_and_refuses_nonsense(client, session_factory):
    _, author, _other, _idea = await _scene(session_factory)
    await login(client, author.email)
    page = await client.get("/notifications/settings")
    assert page.status_code == 200 and 'value="weekly"' in page.text
    saved = await post_form(
        client, "/notifications/settings", {"comment": "weekly", "theme": "off"}
    )
    assert saved.status_code == 303
    async with session_factory() as session:
        chosen = await notifications.frequencies(session, author.id)
    assert chosen[NotificationKind.COMMENT] == Frequency.WEEKLY
    assert chosen[NotificationKind.THEME] == Frequency.OFF
    assert chosen[NotificationKind.REPLY] == Frequency.IMMEDIATE
    bad = await post_form(client, "/notifications/settings", {"comment": "hourly"})
    assert bad.status_code == 422
    async with session_factory() as session:
        assert (await notifications.frequencies(session, author.id))[
            NotificationKind.COMMENT
        ] == Frequency.WEEKLY


async def test_workshop_guests_get_the_bell_but_no_mail(session_factory):
    process, author, _other, idea = await _scene(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    event = await make_event(session_factory, process, moderator)
    async with session_factory() as session, session.begin():
        # the author joined a workshop as a guest (a made-up address nobody reads)
        await session.execute(
            text("UPDATE users SET guest_event_id = :e WHERE id = :u"),
            {"e": event.id, "u": author.id},
        )
        await _comment_news(session, author.id, idea)
    [row] = await _rows(session_factory, author.id)
    assert row.mail_state == MailState.NONE and row.read_at is None


async def test_a_deleted_comment_leaves_no_notification_and_no_mail(
    client, session_factory, settings, smtp_server
):
    settings = dataclasses.replace(settings, notification_bundle_seconds=0)
    _, author, other, idea = await _scene(session_factory)
    await login(client, other.email)
    await post_form(client, f"/ideas/{idea.id}/comments", {"body": "Versehentlich gepostet"})
    [note] = await _rows(session_factory, author.id)
    deleted = await post_form(client, f"/comments/{note.comment_id}/delete")
    assert deleted.status_code in (200, 303)
    assert await _rows(session_factory, author.id) == []
    await _mail_out(session_factory, settings, smtp_server.settings(settings))
    assert smtp_server.mailbox.messages == []


async def test_a_person_being_bundled_by_one_worker_is_left_alone_by_the_other(
    session_factory, settings
):
    """Worker A is half-way through a person's notifications (it holds the person and some of
    the rows); worker B must not mail the rest as a second mail ("1 + 4")."""
    from ideas_platform.mail.models import OutboxMail
    from ideas_platform.notifications.digest import PERSON_LOCK_NAMESPACE

    settings = dataclasses.replace(settings, notification_bundle_seconds=0)
    _, author, _other, idea = await _scene(session_factory)
    async with session_factory() as session, session.begin():
        for n in range(5):
            await _comment_news(session, author.id, idea, excerpt=f"Beitrag {n}")
    async with session_factory() as worker_a, worker_a.begin():
        # what mail_one_person of worker A holds at this moment
        await worker_a.execute(select(func.pg_advisory_xact_lock(PERSON_LOCK_NAMESPACE, author.id)))
        await worker_a.execute(
            select(Notification.id).order_by(Notification.id).limit(1).with_for_update()
        )
        async with session_factory() as worker_b:
            assert (await dispatch_due(worker_b, settings)).mails == 0
    async with session_factory() as session:  # A is gone (crashed, or done): B takes it all
        done = await dispatch_due(session, settings)
        mails = await session.scalar(select(func.count()).select_from(OutboxMail))
    assert (done.mails, done.notifications, mails) == (1, 5, 1)
