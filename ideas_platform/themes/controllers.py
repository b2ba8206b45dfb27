"""The cluster board (full page, htmx fragment, live events), theme pages and theme actions.

Every change is published on the process's channel after its transaction committed; the
channels backend is PostgreSQL LISTEN/NOTIFY, so a board open on one app process hears a move
made through another.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Controller, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.response import Redirect, ServerSentEvent, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import load_user, login_required, moderator_required
from ideas_platform.accounts.models import User
from ideas_platform.core.channels import subscription_stream
from ideas_platform.core.choices import N_
from ideas_platform.core.database import asyncpg_dsn
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import is_htmx, optional_id, page
from ideas_platform.ideas import visibility
from ideas_platform.moderation.dependencies import FORM_ACTIONS, Answer, Form
from ideas_platform.notifications import service as notifications
from ideas_platform.processes import service as processes_service
from ideas_platform.processes.models import Process
from ideas_platform.shortlists import service as shortlists_service
from ideas_platform.themes import jobs, service
from ideas_platform.themes.models import ThemeSuggestion


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


async def _board_or_redirect(
    answer: Answer, db_session: AsyncSession, process: Process | int, fragment: str = ""
) -> Response[Any]:
    """After a change of the board (the process or its id): the board's fragment for htmx,
    else back to the board."""
    if isinstance(process, int):
        process = await processes_service.get_by_id(db_session, process)
    if is_htmx(answer.request):
        return await _board_page(answer.request, db_session, process)
    return answer.see_other("board", slug=process.slug, fragment=fragment)


class ThemeController(Controller):
    dependencies = FORM_ACTIONS
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
        self, current_user: User, db_session: AsyncSession, form: Form, answer: Answer, slug: str
    ) -> Response[Any]:
        process = await processes_service.get_by_slug(db_session, slug)
        return await answer.submit(
            lambda: service.create_theme(
                db_session,
                process=process,
                user=current_user,
                title=form.get("title", ""),
                description=form.get("description", ""),
            ),
            invalid=partial(_board_page, answer.request, db_session, process),
            announce=lambda theme: announce(
                answer.channels, process.id, "theme", theme_id=theme.id
            ),
            then=lambda _: _board_or_redirect(answer, db_session, process),
        )

    @post("/ideas/{idea_id:int}/theme", guards=[login_required], name="idea_theme")
    async def move(
        self, current_user: User, db_session: AsyncSession, form: Form, answer: Answer, idea_id: int
    ) -> Response[Any]:
        await visibility.get_readable_idea(db_session, idea_id, current_user)
        raw = form.get("theme_id", "")
        theme_id = optional_id(raw)
        if raw and theme_id is None:
            raise DomainError(service.THEME_NOT_FOUND, code="theme_not_found")
        return await answer.submit(
            lambda: service.move_idea(
                db_session, idea_id=idea_id, theme_id=theme_id, user=current_user
            ),
            announce=lambda move: announce(
                answer.channels, move.process_id, "move", idea_id=idea_id, theme_id=move.after
            ),
            then=lambda move: _board_or_redirect(
                answer, db_session, move.process_id, fragment=f"idea-{idea_id}"
            ),
        )

    @get("/themes/{theme_id:int}", name="theme")
    async def theme(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, theme_id: int
    ) -> Template | Redirect:
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


class ThemeModerationController(Controller):
    guards = [moderator_required]
    dependencies = FORM_ACTIONS
    include_in_schema = False

    @post("/themes/{theme_id:int}/rename", name="theme_rename")
    async def rename(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, theme_id: int
    ) -> Redirect:
        return await answer.redirect(
            lambda: service.rename_theme(
                db_session,
                theme_id=theme_id,
                moderator=moderator,
                title=form.get("title", ""),
                description=form.get("description", ""),
            ),
            back=answer.url("theme", theme_id=theme_id),
            done=N_("The theme has been renamed."),
            to=lambda theme: answer.url("theme", theme_id=theme.id),
            announce=lambda theme: announce(answer.channels, theme.process_id, "theme"),
        )

    @post("/themes/{theme_id:int}/lock", name="theme_lock")
    async def lock(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, theme_id: int
    ) -> Redirect:
        return await answer.redirect(
            lambda: service.set_locked(
                db_session, theme_id=theme_id, moderator=moderator, locked=form.get("locked") == "1"
            ),
            back=answer.url("theme", theme_id=theme_id),
            done=N_("The theme has been updated."),
            to=lambda theme: answer.url("theme", theme_id=theme.id),
            announce=lambda theme: announce(answer.channels, theme.process_id, "theme"),
        )

    @post("/themes/{theme_id:int}/merge", name="theme_merge")
    async def merge(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, theme_id: int
    ) -> Redirect:
        return await answer.redirect(
            lambda: service.merge_themes(
                db_session,
                source_id=theme_id,
                target_id=optional_id(form.get("target_id")) or 0,
                moderator=moderator,
            ),
            back=answer.url("theme", theme_id=theme_id),
            done=N_("The themes have been merged."),
            to=lambda target: answer.url("theme", theme_id=target.id),
            announce=lambda target: announce(answer.channels, target.process_id, "theme"),
        )

    @post("/moderation/moves/{entry_id:int}/undo", name="move_undo")
    async def undo(
        self, moderator: User, db_session: AsyncSession, answer: Answer, entry_id: int
    ) -> Redirect:
        return await answer.redirect(
            lambda: service.undo_move(db_session, entry_id=entry_id, moderator=moderator),
            back=answer.url("audit_log"),
            done=N_("The move has been undone."),
            announce=lambda move: announce(answer.channels, move.process_id, "theme"),
        )


class SuggestionController(Controller):
    """Machine suggestions for themes (moderators): request, watch the progress, decide."""

    guards = [moderator_required]
    dependencies = FORM_ACTIONS
    include_in_schema = False

    @post("/processes/{slug:str}/suggestions", name="suggestions_start")
    async def request_suggestions(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, slug: str
    ) -> Response[Any]:
        process = await processes_service.get_by_slug(db_session, slug)
        return await answer.submit(
            lambda: jobs.request_suggestions(
                db_session, process=process, moderator=moderator, k=jobs.parse_k(form.get("k"))
            ),
            back=answer.url("board", slug=slug),
            refusals=(InvalidInput, jobs.ModelMissing),
            then=lambda job: _launched(answer, job),
        )

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
        moderator: User,
        db_session: AsyncSession,
        form: Form,
        answer: Answer,
        job_id: int,
        index: int,
    ) -> Redirect:
        return await answer.redirect(
            lambda: jobs.accept(
                db_session,
                job_id=job_id,
                index=index,
                title=form.get("title", ""),
                moderator=moderator,
            ),
            back=answer.url("suggestions", job_id=job_id),
            done=N_("The theme has been created."),
            announce=lambda theme: announce(answer.channels, theme.process_id, "theme"),
        )

    @post("/suggestions/{job_id:int}/proposals/{index:int}/drop", name="proposal_drop")
    async def drop(
        self, moderator: User, db_session: AsyncSession, answer: Answer, job_id: int, index: int
    ) -> Redirect:
        return await answer.redirect(
            lambda: jobs.drop(db_session, job_id=job_id, index=index, moderator=moderator),
            back=answer.url("suggestions", job_id=job_id),
            done=N_("The proposal was dropped."),
            announce=lambda process_id: announce(answer.channels, process_id, "theme"),
        )


def _launched(answer: Answer, job: ThemeSuggestion) -> Redirect:
    """The job runs in the background; its page shows the progress."""
    jobs.launch(asyncpg_dsn(answer.request.app.state.database_url), job.id)
    return answer.see_other("suggestions", job_id=job.id)
