"""Moderators' pages: duplicates queue, merge and unmerge, reports, hiding, the audit log.

Every route here is for moderators (and admins); participants get 403, anonymous visitors are
sent to the login page. A refused action comes back to the page it came from with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import login_required, moderator_required
from ideas_platform.accounts.models import User
from ideas_platform.audit import service as audit_service
from ideas_platform.core.choices import N_
from ideas_platform.core.errors import ConflictError, DomainError
from ideas_platform.core.rate_limits import SUBMIT_RATE_LIMIT
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import optional_id, page, page_number
from ideas_platform.ideas import visibility
from ideas_platform.moderation import merge as merge_service
from ideas_platform.moderation import reports as reports_service
from ideas_platform.moderation.dependencies import FORM_ACTIONS, Answer, Form
from ideas_platform.moderation.models import REPORT_REASON_LABELS
from ideas_platform.processes import service as processes_service
from ideas_platform.similarity import service as similarity_service

QUEUE_PAGE = 25


def _merge_target(form: Form) -> int:
    """The idea to merge into, from the form (a refusal when none is given)."""
    target_id = optional_id(form.get("target_id"))
    if target_id is None:
        raise DomainError(
            N_("Please enter the number of the idea to merge into."), code="merge_target_missing"
        )
    return target_id


class ModerationController(Controller):
    path = "/moderation"
    guards = [moderator_required]
    dependencies = FORM_ACTIONS
    include_in_schema = False

    @get("/", name="moderation")
    async def overview(self, request: AppRequest, db_session: AsyncSession) -> Template:
        processes = await processes_service.list_processes(db_session)
        queues = [
            (process, await similarity_service.count_open_pairs(db_session, process.id))
            for process in processes
        ]
        return page(
            request,
            "moderation/overview.html",
            queues=queues,
            open_reports=await reports_service.count_open(db_session),
        )

    @get("/processes/{slug:str}/duplicates", name="duplicates")
    async def duplicates(
        self, request: AppRequest, db_session: AsyncSession, slug: str
    ) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        current = page_number(request.query_params.get("page"))
        pairs = await similarity_service.open_pairs(
            db_session, process.id, limit=QUEUE_PAGE + 1, offset=(current - 1) * QUEUE_PAGE
        )
        return page(
            request,
            "moderation/duplicates.html",
            process=process,
            pairs=pairs[:QUEUE_PAGE],
            page_number=current,
            has_next=len(pairs) > QUEUE_PAGE,
            here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        )

    @post("/duplicates/dismiss", name="duplicates_dismiss")
    async def dismiss(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer
    ) -> Redirect:
        return await answer.redirect(
            lambda: similarity_service.dismiss_pair(
                db_session,
                first_id=optional_id(form.get("first_id")) or 0,
                second_id=optional_id(form.get("second_id")) or 0,
                moderator_id=moderator.id,
            ),
            back=answer.url("moderation"),
            done=N_("The pair will not be shown again."),
        )

    @post("/ideas/{idea_id:int}/merge", name="idea_merge")
    async def merge(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, idea_id: int
    ) -> Redirect:
        return await answer.redirect(
            lambda: merge_service.merge(
                db_session,
                source_id=idea_id,
                target_id=_merge_target(form),  # refused inside the call: flashed, back
                moderator_id=moderator.id,
                note=form.get("note", ""),
            ),
            back=answer.url("idea", idea_id=idea_id),
            done=N_("The ideas have been merged."),
        )

    @post("/ideas/{idea_id:int}/unmerge", name="idea_unmerge")
    async def unmerge(
        self, moderator: User, db_session: AsyncSession, answer: Answer, idea_id: int
    ) -> Redirect:
        return await answer.redirect(
            lambda: merge_service.unmerge(db_session, source_id=idea_id, moderator_id=moderator.id),
            back=answer.url("idea", idea_id=idea_id),
            done=N_("The merge has been undone."),
        )

    @get("/reports", name="reports")
    async def reports(self, request: AppRequest, db_session: AsyncSession) -> Template:
        return page(
            request,
            "moderation/reports.html",
            groups=await reports_service.open_reports(db_session),
            reason_labels=REPORT_REASON_LABELS,
        )

    @post("/ideas/{idea_id:int}/hide", name="idea_hide")
    async def hide(
        self, moderator: User, db_session: AsyncSession, answer: Answer, idea_id: int
    ) -> Redirect:
        done = N_("The content has been hidden.")
        return await _decide(answer, reports_service.hide, db_session, moderator, idea_id, done)

    @post("/ideas/{idea_id:int}/restore", name="idea_restore")
    async def restore(
        self, moderator: User, db_session: AsyncSession, answer: Answer, idea_id: int
    ) -> Redirect:
        done = N_("The content is visible again.")
        return await _decide(answer, reports_service.restore, db_session, moderator, idea_id, done)

    @post("/ideas/{idea_id:int}/keep", name="idea_keep")
    async def keep(
        self, moderator: User, db_session: AsyncSession, answer: Answer, idea_id: int
    ) -> Redirect:
        done = N_("The content stays visible.")
        return await _decide(
            answer,
            reports_service.keep,
            db_session,
            moderator,
            idea_id,
            done,
            back=answer.url("reports"),
        )

    @get("/audit", name="audit_log")
    async def audit_log(
        self, request: AppRequest, current_user: User, db_session: AsyncSession
    ) -> Template:
        params = request.query_params
        query = audit_service.AuditQuery(
            target_type=(params.get("target_type") or "").strip()[:32] or None,
            target_id=optional_id(params.get("target_id")),
            actor_id=optional_id(params.get("actor_id")),
            page=page_number(params.get("page")),
        )
        entries = await audit_service.list_entries(db_session, query)
        return page(
            request,
            "moderation/audit.html",
            query=query,
            entries=entries,
            actors=await audit_service.actors(db_session),
            user=current_user,
        )


class ReportController(Controller):
    """Any logged-in participant reports an idea or a comment."""

    guards = [login_required]
    dependencies = FORM_ACTIONS
    include_in_schema = False

    @get("/ideas/{idea_id:int}/report", name="report_form")
    async def form(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, idea_id: int
    ) -> Template:
        idea = await visibility.get_readable_idea(db_session, idea_id, current_user)
        return page(
            request,
            "moderation/report_form.html",
            idea=idea,
            comment_id=optional_id(request.query_params.get("comment")),
            reason_labels=REPORT_REASON_LABELS,
            form={},
            errors={},
        )

    @post("/ideas/{idea_id:int}/report", middleware=[SUBMIT_RATE_LIMIT], name="report_submit")
    async def create(
        self,
        current_user: User,
        db_session: AsyncSession,
        form: Form,
        answer: Answer,
        idea_id: int,
    ) -> Response[Any]:
        # Before the form is validated: the error page would show the idea.
        idea = await visibility.get_readable_idea(db_session, idea_id, current_user)
        comment_id = optional_id(form.get("comment_id"))
        return await answer.submit(
            lambda: reports_service.report(
                db_session,
                reporter_id=current_user.id,
                idea_id=idea_id,
                comment_id=comment_id,
                reason=form.get("reason", ""),
                details=form.get("details", ""),
            ),
            invalid=partial(
                page,
                answer.request,
                "moderation/report_form.html",
                idea=idea,
                comment_id=comment_id,
                reason_labels=REPORT_REASON_LABELS,
            ),
            # reported already: a notice, not an error
            back=answer.url("idea", idea_id=idea_id),
            refusals=ConflictError,
            refused_as="info",
            done=N_("Thank you. The moderators will look at your report."),
            then=lambda _: answer.see_other("idea", idea_id=idea_id),
        )


async def _decide(
    answer: Answer,
    decision: Callable[..., Awaitable[object]],
    db_session: AsyncSession,
    moderator: User,
    idea_id: int,
    done: str,
    back: str | None = None,
) -> Redirect:
    """Hide, restore or keep an idea or (with the form's `comment_id`) one of its comments;
    a refusal goes `back` (default: the idea's page)."""
    return await answer.redirect(
        lambda: decision(
            db_session,
            idea_id=idea_id,
            comment_id=optional_id(answer.form.get("comment_id")),
            moderator_id=moderator.id,
            reason=answer.form.get("reason", ""),
        ),
        back=back or answer.url("idea", idea_id=idea_id),
        done=done,
    )
