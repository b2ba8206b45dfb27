"""Ranking page, shortlist page (public, with the moderation's and the ministry's forms),
and the shortlist's form actions. Exports are served by the API (`/api/.../exports/...`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import Controller, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import (
    admin_required,
    ministry_required,
    moderator_required,
)
from ideas_platform.accounts.models import User
from ideas_platform.core.choices import N_
from ideas_platform.core.page_cache import KEPT_WITH_PERSONAL_PARTS
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import optional_id, page, page_number
from ideas_platform.exports.service import Format
from ideas_platform.moderation.dependencies import FORM_ACTIONS, Answer, Form
from ideas_platform.processes import service as processes_service
from ideas_platform.processes.models import Process
from ideas_platform.ranking import service as ranking
from ideas_platform.ranking.formula import MIN_SECTOR_PARTICIPANTS
from ideas_platform.ranking.tally import tally_cache
from ideas_platform.shortlists import service

RANKING_PAGE = 50


class ShortlistController(Controller):
    dependencies = FORM_ACTIONS
    include_in_schema = False

    @get("/processes/{slug:str}/ranking", name="ranking", opt=KEPT_WITH_PERSONAL_PARTS)
    async def ranking_page(
        self,
        request: AppRequest,
        viewer: User | None,
        db_session: AsyncSession,
        slug: str,
        method: str = "votes",
    ) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        chosen = ranking.Method(method) if method in set(ranking.Method) else ranking.Method.VOTES
        tally = await tally_cache(request.app.state).tally(db_session, process.id)
        pages = max(1, -(-tally.size // RANKING_PAGE))
        number = page_number(request.query_params.get("page"), pages)
        result = await ranking.rank(
            db_session,
            process,
            chosen,
            start=(number - 1) * RANKING_PAGE,
            count=RANKING_PAGE,
            tally=tally,
        )
        return page(
            request,
            "shortlists/ranking.html",
            user=viewer,
            process=process,
            ranking=result,
            shown=result.ideas,
            page_number=number,
            pages=pages,
            min_participants=MIN_SECTOR_PARTICIPANTS,
            methods=list(ranking.Method),
        )

    @get("/processes/{slug:str}/shortlist", name="shortlist")
    async def shortlist_page(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, slug: str
    ) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        return page(
            request,
            "shortlists/shortlist.html",
            user=viewer,
            process=process,
            shortlist=await service.view(db_session, process, viewer),
            formats=list(Format),
        )

    @post(
        "/processes/{slug:str}/shortlist/nominations",
        guards=[moderator_required],
        name="shortlist_nominate",
    )
    async def nominate(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, slug: str
    ) -> Redirect:
        return await _on_shortlist(
            answer,
            db_session,
            slug,
            lambda process: service.nominate(
                db_session,
                process=process,
                moderator=moderator,
                rationale=form.get("rationale", ""),
                idea_id=optional_id(form.get("idea_id")),
                theme_id=optional_id(form.get("theme_id")),
            ),
            N_("The nomination has been sent to the ministry."),
        )

    @post(
        "/shortlist/entries/{entry_id:int}/withdraw",
        guards=[moderator_required],
        name="shortlist_withdraw",
    )
    async def withdraw(
        self, moderator: User, db_session: AsyncSession, answer: Answer, entry_id: int
    ) -> Redirect:
        return await answer.redirect(
            lambda: service.withdraw_nomination(db_session, entry_id=entry_id, moderator=moderator),
            back=answer.url("home"),
            done=N_("The nomination has been withdrawn."),
            to=lambda process_id: _shortlist_url(answer, db_session, process_id),
        )

    @post(
        "/shortlist/entries/{entry_id:int}/decide",
        guards=[ministry_required],
        name="shortlist_decide",
    )
    async def decide(
        self,
        current_user: User,
        db_session: AsyncSession,
        form: Form,
        answer: Answer,
        entry_id: int,
    ) -> Redirect:
        return await answer.redirect(
            lambda: service.decide(
                db_session,
                entry_id=entry_id,
                official=current_user,
                accept=form.get("decision") == "accept",
                comment=form.get("comment", ""),
            ),
            back=answer.url("home"),
            done=N_("Your decision has been saved."),
            to=lambda entry: _shortlist_url(answer, db_session, entry.process_id),
        )

    @post(
        "/shortlist/entries/{entry_id:int}/move", guards=[ministry_required], name="shortlist_move"
    )
    async def move(
        self,
        current_user: User,
        db_session: AsyncSession,
        form: Form,
        answer: Answer,
        entry_id: int,
    ) -> Redirect:
        return await answer.redirect(
            lambda: service.move(
                db_session,
                entry_id=entry_id,
                official=current_user,
                up=form.get("direction") != "down",
            ),
            back=answer.url("home"),
            done=N_("The order has been changed."),
            to=lambda entry: _shortlist_url(answer, db_session, entry.process_id),
        )

    @post(
        "/processes/{slug:str}/shortlist/freeze",
        guards=[ministry_required],
        name="shortlist_freeze",
    )
    async def freeze(
        self, current_user: User, db_session: AsyncSession, answer: Answer, slug: str
    ) -> Redirect:
        return await _on_shortlist(
            answer,
            db_session,
            slug,
            lambda process: service.freeze(db_session, process=process, official=current_user),
            N_("The shortlist is frozen."),
        )

    @post(
        "/processes/{slug:str}/shortlist/unfreeze",
        guards=[admin_required],
        name="shortlist_unfreeze",
    )
    async def unfreeze(
        self, current_user: User, db_session: AsyncSession, form: Form, answer: Answer, slug: str
    ) -> Redirect:
        return await _on_shortlist(
            answer,
            db_session,
            slug,
            lambda process: service.unfreeze(
                db_session, process=process, admin=current_user, reason=form.get("reason", "")
            ),
            N_("The shortlist can be changed again."),
        )


async def _on_shortlist(
    answer: Answer,
    session: AsyncSession,
    slug: str,
    action: Callable[[Process], Awaitable[object]],
    done: str,
) -> Redirect:
    """An action on the shortlist of the URL's process, back to its page. The process is looked
    up inside the call: an unknown slug is refused (flashed) like the action itself."""

    async def call() -> object:
        return await action(await processes_service.get_by_slug(session, slug))

    return await answer.redirect(call, back=answer.url("shortlist", slug=slug), done=done)


async def _shortlist_url(answer: Answer, session: AsyncSession, process_id: int) -> str:
    process = await processes_service.get_by_id(session, process_id)
    return answer.url("shortlist", slug=process.slug)
