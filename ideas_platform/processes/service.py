"""Processes: phases, settings, topics and the figures shown on a process page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, literal_column, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from ideas_platform.accounts.models import User
from ideas_platform.audit import service as audit
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import N_, Sector
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import InvalidInput, NotFoundError
from ideas_platform.core.i18n import BERLIN
from ideas_platform.core.validation import clean_text, length_problem
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.processes.models import PhaseKind, Process, ProcessPhase, Topic
from ideas_platform.votes.models import Vote

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
PROCESS_NOT_FOUND = N_("This process does not exist.")


def now_utc() -> datetime:
    return datetime.now(UTC)


def active_phases(process: Process, at: datetime | None = None) -> list[PhaseKind]:
    at = at or now_utc()
    return [p.kind for p in process.phases if p.starts_at <= at < p.ends_at]


def phase_state(process: Process, at: datetime | None = None) -> str:
    """'collect', 'vote', ... (the latest active), or 'upcoming' / 'closed' / 'between'."""
    at = at or now_utc()
    active = active_phases(process, at)
    if active:
        return active[-1].value
    if not process.phases or all(p.starts_at > at for p in process.phases):
        return "upcoming"
    if all(p.ends_at <= at for p in process.phases):
        return "closed"
    return "between"


def is_open_for(process: Process, kind: PhaseKind, at: datetime | None = None) -> bool:
    return kind in active_phases(process, at)


async def list_processes(session: AsyncSession) -> list[Process]:
    return list(await session.scalars(select(Process).order_by(Process.created_at.desc())))


# Every page of a process reads it: one statement, built once (issue 16: building a statement
# per request costs more CPU than PostgreSQL spends on it), with its phases joined in (instead of
# the relationship's second SELECT).
_BY_SLUG = (
    select(Process).where(Process.slug == bindparam("slug")).options(joinedload(Process.phases))
)
_BY_ID = select(Process).where(Process.id == bindparam("id")).options(joinedload(Process.phases))
_TOPICS = select(Topic).where(Topic.process_id == bindparam("process_id")).order_by(Topic.name)


async def get_by_slug(session: AsyncSession, slug: str) -> Process:
    process = (await session.scalars(_BY_SLUG, {"slug": slug})).unique().one_or_none()
    if process is None:
        raise NotFoundError(PROCESS_NOT_FOUND, code="process_not_found")
    return process


async def list_topics(session: AsyncSession, process_id: int) -> list[Topic]:
    return list(await session.scalars(_TOPICS, {"process_id": process_id}))


@dataclass
class ProcessFigures:
    ideas: int
    votes: int
    comments: int
    participants: int
    participants_by_sector: dict[str, int] = field(default_factory=dict)


async def figures(session: AsyncSession, process_id: int) -> ProcessFigures:
    published = (Idea.process_id == process_id) & (Idea.status == IdeaStatus.PUBLISHED)
    ideas, votes, comments = (
        await session.execute(
            select(
                func.count(Idea.id),
                func.coalesce(func.sum(Idea.vote_count), 0),
                func.coalesce(func.sum(Idea.comment_count), 0),
            ).where(published)
        )
    ).one()
    # A participant is anyone who submitted, supported or commented in the process.
    people = union(
        select(Idea.author_id.label("user_id")).where(Idea.process_id == process_id),
        select(Vote.user_id).where(Vote.process_id == process_id),
        select(Comment.author_id)
        .join(Idea, Idea.id == Comment.idea_id)
        .where(Idea.process_id == process_id),
    ).subquery()
    rows = await session.execute(
        select(User.sector, func.count(literal_column("1")))
        .join(people, people.c.user_id == User.id)
        .group_by(User.sector)
    )
    by_sector = {sector.value: 0 for sector in Sector}
    for sector, count in rows:
        by_sector[sector.value] = count
    return ProcessFigures(
        ideas=ideas,
        votes=int(votes),
        comments=int(comments),
        participants=sum(by_sector.values()),
        participants_by_sector=by_sector,
    )


@dataclass
class ProcessForm:
    slug: str
    title: str
    description: str = ""
    vote_budget: str = ""
    topics: str = ""  # one per line
    phases: dict[str, tuple[str, str]] = field(default_factory=dict)  # kind -> (start, end) ISO


def _parse_datetime(value: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BERLIN)  # the process's own time zone
    return parsed


def _validate(
    form: ProcessForm,
) -> tuple[dict[str, object], list[str], dict[PhaseKind, tuple[datetime, datetime]]]:
    errors: dict[str, str] = {}
    slug = clean_text(form.slug, max_length=64).lower()
    title = clean_text(form.title, max_length=200)
    description = clean_text(form.description, max_length=20000)
    if not SLUG_RE.match(slug):
        errors["slug"] = N_("Use 2-63 lower-case letters, digits and hyphens.")
    if problem := length_problem(title, minimum=3, maximum=200):
        errors["title"] = problem
    if problem := length_problem(description, minimum=0, maximum=20000):
        errors["description"] = problem
    budget: int | None = None
    if str(form.vote_budget).strip():
        try:
            budget = int(str(form.vote_budget).strip())
            if budget < 1 or budget > 1000:
                raise ValueError
        except ValueError:
            errors["vote_budget"] = N_(
                "Enter a whole number between 1 and 1000, or leave it empty."
            )
    topics = []
    for line in (form.topics or "").splitlines():
        name = clean_text(line, max_length=120)
        if name and name not in topics:
            if len(name) > 120:
                errors["topics"] = N_("This text is too long.")
            topics.append(name)
    phases: dict[PhaseKind, tuple[datetime, datetime]] = {}
    for kind in PhaseKind:
        start_raw, end_raw = form.phases.get(kind.value, ("", ""))
        if not (start_raw or "").strip() and not (end_raw or "").strip():
            continue
        start, end = _parse_datetime(start_raw), _parse_datetime(end_raw)
        if start is None or end is None:
            errors[f"phase_{kind.value}"] = N_("Enter both dates of the phase.")
        elif start >= end:
            errors[f"phase_{kind.value}"] = N_("The phase must end after it starts.")
        else:
            phases[kind] = (start, end)
    if errors:
        raise InvalidInput(errors)
    return (
        {"slug": slug, "title": title, "description": description, "vote_budget": budget},
        topics,
        phases,
    )


def _snapshot(process: Process, topics: list[str]) -> dict[str, object]:
    return {
        "slug": process.slug,
        "title": process.title,
        "vote_budget": process.vote_budget,
        "carried_over_from": process.carried_over_from_id,
        "topics": topics,
        "phases": {p.kind.value: [p.starts_at, p.ends_at] for p in process.phases},
    }


def _edited(process: Process, topics: list[str]) -> dict[str, object]:
    """What an edit is audited by: the snapshot and the description (too long for creation)."""
    return {**_snapshot(process, topics), "description": process.description}


async def save_process(
    session: AsyncSession, *, actor_id: int | None, form: ProcessForm, process_id: int | None = None
) -> Process:
    """Create a process (process_id None) or change one; topics are added, never removed."""
    try:
        async with transaction(session):
            process = await write_process(
                session, actor_id=actor_id, form=form, process_id=process_id
            )
    except IntegrityError as exc:
        raise InvalidInput({"slug": N_("This short name is already in use.")}) from exc
    return process


async def write_process(
    session: AsyncSession,
    *,
    actor_id: int | None,
    form: ProcessForm,
    process_id: int | None = None,
    carried_over_from_id: int | None = None,
) -> Process:
    """save_process within the caller's transaction (the next cycle writes more with it); a
    short name in use raises IntegrityError."""
    values, topic_names, phases = _validate(form)
    if process_id is None:
        process = Process(**values, carried_over_from_id=carried_over_from_id, phases=[])
        session.add(process)
        await session.flush()
        before = None
        existing_topics: list[str] = []
    else:
        found = await session.get(Process, process_id, with_for_update=True)
        if found is None:
            raise NotFoundError(PROCESS_NOT_FOUND, code="process_not_found")
        process = found
        existing_topics = [t.name for t in await list_topics(session, process.id)]
        before = _edited(process, existing_topics)
        for key, value in values.items():
            setattr(process, key, value)
    for name in topic_names:
        if name not in existing_topics:
            session.add(Topic(process_id=process.id, name=name))
    by_kind = {p.kind: p for p in process.phases}
    for kind, (start, end) in phases.items():
        if kind in by_kind:
            by_kind[kind].starts_at, by_kind[kind].ends_at = start, end
        else:
            process.phases.append(ProcessPhase(kind=kind, starts_at=start, ends_at=end))
    for kind, phase in by_kind.items():
        if kind not in phases:
            process.phases.remove(phase)
    await session.flush()
    await session.refresh(process, ["phases"])
    topics = sorted(set(existing_topics) | set(topic_names))
    if before is None:
        audit.record(
            session,
            actor_id=actor_id,
            action="process.create",
            target_type="process",
            target_id=process.id,
            after=audit.json_safe(_snapshot(process, topics)),
        )
    else:
        audit.record_change(
            session,
            actor_id=actor_id,
            action="process.update",
            target_type="process",
            target_id=process.id,
            before=before,
            after=_edited(process, topics),
        )
    return process


async def get_by_id(session: AsyncSession, process_id: int) -> Process:
    process = (await session.scalars(_BY_ID, {"id": process_id})).unique().one_or_none()
    if process is None:
        raise NotFoundError(PROCESS_NOT_FOUND, code="process_not_found")
    return process


async def cycle_links(
    session: AsyncSession, process: Process
) -> tuple[Process | None, list[Process]]:
    """The agenda cycle around a process: the one it carries on, and the ones that carry it on."""
    earlier = (
        await session.get(Process, process.carried_over_from_id)
        if process.carried_over_from_id is not None
        else None
    )
    later = await session.scalars(
        select(Process).where(Process.carried_over_from_id == process.id).order_by(Process.id)
    )
    return earlier, list(later)
