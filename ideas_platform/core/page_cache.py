"""Whole pages, kept for seconds in each app process.

The idea list, an idea and the ranking cost 5-10 ms of CPU to build (issue 16); an anonymous
visitor sees them exactly as every other anonymous visitor of the same language does, except for
the CSRF token of the forms, and a logged-in person as every other person of their role does,
except for a few marked parts. So each app process keeps such pages and serves them again:

* Only GET requests of route handlers marked with `opt=KEPT_WITH_PERSONAL_PARTS`, for visitors
  without a login (no session user, no API token) and for logged-in people (a copy per role;
  `..._IF_SHARED`: only pages whose handler called `share_with_role`), never with flash
  messages waiting in the session, and only 200 HTML answers that set no cookie. Long query
  strings are not kept, and the pages of a process take `MAX_BYTES` and `MAX_PAGES` at most
  (the oldest used go first).
* The page is rendered with a placeholder CSRF token; every visitor gets their own token put in.
  For a logged-in person the app's `PersonalParts` (personal_parts.py) puts in their own
  `<!--personal:...-->` parts, or refuses a page they are related to (then it is built for them).
* A transaction of a SQLAlchemy session that changed rows (its events see every flush and every
  INSERT, UPDATE, DELETE... that touched a row) sends `NOTIFY page-cache` before it commits:
  PostgreSQL delivers it with the commit to every app process, which drops all its pages. The
  writing process drops its own once the commit is done, not before: a page rendered in between
  would read the old rows and be kept as new. So this holds for CLI tools and other processes of
  the app too. Sessions whose writes no page shows (the mail sender) are made with
  `info=NOT_ON_PAGES`.
* Every vote button on a kept page is put in anew for each request, with the count of now
  (`PersonalParts.put_in`, also for visitors without a login). A vote is written on the asyncpg
  driver: `votes_changed` drops only the pages that show votes elsewhere (an order by votes, a
  total; not those whose handler called `votes_only_in_buttons`) and tells the other processes
  through Litestar's channels, at once after a quiet time and then at most once per
  `VOTES_SECONDS` (2 s): while people vote, such an order is at most that old. (Each vote
  dropping every page made every worker build every page anew 10 times a second at 10
  votes/s: slower than keeping none, bench/README.md.)
* While one request builds a page, the others asking for it wait for that page instead of
  building it too.
* A page whose rendering overlapped such a write is not kept (the generation it started with is
  checked when it is stored and when it is served).
* Small values read from the database for pages keep the same way (`kept`, `keep`): who the
  logged-in viewer of a page is and their unread count (accounts/auth.py `confirm_viewer`).
* What only the clock changes (a phase opening or closing) shows after `page_cache_seconds` at the
  latest; `SELECT pg_notify('page-cache', '')` drops the pages of every app process at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from litestar.channels import ChannelsPlugin
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.plugins import InitPluginProtocol
from litestar.utils.scope.state import ScopeState
from markupsafe import escape
from sqlalchemy import Result, TextClause, event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from ideas_platform.core.i18n import get_locale

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

PAGE_CACHE = "page_cache"  # the route handler's opt that allows keeping its pages
PERSONAL = "page_cache_personal"  # ... also for logged-in people, their personal parts put in
# Every page of the route is the same for all people of one role, apart from personal parts.
KEPT_WITH_PERSONAL_PARTS = {PAGE_CACHE: True, PERSONAL: True}
# Only the pages whose handler calls `share_with_role` are (for logged-in people).
KEPT_WITH_PERSONAL_PARTS_IF_SHARED = {PAGE_CACHE: True, PERSONAL: "if shared"}
SHARED_STATE_KEY = "page_cache_shared"
VOTES_IN_BUTTONS_STATE_KEY = "page_cache_votes_in_buttons"
VOTES_NOTICE = "votes "  # + the origin: what a vote in another process drops
SAME_FOR_THE_ROLE = "same for the role"  # `_Page.about` of KEPT_WITH_PERSONAL_PARTS pages
CHANNEL = "page-cache"
MAX_BYTES = 32 * 1024 * 1024
MAX_PAGES = 4096
MAX_VALUES = 10_000  # small kept values (who a logged-in viewer is), dropped with the pages
PAGE_OVERHEAD_BYTES = 1024  # the key, the headers and the objects of a kept page, roughly
MAX_QUERY_BYTES = 512
# Kept pages show a vote within this time: a vote storm drops them once per period.
VOTES_SECONDS = 2.0
CACHE_HEADER = "x-page-cache"

# What a statement that changes nothing starts with; anything else counts as a write.
_READS = re.compile(r"\s*(?:SELECT|SHOW|SET|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)
_WROTE = "page_cache_wrote"
_NOT_SHOWN = "page_cache_not_shown"
NOT_ON_PAGES = {_NOT_SHOWN: True}  # `session_factory(info=...)`: writes no page shows
_SHOWN_AFTER_ALL = "page_cache_shown_after_all"


@dataclass(frozen=True, slots=True)
class _Page:
    generation: int
    stored_at: float
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    # None: for nobody else than visitors without a login; SAME_FOR_THE_ROLE; or what
    # `share_with_role` said the page is about (for `put_in`)
    about: Any = None
    votes_generation: int = 0
    # Votes show only in its vote buttons, which are put in anew for every request: a vote does
    # not drop it (`votes_only_in_buttons`). Else (an order by votes, a count elsewhere) it does.
    votes_only_in_buttons: bool = False


def votes_only_in_buttons(scope: Scope) -> None:
    """A handler: the page it answers shows votes only in its vote buttons (`_Page`)."""
    scope.setdefault("state", {})[VOTES_IN_BUTTONS_STATE_KEY] = True


def share_with_role(scope: Scope, about: Any) -> None:
    """A handler of a KEPT_WITH_PERSONAL_PARTS_IF_SHARED route: the page it answers is the same
    for everybody of the viewer's role, apart from its personal parts, unless `put_in` finds
    the other viewer related to `about` (e.g. the idea they wrote)."""
    scope.setdefault("state", {})[SHARED_STATE_KEY] = about


class PersonalParts(Protocol):
    """How a page kept for one logged-in person is made another's (the app's `personal_parts`)."""

    async def viewer(self, scope: Scope) -> Any | None:
        """The confirmed user of the request; None: no kept page for them."""

    def kind(self, viewer: Any) -> Hashable:
        """The people who may share a kept page (apart from its personal parts)."""

    async def put_in(
        self, scope: Scope, viewer: Any | None, body: bytes, csrf_token: str, about: Any
    ) -> bytes | None:
        """`body` with the viewer's own personal parts (CSRF fields with `csrf_token`); None if
        the page (shared `about` something) is not for this viewer. For a visitor without a
        login (`viewer` None): the vote buttons, with the counts of now."""


class PageCache:
    """The pages of one app process (see the module's docstring)."""

    def __init__(
        self,
        seconds: float,
        *,
        show_header: bool = False,
        max_bytes: int = MAX_BYTES,
        personal: PersonalParts | None = None,
    ) -> None:
        self.seconds = seconds
        self.show_header = show_header
        self.personal = personal
        self.max_bytes = max_bytes
        self.generation = 0
        self.votes_generation = 0
        self.placeholder = "page-cache-csrf-" + secrets.token_hex(16)
        self._pages: OrderedDict[tuple[Any, ...], _Page] = OrderedDict()
        self._bytes = 0
        self._channels: ChannelsPlugin | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None
        self._building: dict[tuple[Any, ...], tuple[int, asyncio.Future[_Page | None]]] = {}
        self._votes_due = False
        self._votes_dropped_at = -VOTES_SECONDS
        self._values: dict[Any, tuple[int, float, Any]] = {}
        _CACHES.add(self)

    def told(self, what: bytes) -> bytes:
        """The `X-Page-Cache` value, if answers carry it (`show_header`)."""
        return what if self.show_header else b""

    @property
    def enabled(self) -> bool:
        # Only while hearing the other processes: else a kept page could outlive a change.
        return self.seconds > 0 and self._channels is not None

    def get(self, key: tuple[Any, ...]) -> _Page | None:
        page = self._pages.get(key)
        if page is None:
            return None
        if not self.current(page) or time.monotonic() - page.stored_at > self.seconds:
            self._drop(key)
            return None
        self._pages.move_to_end(key)
        return page

    def current(self, page: _Page) -> bool:
        """Nothing the page shows changed since it began to be rendered."""
        return page.generation == self.generation and (
            page.votes_only_in_buttons or page.votes_generation == self.votes_generation
        )

    def put(self, key: tuple[Any, ...], page: _Page) -> None:
        """Keep `page` unless something changed since it began to be rendered."""
        if not self.current(page) or _size(page) > self.max_bytes // 8:
            return
        self._drop(key)
        self._pages[key] = page
        self._bytes += _size(page)
        while self._bytes > self.max_bytes or len(self._pages) > MAX_PAGES:
            self._drop(next(iter(self._pages)))

    def kept(self, key: Any) -> Any | None:
        """A value kept with `keep` if nothing was written since it was read (and it is not
        older than `seconds`): what the pages show of a logged-in viewer, for instance."""
        value = self._values.get(key)
        if value is None or not self.enabled:
            return None
        if value[0] != self.generation or time.monotonic() - value[1] > self.seconds:
            del self._values[key]
            return None
        return value[2]

    def keep(self, key: Any, generation: int, value: Any) -> None:
        """Keep `value`, read from the database since `generation` (taken before reading)."""
        if generation != self.generation or not self.enabled:
            return
        if len(self._values) >= MAX_VALUES:
            self._values.clear()
        self._values[key] = (generation, time.monotonic(), value)

    def being_built(self, key: tuple[Any, ...]) -> asyncio.Future[_Page | None] | None:
        """The page another request is building now, since the last change."""
        building = self._building.get(key)
        return building[1] if building and building[0] == self.generation else None

    def build(self, key: tuple[Any, ...]) -> asyncio.Future[_Page | None]:
        future: asyncio.Future[_Page | None] = asyncio.get_running_loop().create_future()
        self._building[key] = (self.generation, future)
        return future

    def built(
        self, key: tuple[Any, ...], future: asyncio.Future[_Page | None], page: _Page | None
    ) -> None:
        """`page` (None: nothing to keep) to whoever waited, and kept."""
        if self._building.get(key, (0, None))[1] is future:
            del self._building[key]
        if page is not None:
            self.put(key, page)
            if not self.current(page):
                page = None
        future.set_result(page)

    def _drop(self, key: tuple[Any, ...]) -> None:
        page = self._pages.pop(key, None)
        if page is not None:
            self._bytes -= _size(page)

    def clear(self) -> None:
        """Drop every page of this process (and what is being rendered now)."""
        self.generation += 1
        self._pages.clear()
        self._values.clear()
        self._bytes = 0

    def clear_for_votes(self) -> None:
        """Drop the pages that show votes other than in their vote buttons."""
        self.votes_generation += 1
        for key, page in list(self._pages.items()):
            if not page.votes_only_in_buttons:
                self._drop(key)

    def votes_changed(self) -> None:
        """A vote: drop the pages here and in the other processes, at once if that was not done
        for `VOTES_SECONDS`, else when that time is over (a vote storm drops them once a period,
        not a thousand times, each time making every worker build every page again)."""
        if self._votes_due:
            return
        wait = self._votes_dropped_at + VOTES_SECONDS - time.monotonic()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if wait <= 0 or running is None or running is not self._loop:
            self._drop_for_votes()
            return
        self._votes_due = True
        running.call_later(wait, self._drop_for_votes)

    def _drop_for_votes(self) -> None:
        self._votes_due = False
        self._votes_dropped_at = time.monotonic()
        for cache in list(_CACHES):
            cache.clear_for_votes()
        if self._channels is None:
            return
        try:
            self._channels.publish(VOTES_NOTICE + process_origin(), [CHANNEL])
        except Exception:  # the channels stopped first (shutdown): nobody to tell
            log.warning("page cache: change not announced", exc_info=True)

    @contextlib.asynccontextmanager
    async def listening(self, channels: ChannelsPlugin) -> AsyncIterator[None]:
        """While the app runs: hear the other processes. Pages are kept only meanwhile."""
        subscriber = await channels.subscribe([CHANNEL])
        self._channels, self._loop = channels, asyncio.get_running_loop()
        # A drop for votes planned on an earlier run's loop never comes: start afresh.
        self._votes_due, self._votes_dropped_at = False, -VOTES_SECONDS
        self._building.clear()

        async def hear() -> None:
            async for message in subscriber.iter_events():
                notice = message.decode(errors="replace")
                votes = notice.startswith(VOTES_NOTICE)
                # This process's own notices come back, too: it dropped its pages already.
                if notice.removeprefix(VOTES_NOTICE) == process_origin():
                    continue
                if votes:
                    self.clear_for_votes()
                else:
                    self.clear()

        listener = asyncio.create_task(hear(), name="page-cache-listener")
        listener.add_done_callback(self._deaf)
        self.clear()  # what was written while nobody listened
        try:
            yield
        finally:
            self._channels = None
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
            with contextlib.suppress(Exception):
                await channels.unsubscribe(subscriber)
            self.clear()

    def _deaf(self, task: asyncio.Task[None]) -> None:
        self._channels = None  # keeps no pages from now on (`enabled`)
        self.clear()
        if not task.cancelled():
            log.error("page cache: stopped hearing other processes; pages are not kept")


_ORIGIN: list[tuple[int, str]] = []


def process_origin() -> str:
    """This process's name in the notices (made again in a forked child)."""
    pid = os.getpid()
    if not _ORIGIN or _ORIGIN[0][0] != pid:
        _ORIGIN[:] = [(pid, f"{pid}-{secrets.token_hex(8)}")]
    return _ORIGIN[0][1]


def _size(page: _Page) -> int:
    return len(page.body) + PAGE_OVERHEAD_BYTES


_CACHES: weakref.WeakSet[PageCache] = weakref.WeakSet()


def drop_cached_pages() -> None:
    """Every app of this process drops its pages (the other processes are told otherwise)."""
    for cache in list(_CACHES):
        cache.clear()


# Every ORM session of the process (see the module's docstring).
@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> Result[Any] | None:
    statement = state.statement
    if state.is_select or (isinstance(statement, TextClause) and _READS.match(statement.text)):
        return None
    # Run here to see whether rows changed: an idle background job's INSERT ... ON CONFLICT DO
    # NOTHING or UPDATE of no row must not drop every page every few seconds.
    result = state.invoke_statement()
    if getattr(result, "rowcount", -1) != 0:
        state.session.info[_WROTE] = True
    return result


def shown_on_pages(session: AsyncSession | Session) -> None:
    """This transaction of a NOT_ON_PAGES session writes something pages show after all (the
    mail sender's phase announcements: the bell's unread count); its commit drops them."""
    session.info[_SHOWN_AFTER_ALL] = True


def _shown(session: Session) -> bool:
    return not session.info.get(_NOT_SHOWN) or bool(session.info.get(_SHOWN_AFTER_ALL))


@event.listens_for(Session, "before_commit")
def _announce(session: Session) -> None:
    session.flush()  # what the commit would flush counts, too
    if session.info.get(_WROTE) and _shown(session):
        session.execute(_NOTIFY, {"channel": CHANNEL, "origin": process_origin()})


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_WROTE, False) and _shown(session):
        drop_cached_pages()
    session.info.pop(_SHOWN_AFTER_ALL, None)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(_SHOWN_AFTER_ALL, None)


_NOTIFY = text("SELECT pg_notify(:channel, :origin)")


def page_cache_of(app: Litestar) -> PageCache:
    return app.state[PAGE_CACHE]


def votes_changed(app: Litestar) -> None:
    """Votes (written on the driver pool, unseen by SQLAlchemy) changed counts pages show."""
    page_cache_of(app).votes_changed()


def _has_flash(scope: Scope) -> bool:
    session = scope.get("session")
    return isinstance(session, dict) and bool(session.get("_messages"))


def _with_token(
    page: _Page, body: bytes, placeholder: bytes, token: bytes, told: bytes
) -> list[Message]:
    """The messages of `page` with `body` for one visitor; `told` (if any) in `X-Page-Cache`."""
    body = body.replace(placeholder, token)
    headers = [(k, v) for k, v in page.headers if k != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    if told:
        headers.append((CACHE_HEADER.encode(), told))
    return [
        {"type": "http.response.start", "status": page.status, "headers": headers},
        {"type": "http.response.body", "body": body, "more_body": False},
    ]


def _keepable(page: _Page, viewer: Any) -> bool:
    return (
        (viewer is None or page.about is not None)
        and page.status == 200
        and all(name != b"set-cookie" for name, _ in page.headers)
        and dict(page.headers).get(b"content-type", b"").startswith(b"text/html")
    )


def _may_keep(scope: Scope) -> bool:
    if scope["type"] != ScopeType.HTTP or scope.get("method") != "GET":
        return False
    handler = scope.get("route_handler")
    return (
        handler is not None
        and bool(handler.opt.get(PAGE_CACHE))
        and (
            scope.get("user") is None
            or (scope.get("auth") == "session" and bool(handler.opt.get(PERSONAL)))
        )
        and not _has_flash(scope)
        and len(scope.get("query_string", b"")) <= MAX_QUERY_BYTES
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
        viewer: Any = None
        if cache.enabled and scope.get("user") is not None and cache.personal is not None:
            viewer = await cache.personal.viewer(scope)
        if not cache.enabled or (scope.get("user") is not None and viewer is None):
            await self.app(scope, receive, send)
            return
        state = ScopeState.from_scope(scope)
        token = state.csrf_token if isinstance(state.csrf_token, str) else ""
        own_token = str(escape(token)).encode()
        placeholder = cache.placeholder.encode()
        headers = Headers.from_scope(scope)
        key = (
            scope["path"],
            scope.get("query_string", b""),
            get_locale(),
            headers.get("hx-request"),
            headers.get("hx-boosted"),
            (headers.get("hx-target") or "")[:64],
            cache.personal.kind(viewer) if viewer is not None and cache.personal else None,
        )
        page = cache.get(key)
        if page is None and (building := cache.being_built(key)) is not None:
            page = await asyncio.shield(building)
        if page is not None and cache.current(page):
            body: bytes | None = page.body
            # A visitor's page that a vote drops needs no fresh counts: they are as recent.
            if cache.personal is not None and (viewer is not None or page.votes_only_in_buttons):
                body = await cache.personal.put_in(
                    scope, viewer, page.body, cache.placeholder, page.about
                )
            if body is None:  # not for this viewer: built for them, not kept
                await self.app(scope, receive, send)
                return
            for message in _with_token(page, body, placeholder, own_token, cache.told(b"hit")):
                await send(message)
            return

        generation, votes_generation = cache.generation, cache.votes_generation
        future = cache.build(key)
        state.csrf_token = cache.placeholder
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        page = None
        try:
            await self.app(scope, receive, keep)
            if "status" not in start:
                return  # the app answered nothing; neither do we
            answered = tuple((bytes(k).lower(), bytes(v)) for k, v in start.get("headers", ()))
            shared = (
                SAME_FOR_THE_ROLE
                if scope["route_handler"].opt.get(PERSONAL) is True
                else scope.get("state", {}).get(SHARED_STATE_KEY)
            )
            page = _Page(
                generation,
                time.monotonic(),
                start["status"],
                answered,
                b"".join(chunks),
                shared,
                votes_generation,
                bool(scope.get("state", {}).get(VOTES_IN_BUTTONS_STATE_KEY)),
            )
        finally:
            state.csrf_token = token
            cache.built(key, future, page if page is not None and _keepable(page, viewer) else None)
        for message in _with_token(page, page.body, placeholder, own_token, cache.told(b"miss")):
            await send(message)


class PageCachePlugin(InitPluginProtocol):
    """Puts the cache on `app.state`, its middleware innermost, and its listener on the
    channels while the app runs (list it after the ChannelsPlugin: it starts after it and
    stops before it)."""

    def __init__(
        self, seconds: float, *, show_header: bool = False, personal: PersonalParts | None = None
    ) -> None:
        self.seconds = seconds
        self.show_header = show_header
        self.personal = personal

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        cache = PageCache(self.seconds, show_header=self.show_header, personal=self.personal)
        app_config.state[PAGE_CACHE] = cache
        app_config.middleware.append(PageCacheMiddleware)

        @contextlib.asynccontextmanager
        async def lifespan(app: Litestar) -> AsyncIterator[None]:
            if not self.seconds > 0:
                yield
                return
            async with cache.listening(app.plugins.get(ChannelsPlugin)):
                yield

        app_config.lifespan.append(lifespan)
        return app_config
