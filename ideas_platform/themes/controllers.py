"""The cluster board (full page, htmx fragment, live events), theme pages and theme actions.

Every change is published on the process's channel after its transaction committed; the
channels backend is PostgreSQL LISTEN/NOTIFY, so a board open on one app process hears a move
made through another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, get, post
from litestar.channels import ChannelsPlugin
from litestar.plugins.flash import flash
from litestar.response import Redirect, ServerSentEvent, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import load_user, login_required, moderator_required
from ideas_platform.accounts.models import User
from ideas_platform.core.channels import subscription_stream
from ideas_platform.core.choices import N_
from ideas_platform.core.database import asyncpg_dsn
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import (
    act_and_return,
    form_data,
    is_htmx,
    optional_id,
    page,
    see_other_route,
)
from ideas_platform.ideas import visibility
from ideas_platform.notifications import service as notifications
from ideas_platform.processes import service as processes_service
from ideas_platform.processes.models import Process
from ideas_platform.shortlists import service as shortlists_service
from ideas_platform.themes import jobs, service


def board_channel(process_id: int) -> str:
    return f"board_{process_id}"


def announce(channels: ChannelsPlugin, process_id: int, kind: str, **details: Any) -> None:
    channels.publish({"kind": kind, **details}, board_channel(process_id))


async def _board_page(
    request: AppRequest,
    db_session: AsyncSession,
    process: Process,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    user = await load_user(request)
    context: dict[str, Any] = {
        "process": process,
        "board": await service.board(db_session, process),
        "can_sort": service.can_sort(process, user),
        "errors": errors or {},
        "form": form or {},
    }
    if is_htmx(request):
        return page(request, "themes/_board.html", **context)
    return page(request, "themes/board.html", status_code=status_code, **context)


class ThemeController(Controller):
    include_in_schema = False

    @get("/processes/{slug:str}/board", name="board")
    async def board(self, request: AppRequest, db_session: AsyncSession, slug: str) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        return await _board_page(request, db_session, process)

    @get("/processes/{slug:str}/board/events", name="board_events")
    async def events(
        self, db_session: AsyncSession, channels: ChannelsPlugin, slug: str
    ) -> ServerSentEvent:
        """Server-sent events: one message per change of the board (and a heartbeat)."""
        process = await processes_service.get_by_slug(db_session, slug)
        await db_session.close()  # the stream may stay open for hours; give the connection back

        return ServerSentEvent(subscription_stream(channels, board_channel(process.id)))

    @post("/processes/{slug:str}/themes", guards=[login_required], name="theme_create")
    async def create(
        self,
        request: AppRequest,
        current_user: User,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        slug: str,
    ) -> Any:
        process = await processes_service.get_by_slug(db_session, slug)
        form = await form_data(request)
        try:
            theme = await service.create_theme(
                db_session,
                process=process,
                user=current_user,
                title=form.get("title", ""),
                description=form.get("description", ""),
            )
        except InvalidInput as exc:
            return await _board_page(
                request,
                db_session,
                process,
                errors=exc.translated_errors(),
                form=form,
                status_code=422,
            )
        announce(channels, process.id, "theme", theme_id=theme.id)
        if is_htmx(request):
            return await _board_page(request, db_session, process)
        return see_other_route(request, "board", slug=slug)

    @post("/ideas/{idea_id:int}/theme", guards=[login_required], name="idea_theme")
    async def move(
        self,
        request: AppRequest,
        current_user: User,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        idea_id: int,
    ) -> Any:
        await visibility.get_readable_idea(db_session, idea_id, current_user)
        form = await form_data(request)
        raw = form.get("theme_id", "")
        theme_id = optional_id(raw)
        if raw and theme_id is None:
            raise DomainError(service.THEME_NOT_FOUND, code="theme_not_found")
        move = await service.move_idea(
            db_session, idea_id=idea_id, theme_id=theme_id, user=current_user
        )
        announce(channels, move.process_id, "move", idea_id=idea_id, theme_id=move.after)
        process = await processes_service.get_by_id(db_session, move.process_id)
        if is_htmx(request):
            return await _board_page(request, db_session, process)
        return see_other_route(request, "board", slug=process.slug, fragment=f"idea-{idea_id}")

    @get("/themes/{theme_id:int}", name="theme")
    async def theme(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, theme_id: int
    ) -> Any:
        destination = await service.destination(db_session, theme_id)
        if destination is not None and destination != theme_id:
            # merged into it
            return Redirect(
                path=request.app.route_reverse("theme", theme_id=destination), status_code=302
            )
        view = await service.theme_view(db_session, theme_id)
        process = await processes_service.get_by_id(db_session, view.theme.process_id)
        user = viewer
        return page(
            request,
            "themes/theme.html",
            user=user,
            following=user is not None
            and await notifications.is_following(db_session, user.id, theme_id=theme_id),
            view=view,
            process=process,
            other_themes=[
                t for t in await service.active_themes(db_session, process.id) if t.id != theme_id
            ],
            shortlist_entry=await shortlists_service.theme_entry(db_session, theme_id),
        )


async def _moderate(
    request: AppRequest,
    channels: ChannelsPlugin,
    default: str,
    action: Callable[[dict[str, str]], Awaitable[tuple[int, str]]],
    done: str,
) -> Redirect:
    """A moderator's form action that answers (process id, page to show); boards hear of it."""

    async def announced(form: dict[str, str]) -> str:
        process_id, where = await action(form)
        announce(channels, process_id, "theme")
        return where

    return await act_and_return(request, announced, default=default, done=done)


class ThemeModerationController(Controller):
    guards = [moderator_required]
    include_in_schema = False

    @post("/themes/{theme_id:int}/rename", name="theme_rename")
    async def rename(
        self,
        request: AppRequest,
        current_user: User,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        theme_id: int,
    ) -> Redirect:
        async def action(form: dict[str, str]) -> tuple[int, str]:
            theme = await service.rename_theme(
                db_session,
                theme_id=theme_id,
                moderator=current_user,
                title=form.get("title", ""),
                description=form.get("description", ""),
            )
            return theme.process_id, request.app.route_reverse("theme", theme_id=theme.id)

        return await _moderate(
            request,
            channels,
            request.app.route_reverse("theme", theme_id=theme_id),
            action,
            N_("The theme has been renamed."),
        )

    @post("/themes/{theme_id:int}/lock", name="theme_lock")
    async def lock(
        self,
        request: AppRequest,
        current_user: User,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        theme_id: int,
    ) -> Redirect:
        async def action(form: dict[str, str]) -> tuple[int, str]:
            theme = await service.set_locked(
                db_session,
                theme_id=theme_id,
                moderator=current_user,
                locked=form.get("locked") == "1",
            )
            return theme.process_id, request.app.route_reverse("theme", theme_id=theme.id)

        return await _moderate(
            request,
            channels,
            request.app.route_reverse("theme", theme_id=theme_id),
            action,
            N_("The theme has been updated."),
        )

    @post("/themes/{theme_id:int}/merge", name="theme_merge")
    async def merge(
        self,
        request: AppRequest,
        current_user: User,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        theme_id: int,
    ) -> Redirect:
        async def action(form: dict[str, str]) -> tuple[int, str]:
            target = await service.merge_themes(
                db_session,
                source_id=theme_id,
                target_id=optional_id(form.get("target_id")) or 0,
                moderator=current_user,
            )
            return target.process_id, request.app.route_reverse("theme", theme_id=target.id)

        return await _moderate(
            request,
            channels,
            request.app.route_reverse("theme", theme_id=theme_id),
            action,
            N_("The themes have been merged."),
        )

    @post("/moderation/moves/{entry_id:int}/undo", name="move_undo")
    async def undo(
        self,
        request: AppRequest,
        current_user: User,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        entry_id: int,
    ) -> Redirect:
        async def action(form: dict[str, str]) -> tuple[int, str]:
            move = await service.undo_move(db_session, entry_id=entry_id, moderator=current_user)
            return move.process_id, request.app.route_reverse("audit_log")

        return await _moderate(
            request,
            channels,
            request.app.route_reverse("audit_log"),
            action,
            N_("The move has been undone."),
        )


class SuggestionController(Controller):
    """Machine suggestions for themes (moderators): request, watch the progress, decide."""

    guards = [moderator_required]
    include_in_schema = False

    @post("/processes/{slug:str}/suggestions", name="suggestions_start")
    async def request_suggestions(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, slug: str
    ) -> Redirect:
        process = await processes_service.get_by_slug(db_session, slug)
        form = await form_data(request)
        try:
            k = jobs.parse_k(form.get("k"))
            job = await jobs.request_suggestions(
                db_session, process=process, moderator=current_user, k=k
            )
        except (InvalidInput, jobs.ModelMissing) as exc:
            flash(request, exc.translated(), category="error")
            return see_other_route(request, "board", slug=slug)
        jobs.launch(asyncpg_dsn(request.app.state.database_url), job.id)
        return see_other_route(request, "suggestions", job_id=job.id)

    @get("/suggestions/{job_id:int}", name="suggestions")
    async def show(self, request: AppRequest, db_session: AsyncSession, job_id: int) -> Template:
        job = await jobs.get_suggestion(db_session, job_id)
        process = await processes_service.get_by_id(db_session, job.process_id)
        context: dict[str, Any] = {
            "job": job,
            "process": process,
            "ideas": await jobs.ideas_of(db_session, job),
        }
        if is_htmx(request):
            return page(request, "themes/_suggestion.html", **context)
        return page(request, "themes/suggestion.html", **context)

    @post("/suggestions/{job_id:int}/proposals/{index:int}/accept", name="proposal_accept")
    async def accept(
        self,
        request: AppRequest,
        current_user: User,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        job_id: int,
        index: int,
    ) -> Redirect:
        async def action(form: dict[str, str]) -> tuple[int, str]:
            theme = await jobs.accept(
                db_session,
                job_id=job_id,
                index=index,
                title=form.get("title", ""),
                moderator=current_user,
            )
            return theme.process_id, request.app.route_reverse("suggestions", job_id=job_id)

        return await _moderate(
            request,
            channels,
            request.app.route_reverse("suggestions", job_id=job_id),
            action,
            N_("The theme has been created."),
        )

    @post("/suggestions/{job_id:int}/proposals/{index:int}/drop", name="proposal_drop")
    async def drop(
        self,
        request: AppRequest,
        current_user: User,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        job_id: int,
        index: int,
    ) -> Redirect:
        async def action(form: dict[str, str]) -> tuple[int, str]:
            process_id = await jobs.drop(
                db_session, job_id=job_id, index=index, moderator=current_user
            )
            return process_id, request.app.route_reverse("suggestions", job_id=job_id)

        return await _moderate(
            request,
            channels,
            request.app.route_reverse("suggestions", job_id=job_id),
            action,
            N_("The proposal was dropped."),
        )
