"""Ranking page, shortlist page (public, with the moderation's and the ministry's forms),
and the shortlist's form actions. Exports are served by the API (`/api/.../exports/...`)."""

from __future__ import annotations

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
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import act_and_return, optional_id, page, page_number
from ideas_platform.exports.service import Format
from ideas_platform.processes import service as processes_service
from ideas_platform.ranking import service as ranking
from ideas_platform.ranking.formula import MIN_SECTOR_PARTICIPANTS
from ideas_platform.ranking.tally import tally_cache
from ideas_platform.shortlists import service

RANKING_PAGE = 50


class ShortlistController(Controller):
    include_in_schema = False

    @get("/processes/{slug:str}/ranking", name="ranking")
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
        self, request: AppRequest, current_user: User, db_session: AsyncSession, slug: str
    ) -> Redirect:
        async def action(form: dict[str, str]) -> str | None:
            process = await processes_service.get_by_slug(db_session, slug)
            await service.nominate(
                db_session,
                process=process,
                moderator=current_user,
                rationale=form.get("rationale", ""),
                idea_id=optional_id(form.get("idea_id")),
                theme_id=optional_id(form.get("theme_id")),
            )
            return request.app.route_reverse("shortlist", slug=slug)

        return await act_and_return(
            request,
            action,
            default=request.app.route_reverse("shortlist", slug=slug),
            done=N_("The nomination has been sent to the ministry."),
        )

    @post(
        "/shortlist/entries/{entry_id:int}/withdraw",
        guards=[moderator_required],
        name="shortlist_withdraw",
    )
    async def withdraw(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, entry_id: int
    ) -> Redirect:
        async def action(form: dict[str, str]) -> str | None:
            process_id = await service.withdraw_nomination(
                db_session, entry_id=entry_id, moderator=current_user
            )
            return await _shortlist_path(request, db_session, process_id)

        return await act_and_return(
            request,
            action,
            default=request.app.route_reverse("home"),
            done=N_("The nomination has been withdrawn."),
        )

    @post(
        "/shortlist/entries/{entry_id:int}/decide",
        guards=[ministry_required],
        name="shortlist_decide",
    )
    async def decide(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, entry_id: int
    ) -> Redirect:
        async def action(form: dict[str, str]) -> str | None:
            entry = await service.decide(
                db_session,
                entry_id=entry_id,
                official=current_user,
                accept=form.get("decision") == "accept",
                comment=form.get("comment", ""),
            )
            return await _shortlist_path(request, db_session, entry.process_id)

        return await act_and_return(
            request,
            action,
            default=request.app.route_reverse("home"),
            done=N_("Your decision has been saved."),
        )

    @post(
        "/shortlist/entries/{entry_id:int}/move", guards=[ministry_required], name="shortlist_move"
    )
    async def move(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, entry_id: int
    ) -> Redirect:
        async def action(form: dict[str, str]) -> str | None:
            entry = await service.move(
                db_session,
                entry_id=entry_id,
                official=current_user,
                up=form.get("direction") != "down",
            )
            return await _shortlist_path(request, db_session, entry.process_id)

        return await act_and_return(
            request,
            action,
            default=request.app.route_reverse("home"),
            done=N_("The order has been changed."),
        )

    @post(
        "/processes/{slug:str}/shortlist/freeze",
        guards=[ministry_required],
        name="shortlist_freeze",
    )
    async def freeze(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, slug: str
    ) -> Redirect:
        async def action(form: dict[str, str]) -> str | None:
            process = await processes_service.get_by_slug(db_session, slug)
            await service.freeze(db_session, process=process, official=current_user)
            return None

        return await act_and_return(
            request,
            action,
            default=request.app.route_reverse("shortlist", slug=slug),
            done=N_("The shortlist is frozen."),
        )

    @post(
        "/processes/{slug:str}/shortlist/unfreeze",
        guards=[admin_required],
        name="shortlist_unfreeze",
    )
    async def unfreeze(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, slug: str
    ) -> Redirect:
        async def action(form: dict[str, str]) -> str | None:
            process = await processes_service.get_by_slug(db_session, slug)
            await service.unfreeze(
                db_session,
                process=process,
                admin=current_user,
                reason=form.get("reason", ""),
            )
            return None

        return await act_and_return(
            request,
            action,
            default=request.app.route_reverse("shortlist", slug=slug),
            done=N_("The shortlist can be changed again."),
        )


async def _shortlist_path(request: AppRequest, session: AsyncSession, process_id: int) -> str:
    process = await processes_service.get_by_id(session, process_id)
    return request.app.route_reverse("shortlist", slug=process.slug)
