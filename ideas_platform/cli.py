"""`ideas-platform` command line: serve, migrate, seed-demo, create-admin, import-ideas, check,
send-mail, export, verify-export."""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

import ideas_platform.models  # noqa: F401 - every table known before any session is used
from ideas_platform.core.config import get_settings
from ideas_platform.core.database import create_engine, create_session_factory, resolve_database_url
from ideas_platform.core.embedded_pg import stop_owned

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from ideas_platform.accounts.models import User

T = TypeVar("T")


def _database_url() -> str:
    url = resolve_database_url(get_settings())
    # Worker processes (uvicorn --workers) inherit the URL of the embedded server.
    os.environ["DATABASE_URL"] = url
    return url


def _with_sessions(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    async def runner() -> T:
        engine = create_engine(get_settings(), _database_url())
        try:
            return await work(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(runner())


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Participatory idea and voting platform."""
    # The embedded PostgreSQL a command started stops with it: after success, an error, Ctrl-C
    # (KeyboardInterrupt) and SIGTERM/SIGHUP, which end Python without any clean-up unless
    # they raise. (uvicorn handles both while it serves, then raises them again.)
    if threading.current_thread() is threading.main_thread():  # (tests call it from threads)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) is signal.SIG_DFL:  # nohup and the like stay as they are
                signal.signal(sig, _exit_on_signal)
    ctx.call_on_close(stop_owned)


@main.command()
def migrate() -> None:
    """Apply the database migrations (Alembic) up to the newest."""
    from ideas_platform.core.migrations import upgrade

    upgrade(_database_url())
    click.echo("Database is up to date.")


@main.command("seed-demo")
def seed_demo() -> None:
    """Create the demo process "Industrie der Zukunft" if the database is empty."""
    from ideas_platform.demo.seed import DEMO_PASSWORD
    from ideas_platform.demo.seed import seed_demo as seed

    created = _with_sessions(seed)
    if created:
        click.echo(
            f"Demo process created. Demo logins: admin@example.org, moderator@example.org, "
            f"ministry@example.org (password: {DEMO_PASSWORD})."
        )
    else:
        click.echo("The database already holds a process; nothing seeded.")


@main.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", "display_name", prompt="Display name")
@click.option("--password", default=None, help="Prompted for when omitted (or ADMIN_PASSWORD).")
@click.option("--sector", default="administration", show_default=True)
@click.option("--region", default="dresden", show_default=True)
@click.option("--organisation", default="", show_default=False)
def create_admin(
    email: str, display_name: str, password: str | None, sector: str, region: str, organisation: str
) -> None:
    """Create the first administrator (or give an existing account the admin role)."""
    from ideas_platform.accounts.service import Registration, create_or_promote_admin
    from ideas_platform.core.errors import InvalidInput

    password = password or os.environ.get("ADMIN_PASSWORD") or getpass.getpass("Password: ")
    data = Registration(
        email=email,
        display_name=display_name,
        password=password,
        sector=sector,
        region=region,
        organisation=organisation,
    )

    async def work(factory: async_sessionmaker[AsyncSession]) -> User:
        async with factory() as session:
            return await create_or_promote_admin(session, data)

    try:
        user = _with_sessions(work)
    except InvalidInput as exc:
        for field, message in exc.errors.items():
            click.echo(f"{field}: {message}", err=True)
        sys.exit(2)
    click.echo(f"{user.email} is an administrator.")


@main.command("import-ideas")
@click.option("--process", "slug", required=True, help="Slug of the process.")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_ideas(slug: str, csv_file: Path) -> None:
    """Import ideas from a CSV file (title, body, topic, region, author sector): all or nothing."""
    from ideas_platform.ideas.importer import ImportFailed, import_csv

    data = csv_file.read_bytes()

    async def work(factory: async_sessionmaker[AsyncSession]) -> int:
        async with factory() as session:
            return await import_csv(session, slug, data)

    try:
        count = _with_sessions(work)
    except ImportFailed as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo("Nothing was imported.", err=True)
        sys.exit(1)
    click.echo(f"{count} ideas imported into {slug}.")


@main.command("find-duplicates")
@click.option("--process", "slug", required=True, help="Slug of the process.")
def find_duplicates(slug: str) -> None:
    """Index every idea of a process anew and fill the moderators' duplicates queue.

    Submissions are indexed as they come; run this after an upgrade from a version without
    duplicate detection, or after a change of the scorer. Dismissed pairs stay dismissed.
    """
    from ideas_platform.core.database import transaction
    from ideas_platform.processes.service import get_by_slug
    from ideas_platform.similarity.service import rebuild

    async def work(factory: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
        async with factory() as session:
            process = await get_by_slug(session, slug)
            async with transaction(session):
                return await rebuild(session, process.id)

    ideas, pairs = _with_sessions(work)
    click.echo(f"{ideas} ideas indexed in {slug}; {pairs} similar pairs found.")


@main.command("send-mail")
@click.option("--now", is_flag=True, help="Also the digests that would wait for 7:00.")
def send_mail(now: bool) -> None:
    """One turn of the mail sender: due notifications into mails, due mails to SMTP (or the log)."""
    from ideas_platform.mail.sender import deliver_due
    from ideas_platform.notifications.digest import dispatch_due

    settings = get_settings()

    async def work(factory: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
        async with factory() as session:
            notified = (await dispatch_due(session, settings, everything=now)).notifications
            sent = 0
            while taken := await deliver_due(session, settings):
                sent += taken
        return notified, sent

    notified, sent = _with_sessions(work)
    click.echo(f"{notified} notifications put into mails; {sent} mails handed on.")


@main.command()
def check() -> None:
    """Verify the invariants (counts equal counted rows, budgets); exit 1 if one is broken."""
    from ideas_platform.core.invariants import find_violations

    async def work(factory: async_sessionmaker[AsyncSession]) -> list[str]:
        async with factory() as session:
            return await find_violations(session)

    problems = _with_sessions(work)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        click.echo(f"{len(problems)} invariant violation(s).", err=True)
        sys.exit(1)
    click.echo("All invariants hold.")


@main.command()
@click.option("--process", "slug", required=True, help="Slug of the process.")
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(["csv", "xlsx", "json", "pdf"]),
    help="pdf: the dossier of the accepted shortlist; the others: every published idea.",
)
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write; its SHA-256 manifest goes next to it (FILE.sha256).",
)
@click.option("--locale", default="de", type=click.Choice(["de", "en"]), show_default=True)
def export(slug: str, fmt: str, output: Path, locale: str) -> None:
    """Export a process for the ministry, with a SHA-256 manifest, showing a progress bar."""
    from ideas_platform.core.i18n import set_locale
    from ideas_platform.exports import service
    from ideas_platform.processes.service import get_by_slug

    set_locale(locale)
    export_format = service.Format(fmt)
    partial = output.with_name(output.name + ".part")

    async def work(factory: async_sessionmaker[AsyncSession]) -> None:
        async with factory() as session:
            process = await get_by_slug(session, slug)
            data = await service.load(session, process, export_format)
            with (
                click.progressbar(length=data.total_ideas, label="Ideas", file=sys.stderr) as bar,
                partial.open("wb") as out,
            ):
                await service.write(
                    data,
                    export_format,
                    out,
                    base_url=get_settings().public_url,
                    progress=bar.update,
                )

    try:
        _with_sessions(work)
    except BaseException:
        partial.unlink(missing_ok=True)  # nothing half-written under the real name
        raise
    partial.replace(output)
    manifest = output.with_name(output.name + ".sha256")
    manifest.write_text(service.manifest_line(service.sha256_of(output), output.name))
    click.echo(f"{output} written; manifest {manifest}")


@main.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_export(file: Path, manifest: Path) -> None:
    """Check an export against its SHA-256 manifest; exit 1 if they differ."""
    from ideas_platform.exports.service import verify

    ok, digest = verify(file, manifest)
    if not ok:
        click.echo(f"MISMATCH: {file} has SHA-256 {digest}, not the one in {manifest}.", err=True)
        sys.exit(1)
    click.echo(f"OK: {file} matches {manifest} (SHA-256 {digest}).")


@main.command()
@click.option("--host", default=None, help="Default: HOST or 127.0.0.1")
@click.option("--port", default=None, type=int, help="Default: PORT or 8000")
@click.option("--workers", default=None, type=int, help="Default: WORKERS or 1")
@click.option("--migrate/--no-migrate", "run_migrations", default=True, show_default=True)
@click.option(
    "--seed/--no-seed", "seed", default=False, help="Seed the demo if the database is empty."
)
def serve(
    host: str | None, port: int | None, workers: int | None, run_migrations: bool, seed: bool
) -> None:
    """Serve the app with uvicorn (several worker processes with --workers)."""
    import uvicorn

    settings = get_settings()
    settings.validate()
    url = _database_url()
    if run_migrations:
        from ideas_platform.core.migrations import upgrade

        upgrade(url)
    if seed:
        from ideas_platform.demo.seed import seed_demo as seed_fn

        if _with_sessions(seed_fn):
            click.echo("Demo process seeded.")
    host, port = host or settings.host, port or settings.port
    click.echo(f"Serving on http://{host}:{port}")
    uvicorn.run(
        "ideas_platform.app:app_for_uvicorn",
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.workers,
        proxy_headers=True,
        log_level="info",
        # Open event streams (theme board) would otherwise hold a restart forever.
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
