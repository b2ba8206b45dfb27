"""HTML pages for ideas: list (full page or htmx fragment), detail, submit, edit, withdraw."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.channels import ChannelsPlugin
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import login_required
from ideas_platform.accounts.models import User
from ideas_platform.comments import service as comments_service
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.i18n import gettext
from ideas_platform.core.page_cache import (
    KEPT_WITH_PERSONAL_PARTS,
    KEPT_WITH_PERSONAL_PARTS_IF_SHARED,
    share_with_role,
    votes_only_in_buttons,
)
from ideas_platform.core.rate_limits import SUBMIT_RATE_LIMIT
from ideas_platform.core.requests import AppRequest, principal_of
from ideas_platform.core.validation import clean_text
from ideas_platform.core.web import (
    form_data,
    is_htmx,
    optional_id,
    page,
    see_other_route,
)
from ideas_platform.events import live
from ideas_platform.events.service import list_events
from ideas_platform.ideas import cards, service, visibility
from ideas_platform.ideas.models import Idea, IdeaStatus
from ideas_platform.measures import service as measures_service
from ideas_platform.moderation import merge as merge_service
from ideas_platform.notifications import service as notifications
from ideas_platform.personal_parts import idea_relation
from ideas_platform.processes import service as processes_service
from ideas_platform.processes.models import PhaseKind, Process
from ideas_platform.shortlists import service as shortlists_service
from ideas_platform.similarity import service as similarity_service
from ideas_platform.votes import service as votes_service

IDEA_FIELDS = ("title", "body", "topic_id", "region", "event_id")


async def _form_page(
    request: AppRequest,
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


def _idea_form(form: dict[str, str]) -> service.IdeaForm:
    return service.IdeaForm(**{f: form.get(f, "") for f in IDEA_FIELDS})


async def _suggestions(
    request: AppRequest,
    user: User | None,
    process: Process,
    similar: list[similarity_service.Suggestion],
) -> dict[str, Any]:
    """What the list of similar ideas shows: each with its vote button ("support it instead")."""
    return {
        "process": process,
        "similar": similar,
        "vote_states": await votes_service.states_of(
            request.app.state.driver_pool, user.id if user else None, [s.id for s in similar]
        ),
        "vote_open": processes_service.is_open_for(process, PhaseKind.VOTE),
    }


class IdeaController(Controller):
    include_in_schema = False

    @get("/processes/{slug:str}/ideas", name="ideas", opt=KEPT_WITH_PERSONAL_PARTS)
    async def list_ideas(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, slug: str
    ) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        query = service.ListQuery.from_params(dict(request.query_params))
        result = await service.list_ideas(db_session, process.id, query)
        if query.sort != "votes":  # sorted by votes, a vote may change the order
            votes_only_in_buttons(request.scope)
        user = viewer
        vote_states = await votes_service.states_of(
            request.app.state.driver_pool,
            user.id if user else None,
            [v.idea.id for v in result.items],
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
            "card_head": cards.card_head,
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
        self, request: AppRequest, current_user: User, db_session: AsyncSession, slug: str
    ) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        if not processes_service.is_open_for(process, PhaseKind.COLLECT):
            raise DomainError(service.NOT_COLLECT_PHASE, code="not_collect_phase")
        user = current_user
        return await _form_page(
            request, db_session, process, form={"region": user.region.value}, errors={}
        )

    @post("/processes/{slug:str}/ideas", guards=[login_required], middleware=[SUBMIT_RATE_LIMIT])
    async def create(
        self,
        request: AppRequest,
        current_user: User,
        db_session: AsyncSession,
        channels: ChannelsPlugin,
        slug: str,
    ) -> Template | Redirect:
        process = await processes_service.get_by_slug(db_session, slug)
        form = await form_data(request)
        if form.get("confirmed") != "1":
            # Without JavaScript nobody has seen the suggestions yet: show them as a step.
            similar = await similarity_service.similar_ideas(
                db_session, process.id, form.get("title", ""), form.get("body", "")
            )
            if similar:
                try:
                    await service.validate(db_session, process, _idea_form(form))
                except InvalidInput as exc:
                    return await _form_page(
                        request,
                        db_session,
                        process,
                        form=form,
                        errors=exc.translated_errors(),
                        status_code=422,
                    )
                return page(
                    request,
                    "ideas/similar_step.html",
                    form={f: form.get(f, "") for f in IDEA_FIELDS},
                    **await _suggestions(request, current_user, process, similar),
                )
        try:
            idea = await service.submit(
                db_session,
                process=process,
                author_id=principal_of(request).user_id,
                form=_idea_form(form),
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
        live.announce_idea(channels, idea)
        flash(request, gettext("Thank you! Your idea has been published."), category="success")
        return see_other_route(request, "idea", idea_id=idea.id)

    @get("/processes/{slug:str}/similar-ideas", name="similar_ideas")
    async def similar_ideas(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, slug: str
    ) -> Template:
        """The "similar ideas" box of the submit form, refreshed while the participant types."""
        process = await processes_service.get_by_slug(db_session, slug)
        params = request.query_params
        excluded = optional_id(params.get("exclude"))
        similar = await similarity_service.similar_ideas(
            db_session,
            process.id,
            clean_text(params.get("title", ""), max_length=200),
            clean_text(params.get("body", ""), max_length=10000),
            exclude=[excluded] if excluded else [],
        )
        return page(
            request,
            "ideas/_similar.html",
            **await _suggestions(request, viewer, process, similar),
        )

    @get("/ideas/{idea_id:int}", name="idea", opt=KEPT_WITH_PERSONAL_PARTS_IF_SHARED)
    async def detail(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, idea_id: int
    ) -> Template | Redirect:
        user = viewer
        view = await service.get_visible_view(db_session, idea_id, user)
        is_moderator = user is not None and user.can_moderate
        if view.idea.merged_into_id is not None and not is_moderator:
            # Along the chain (A into B into C), and only 302: an unmerge can bring A back.
            destination = await merge_service.final_destination(db_session, view.idea)
            return Redirect(
                path=request.app.route_reverse("idea", idea_id=destination),
                query_params={"merged_from": str(idea_id)},
                status_code=302,
            )
        process = await processes_service.get_by_id(db_session, view.idea.process_id)
        merged_from = optional_id(request.query_params.get("merged_from"))
        states = await votes_service.states_of(
            request.app.state.driver_pool, user.id if user else None, [view.idea.id]
        )
        carried_from, carried_to = await service.cycle_links(db_session, view.idea, user)
        shortlist_entry = await shortlists_service.entry_for_idea(db_session, view.idea)
        response = page(
            request,
            "ideas/detail.html",
            view=view,
            idea=view.idea,
            process=process,
            vote=states[view.idea.id],
            vote_open=processes_service.is_open_for(process, PhaseKind.VOTE),
            comments=await comments_service.list_comments(db_session, idea_id, user),
            comment_error=None,
            is_author=user is not None and view.idea.author_id == user.id,
            is_moderator=is_moderator,
            following=user is not None
            and await notifications.is_following(db_session, user.id, idea_id=idea_id),
            coauthors=await service.coauthor_names(db_session, idea_id),
            shortlist_entry=shortlist_entry,
            shortlist_place=shortlist_entry
            and await shortlists_service.place_of(db_session, shortlist_entry, user),
            measures=await measures_service.measures_of_idea(db_session, view.idea),
            carried_from=carried_from,
            carried_to=carried_to,
            merged_ideas=await merge_service.merges_into(db_session, idea_id),
            merged_from=await merge_service.merge_leading_to(db_session, merged_from, idea_id),
            merged_into=(
                await service.get_view(db_session, view.idea.merged_into_id)
                if view.idea.merged_into_id
                else None
            ),
            duplicates=(
                await similarity_service.similar_ideas(
                    db_session, process.id, view.idea.title, view.idea.body, exclude=[idea_id]
                )
                if is_moderator and view.idea.status.value == "published"
                else []
            ),
        )
        if carried_from is None:  # else the earlier cycle's vote count shows, too
            votes_only_in_buttons(request.scope)
        # After everything is read: a comment of theirs written meanwhile makes them related.
        if user is not None and view.idea.status == IdeaStatus.PUBLISHED:
            related, _ = await idea_relation(request.app.state.driver_pool, user.id, idea_id)
            if not related:
                share_with_role(request.scope, ("idea", idea_id))
        return response

    @get("/ideas/{idea_id:int}/edit", guards=[login_required], name="idea_edit")
    async def edit_form(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, idea_id: int
    ) -> Template:
        view = await service.get_own_view(db_session, idea_id, current_user)
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
        self, request: AppRequest, current_user: User, db_session: AsyncSession, idea_id: int
    ) -> Template | Redirect:
        await visibility.get_readable_idea(db_session, idea_id, current_user)
        form = await form_data(request)
        try:
            await service.edit(
                db_session,
                idea_id=idea_id,
                user_id=principal_of(request).user_id,
                form=_idea_form(form),
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
        return see_other_route(request, "idea", idea_id=idea_id)

    @get("/ideas/{idea_id:int}/withdraw", guards=[login_required], name="idea_withdraw")
    async def withdraw_confirm(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, idea_id: int
    ) -> Template | Redirect:
        """Withdrawing cannot be undone: the author confirms on this page first."""
        view = await service.get_own_view(db_session, idea_id, current_user)
        if view.idea.status != IdeaStatus.PUBLISHED:
            return see_other_route(request, "idea", idea_id=idea_id)
        process = await processes_service.get_by_id(db_session, view.idea.process_id)
        return page(request, "ideas/withdraw.html", idea=view.idea, process=process)

    @post("/ideas/{idea_id:int}/withdraw", guards=[login_required])
    async def withdraw(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, idea_id: int
    ) -> Redirect:
        await visibility.get_readable_idea(db_session, idea_id, current_user)
        idea = await service.withdraw(
            db_session, idea_id=idea_id, user_id=principal_of(request).user_id
        )
        flash(request, gettext("Your idea has been withdrawn."), category="success")
        process = await processes_service.get_by_id(db_session, idea.process_id)
        return see_other_route(request, "ideas", slug=process.slug)

    @get("/favicon.ico", include_in_schema=False, name="favicon")
    async def favicon(self) -> Redirect:
        """Browsers ask for /favicon.ico on their own; the icon is the SVG in static/."""
        return Redirect(path="/static/favicon.svg", status_code=301)
