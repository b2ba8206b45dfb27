"""The admin pages (role guards, processes, roles, audit log) and the `create-admin` command."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from ideas_platform.accounts.models import User
from ideas_platform.audit.models import AuditEntry
from ideas_platform.cli import main
from ideas_platform.core.choices import Role
from ideas_platform.processes.models import Process, Topic
from tests.helpers import PASSWORD, assert_form_error, login, make_process, make_user, post_form

BERLIN = ZoneInfo("Europe/Berlin")


def process_form(**overrides: str) -> dict[str, str]:
    data = {
        "slug": "energiewende-2030",
        "title": "Energiewende in der Lausitz",
        "description": "Ideen für den **Strukturwandel**.",
        "vote_budget": "5",
        "topics": "Wasserstoff\nSpeicher\n\nWasserstoff",
        "collect_start": "2026-03-01T09:00",
        "collect_end": "2026-04-30T18:00",
        "vote_start": "2026-05-01T09:00",
        "vote_end": "2026-05-31T18:00",
    }
    data.update(overrides)
    return data


async def count(db, model) -> int:
    return await db.scalar(select(func.count()).select_from(model))


async def admin_actions(db) -> int:
    """Audit entries written by admins (creating the test admin writes one without an actor)."""
    return await db.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.actor_id.is_not(None))
    )


async def as_admin(client, session_factory) -> User:
    admin = await make_user(session_factory, role=Role.ADMIN, name="Ada Admin")
    await login(client, admin.email)
    return admin


# --- guards -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/admin", "/admin/processes/new"])
async def test_anonymous_is_sent_to_login(client, url):
    response = await client.get(url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.MODERATOR, Role.MINISTRY])
async def test_other_roles_are_refused(client, session_factory, db, role):
    user = await make_user(session_factory, role=role)
    await login(client, user.email)
    assert (await client.get("/admin")).status_code == 403
    assert (await client.get("/admin/processes/new")).status_code == 403
    create = await post_form(client, "/admin/processes", process_form())
    assert create.status_code == 403
    promote = await post_form(client, f"/admin/users/{user.id}/role", {"role": "admin"})
    assert promote.status_code == 403
    assert await count(db, Process) == 0
    assert await db.scalar(select(User.role).where(User.id == user.id)) == role


async def test_admin_sees_the_admin_page(client, session_factory):
    await make_process(session_factory, slug="idz")
    other = await make_user(session_factory, name="Otto Normal")
    await as_admin(client, session_factory)
    response = await client.get("/admin")
    assert response.status_code == 200
    assert "Otto Normal" in response.text and other.email in response.text
    assert 'href="/admin/processes/' in response.text
    search = await client.get("/admin", params={"q": "OTTO"})
    assert "Otto Normal" in search.text and "Ada Admin" not in search.text.split("<table", 1)[1]
    assert (await client.get("/admin/processes/new")).status_code == 200


@pytest.mark.parametrize("query", ["%", "_", "a%z"])
async def test_user_search_takes_wildcards_literally(client, session_factory, query):
    await make_user(session_factory, name="Otto Normal")
    await make_user(session_factory, name="Ulla 100% Sicher", email="ulla_s@example.org")
    await as_admin(client, session_factory)
    table = (await client.get("/admin", params={"q": query})).text.split("<table", 1)[1]
    assert "Otto Normal" not in table
    assert ("Ulla" in table) == (query != "a%z")


async def test_anonymous_admin_posts_are_refused(client, session_factory, db):
    user = await make_user(session_factory)
    create = await post_form(client, "/admin/processes", process_form())
    assert create.status_code == 303 and create.headers["location"].startswith("/login")
    promote = await post_form(client, f"/admin/users/{user.id}/role", {"role": "admin"})
    assert promote.status_code == 303
    assert await count(db, Process) == 0


# --- processes --------------------------------------------------------------------------------


async def test_admin_creates_a_process(client, session_factory, db):
    admin = await as_admin(client, session_factory)
    response = await post_form(client, "/admin/processes", process_form(slug="Energiewende-2030"))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/processes/energiewende-2030"
    process = await db.scalar(select(Process))
    assert process.slug == "energiewende-2030"
    assert process.title == "Energiewende in der Lausitz"
    assert process.vote_budget == 5
    phases = {p.kind.value: (p.starts_at, p.ends_at) for p in process.phases}
    assert set(phases) == {"collect", "vote"}
    # The form's dates are local time in Saxony.
    assert phases["collect"][0] == datetime(2026, 3, 1, 9, 0, tzinfo=BERLIN)
    assert phases["vote"][1] == datetime(2026, 5, 31, 18, 0, tzinfo=BERLIN)
    topics = await db.scalars(select(Topic.name).where(Topic.process_id == process.id))
    assert sorted(topics) == ["Speicher", "Wasserstoff"]
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "process.create"))
    assert entry.actor_id == admin.id and entry.target_id == process.id
    assert entry.before is None and entry.after["slug"] == "energiewende-2030"
    page = await client.get("/processes/energiewende-2030")
    assert page.status_code == 200 and "Energiewende in der Lausitz" in page.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "Mit Leerzeichen"}, "slug"),
        ({"slug": "ü-umlaut"}, "slug"),
        ({"slug": "-"}, "slug"),
        ({"slug": ""}, "slug"),
        ({"title": "ab"}, "title"),
        ({"vote_budget": "0"}, "vote_budget"),
        ({"vote_budget": "-3"}, "vote_budget"),
        ({"vote_budget": "zwei"}, "vote_budget"),
        ({"vote_budget": "1001"}, "vote_budget"),
        ({"collect_end": "2026-02-01T09:00"}, "phase_collect"),
        ({"vote_end": "2026-05-01T09:00"}, "phase_vote"),
        ({"vote_end": ""}, "phase_vote"),
        ({"collect_start": "31.12.2026"}, "phase_collect"),
    ],
)
async def test_invalid_process_is_refused_and_nothing_created(
    client, session_factory, db, overrides, field
):
    await as_admin(client, session_factory)
    response = await post_form(client, "/admin/processes", process_form(**overrides))
    assert_form_error(response, field)
    # the admin's input is kept
    assert "Energiewende in der Lausitz" in response.text or field == "title"
    assert await count(db, Process) == 0
    assert await count(db, Topic) == 0
    assert await admin_actions(db) == 0


async def test_process_slug_must_be_unique(client, session_factory, db):
    await make_process(session_factory, slug="energiewende-2030")
    await as_admin(client, session_factory)
    response = await post_form(client, "/admin/processes", process_form())
    assert_form_error(response, "slug")
    assert await count(db, Process) == 1


async def test_admin_edits_a_process(client, session_factory, db):
    admin = await as_admin(client, session_factory)
    await post_form(client, "/admin/processes", process_form())
    process = await db.scalar(select(Process))
    form = await client.get(f"/admin/processes/{process.id}/edit")
    assert form.status_code == 200
    assert 'value="2026-03-01T09:00"' in form.text  # shown in Berlin time again
    response = await post_form(
        client,
        f"/admin/processes/{process.id}",
        process_form(title="Energiewende neu gedacht", vote_budget="", vote_start="", vote_end=""),
    )
    assert response.status_code == 303
    db.expire_all()
    process = await db.scalar(select(Process))
    assert process.title == "Energiewende neu gedacht"
    assert process.vote_budget is None
    assert [p.kind.value for p in process.phases] == ["collect"]
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "process.update"))
    assert entry.actor_id == admin.id
    assert entry.before["title"] == "Energiewende in der Lausitz"
    assert entry.after["title"] == "Energiewende neu gedacht"
    invalid = await post_form(
        client, f"/admin/processes/{process.id}", process_form(vote_budget="0")
    )
    assert invalid.status_code == 422
    db.expire_all()
    assert (await db.scalar(select(Process))).title == "Energiewende neu gedacht"


async def test_editing_an_unknown_process_is_404(client, session_factory):
    await as_admin(client, session_factory)
    assert (await client.get("/admin/processes/4242/edit")).status_code == 404
    response = await post_form(client, "/admin/processes/4242", process_form())
    assert response.status_code == 404


# --- roles ------------------------------------------------------------------------------------


async def test_changing_a_role_is_audited(client, session_factory, db):
    admin = await as_admin(client, session_factory)
    user = await make_user(session_factory, name="Mona Moderatorin")
    response = await post_form(client, f"/admin/users/{user.id}/role", {"role": "moderator"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"
    assert await db.scalar(select(User.role).where(User.id == user.id)) == Role.MODERATOR
    entries = (
        await db.scalars(select(AuditEntry).where(AuditEntry.action == "user.change_role"))
    ).all()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor_id == admin.id
    assert entry.target_type == "user" and entry.target_id == user.id
    assert entry.before == {"role": "participant"} and entry.after == {"role": "moderator"}
    assert entry.created_at is not None
    assert "Mona Moderatorin" in (await client.get("/admin")).text


async def test_new_role_takes_effect_at_once_without_new_login(client, session_factory):
    user = await make_user(session_factory)
    await login(client, user.email)
    assert (await client.get("/admin")).status_code == 403
    async with session_factory() as session:
        from ideas_platform.accounts import service as accounts

        admin = await make_user(session_factory, role=Role.ADMIN)
        await accounts.change_role(session, actor_id=admin.id, user_id=user.id, role="admin")
    assert (await client.get("/admin")).status_code == 200
    async with session_factory() as session:
        await accounts.change_role(session, actor_id=admin.id, user_id=user.id, role="ministry")
    assert (await client.get("/admin")).status_code == 403


async def test_admin_cannot_remove_their_own_admin_role(client, session_factory, db):
    admin = await as_admin(client, session_factory)
    response = await post_form(client, f"/admin/users/{admin.id}/role", {"role": "participant"})
    assert 400 <= response.status_code < 500
    assert (
        "You cannot take away your own administrator role." in response.text
        or "Administrationsrolle" in response.text
    )
    assert await db.scalar(select(User.role).where(User.id == admin.id)) == Role.ADMIN
    assert await admin_actions(db) == 0
    assert (await client.get("/admin")).status_code == 200


async def test_role_change_refuses_bad_input(client, session_factory, db):
    await as_admin(client, session_factory)
    user = await make_user(session_factory)
    bad_role = await post_form(client, f"/admin/users/{user.id}/role", {"role": "kaiser"})
    assert bad_role.status_code == 422
    unknown = await post_form(client, "/admin/users/424242/role", {"role": "moderator"})
    assert unknown.status_code == 404
    no_csrf = await client.post(f"/admin/users/{user.id}/role", data={"role": "admin"})
    assert no_csrf.status_code == 403
    assert await db.scalar(select(User.role).where(User.id == user.id)) == Role.PARTICIPANT
    assert await admin_actions(db) == 0


# --- command line -----------------------------------------------------------------------------


@pytest.fixture
def cli(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    from ideas_platform.core.config import get_settings

    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


async def run_cli(cli, *args: str, input: str | None = None):
    return await asyncio.to_thread(
        cli.invoke, main, list(args), input=input, catch_exceptions=False
    )


async def test_create_admin_can_log_in_and_administer(cli, client, db):
    result = await run_cli(
        cli,
        "create-admin",
        "--email",
        "Chefin@Example.org",
        "--name",
        "Clara Chefin",
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert "chefin@example.org" in result.output
    user = await db.scalar(select(User))
    assert user.role == Role.ADMIN and user.email == "chefin@example.org"
    entry = await db.scalar(select(AuditEntry))
    assert entry.action == "user.create_with_role" and entry.after == {"role": "admin"}
    await login(client, "chefin@example.org")
    assert (await client.get("/admin")).status_code == 200


async def test_create_admin_promotes_an_existing_account(cli, client, session_factory, db):
    user = await make_user(session_factory, email="bestand@example.org")
    result = await run_cli(
        cli, "create-admin", "--email", "BESTAND@example.org", "--name", "x", "--password", "x"
    )
    assert result.exit_code == 0, result.output
    assert await count(db, User) == 1
    assert await db.scalar(select(User.role).where(User.id == user.id)) == Role.ADMIN
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.target_id == user.id))
    assert entry.action == "user.promote_admin"
    # the existing password is unchanged
    await login(client, "bestand@example.org", PASSWORD)
    assert (await client.get("/admin")).status_code == 200


async def test_create_admin_prompts_and_refuses_weak_input(cli, db):
    prompted = await run_cli(
        cli,
        "create-admin",
        "--password",
        PASSWORD,
        input="neu@example.org\nNeue Admin\n",
    )
    assert prompted.exit_code == 0, prompted.output
    weak = await run_cli(
        cli, "create-admin", "--email", "zwei@example.org", "--name", "Zwei", "--password", "kurz"
    )
    assert weak.exit_code == 2
    assert "password" in weak.output
    bad_sector = await run_cli(
        cli,
        "create-admin",
        "--email",
        "drei@example.org",
        "--name",
        "Drei",
        "--password",
        PASSWORD,
        "--sector",
        "aliens",
    )
    assert bad_sector.exit_code == 2
    assert await db.scalar(select(func.count()).select_from(User)) == 1


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(session_factory):
    import asyncio

    from sqlalchemy import func, select

    from ideas_platform.accounts import service as accounts_service
    from ideas_platform.accounts.models import User
    from ideas_platform.core.choices import Role
    from ideas_platform.core.errors import DomainError
    from tests.helpers import make_user

    first = await make_user(session_factory, role=Role.ADMIN)
    second = await make_user(session_factory, role=Role.ADMIN)

    async def demote(actor, target):
        async with session_factory() as session:
            try:
                await accounts_service.change_role(
                    session, actor_id=actor.id, user_id=target.id, role="participant"
                )
            except DomainError:
                return False
            return True

    results = await asyncio.gather(demote(first, second), demote(second, first))
    assert sorted(results) == [False, True]
    async with session_factory() as session:
        admins = await session.scalar(select(func.count()).where(User.role == Role.ADMIN))
    assert admins == 1
