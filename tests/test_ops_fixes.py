"""Operations fixes: login limits per account and per address (a workshop room on one
network), the password-strength check, the embedded PostgreSQL stopped on every exit path,
and packaging metadata without licence deprecation warnings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from ideas_platform.accounts import lifecycle
from ideas_platform.accounts.models import AccountTokenPurpose
from ideas_platform.core.config import Settings
from ideas_platform.core.passwords import password_problem
from ideas_platform.core.rate_limits import ADDRESS_ALLOWANCE
from tests.helpers import (
    PASSWORD,
    TEST_SECRET,
    app_client,
    assert_form_error,
    free_port,
    login,
    make_user,
    make_users_fast,
    post_form,
    try_login,
)

WRONG = "Falsches-Passwort-99"


@pytest.fixture
async def default_limits_client(settings, database_url):
    """The app with the shipped limits (5 attempts per account and minute)."""
    shipped = Settings().auth_rate_limit_per_minute
    async with app_client(settings, database_url, auth_rate_limit_per_minute=shipped) as client:
        yield client


# --- 1. rate limits per account and per address ------------------------------------------------


async def test_a_workshop_room_of_25_logs_in_from_one_address(
    default_limits_client, session_factory
):
    await make_users_fast(session_factory, 25)
    async with session_factory() as session:
        from sqlalchemy import text

        emails = list(
            await session.scalars(text("SELECT email FROM users ORDER BY id"))  # 25 accounts
        )
    assert len(emails) == 25
    statuses = []
    for email in emails:  # one address (the test client), within a minute
        statuses.append((await try_login(default_limits_client, email, PASSWORD)).status_code)
        default_limits_client.cookies.clear()  # the next person's phone
    assert statuses == [303] * 25


async def test_repeated_wrong_passwords_are_limited_for_that_account_only(
    default_limits_client, session_factory
):
    victim = await make_user(session_factory)
    other = await make_user(session_factory)
    statuses = [
        (await try_login(default_limits_client, victim.email, WRONG)).status_code for _ in range(6)
    ]
    assert statuses == [400] * 5 + [429]
    refused = await try_login(default_limits_client, victim.email.upper(), PASSWORD)
    assert refused.status_code == 429
    # A friendly page: the form again, the reason and when to try again, in German.
    assert refused.headers["content-type"].startswith("text/html")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert 'action="/login"' in refused.text
    assert 'name="password"' in refused.text
    assert "Bitte versuchen Sie es in" in refused.text and "Sekunden erneut" in refused.text
    assert victim.email.upper() in refused.text  # the typed address stays in the form
    # Somebody else on the same network is not affected.
    await login(default_limits_client, other.email)


async def test_the_retry_page_speaks_english_on_choice(settings, database_url, session_factory):
    user = await make_user(session_factory)
    async with app_client(settings, database_url, auth_rate_limit_per_minute=1) as client:
        await post_form(client, "/language", {"locale": "en"})
        await try_login(client, user.email, WRONG)
        refused = await try_login(client, user.email, WRONG)
    assert refused.status_code == 429
    assert "Too many attempts. Please try again in" in refused.text


async def test_one_address_still_has_a_room_allowance(settings, database_url):
    async with app_client(settings, database_url, auth_rate_limit_per_minute=1) as client:
        statuses = [
            (await try_login(client, f"raten{i}@example.org", WRONG)).status_code
            for i in range(ADDRESS_ALLOWANCE + 1)
        ]
    assert statuses == [400] * ADDRESS_ALLOWANCE + [429]


async def test_registration_over_the_limit_shows_the_form_with_the_message(settings, database_url):
    data = {
        "email": "doppelt@example.org",
        "display_name": "Doppelt",
        "password": "kurz",
        "sector": "science",
        "region": "leipzig",
        "accepted_terms": "1",
    }
    async with app_client(settings, database_url, auth_rate_limit_per_minute=1) as client:
        assert (await post_form(client, "/register", data)).status_code == 422
        refused = await post_form(client, "/register", data)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"]
    assert 'action="/register"' in refused.text
    assert "Zu viele Versuche" in refused.text


async def test_the_reset_form_over_the_limit_keeps_the_form(
    settings, database_url, session_factory
):
    user = await make_user(session_factory)
    async with session_factory() as session, session.begin():
        token = await lifecycle._issue(session, user, AccountTokenPurpose.RESET_PASSWORD)
    async with app_client(settings, database_url, auth_rate_limit_per_minute=1) as client:
        weak = await post_form(client, f"/password/reset/{token}", {"password": "passwort12"})
        assert weak.status_code == 422
        refused = await post_form(client, f"/password/reset/{token}", {"password": "passwort12"})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"]
    assert f'action="/password/reset/{token}"' in refused.text


# --- 2. password strength ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("passwort12", "Liste häufig verwendeter Passwörter"),
        ("Qwertz12345", "Liste häufig verwendeter Passwörter"),
        ("aaaaaaaaaaaaaaa", "Wiederholte Zeichen"),
        ("0123456789", "Folgen wie"),
    ],
)
async def test_a_common_password_is_refused_at_registration_with_the_reason(
    client, password, reason
):
    response = await post_form(
        client,
        "/register",
        {
            "email": "lena.neu@example.org",
            "display_name": "Lena Neu",
            "password": password,
            "sector": "science",
            "region": "leipzig",
            "accepted_terms": "1",
        },
    )
    assert_form_error(response, "password")
    assert reason in response.text


async def test_a_common_password_is_refused_at_reset_and_change(client, session_factory):
    user = await make_user(session_factory)
    async with session_factory() as session, session.begin():
        token = await lifecycle._issue(session, user, AccountTokenPurpose.RESET_PASSWORD)
    reset = await post_form(client, f"/password/reset/{token}", {"password": "passwort12"})
    assert reset.status_code == 422
    assert "Liste häufig verwendeter Passwörter" in reset.text
    await login(client, user.email)
    change = await post_form(
        client,
        "/profile/password",
        {"current_password": PASSWORD, "new_password": "passwort12"},
    )
    assert change.status_code == 422
    assert "Liste häufig verwendeter Passwörter" in change.text


def test_the_demo_and_test_passwords_are_strong_enough():
    from ideas_platform.demo.seed import DEMO_PASSWORD

    for password in (DEMO_PASSWORD, PASSWORD, "Neues-Elbufer-Passwort-2031"):
        assert password_problem(password, email="person1@example.org") is None
    assert password_problem("passwort12") is not None
    assert password_problem("Ideenplattform1") is not None


# --- 4. the embedded PostgreSQL stops with `serve` ---------------------------------------------


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedded") / "data"


def _postgres_of(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["name"] == "postgres" and str(data_dir) in cmdline:
            found.append(process)
    return found


def _running(process: psutil.Process) -> bool:
    """Running, not merely waiting to be reaped."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _gone(data_dir: Path, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _postgres_of(data_dir):
            return True
        time.sleep(0.2)
    return False


def _serve(data_dir: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATA_DIR=str(data_dir), MAIL_SENDER_ENABLED="false", SECRET_KEY=TEST_SECRET)
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "ideas_platform.cli", "serve", "--port", str(port), *extra],
        env=env,
        start_new_session=True,  # a signal to the CLI only, as `kill PID` sends it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _serving(process: subprocess.Popen[bytes], port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve ended early"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("serve did not come up")


@pytest.fixture
def stop_leftovers(data_dir):
    yield
    for process in _postgres_of(data_dir):  # only this test's own server, by its pid
        process.send_signal(signal.SIGINT)
    _gone(data_dir)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_stops_its_embedded_postgres_on_a_signal(data_dir, stop_leftovers, sig):
    port = free_port()
    serve = _serve(data_dir, port)
    try:
        _serving(serve, port)
        assert len(_postgres_of(data_dir)) >= 1
        serve.send_signal(sig)
        serve.wait(timeout=30)
    finally:
        if serve.poll() is None:
            serve.kill()
    assert _gone(data_dir, 5), "the embedded PostgreSQL outlived `serve`"


def test_serve_stops_its_embedded_postgres_when_it_fails(data_dir, stop_leftovers):
    with socket.socket() as taken:  # the port is in use: uvicorn cannot start and exits
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        serve = _serve(data_dir, taken.getsockname()[1], "--no-migrate")
        assert serve.wait(timeout=60) != 0
    assert _gone(data_dir, 5)


def test_serve_reuses_an_orphaned_postgres_and_stops_it(data_dir, stop_leftovers):
    port = free_port()
    first = _serve(data_dir, port)
    _serving(first, port)
    postmaster = int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
    first.kill()  # killed hard: no chance to stop its server
    first.wait()
    orphan = psutil.Process(postmaster)
    assert _running(orphan), "the orphan is there"
    second = _serve(data_dir, port, "--no-migrate")
    try:
        _serving(second, port)
        # The same server, reused (not a second one on the same data directory).
        assert int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0]) == postmaster
        second.send_signal(signal.SIGINT)
        second.wait(timeout=30)
    finally:
        if second.poll() is None:
            second.kill()
    assert _gone(data_dir, 5), "the adopted orphan outlived `serve`"
    assert not _running(orphan)


# --- 5. packaging metadata ---------------------------------------------------------------------


def test_the_licence_metadata_is_an_spdx_expression_with_its_files():
    """setuptools >= 77 warns (pages of it, on every install) about a licence table."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "AGPL-3.0-or-later"
    for pattern in meta["project"]["license-files"]:
        assert list(root.glob(pattern)), f"{pattern} matches no file"
    assert "setuptools>=77" in meta["build-system"]["requires"]
