"""HTML pages for ideas: list (full page or htmx fragment), detail, submit, edit, withdraw."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import load_user, login_required
from ideas_platform.comments import service as comments_service
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.i18n import gettext
from ideas_platform.core.rate_limits import SUBMIT_RATE_LIMIT
from ideas_platform.core.web import current_user_of, form_data, is_htmx, page, see_other
from ideas_platform.events.service import list_events
from ideas_platform.ideas import service
from ideas_platform.ideas.models import Idea
from ideas_platform.processes import service as processes_service
from ideas_platform.processes.models import PhaseKind, Process
from ideas_platform.votes import service as votes_service

IDEA_FIELDS = ("title", "body", "topic_id", "region", "event_id")


async def _form_page(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    process: Process,
    *,
    form: dict[str, Any],
    errors: dict[str, str],
    idea: Idea | None = None,
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "ideas/form.html",
        status_code=status_code,
        process=process,
        topics=await processes_service.list_topics(db_session, process.id),
        events=await list_events(db_session, process.id),
        form=form,
        errors=errors,
        idea=idea,
    )


class IdeaController(Controller):
    include_in_schema = False

    @get("/processes/{slug:str}/ideas", name="ideas")
    async def list_ideas(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, slug: str
    ) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        query = service.ListQuery.from_params(dict(request.query_params))
        result = await service.list_ideas(db_session, process.id, query)
        user = await load_user(request)
        vote_states = await votes_service.states_for(
            db_session, user.id if user else None, process, [v.idea for v in result.items]
        )
        context: dict[str, Any] = {
            "process": process,
            "result": result,
            "query": query,
            "vote_states": vote_states,
            # the vote buttons come back here when JavaScript is off
            "next_url": str(request.url.path)
            + (f"?{request.url.query}" if request.url.query else ""),
            "vote_open": processes_service.is_open_for(process, PhaseKind.VOTE),
            "collect_open": processes_service.is_open_for(process, PhaseKind.COLLECT),
        }
        if is_htmx(request):
            # "Load more" appends the next page; a filter change replaces the whole list.
            fragment = (
                "ideas/_items.html"
                if request.headers.get("hx-target") != "idea-list"
                else "ideas/_list.html"
            )
            return page(request, fragment, **context)
        context["topics"] = await processes_service.list_topics(db_session, process.id)
        context["events"] = await list_events(db_session, process.id)
        return page(request, "ideas/list.html", **context)

    @get("/processes/{slug:str}/ideas/new", guards=[login_required], name="idea_new")
    async def new_form(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, slug: str
    ) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        if not processes_service.is_open_for(process, PhaseKind.COLLECT):
            raise DomainError(service.NOT_COLLECT_PHASE)
        user = current_user_of(request)
        return await _form_page(
            request, db_session, process, form={"region": user.region.value}, errors={}
        )

    @post("/processes/{slug:str}/ideas", guards=[login_required], middleware=[SUBMIT_RATE_LIMIT])
    async def create(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, slug: str
    ) -> Any:
        process = await processes_service.get_by_slug(db_session, slug)
        form = await form_data(request)
        try:
            idea = await service.submit(
                db_session,
                process=process,
                author_id=request.user.user_id,
                form=service.IdeaForm(**{f: form.get(f, "") for f in IDEA_FIELDS}),
            )
        except InvalidInput as exc:
            return await _form_page(
                request,
                db_session,
                process,
                form=form,
                errors=exc.translated_errors(),
                status_code=422,
            )
        flash(request, gettext("Thank you! Your idea has been published."), category="success")
        return see_other(f"/ideas/{idea.id}")

    @get("/ideas/{idea_id:int}", name="idea")
    async def detail(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, idea_id: int
    ) -> Any:
        user = await load_user(request)
        view = await service.get_visible_view(db_session, idea_id, user)
        if view.idea.merged_into_id is not None and not (user and user.can_moderate):
            return Redirect(path=f"/ideas/{view.idea.merged_into_id}", status_code=301)
        process = await processes_service.get_by_id(db_session, view.idea.process_id)
        states = await votes_service.states_for(
            db_session, user.id if user else None, process, [view.idea]
        )
        return page(
            request,
            "ideas/detail.html",
            view=view,
            idea=view.idea,
            process=process,
            vote=states[view.idea.id],
            vote_open=processes_service.is_open_for(process, PhaseKind.VOTE),
            comments=await comments_service.list_comments(db_session, idea_id),
            comment_error=None,
            is_author=user is not None and view.idea.author_id == user.id,
        )

    @get("/ideas/{idea_id:int}/edit", guards=[login_required])
    async def edit_form(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, idea_id: int
    ) -> Template:
        view = await service.get_own_view(db_session, idea_id, request.user.user_id)
        process = await processes_service.get_by_id(db_session, view.idea.process_id)
        idea = view.idea
        form = {
            "title": idea.title,
            "body": idea.body,
            "topic_id": idea.topic_id or "",
            "region": idea.region.value,
            "event_id": idea.event_id or "",
        }
        return await _form_page(request, db_session, process, form=form, errors={}, idea=idea)

    @post("/ideas/{idea_id:int}/edit", guards=[login_required])
    async def edit(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, idea_id: int
    ) -> Any:
        form = await form_data(request)
        try:
            await service.edit(
                db_session,
                idea_id=idea_id,
                user_id=request.user.user_id,
                form=service.IdeaForm(**{f: form.get(f, "") for f in IDEA_FIELDS}),
            )
        except InvalidInput as exc:
            view = await service.get_view(db_session, idea_id)
            process = await processes_service.get_by_id(db_session, view.idea.process_id)
            return await _form_page(
                request,
                db_session,
                process,
                form=form,
                errors=exc.translated_errors(),
                idea=view.idea,
                status_code=422,
            )
        flash(request, gettext("Your changes have been saved."), category="success")
        return see_other(f"/ideas/{idea_id}")

    @post("/ideas/{idea_id:int}/withdraw", guards=[login_required])
    async def withdraw(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, idea_id: int
    ) -> Redirect:
        idea = await service.withdraw(db_session, idea_id=idea_id, user_id=request.user.user_id)
        flash(request, gettext("Your idea has been withdrawn."), category="success")
        process = await processes_service.get_by_id(db_session, idea.process_id)
        return see_other(f"/processes/{process.slug}/ideas")
