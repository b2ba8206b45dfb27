"""Measures: what the ministry does with an accepted recommendation, and its dated updates.
Every change is one transaction and audited; people who support or follow an idea that went
into a measure hear of each update."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import BigInteger, ColumnElement, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ideas_platform.accounts.models import User
from ideas_platform.accounts.permissions import require_ministry
from ideas_platform.audit.service import json_safe, record_change
from ideas_platform.audit.service import record as audit
from ideas_platform.core.choices import N_, Sector
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import ConflictError, DomainError, InvalidInput, NotFoundError
from ideas_platform.core.markdown import render_markdown
from ideas_platform.core.validation import choice_problem, clean_text, length_problem
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.measures.models import CarriedMeasure, Measure, MeasureStatus, MeasureUpdate
from ideas_platform.notifications import service as notifications
from ideas_platform.notifications.models import Follow, NotificationKind
from ideas_platform.processes.models import Process
from ideas_platform.shortlists.models import Decision, ShortlistEntry
from ideas_platform.themes.models import Theme
from ideas_platform.votes.models import Vote

ONLY_MINISTRY = N_("Only the ministry can do this.")
NOT_ACCEPTED = N_("A measure can only be made of a recommendation the ministry accepted.")
ALREADY_MEASURE = N_("This recommendation already has a measure.")
MEASURE_DROPPED = N_("This measure was dropped: it takes no more updates.")
MEASURE_NOT_FOUND = N_("This measure does not exist.")
BAD_DATE = N_("Please enter a date as YYYY-MM-DD.")
TARGET_BEFORE_START = N_("The target date cannot be before the start.")
BAD_PROGRESS = N_("Please enter the progress as a whole number from 0 to 100.")
REASON_NEEDED = N_("Please say why the measure was dropped.")
NOT_A_PDF = N_("Only PDF files can be attached.")
TOO_BIG = N_("The attachment is larger than 10 MB.")

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


@dataclass
class MeasureForm:
    title: str
    unit: str
    description: str = ""
    starts_on: str = ""
    target_on: str = ""


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class MeasureView:
    measure: Measure
    entry: ShortlistEntry
    idea: Idea | None  # the recommended idea (an idea entry)
    theme: Theme | None  # the recommended theme (a theme entry)
    ideas: list[Idea] = field(default_factory=list)  # every idea that went into it
    updates: list[MeasureUpdate] = field(default_factory=list)
    carried_into: list[Process] = field(default_factory=list)  # later cycles carrying it on


def _date(value: str, field_name: str, errors: dict[str, str]) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field_name] = BAD_DATE
        return None


def _clean_form(form: MeasureForm) -> tuple[str, str, str, date | None, date | None]:
    title = clean_text(form.title, max_length=200)
    unit = clean_text(form.unit, max_length=160)
    description = clean_text(form.description, max_length=20_000)
    errors: dict[str, str] = {}
    if problem := length_problem(title, minimum=3, maximum=200):
        errors["title"] = problem
    if problem := length_problem(unit, minimum=2, maximum=160):
        errors["unit"] = problem
    starts_on = _date(form.starts_on, "starts_on", errors)
    target_on = _date(form.target_on, "target_on", errors)
    if starts_on and target_on and target_on < starts_on:
        errors["target_on"] = TARGET_BEFORE_START
    if errors:
        raise InvalidInput(errors)
    return title, unit, description, starts_on, target_on


def _state(measure: Measure) -> dict[str, object]:
    return {
        "title": measure.title,
        "unit": measure.unit,
        "status": measure.status,
        "status_reason": measure.status_reason,
        "progress": measure.progress,
        "starts_on": measure.starts_on,
        "target_on": measure.target_on,
    }


def _edited(measure: Measure) -> dict[str, object]:
    """What an edit is audited by: the state and the description (too long for creation)."""
    return {**_state(measure), "description": measure.description}


async def create_measure(
    session: AsyncSession, *, official: User, entry_id: int, form: MeasureForm
) -> Measure:
    require_ministry(official, ONLY_MINISTRY)
    title, unit, description, starts_on, target_on = _clean_form(form)
    async with transaction(session):
        entry = await session.scalar(
            select(ShortlistEntry).where(ShortlistEntry.id == entry_id).with_for_update()
        )
        if entry is None:
            raise NotFoundError(N_("This shortlist entry does not exist."), code="entry_not_found")
        if entry.decision != Decision.ACCEPTED:
            raise DomainError(NOT_ACCEPTED, code="entry_not_accepted")
        if await session.scalar(select(Measure.id).where(Measure.entry_id == entry.id)):
            raise ConflictError(ALREADY_MEASURE, code="measure_exists")
        measure = Measure(
            process_id=entry.process_id,
            entry_id=entry.id,
            title=title,
            unit=unit,
            description=description,
            description_html=render_markdown(description),
            status=MeasureStatus.PLANNED,
            status_reason="",
            progress=0,
            starts_on=starts_on,
            target_on=target_on,
            created_by_id=official.id,
        )
        session.add(measure)
        await session.flush()
        audit(
            session,
            actor_id=official.id,
            action="measure.create",
            target_type="measure",
            target_id=measure.id,
            after=json_safe({**_state(measure), "entry_id": entry.id}),
        )
    return measure


async def _locked(session: AsyncSession, measure_id: int) -> Measure:
    measure = await session.scalar(
        select(Measure)
        .where(Measure.id == measure_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if measure is None:
        raise NotFoundError(MEASURE_NOT_FOUND, code="measure_not_found")
    return measure


def _progress(value: str) -> int:
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or not 0 <= int(value) <= 100:
        raise InvalidInput({"progress": BAD_PROGRESS})
    return int(value)


async def change_measure(
    session: AsyncSession,
    *,
    official: User,
    measure_id: int,
    form: MeasureForm,
    status: str,
    progress: str,
    reason: str = "",
) -> Measure:
    """Edit the measure: its text and dates, status (a drop needs a reason) and progress."""
    require_ministry(official, ONLY_MINISTRY)
    title, unit, description, starts_on, target_on = _clean_form(form)
    if choice_problem(status, MeasureStatus):
        raise InvalidInput({"status": N_("Please choose a value from the list.")})
    percent = _progress(progress)
    reason = clean_text(reason, max_length=2000)
    if status == MeasureStatus.DROPPED and not reason:
        raise InvalidInput({"status_reason": REASON_NEEDED})
    async with transaction(session):
        measure = await _locked(session, measure_id)
        before = _edited(measure)
        measure.title, measure.unit = title, unit
        measure.description, measure.description_html = description, render_markdown(description)
        measure.starts_on, measure.target_on = starts_on, target_on
        measure.status, measure.progress = MeasureStatus(status), percent
        measure.status_reason = reason if status == MeasureStatus.DROPPED else ""
        measure.updated_at = func.now()
        record_change(
            session,
            actor_id=official.id,
            action="measure.change",
            target_type="measure",
            target_id=measure.id,
            before=before,
            after=_edited(measure),
        )
    return measure


def check_attachment(attachment: Attachment | None) -> None:
    if attachment is None:
        return
    if len(attachment.data) > MAX_ATTACHMENT_BYTES:
        raise InvalidInput({"attachment": TOO_BIG})
    # The declared type and the file's own first bytes must both say PDF.
    if attachment.content_type != "application/pdf" or not attachment.data.startswith(b"%PDF-"):
        raise InvalidInput({"attachment": NOT_A_PDF})


async def post_update(
    session: AsyncSession,
    *,
    official: User,
    measure_id: int,
    body: str,
    progress: str | None = None,
    attachment: Attachment | None = None,
) -> MeasureUpdate:
    """A dated update. Two ministry users posting at once: both are kept, in the order the
    measure's lock lets them in."""
    require_ministry(official, ONLY_MINISTRY)
    body = clean_text(body, max_length=20_000)
    if problem := length_problem(body, minimum=3, maximum=20_000):
        raise InvalidInput({"body": problem})
    percent = _progress(progress) if progress not in (None, "") else None
    check_attachment(attachment)
    async with transaction(session):
        measure = await _locked(session, measure_id)
        if measure.status == MeasureStatus.DROPPED:
            raise DomainError(MEASURE_DROPPED, code="measure_dropped")
        if percent is not None:
            measure.progress = percent
            if percent > 0 and measure.status == MeasureStatus.PLANNED:
                measure.status = MeasureStatus.IN_PROGRESS
        measure.updated_at = func.now()
        entry_update = MeasureUpdate(
            measure_id=measure.id,
            author_id=official.id,
            body=body,
            body_html=render_markdown(body),
            progress=measure.progress,
            status=measure.status,
            attachment_name=clean_text(attachment.name, max_length=200) if attachment else None,
            attachment_size=len(attachment.data) if attachment else None,
            attachment=attachment.data if attachment else None,
            # Taken after the lock, not at transaction start: the dates follow the order.
            created_at=func.clock_timestamp(),
        )
        session.add(entry_update)
        await session.flush()
        audit(
            session,
            actor_id=official.id,
            action="measure.update",
            target_type="measure",
            target_id=measure.id,
            after={
                "update_id": entry_update.id,
                "progress": measure.progress,
                "attachment": entry_update.attachment_name,
            },
        )
        await _tell_supporters(session, measure, entry_update, official.id)
    return entry_update


async def _idea_ids(session: AsyncSession, entry: ShortlistEntry) -> list[int]:
    if entry.idea_id is not None:
        return [entry.idea_id]
    return list(
        await session.scalars(
            select(Idea.id).where(
                Idea.theme_id == entry.theme_id, Idea.status == IdeaStatus.PUBLISHED
            )
        )
    )


async def _tell_supporters(
    session: AsyncSession, measure: Measure, entry_update: MeasureUpdate, actor_id: int
) -> None:
    entry = await session.get(ShortlistEntry, measure.entry_id)
    if entry is None:
        return
    idea_ids = await _idea_ids(session, entry)
    if not idea_ids:
        return
    people = set(await session.scalars(select(Vote.user_id).where(Vote.idea_id.in_(idea_ids))))
    people |= set(await session.scalars(select(Follow.user_id).where(Follow.idea_id.in_(idea_ids))))
    if entry.theme_id is not None:
        people |= set(
            await session.scalars(select(Follow.user_id).where(Follow.theme_id == entry.theme_id))
        )
    first = await session.get(Idea, idea_ids[0])
    await notifications.notify(
        session,
        people,
        kind=NotificationKind.MEASURE,
        event="update",
        actor_id=actor_id,
        idea_id=entry.idea_id,
        theme_id=entry.theme_id,
        process_id=measure.process_id,
        data={
            "measure": measure.title,
            "measure_id": measure.id,
            "idea": first.title if first and entry.idea_id else "",
            "theme": "",
            "excerpt": notifications.excerpt(entry_update.body),
        },
    )


# --- reading ---


async def view(session: AsyncSession, measure_id: int) -> MeasureView:
    measure = await session.get(Measure, measure_id)
    if measure is None:
        raise NotFoundError(MEASURE_NOT_FOUND, code="measure_not_found")
    entry = await session.get(ShortlistEntry, measure.entry_id)
    assert entry is not None
    idea_ids = await _idea_ids(session, entry)
    ideas = list(await session.scalars(select(Idea).where(Idea.id.in_(idea_ids)).order_by(Idea.id)))
    updates = list(
        await session.scalars(
            select(MeasureUpdate)
            .where(MeasureUpdate.measure_id == measure.id)
            .order_by(MeasureUpdate.id.desc())
        )
    )
    return MeasureView(
        measure=measure,
        entry=entry,
        idea=await session.get(Idea, entry.idea_id) if entry.idea_id else None,
        theme=await session.get(Theme, entry.theme_id) if entry.theme_id else None,
        ideas=ideas,
        updates=updates,
        carried_into=list(
            await session.scalars(
                select(Process)
                .join(CarriedMeasure, CarriedMeasure.process_id == Process.id)
                .where(CarriedMeasure.measure_id == measure.id)
                .order_by(Process.id)
            )
        ),
    )


def _of_process(process: Process) -> ColumnElement[bool]:
    """The process's own measures and those it carries on from an earlier cycle."""
    carried = select(CarriedMeasure.measure_id).where(CarriedMeasure.process_id == process.id)
    return or_(Measure.process_id == process.id, Measure.id.in_(carried))


@dataclass
class MeasureFilter:
    theme_id: int | None = None
    sector: str = ""
    unit: str = ""


async def list_measures(
    session: AsyncSession, process: Process, filters: MeasureFilter | None = None
) -> list[Measure]:
    """The process's measures, in the ministry's order of the recommendations; filtered by
    theme (the recommended theme, or the theme of the recommended idea), the sector of the
    ideas' authors, and the unit."""
    filters = filters or MeasureFilter()
    stmt = (
        select(Measure)
        .join(ShortlistEntry, ShortlistEntry.id == Measure.entry_id)
        .outerjoin(Idea, Idea.id == ShortlistEntry.idea_id)
        .where(_of_process(process))
        .order_by(ShortlistEntry.position.nulls_last(), Measure.id)
    )
    if filters.unit:
        stmt = stmt.where(Measure.unit == filters.unit)
    if filters.theme_id is not None:
        stmt = stmt.where(
            (ShortlistEntry.theme_id == filters.theme_id) | (Idea.theme_id == filters.theme_id)
        )
    if filters.sector and not choice_problem(filters.sector, Sector):
        # Two EXISTS, not one with OR: each is an index lookup per entry under every plan
        # (the OR form compared every entry with every idea of the sector; bench-dashboard).
        linked = aliased(Idea)
        by_idea = select(linked.id).where(
            linked.id == ShortlistEntry.idea_id, linked.author_sector == filters.sector
        )
        by_theme = select(linked.id).where(
            linked.theme_id == ShortlistEntry.theme_id,
            linked.status == IdeaStatus.PUBLISHED,
            linked.author_sector == filters.sector,
        )
        stmt = stmt.where(by_idea.exists() | by_theme.exists())
    return list(await session.scalars(stmt))


async def units(session: AsyncSession, process: Process) -> list[str]:
    return list(
        await session.scalars(
            select(Measure.unit).where(_of_process(process)).distinct().order_by(Measure.unit)
        )
    )


async def measure_for_entry(session: AsyncSession, entry_id: int) -> Measure | None:
    return await session.scalar(select(Measure).where(Measure.entry_id == entry_id))


_MEASURES_OF = select(Measure).join(ShortlistEntry, ShortlistEntry.id == Measure.entry_id)
_OF_IDEA = ShortlistEntry.idea_id == bindparam("idea_id", type_=BigInteger())
# Built once (issue 16: building a statement per request cost more CPU than running it).
_MEASURES_OF_IDEA = _MEASURES_OF.where(_OF_IDEA)
_MEASURES_OF_IDEA_OR_THEME = _MEASURES_OF.where(
    _OF_IDEA | (ShortlistEntry.theme_id == bindparam("theme_id", type_=BigInteger()))
)


async def measures_of_idea(session: AsyncSession, idea: Idea) -> list[Measure]:
    """Where an idea went: a measure made of its own recommendation or of its theme's."""
    if idea.theme_id is None:
        return list(await session.scalars(_MEASURES_OF_IDEA, {"idea_id": idea.id}))
    params = {"idea_id": idea.id, "theme_id": idea.theme_id}
    return list(await session.scalars(_MEASURES_OF_IDEA_OR_THEME, params))


async def attachment_of(session: AsyncSession, update_id: int) -> tuple[str, bytes]:
    row = (
        await session.execute(
            select(MeasureUpdate.attachment_name, MeasureUpdate.attachment).where(
                MeasureUpdate.id == update_id, MeasureUpdate.attachment.is_not(None)
            )
        )
    ).first()
    if row is None:
        raise NotFoundError(N_("This attachment does not exist."), code="attachment_not_found")
    return str(row[0] or "anhang.pdf"), bytes(row[1] or b"")


async def accepted_without_measure(session: AsyncSession, process: Process) -> list[ShortlistEntry]:
    return list(
        await session.scalars(
            select(ShortlistEntry)
            .where(
                ShortlistEntry.process_id == process.id,
                ShortlistEntry.decision == Decision.ACCEPTED,
                ~select(Measure.id).where(Measure.entry_id == ShortlistEntry.id).exists(),
            )
            .order_by(ShortlistEntry.position)
        )
    )
