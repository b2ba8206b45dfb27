"""Ideas: submit, edit, withdraw, read, and the filtered, sorted, paginated list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import BigInteger, Integer, Select, String, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ideas_platform.accounts.models import User
from ideas_platform.core.choices import N_, Region, Sector
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError, InvalidInput, PermissionError_
from ideas_platform.core.markdown import render_markdown
from ideas_platform.core.validation import choice_problem, clean_text, length_problem
from ideas_platform.events.models import Event
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.ideas.search import prefix_query, search_expressions
from ideas_platform.ideas.visibility import (
    Reader,
    idea_not_found,
    listed_condition,
    readable_by,
    reader_of,
    reader_params,
)
from ideas_platform.moderation.models import IdeaCoauthor
from ideas_platform.notifications.service import follow_idea_in
from ideas_platform.processes.models import PhaseKind, Process, Topic
from ideas_platform.processes.service import is_open_for
from ideas_platform.similarity.service import index_and_record
from ideas_platform.votes.models import Vote

NOT_COLLECT_PHASE = N_("New ideas cannot be submitted in this process at the moment.")
NOT_YOURS = N_("Only the author can change this idea.")
HAS_FOREIGN_VOTES = N_(
    "This idea already has supporters, so it can no longer be changed or withdrawn."
)
NOT_PUBLISHED = N_("This idea can no longer be changed.")

SORTS = ("votes", "newest", "comments", "random", "relevance")
PAGE_SIZE = 20


@dataclass
class IdeaForm:
    title: str = ""
    body: str = ""
    topic_id: str | int | None = None
    region: str = ""
    event_id: str | int | None = None


@dataclass
class CleanIdea:
    title: str
    body: str
    topic_id: int | None
    region: Region
    event_id: int | None


def _optional_int(value: object) -> int | str | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return "invalid"


async def validate(session: AsyncSession, process: Process, form: IdeaForm) -> CleanIdea:
    errors: dict[str, str] = {}
    title = clean_text(form.title, max_length=200)
    body = clean_text(form.body, max_length=10000)
    region = clean_text(form.region, max_length=40)
    if problem := length_problem(title, minimum=5, maximum=200):
        errors["title"] = problem if title else N_("Please give your idea a title.")
    if problem := length_problem(body, minimum=20, maximum=10000):
        errors["body"] = problem if body else N_("Please describe your idea.")
    if problem := choice_problem(region, Region):
        errors["region"] = problem
    topic_id = _optional_int(form.topic_id)
    if topic_id is not None:
        ok = topic_id != "invalid" and await session.scalar(
            select(Topic.id).where(Topic.id == topic_id, Topic.process_id == process.id)
        )
        if not ok:
            errors["topic_id"] = N_("Please choose a value from the list.")
    event_id = _optional_int(form.event_id)
    if event_id is not None:
        ok = event_id != "invalid" and await session.scalar(
            select(Event.id).where(Event.id == event_id, Event.process_id == process.id)
        )
        if not ok:
            errors["event_id"] = N_("Please choose a value from the list.")
    if errors:
        raise InvalidInput(errors)
    return CleanIdea(title, body, topic_id, Region(region), event_id)  # type: ignore[arg-type]


async def submit(
    session: AsyncSession, *, process: Process, author_id: int, form: IdeaForm
) -> Idea:
    if not is_open_for(process, PhaseKind.COLLECT):
        raise DomainError(NOT_COLLECT_PHASE, code="not_collect_phase")
    clean = await validate(session, process, form)
    async with transaction(session):
        author_sector = await session.scalar(select(User.sector).where(User.id == author_id))
        idea = Idea(
            author_sector=author_sector,
            process_id=process.id,
            author_id=author_id,
            title=clean.title,
            body=clean.body,
            body_html=render_markdown(clean.body),
            topic_id=clean.topic_id,
            region=clean.region,
            event_id=clean.event_id,
            status=IdeaStatus.PUBLISHED,
            vote_count=0,
            comment_count=0,
        )
        session.add(idea)
        await session.flush()
        await index_and_record(session, idea)
        await follow_idea_in(session, author_id, idea.id)  # authors hear of their idea
    return idea


async def lock_ideas(session: AsyncSession, *idea_ids: int) -> dict[int, Idea]:
    """The ideas read afresh and locked for a change (FOR NO KEY UPDATE: inserts that point at
    them still pass), in id order so that two writers never wait on each other crosswise.
    Inside the caller's transaction; NotFoundError if one is missing."""
    ideas = await session.scalars(
        select(Idea)
        .where(Idea.id.in_(idea_ids))
        .order_by(Idea.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    found = {idea.id: idea for idea in ideas}
    if len(found) != len(set(idea_ids)):
        raise idea_not_found()
    return found


async def lock_idea(session: AsyncSession, idea_id: int) -> Idea:
    return (await lock_ideas(session, idea_id))[idea_id]


async def _lock_own_changeable(session: AsyncSession, idea_id: int, user_id: int) -> Idea:
    idea = await lock_idea(session, idea_id)
    if idea.author_id != user_id:
        raise PermissionError_(NOT_YOURS, code="not_author")
    if idea.status != IdeaStatus.PUBLISHED:
        raise DomainError(NOT_PUBLISHED, code="idea_not_published")
    foreign_votes = await session.scalar(
        select(func.count()).where(Vote.idea_id == idea.id, Vote.user_id != user_id)
    )
    if foreign_votes:
        raise DomainError(HAS_FOREIGN_VOTES, code="has_foreign_votes")
    return idea


async def edit(session: AsyncSession, *, idea_id: int, user_id: int, form: IdeaForm) -> Idea:
    async with transaction(session):
        idea = await _lock_own_changeable(session, idea_id, user_id)
        process = await session.get(Process, idea.process_id)
        assert process is not None
        if not is_open_for(process, PhaseKind.COLLECT):
            raise DomainError(NOT_COLLECT_PHASE, code="not_collect_phase")
        clean = await validate(session, process, form)
        idea.title, idea.body = clean.title, clean.body
        idea.body_html = render_markdown(clean.body)
        idea.topic_id, idea.region, idea.event_id = clean.topic_id, clean.region, clean.event_id
        idea.updated_at = datetime.now(UTC)
        await session.flush()
        await index_and_record(session, idea)
    return idea


async def withdraw(session: AsyncSession, *, idea_id: int, user_id: int) -> Idea:
    async with transaction(session):
        idea = await _lock_own_changeable(session, idea_id, user_id)
        # Only the author's own support can be left; it goes with the idea (budget returns).
        await session.execute(delete(Vote).where(Vote.idea_id == idea.id))
        idea.vote_count = 0
        idea.status = IdeaStatus.WITHDRAWN
        idea.updated_at = datetime.now(UTC)
    return idea


@dataclass
class IdeaView:
    idea: Idea
    author_name: str | None
    author_organisation: str | None
    topic_name: str | None
    event_title: str | None


_AUTHOR = aliased(User)
# Built once (an alias and a four-entity select cost more CPU to build than to run).
_VIEW_SELECT = (
    select(Idea, _AUTHOR.display_name, _AUTHOR.organisation, Topic.name, Event.title)
    .outerjoin(_AUTHOR, _AUTHOR.id == Idea.author_id)
    .outerjoin(Topic, Topic.id == Idea.topic_id)
    .outerjoin(Event, Event.id == Idea.event_id)
)


# One row of an idea's view: the idea, its author's name and organisation, topic and event.
ViewSelect = Select[Idea, str, str, str, str]


def _view_select() -> ViewSelect:
    return _VIEW_SELECT


_BY_ID = Idea.id == bindparam("idea_id", type_=BigInteger())
_VIEW_BY_ID = _VIEW_SELECT.where(_BY_ID)


@cache
def _visible_view_select(reader: Reader) -> ViewSelect:
    """`_VIEW_BY_ID` of an idea this kind of reader may read (`visibility.readable_by`)."""
    return _VIEW_SELECT.where(_BY_ID, readable_by(reader))


async def get_view(session: AsyncSession, idea_id: int) -> IdeaView:
    """The idea whoever asks (moderation, the author's own forms after their check)."""
    row = (await session.execute(_VIEW_BY_ID, {"idea_id": idea_id})).first()
    if row is None:
        raise idea_not_found()
    return IdeaView(*row)


async def get_own_view(session: AsyncSession, idea_id: int, user: User) -> IdeaView:
    """The idea for its author's edit form; refused to anybody else, as on saving (and, to
    those who may not read it, answered as missing)."""
    view = await get_visible_view(session, idea_id, user)
    if view.idea.author_id != user.id:
        raise PermissionError_(NOT_YOURS, code="not_author")
    return view


async def get_visible_view(session: AsyncSession, idea_id: int, viewer: User | None) -> IdeaView:
    """The idea as `viewer` may see it (`visibility`); hidden and withdrawn ideas answer as
    missing to others."""
    stmt = _visible_view_select(reader_of(viewer))
    row = (await session.execute(stmt, {"idea_id": idea_id, **reader_params(viewer)})).first()
    if row is None:
        raise idea_not_found()
    return IdeaView(*row)


_IDEAS_BY_ID = select(Idea).where(Idea.id.in_(bindparam("ids", expanding=True)))


async def ideas_by_id(session: AsyncSession, idea_ids: list[int]) -> list[Idea]:
    if not idea_ids:
        return []
    found = {i.id: i for i in await session.scalars(_IDEAS_BY_ID, {"ids": idea_ids})}
    return [found[i] for i in idea_ids if i in found]


@dataclass
class CarriedIdea:
    idea: Idea
    process: Process


@cache
def _cycle_statements(reader: Reader) -> tuple[Select[Idea, Process], Select[Idea, Process]]:
    """(the earlier idea by "idea_id", the later copies of "idea_id") with their processes, as
    this kind of reader may read them: built once."""
    readable = readable_by(reader)
    with_process = select(Idea, Process).join(Process, Process.id == Idea.process_id)
    earlier = with_process.where(_BY_ID, readable)
    later = with_process.where(
        Idea.carried_over_from_id == bindparam("idea_id", type_=BigInteger()), readable
    ).order_by(Idea.id)
    return earlier, later


async def cycle_links(
    session: AsyncSession, idea: Idea, viewer: User | None = None
) -> tuple[CarriedIdea | None, list[CarriedIdea]]:
    """The idea of the earlier cycle this one was carried over from, and its copies in later
    cycles: those `viewer` may read (`visibility`)."""
    earlier_stmt, later_stmt = _cycle_statements(reader_of(viewer))
    params = reader_params(viewer)
    earlier: CarriedIdea | None = None
    if idea.carried_over_from_id is not None:
        row = (
            await session.execute(earlier_stmt, {"idea_id": idea.carried_over_from_id, **params})
        ).first()
        earlier = CarriedIdea(row[0], row[1]) if row else None
    later = await session.execute(later_stmt, {"idea_id": idea.id, **params})
    return earlier, [CarriedIdea(copy, process) for copy, process in later]


_COAUTHOR_NAMES = (
    select(User.display_name)
    .join(IdeaCoauthor, IdeaCoauthor.user_id == User.id)
    .where(IdeaCoauthor.idea_id == bindparam("idea_id", type_=BigInteger()))
    .order_by(User.display_name)
)


async def coauthor_names(session: AsyncSession, idea_id: int) -> list[str]:
    """Co-authors (the authors of ideas merged into this one), by name."""
    return list(await session.scalars(_COAUTHOR_NAMES, {"idea_id": idea_id}))


@dataclass
class ListQuery:
    sort: str = "votes"
    seed: int = 1
    topic_id: int | None = None
    region: str | None = None
    sector: str | None = None
    event_id: int | None = None
    q: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ListQuery:
        """Lenient parsing of URL parameters: a bad value is ignored rather than refused."""

        def as_int(name: str, default: int | None = None, minimum: int = 1) -> int | None:
            try:
                value = int(str(params.get(name, "")).strip())
            except ValueError:
                return default
            return value if minimum <= value <= 2**31 - 1 else default

        q = clean_text(params.get("q", ""), max_length=200)[:200]
        sort = str(params.get("sort") or ("relevance" if q else "votes"))
        if sort not in SORTS or (sort == "relevance" and not q):
            sort = "votes"
        region = str(params.get("region") or "") or None
        sector = str(params.get("sector") or "") or None
        return cls(
            sort=sort,
            seed=as_int("seed", 1, 0) or 0,
            topic_id=as_int("topic"),
            region=region if region in Region._value2member_map_ else None,
            sector=sector if sector in Sector._value2member_map_ else None,
            event_id=as_int("event"),
            q=q,
            page=as_int("page", 1) or 1,
        )

    def to_params(self, **overrides: Any) -> dict[str, Any]:
        params = {
            "sort": self.sort,
            "seed": self.seed if self.sort == "random" else None,
            "topic": self.topic_id,
            "region": self.region,
            "sector": self.sector,
            "event": self.event_id,
            "q": self.q or None,
            "page": self.page if self.page > 1 else None,
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None and v != ""}


@dataclass
class IdeaPage:
    items: list[IdeaView]
    total: int
    page: int
    pages: int
    query: ListQuery

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_page_query(self) -> str:
        """The URL query of the next page (same sort and filters); '' on the last page."""
        return urlencode(self.query.to_params(page=self.page + 1)) if self.has_next else ""

    @property
    def previous_page_query(self) -> str:
        return urlencode(self.query.to_params(page=self.page - 1)) if self.page > 1 else ""


# The list's filters: ListQuery attribute -> the column it filters.
_LIST_FILTERS = (
    ("topic_id", Idea.topic_id),
    ("region", Idea.region),
    ("event_id", Idea.event_id),
    ("sector", Idea.author_sector),
)


@lru_cache(maxsize=256)
def _list_statements(
    filters: tuple[str, ...], search: str | None, sort: str
) -> tuple[Select[int], ViewSelect]:
    """(count, page) of the idea list for one shape of query, with bound parameters: built once
    per shape, since building them cost more CPU than PostgreSQL spends on them. `filters`: the
    ListQuery attributes set; `search`: None, "stems" or "prefixes" (`search_expressions`)."""
    conditions: list[Any] = [Idea.process_id == bindparam("process_id"), listed_condition()]
    ts_query = None
    if search is not None:
        condition, ts_query = search_expressions(
            bindparam("q", type_=String()),
            bindparam("prefixes", type_=String()) if search == "prefixes" else None,
        )
        conditions.append(condition)
    conditions += [column == bindparam(name) for name, column in _LIST_FILTERS if name in filters]
    # Counted on the ideas alone: the joins of the view cannot change the number, and without
    # them PostgreSQL counts from an index (a page of 20,000 ideas: 3 ms instead of 25 ms).
    count = select(func.count()).select_from(Idea).where(*conditions)
    order: list[Any]
    if sort == "newest":
        order = [Idea.created_at.desc(), Idea.id.desc()]
    elif sort == "comments":
        order = [Idea.comment_count.desc(), Idea.id.desc()]
    elif sort == "random":
        # Stable for a seed: the same seed gives the same order on every page.
        seed = bindparam("seed", type_=Integer())
        order = [func.md5(func.concat(Idea.id, ":", seed)), Idea.id]
    elif sort == "relevance" and ts_query is not None:
        order = [func.ts_rank(Idea.search, ts_query).desc(), Idea.id.desc()]
    else:
        order = [Idea.vote_count.desc(), Idea.id.desc()]
    page = (
        _view_select()
        .where(*conditions)
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
    )
    return count, page


async def list_ideas(
    session: AsyncSession, process_id: int, query: ListQuery, page_size: int = PAGE_SIZE
) -> IdeaPage:
    filters = tuple(name for name, _ in _LIST_FILTERS if getattr(query, name))
    params: dict[str, Any] = {"process_id": process_id}
    params.update((name, getattr(query, name)) for name in filters)
    search = None
    if query.q:
        params["q"] = query.q
        if prefixes := prefix_query(query.q):
            params["prefixes"] = prefixes
        search = "prefixes" if prefixes else "stems"
    if query.sort == "random":
        params["seed"] = query.seed
    count, stmt = _list_statements(filters, search, query.sort)
    total = await session.scalar(count, params)
    pages = max(1, -(-int(total or 0) // page_size))
    page = min(query.page, pages)
    rows = await session.execute(
        stmt, {**params, "limit": page_size, "offset": (page - 1) * page_size}
    )
    return IdeaPage([IdeaView(*row) for row in rows], int(total or 0), page, pages, query)


async def mine(session: AsyncSession, user_id: int) -> list[Idea]:
    return list(
        await session.scalars(
            select(Idea).where(Idea.author_id == user_id).order_by(Idea.created_at.desc())
        )
    )
