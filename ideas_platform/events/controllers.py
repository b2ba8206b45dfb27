"""Events: pages, joining by code (account or guest), the projector and its live stream,
the moderator's controls. Every change is announced on the event's channel after commit."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import segno
from litestar import Controller, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.response import Redirect, ServerSentEvent, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import load_user, login_required, moderator_required
from ideas_platform.accounts.controllers import start_session
from ideas_platform.accounts.models import User
from ideas_platform.core.channels import subscription_stream
from ideas_platform.core.choices import N_
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.i18n import get_locale, gettext
from ideas_platform.core.rate_limits import (
    limit_guest_creation,
    rate_limited,
    with_retry_after,
)
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import page, see_other_route
from ideas_platform.events import live, service
from ideas_platform.events.models import Event, LiveMode
from ideas_platform.moderation.dependencies import FORM_ACTIONS, Answer, Form
from ideas_platform.processes import service as processes_service
from ideas_platform.processes.models import PhaseKind, Process
from ideas_platform.votes import service as votes_service

EVENT_FIELDS = (
    "title",
    "place",
    "starts_at",
    "description",
    "capacity",
    "join_until",
    "dot_budget",
)
GUEST_FIELDS = ("display_name", "sector", "organisation", "region")


def _event_of_code(request: AppRequest) -> str:
    return "event:" + service.normalise_code(str(request.path_params.get("code", "")))


# Joining counts per event, not per address (a whole room shares the venue's network), and per
# code as stored: "/join/y28ejq" and "/join/Y2.8EJQ" are one event, hence one counter.
JOIN_RATE_LIMIT = rate_limited("join", key=_event_of_code)


def join_url(request: AppRequest, event: Event) -> str:
    return f"{request.app.state.settings.public_url}/join/{event.join_code}"


async def _event_page(
    request: AppRequest,
    db_session: AsyncSession,
    event: Event,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    user = await load_user(request)
    process = await processes_service.get_by_id(db_session, event.process_id)
    state = await service.live_state(db_session, event.id)
    attending = user is not None and (
        user.can_moderate or await service.is_attendee(db_session, event.id, user.id)
    )
    return page(
        request,
        "events/detail.html",
        status_code=status_code,
        user=user,
        event=event,
        process=process,
        state=state,
        attending=attending,
        votes=await votes_service.states_of(
            request.app.state.driver_pool,
            user.id if user else None,
            [idea.id for idea in state.ideas],
        ),
        vote_open=event.live_mode == LiveMode.VOTE
        or processes_service.is_open_for(process, PhaseKind.VOTE),
        join_url=join_url(request, event),
        errors=errors or {},
        form=form or {},
    )


class EventController(Controller):
    dependencies = FORM_ACTIONS
    include_in_schema = False

    # --- managing events (moderators) ---------------------------------------------------------

    @get("/processes/{slug:str}/events/new", guards=[moderator_required], name="event_new")
    async def new_form(self, request: AppRequest, db_session: AsyncSession, slug: str) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        return page(request, "events/form.html", process=process, event=None, form={}, errors={})

    @post("/processes/{slug:str}/events", guards=[moderator_required], name="event_create")
    async def create(
        self, moderator: User, db_session: AsyncSession, answer: Answer, slug: str
    ) -> Response[Any]:
        process = await processes_service.get_by_slug(db_session, slug)
        return await _save(moderator, db_session, answer, process, None)

    @get("/events/{event_id:int}/edit", guards=[moderator_required], name="event_edit")
    async def edit_form(
        self, request: AppRequest, db_session: AsyncSession, event_id: int
    ) -> Template:
        event = await service.get_event(db_session, event_id)
        process = await processes_service.get_by_id(db_session, event.process_id)
        form = vars(service.form_of(event))
        return page(request, "events/form.html", process=process, event=event, form=form, errors={})

    @post("/events/{event_id:int}/edit", guards=[moderator_required], name="event_update")
    async def edit(
        self, moderator: User, db_session: AsyncSession, answer: Answer, event_id: int
    ) -> Response[Any]:
        event = await service.get_event(db_session, event_id)
        process = await processes_service.get_by_id(db_session, event.process_id)
        return await _save(moderator, db_session, answer, process, event)

    # --- the event page and submitting at the event ---------------------------------------------

    @get("/events/{event_id:int}", name="event")
    async def detail(
        self, request: AppRequest, db_session: AsyncSession, event_id: int
    ) -> Template:
        event = await service.get_event(db_session, event_id)
        return await _event_page(request, db_session, event)

    @post("/events/{event_id:int}/ideas", guards=[login_required], name="event_idea_submit")
    async def submit(
        self,
        current_user: User,
        db_session: AsyncSession,
        form: Form,
        answer: Answer,
        event_id: int,
    ) -> Response[Any]:
        event = await service.get_event(db_session, event_id)
        return await answer.submit(
            lambda: service.submit_at_event(
                db_session,
                event=event,
                user=current_user,
                title=form.get("title", ""),
                body=form.get("body", ""),
            ),
            invalid=partial(_event_page, answer.request, db_session, event),
            back=answer.url("event", event_id=event_id),  # e.g. the collect phase is over
            announce=lambda idea: live.announce_idea(answer.channels, idea),
            done=N_("Thank you! Your idea is on the screen."),
            then=lambda _: answer.see_other("event", event_id=event_id, fragment="ideas"),
        )

    # --- joining ----------------------------------------------------------------------------

    @get("/join", name="join")
    async def join_code_form(self, request: AppRequest, code: str = "") -> Template | Redirect:
        if code.strip():
            return see_other_route(request, "join_code", code=service.normalise_code(code))
        return page(request, "events/join_code.html")

    @get("/join/{code:str}", name="join_code")
    async def join_form(self, request: AppRequest, db_session: AsyncSession, code: str) -> Template:
        return await _join_page(request, db_session, code)

    @post("/join/{code:str}", middleware=[JOIN_RATE_LIMIT], name="join_submit")
    async def join(
        self,
        request: AppRequest,
        viewer: User | None,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        form: Form,
        code: str,
    ) -> Template | Redirect:
        user = viewer
        try:
            if user is not None:
                event = await service.join_as_user(db_session, code=code, user=user)
            else:
                guest_form = service.clean_guest(
                    service.GuestForm(
                        **{f: form.get(f, "") for f in GUEST_FIELDS}, locale=get_locale()
                    )
                )
                # A new account: counted against this address's guests of the hour.
                await limit_guest_creation(request)
                event, guest = await service.join_as_guest(db_session, code=code, form=guest_form)
                start_session(request, guest)
        except InvalidInput as exc:
            return await _join_page(
                request, db_session, code, errors=exc.translated_errors(), form=form, status=422
            )
        except DomainError as exc:
            return with_retry_after(
                await _join_page(
                    request, db_session, code, problem=exc.translated(), status=exc.status_code
                ),
                exc,
            )
        live.announce(channels, event.id, "join")  # the projector counts the people
        return see_other_route(request, "event", event_id=event.id)

    # --- projector and live stream ------------------------------------------------------------

    @get("/events/{event_id:int}/live", guards=[moderator_required], name="event_live")
    async def projector(
        self, request: AppRequest, db_session: AsyncSession, event_id: int
    ) -> Template:
        state = await service.live_state(db_session, event_id)
        return page(
            request,
            "events/live.html",
            state=state,
            event=state.event,
            join_url=join_url(request, state.event),
        )

    @get("/events/{event_id:int}/live/state", name="event_live_state")
    async def live_state(
        self, request: AppRequest, db_session: AsyncSession, event_id: int
    ) -> Template:
        """The projector's content as a fragment: fetched on every reconnect and change."""
        state = await service.live_state(db_session, event_id)
        return page(request, "events/_live_state.html", state=state, event=state.event)

    @get("/events/{event_id:int}/live/stream", name="event_live_stream")
    async def stream(
        self, db_session: AsyncSession, channels: ChannelsPlugin, event_id: int
    ) -> ServerSentEvent:
        """Server-sent events: new ideas, votes, state changes of the event (and a heartbeat)."""
        await service.get_event(db_session, event_id)
        await db_session.close()  # the stream may stay open for hours; give the connection back
        return ServerSentEvent(subscription_stream(channels, live.event_channel(event_id)))

    @get("/events/{event_id:int}/qr.svg", guards=[moderator_required], name="event_qr")
    async def qr(
        self, request: AppRequest, db_session: AsyncSession, event_id: int
    ) -> Response[bytes]:
        event = await service.get_event(db_session, event_id)
        svg = io.BytesIO()
        segno.make(join_url(request, event), error="m").save(svg, kind="svg", scale=8, border=2)
        return Response(
            svg.getvalue(),
            media_type="image/svg+xml",
            headers={"Cache-Control": "private, max-age=300"},
        )

    # --- the moderator's controls --------------------------------------------------------------

    @post("/events/{event_id:int}/mode", guards=[moderator_required], name="event_mode")
    async def mode(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, event_id: int
    ) -> Redirect:
        return await _control(
            answer,
            event_id,
            lambda: service.set_mode(
                db_session, event_id=event_id, moderator=moderator, mode=form.get("mode", "")
            ),
            N_("The screen shows it now."),
        )

    @post("/events/{event_id:int}/timer", guards=[moderator_required], name="event_timer")
    async def timer(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, event_id: int
    ) -> Redirect:
        return await _control(
            answer,
            event_id,
            lambda: service.set_timer(
                db_session,
                event_id=event_id,
                moderator=moderator,
                minutes=form.get("minutes", ""),
                label=form.get("label", ""),
            ),
            N_("The timer has been set."),
        )

    @post("/events/{event_id:int}/joining", guards=[moderator_required], name="event_joining")
    async def joining(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, event_id: int
    ) -> Redirect:
        return await _control(
            answer,
            event_id,
            lambda: service.set_joining(
                db_session, event_id=event_id, moderator=moderator, open_=form.get("open") == "1"
            ),
            N_("Joining has been updated."),
        )


async def _control(
    answer: Answer, event_id: int, change: Callable[[], Awaitable[object]], done: str
) -> Redirect:
    """A moderator's control of the running workshop: change, then tell the screens."""
    return await answer.redirect(
        change,
        back=answer.url("event", event_id=event_id),
        done=done,
        announce=lambda _: live.announce(answer.channels, event_id, "state"),
    )


async def _save(
    moderator: User, db_session: AsyncSession, answer: Answer, process: Process, event: Event | None
) -> Response[Any]:
    """Create or change an event; the form again (422) when a field is invalid."""
    return await answer.submit(
        lambda: service.save_event(
            db_session,
            process=process,
            moderator=moderator,
            form=service.EventForm(**{f: answer.form.get(f, "") for f in EVENT_FIELDS}),
            event_id=event.id if event else None,
        ),
        invalid=partial(page, answer.request, "events/form.html", process=process, event=event),
        done=N_("The event has been saved."),
        then=lambda saved: answer.see_other("event", event_id=saved.id),
    )


async def _join_page(
    request: AppRequest,
    db_session: AsyncSession,
    code: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Template:
    """The join page of a code: the reason it cannot be used, or the ways to join."""
    event = await service.find_by_code(db_session, code)
    if problem is None and (reason := service.join_problem(event)):
        problem, status = gettext(reason), 404 if event is None else 410
    return page(
        request,
        "events/join.html",
        status_code=status,
        user=await load_user(request),
        event=event if problem is None or status in (409, 422) else None,
        code=service.normalise_code(code),
        problem=problem,
        errors=errors or {},
        form=form or {},
    )
