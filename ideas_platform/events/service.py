"""Events of a process (workshops): managing them, joining by code, the live state.

Joining takes the event row FOR UPDATE, so the capacity holds when many phones join at once.
Guests are accounts without email and password, bound to the event (`users.guest_event_id`);
they can become full accounts later and keep their ideas and votes.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts import lifecycle
from ideas_platform.accounts.models import User
from ideas_platform.accounts.permissions import require_moderator
from ideas_platform.audit.service import json_safe, record_change
from ideas_platform.audit.service import record as audit
from ideas_platform.core.choices import N_, Region, Role, Sector
from ideas_platform.core.config import Settings
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import (
    ConflictError,
    DomainError,
    InvalidInput,
    NotFoundError,
    PermissionError_,
)
from ideas_platform.core.i18n import BERLIN, LOCALES
from ideas_platform.core.passwords import hash_password, password_problem
from ideas_platform.core.validation import (
    choice_problem,
    clean_text,
    email_problem,
    length_problem,
)
from ideas_platform.events.models import Event, EventAttendee, LiveMode
from ideas_platform.ideas import service as ideas_service
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.processes.models import Process
from ideas_platform.processes.service import now_utc
from ideas_platform.votes.models import Vote

EVENT_NOT_FOUND = N_("This event does not exist.")
WRONG_CODE = N_("There is no event with this code. Please check the code on the screen.")
CODE_EXPIRED = N_("This code has expired: the event is over.")
JOINING_CLOSED = N_("The moderation has closed joining for this event.")
EVENT_FULL = N_("This event is full.")
NOT_A_GUEST = N_("This account is already a full account.")

# Without look-alikes (0/O, 1/I/L): people type the code from a projector.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
GUEST_EMAIL_DOMAIN = "guest.invalid"  # reserved: no mail can ever go there
UNUSABLE_PASSWORD_HASH = "!"  # noqa: S105 - not an argon2 hash: no password verifies against it
MAX_TIMER_MINUTES = 240


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """The code as stored, however typed: "y2.8ejq", "Y2-8EJQ" and full-width letters are one
    code (and so one counter of the join limit)."""
    folded = unicodedata.normalize("NFKC", code or "").upper()
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())[:16]


@dataclass
class EventForm:
    title: str = ""
    place: str = ""
    starts_at: str = (
        ""  # local time (Europe/Berlin), "YYYY-MM-DDTHH:MM" as <input type=datetime-local>
    )
    description: str = ""
    capacity: str = ""
    join_until: str = ""
    dot_budget: str = ""


@dataclass
class CleanEvent:
    title: str
    place: str
    starts_at: datetime
    description: str
    capacity: int | None
    join_until: datetime | None
    dot_budget: int | None


def _local_datetime(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=BERLIN) if parsed.tzinfo is None else parsed


def _optional_number(
    value: str, maximum: int, *, field: str, message: str, errors: dict[str, str]
) -> int | None:
    """An optional whole number from 1 to `maximum`; anything else notes `message`."""
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit() and 0 < int(value) <= maximum:
        return int(value)
    errors[field] = message
    return None


def validate(form: EventForm) -> CleanEvent:
    title = clean_text(form.title, max_length=200)
    place = clean_text(form.place, max_length=200)
    description = clean_text(form.description, max_length=5000)
    starts_at = _local_datetime(form.starts_at)
    join_until = _local_datetime(form.join_until) if form.join_until.strip() else None
    errors: dict[str, str] = {}
    capacity = _optional_number(
        form.capacity,
        100_000,
        field="capacity",
        message=N_("Please give a whole number above zero, or leave it empty."),
        errors=errors,
    )
    dot_budget = _optional_number(
        form.dot_budget,
        100,
        field="dot_budget",
        message=N_("Please give a number of dots between 1 and 100, or none."),
        errors=errors,
    )
    if problem := length_problem(title, minimum=3, maximum=200):
        errors["title"] = problem
    if problem := length_problem(place, minimum=0, maximum=200):
        errors["place"] = problem
    if problem := length_problem(description, minimum=0, maximum=5000):
        errors["description"] = problem
    if starts_at is None:
        errors["starts_at"] = N_("Please give the date and time of the event.")
    if form.join_until.strip() and join_until is None:
        errors["join_until"] = N_("Please give a valid date and time.")
    elif join_until is not None and starts_at is not None and join_until <= starts_at:
        errors["join_until"] = N_("Joining must stay possible until after the start.")
    if errors:
        raise InvalidInput(errors)
    assert starts_at is not None
    return CleanEvent(title, place, starts_at, description, capacity, join_until, dot_budget)


def form_of(event: Event) -> EventForm:
    def local(value: datetime | None) -> str:
        return value.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M") if value else ""

    return EventForm(
        title=event.title,
        place=event.place,
        starts_at=local(event.starts_at),
        description=event.description,
        capacity=str(event.capacity or ""),
        join_until=local(event.join_until),
        dot_budget=str(event.dot_budget or ""),
    )


def _snapshot(event: Event) -> dict[str, object]:
    return {
        "title": event.title,
        "place": event.place,
        "starts_at": event.starts_at,
        "capacity": event.capacity,
        "join_until": event.join_until,
        "dot_budget": event.dot_budget,
    }


def _edited(event: Event) -> dict[str, object]:
    """What an edit is audited by: the snapshot and the description (too long for creation)."""
    return {**_snapshot(event), "description": event.description}


async def save_event(
    session: AsyncSession,
    *,
    process: Process,
    moderator: User,
    form: EventForm,
    event_id: int | None = None,
) -> Event:
    """Create (event_id None) or change an event of the process."""
    require_moderator(moderator)
    clean = validate(form)
    for _attempt in range(5):
        try:
            async with transaction(session):
                event = await _locked(session, event_id) if event_id else None
                before = _edited(event) if event else None
                if event is None:
                    event = Event(process_id=process.id, join_code=new_join_code())
                    session.add(event)
                event.title, event.place, event.description = (
                    clean.title,
                    clean.place,
                    clean.description,
                )
                event.starts_at, event.join_until = clean.starts_at, clean.join_until
                event.capacity, event.dot_budget = clean.capacity, clean.dot_budget
                await session.flush()
                if before is None:
                    audit(
                        session,
                        actor_id=moderator.id,
                        action="event.create",
                        target_type="event",
                        target_id=event.id,
                        after=json_safe(_snapshot(event)),
                    )
                else:
                    record_change(
                        session,
                        actor_id=moderator.id,
                        action="event.update",
                        target_type="event",
                        target_id=event.id,
                        before=before,
                        after=_edited(event),
                    )
            return event
        except IntegrityError:
            continue  # the random join code was taken: draw another
    raise ConflictError(N_("Please try again."))


async def get_event(session: AsyncSession, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFoundError(EVENT_NOT_FOUND, code="event_not_found")
    return event


async def _locked(session: AsyncSession, event_id: int) -> Event:
    event = await session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFoundError(EVENT_NOT_FOUND, code="event_not_found")
    return event


# The idea list's filter reads it on every page: built once (issue 16).
_EVENTS_OF_PROCESS = (
    select(Event)
    .where(Event.process_id == bindparam("process_id", type_=BigInteger()))
    .order_by(Event.starts_at)
)


async def list_events(session: AsyncSession, process_id: int) -> list[Event]:
    return list(await session.scalars(_EVENTS_OF_PROCESS, {"process_id": process_id}))


def join_problem(event: Event | None, at: datetime | None = None) -> str | None:
    """Why this code cannot be used now (untranslated), or None."""
    if event is None:
        return WRONG_CODE
    if event.join_until is not None and (at or now_utc()) >= event.join_until:
        return CODE_EXPIRED
    if not event.joining_open:
        return JOINING_CLOSED
    return None


async def find_by_code(session: AsyncSession, code: str) -> Event | None:
    return await session.scalar(select(Event).where(Event.join_code == normalise_code(code)))


async def event_for_code(session: AsyncSession, code: str) -> Event:
    event = await find_by_code(session, code)
    if problem := join_problem(event):
        raise (NotFoundError if event is None else DomainError)(problem)
    assert event is not None
    return event


async def attendee_count(session: AsyncSession, event_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(EventAttendee)
            .where(EventAttendee.event_id == event_id)
        )
        or 0
    )


async def is_attendee(session: AsyncSession, event_id: int, user_id: int) -> bool:
    found = await session.get(EventAttendee, (event_id, user_id))
    return found is not None


async def _admit(session: AsyncSession, event: Event, user_id: int) -> None:
    """Under the event's lock: add the person unless the event is full (re-joining is free)."""
    if await session.get(EventAttendee, (event.id, user_id)) is not None:
        return
    if event.capacity is not None and await attendee_count(session, event.id) >= event.capacity:
        raise ConflictError(EVENT_FULL, code="event_full")
    await session.execute(
        insert(EventAttendee).values(event_id=event.id, user_id=user_id).on_conflict_do_nothing()
    )


async def join_as_user(session: AsyncSession, *, code: str, user: User) -> Event:
    async with transaction(session):
        found = await event_for_code(session, code)
        event = await _locked(session, found.id)
        if problem := join_problem(event):
            raise DomainError(problem)
        await _admit(session, event, user.id)
    return event


@dataclass
class GuestForm:
    display_name: str = ""
    sector: str = ""
    organisation: str = ""
    region: str = ""
    locale: str = "de"


def clean_guest(form: GuestForm) -> GuestForm:
    """The guest's form, cleaned; raises InvalidInput with every problem. The controller calls
    it before counting a new guest against its address's limit."""
    name = clean_text(form.display_name, max_length=80)
    organisation = clean_text(form.organisation, max_length=160)
    errors: dict[str, str] = {}
    for field, problem in (
        ("display_name", length_problem(name, minimum=2, maximum=80)),
        ("sector", choice_problem(form.sector, Sector)),
        ("region", choice_problem(form.region, Region)),
        ("organisation", length_problem(organisation, minimum=0, maximum=160)),
    ):
        if problem:
            errors[field] = problem
    if errors:
        raise InvalidInput(errors)
    return GuestForm(name, form.sector, organisation, form.region, form.locale)


async def join_as_guest(session: AsyncSession, *, code: str, form: GuestForm) -> tuple[Event, User]:
    """A guest account bound to the event, with just a name, sector, organisation, region."""
    form = clean_guest(form)
    name, organisation = form.display_name, form.organisation
    async with transaction(session):
        found = await event_for_code(session, code)
        event = await _locked(session, found.id)
        if problem := join_problem(event):
            raise DomainError(problem)
        if event.capacity is not None and await attendee_count(session, event.id) >= event.capacity:
            raise ConflictError(EVENT_FULL, code="event_full")
        guest = User(
            email=f"guest-{secrets.token_hex(12)}@{GUEST_EMAIL_DOMAIN}",
            display_name=name,
            password_hash=UNUSABLE_PASSWORD_HASH,
            sector=Sector(form.sector),
            region=Region(form.region),
            organisation=organisation,
            role=Role.PARTICIPANT,
            locale=form.locale if form.locale in LOCALES else "de",
            session_version=0,
            is_active=True,
            guest_event_id=event.id,
        )
        session.add(guest)
        await session.flush()
        await _admit(session, event, guest.id)
    return event, guest


async def make_full_account(
    session: AsyncSession, *, settings: Settings, user_id: int, email: str, password: str
) -> None:
    """A guest of a workshop keeps the account: sets a password now and gets a link to the
    address; once it is opened the guest is a full account (same user: ideas, votes and
    comments stay). An address with an account already: its owner is told instead, and the
    guest sees the same answer (nobody learns which addresses are registered)."""
    email = clean_text(email, max_length=254).lower()
    async with transaction(session):
        user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
        if user is None or user.guest_event_id is None:
            raise ConflictError(NOT_A_GUEST, code="not_a_guest")
        errors: dict[str, str] = {}
        if problem := email_problem(email):
            errors["email"] = problem
        elif email.endswith("@" + GUEST_EMAIL_DOMAIN):
            errors["email"] = N_("Please enter a valid email address.")
        if problem := password_problem(password, email=email, display_name=user.display_name):
            errors["password"] = problem
        if errors:
            raise InvalidInput(errors)
        user.password_hash = hash_password(password)
        await lifecycle.send_address_link(session, settings, user, email)


async def set_joining(
    session: AsyncSession, *, event_id: int, moderator: User, open_: bool
) -> Event:
    require_moderator(moderator)
    async with transaction(session):
        event = await _locked(session, event_id)
        record_change(
            session,
            actor_id=moderator.id,
            action="event.joining_open" if open_ else "event.joining_closed",
            target_type="event",
            target_id=event.id,
            before={"joining_open": event.joining_open},
            after={"joining_open": open_},
        )
        event.joining_open = open_
    return event


def _live(event: Event) -> dict[str, object]:
    """What the projector shows: the view and its timer."""
    return {
        "mode": event.live_mode,
        "timer_ends_at": event.timer_ends_at,
        "label": event.timer_label,
    }


async def set_mode(session: AsyncSession, *, event_id: int, moderator: User, mode: str) -> Event:
    """Switch what the screen shows. A running timer belonged to the activity of the mode
    before (e.g. "give your dots"), so it ends with it; the moderator starts the next one."""
    require_moderator(moderator)
    if mode not in set(LiveMode):
        raise DomainError(N_("Please choose a value from the list."), code="invalid_choice")
    async with transaction(session):
        event = await _locked(session, event_id)
        if event.live_mode != mode:
            before = _live(event)
            event.live_mode = LiveMode(mode)
            event.timer_ends_at = None
            event.timer_label = ""
            record_change(
                session,
                actor_id=moderator.id,
                action="event.mode",
                target_type="event",
                target_id=event.id,
                before=before,
                after=_live(event),
            )
    return event


async def set_timer(
    session: AsyncSession, *, event_id: int, moderator: User, minutes: str, label: str
) -> Event:
    """Start a countdown of `minutes` for the current activity; empty minutes stop it."""
    require_moderator(moderator)
    label = clean_text(label, max_length=120)
    errors: dict[str, str] = {}
    length = _optional_number(
        minutes,
        MAX_TIMER_MINUTES,
        field="minutes",
        message=N_("Please give the minutes as a number from 1 to 240."),
        errors=errors,
    )
    if errors:
        raise InvalidInput(errors)
    async with transaction(session):
        event = await _locked(session, event_id)
        before = _live(event)
        event.timer_ends_at = now_utc() + timedelta(minutes=length) if length else None
        event.timer_label = label if length else ""
        record_change(
            session,
            actor_id=moderator.id,
            action="event.timer",
            target_type="event",
            target_id=event.id,
            before=before,
            after=_live(event),
        )
    return event


async def submit_at_event(
    session: AsyncSession, *, event: Event, user: User, title: str, body: str
) -> Idea:
    """A participant's idea from the room: the event and the person's region preset."""
    if not (user.can_moderate or await is_attendee(session, event.id, user.id)):
        raise PermissionError_(N_("Join the event with its code first."), code="event_not_joined")
    process = await session.get(Process, event.process_id)
    assert process is not None
    return await ideas_service.submit(
        session,
        process=process,
        author_id=user.id,
        form=ideas_service.IdeaForm(
            title=title, body=body, topic_id=None, region=user.region.value, event_id=event.id
        ),
    )


@dataclass
class LiveState:
    event: Event
    ideas: list[Idea]
    attendees: int
    votes: int
    seconds_left: int | None  # of the timer; None: no timer

    @property
    def mode(self) -> str:
        return self.event.live_mode.value


async def live_state(session: AsyncSession, event_id: int) -> LiveState:
    """What the projector shows: the event's ideas (newest first while collecting, by votes
    otherwise), how many joined, votes cast, the timer."""
    event = await session.get(Event, event_id, populate_existing=True)
    if event is None:
        raise NotFoundError(EVENT_NOT_FOUND, code="event_not_found")
    order = (
        (Idea.created_at.desc(), Idea.id.desc())
        if event.live_mode == LiveMode.COLLECT
        else (Idea.vote_count.desc(), Idea.id)
    )
    ideas = list(
        await session.scalars(
            select(Idea)
            .where(Idea.event_id == event.id, Idea.status == IdeaStatus.PUBLISHED)
            .order_by(*order)
        )
    )
    votes = await session.scalar(
        select(func.count())
        .select_from(Vote)
        .join(Idea, Idea.id == Vote.idea_id)
        .where(Idea.event_id == event.id)
    )
    seconds_left = None
    if event.timer_ends_at is not None:
        seconds_left = max(0, int((event.timer_ends_at - now_utc()).total_seconds()))
    return LiveState(
        event, ideas, await attendee_count(session, event.id), int(votes or 0), seconds_left
    )
