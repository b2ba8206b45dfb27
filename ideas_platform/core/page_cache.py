"""Whole pages for visitors who are not logged in, kept for seconds in each app process.

The idea list, an idea and the ranking cost 5-10 ms of CPU to build (issue 16); an anonymous
visitor sees them exactly as every other anonymous visitor of the same language does, except for
the CSRF token of the forms. So each app process keeps such pages and serves them again:

* Only GET requests of route handlers marked with `opt={PAGE_CACHE: True}`, only for a visitor
  without a login (no session user, no API token) and without flash messages waiting in the
  session, and only 200 HTML answers that set no cookie.
* The page is rendered with a placeholder CSRF token; every visitor gets their own token put in.
* Any write this process commits through a SQLAlchemy session (its events see every flush and
  every INSERT, UPDATE, DELETE...) and every vote (written on the asyncpg driver,
  `pages_changed`) drops all pages once the commit is done. The other app processes hear of it
  through LISTEN/NOTIFY (channel `page-cache`, Litestar's channels) within milliseconds, so a
  hidden idea vanishes for everybody.
* A page whose rendering overlapped such a write is not kept (the generation it started with is
  checked when it is stored).
* Writes of other programs (a CLI tool, psql) are seen after `page_cache_seconds` at the latest;
  `SELECT pg_notify('page-cache', '')` drops the pages of every app process at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar.channels import ChannelsPlugin
from litestar.plugins import InitPluginProtocol
from litestar.utils.scope.state import ScopeState
from markupsafe import escape
from sqlalchemy import TextClause, event
from sqlalchemy.orm import ORMExecuteState, Session

from ideas_platform.core.i18n import get_locale

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

PAGE_CACHE = "page_cache"  # the route handler's opt that allows keeping its pages
KEPT_FOR_VISITORS = {PAGE_CACHE: True}  # `@get(..., opt=KEPT_FOR_VISITORS)`
CHANNEL = "page-cache"
MAX_BYTES = 32 * 1024 * 1024
# How often a process tells the others at most: a vote storm sends one NOTIFY per interval.
PUBLISH_INTERVAL_SECONDS = 0.02
CACHE_HEADER = "x-page-cache"

# What a statement that changes nothing starts with; anything else counts as a write.
_READS = re.compile(r"\s*(?:SELECT|SHOW|SET|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)
_WROTE = "page_cache_wrote"


@dataclass(frozen=True, slots=True)
class _Page:
    generation: int
    stored_at: float
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


class PageCache:
    """The pages of one app process (see the module's docstring)."""

    def __init__(self, seconds: float, max_bytes: int = MAX_BYTES) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.generation = 0
        self.placeholder = "page-cache-csrf-" + secrets.token_hex(16)
        self._pages: OrderedDict[tuple[Any, ...], _Page] = OrderedDict()
        self._bytes = 0
        self._origin = secrets.token_hex(8)  # this process's messages come back to it, too
        self._channels: ChannelsPlugin | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None
        self._publish_due = False
        _CACHES.add(self)

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    def get(self, key: tuple[Any, ...]) -> _Page | None:
        page = self._pages.get(key)
        if page is None:
            return None
        if page.generation != self.generation or time.monotonic() - page.stored_at > self.seconds:
            self._drop(key)
            return None
        self._pages.move_to_end(key)
        return page

    def put(self, key: tuple[Any, ...], page: _Page) -> None:
        """Keep `page` unless something changed since it began to be rendered."""
        if page.generation != self.generation or len(page.body) > self.max_bytes // 8:
            return
        self._drop(key)
        self._pages[key] = page
        self._bytes += len(page.body)
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._pages)))

    def _drop(self, key: tuple[Any, ...]) -> None:
        page = self._pages.pop(key, None)
        if page is not None:
            self._bytes -= len(page.body)

    def clear(self) -> None:
        """Drop every page of this process (and what is being rendered now)."""
        self.generation += 1
        self._pages.clear()
        self._bytes = 0

    def changed(self) -> None:
        """Something visible changed: drop the pages here, and tell the other processes."""
        self.clear()
        if self._channels is None or self._publish_due:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return
        if running is self._loop:
            self._publish_due = True
            running.call_later(PUBLISH_INTERVAL_SECONDS, self._publish)

    def _publish(self) -> None:
        self._publish_due = False
        if self._channels is not None:
            self._channels.publish(self._origin, [CHANNEL])

    async def listen(self, channels: ChannelsPlugin) -> None:
        """From now on, hear the other processes (on the app's start)."""
        subscriber = await channels.subscribe([CHANNEL])
        self._channels, self._loop = channels, asyncio.get_running_loop()

        async def hear() -> None:
            try:
                async for message in subscriber.iter_events():
                    if message.decode(errors="replace") != self._origin:
                        self.clear()
            finally:
                with contextlib.suppress(Exception):
                    await channels.unsubscribe(subscriber)

        self._listener = asyncio.create_task(hear(), name="page-cache-listener")
        self.clear()  # what was written while nobody listened

    async def stop(self) -> None:
        self._channels = None
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        self.clear()


_CACHES: weakref.WeakSet[PageCache] = weakref.WeakSet()


def drop_cached_pages() -> None:
    """Something was written in this process: every app of the process drops its pages."""
    for cache in list(_CACHES):
        cache.changed()


# Every ORM session of the process. Pages are dropped *after* the commit: dropped before it, a
# page rendered in between would read the old rows and be kept as new.
@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    statement = state.statement
    if not state.is_select and not (
        isinstance(statement, TextClause) and _READS.match(statement.text)
    ):
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        drop_cached_pages()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_WROTE, None)


def page_cache_of(app: Litestar) -> PageCache:
    return app.state[PAGE_CACHE]


def pages_changed(app: Litestar) -> None:
    """A write that SQLAlchemy did not see (a vote on the driver pool) changed what pages show."""
    page_cache_of(app).changed()


def _has_flash(scope: Scope) -> bool:
    session = scope.get("session")
    return isinstance(session, dict) and bool(session.get("_messages"))


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return b""


def _with_token(page: _Page, placeholder: bytes, token: bytes, hit: bool) -> list[Message]:
    body = page.body.replace(placeholder, token)
    headers = [(k, v) for k, v in page.headers if k != b"content-length"]
    headers += [
        (b"content-length", str(len(body)).encode()),
        (CACHE_HEADER.encode(), b"hit" if hit else b"miss"),
    ]
    return [
        {"type": "http.response.start", "status": page.status, "headers": headers},
        {"type": "http.response.body", "body": body, "more_body": False},
    ]


def _may_keep(scope: Scope) -> bool:
    if scope["type"] != "http" or scope.get("method") != "GET":
        return False
    handler = scope.get("route_handler")
    return (
        handler is not None
        and bool(handler.opt.get(PAGE_CACHE))
        and scope.get("user") is None
        and not _has_flash(scope)
    )


class PageCacheMiddleware:
    """Serves and keeps the pages (innermost: after the session, the login and the CSRF token)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _may_keep(scope):
            await self.app(scope, receive, send)
            return
        cache = page_cache_of(scope["litestar_app"])
        if not cache.enabled:
            await self.app(scope, receive, send)
            return
        state = ScopeState.from_scope(scope)
        token = state.csrf_token if isinstance(state.csrf_token, str) else ""
        own_token = str(escape(token)).encode()
        placeholder = cache.placeholder.encode()
        key = (
            scope["path"],
            scope.get("query_string", b""),
            get_locale(),
            _header(scope, b"hx-request"),
            _header(scope, b"hx-boosted"),
            _header(scope, b"hx-target"),
        )
        page = cache.get(key)
        if page is not None:
            for message in _with_token(page, placeholder, own_token, hit=True):
                await send(message)
            return

        generation = cache.generation
        state.csrf_token = cache.placeholder
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, keep)
        finally:
            state.csrf_token = token
        headers = tuple((bytes(k).lower(), bytes(v)) for k, v in start.get("headers", ()))
        page = _Page(generation, time.monotonic(), start["status"], headers, b"".join(chunks))
        if (
            page.status == 200
            and all(name != b"set-cookie" for name, _ in headers)
            and dict(headers).get(b"content-type", b"").startswith(b"text/html")
        ):
            cache.put(key, page)
        for message in _with_token(page, placeholder, own_token, hit=False):
            await send(message)


class PageCachePlugin(InitPluginProtocol):
    """Puts the cache on `app.state`, its middleware innermost, and its listener on the
    channels (list it after the ChannelsPlugin: it starts after it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        cache = PageCache(self.seconds)
        app_config.state[PAGE_CACHE] = cache
        app_config.middleware.append(PageCacheMiddleware)

        async def start(app: Litestar) -> None:
            if cache.enabled:
                await cache.listen(app.plugins.get(ChannelsPlugin))

        async def stop(_app: Litestar) -> None:
            await cache.stop()

        app_config.on_startup.append(start)
        app_config.on_shutdown.insert(0, stop)
        return app_config
