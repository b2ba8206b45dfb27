"""A simple admin page: processes (phases, budget, topics), users (roles, deactivation, reset
mails) and the outbox of mails."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts import lifecycle
from ideas_platform.accounts import service as accounts_service
from ideas_platform.accounts.auth import admin_required
from ideas_platform.core.choices import ROLE_LABELS, Role
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.i18n import BERLIN, gettext
from ideas_platform.core.requests import AppRequest, principal_of
from ideas_platform.core.web import form_data, page, page_number, see_other_route
from ideas_platform.mail import outbox
from ideas_platform.processes import service as processes_service
from ideas_platform.processes.models import PhaseKind, Process


def process_form(form: dict[str, str]) -> processes_service.ProcessForm:
    return processes_service.ProcessForm(
        slug=form.get("slug", ""),
        title=form.get("title", ""),
        description=form.get("description", ""),
        vote_budget=form.get("vote_budget", ""),
        topics=form.get("topics", ""),
        phases={
            kind.value: (form.get(f"{kind.value}_start", ""), form.get(f"{kind.value}_end", ""))
            for kind in PhaseKind
        },
    )


def _form_values(process: Process, topics: list[str]) -> dict[str, str]:
    values = {
        "slug": process.slug,
        "title": process.title,
        "description": process.description,
        "vote_budget": str(process.vote_budget or ""),
        "topics": "\n".join(topics),
    }
    for phase in process.phases:
        values[f"{phase.kind.value}_start"] = phase.starts_at.astimezone(BERLIN).strftime(
            "%Y-%m-%dT%H:%M"
        )
        values[f"{phase.kind.value}_end"] = phase.ends_at.astimezone(BERLIN).strftime(
            "%Y-%m-%dT%H:%M"
        )
    return values


def _form_page(
    request: AppRequest,
    form: dict[str, str],
    errors: dict[str, str],
    process: Process | None,
) -> Template:
    return page(
        request,
        "admin/process_form.html",
        status_code=422 if errors else 200,
        form=form,
        errors=errors,
        process=process,
        phase_kinds=list(PhaseKind),
    )


class AdminController(Controller):
    path = "/admin"
    guards = [admin_required]
    include_in_schema = False

    @get("/", name="admin")
    async def index(self, request: AppRequest, db_session: AsyncSession, q: str = "") -> Template:
        query = q.strip()[:100]
        return page(
            request,
            "admin/index.html",
            processes=await processes_service.list_processes(db_session),
            users=await accounts_service.list_users(
                db_session, query=query, page=page_number(request.query_params.get("page"))
            ),
            q=query,
            roles=list(Role),
        )

    @get("/processes/new", name="process_new")
    async def new_process(self, request: AppRequest) -> Template:
        return _form_page(request, {}, {}, None)

    @post("/processes", name="process_create")
    async def create_process(
        self, request: AppRequest, db_session: AsyncSession
    ) -> Template | Redirect:
        form = await form_data(request)
        try:
            process = await processes_service.save_process(
                db_session, actor_id=principal_of(request).user_id, form=process_form(form)
            )
        except InvalidInput as exc:
            return _form_page(request, form, exc.translated_errors(), None)
        flash(request, gettext("The process has been saved."), category="success")
        return see_other_route(request, "process", slug=process.slug)

    @get("/processes/{process_id:int}/edit", name="process_edit")
    async def edit_process(
        self, request: AppRequest, db_session: AsyncSession, process_id: int
    ) -> Template:
        process = await processes_service.get_by_id(db_session, process_id)
        topics = [t.name for t in await processes_service.list_topics(db_session, process.id)]
        return _form_page(request, _form_values(process, topics), {}, process)

    @post("/processes/{process_id:int}", name="process_update")
    async def update_process(
        self, request: AppRequest, db_session: AsyncSession, process_id: int
    ) -> Template | Redirect:
        form = await form_data(request)
        try:
            process = await processes_service.save_process(
                db_session,
                actor_id=principal_of(request).user_id,
                form=process_form(form),
                process_id=process_id,
            )
        except InvalidInput as exc:
            process = await processes_service.get_by_id(db_session, process_id)
            return _form_page(request, form, exc.translated_errors(), process)
        flash(request, gettext("The process has been saved."), category="success")
        return see_other_route(request, "process", slug=process.slug)

    @post("/users/{user_id:int}/role", name="user_role")
    async def change_role(
        self, request: AppRequest, db_session: AsyncSession, user_id: int
    ) -> Redirect:
        form = await form_data(request)
        user = await accounts_service.change_role(
            db_session,
            actor_id=principal_of(request).user_id,
            user_id=user_id,
            role=form.get("role", ""),
        )
        flash(
            request,
            gettext(
                "%(name)s now has the role %(role)s.",
                name=user.display_name,
                role=gettext(ROLE_LABELS[user.role]),
            ),
            category="success",
        )
        return see_other_route(request, "admin")

    @post("/users/{user_id:int}/deactivate", name="user_deactivate")
    async def deactivate(
        self, request: AppRequest, db_session: AsyncSession, user_id: int
    ) -> Redirect:
        return await _set_active(request, db_session, user_id, active=False)

    @post("/users/{user_id:int}/activate", name="user_activate")
    async def activate(
        self, request: AppRequest, db_session: AsyncSession, user_id: int
    ) -> Redirect:
        return await _set_active(request, db_session, user_id, active=True)

    @post("/users/{user_id:int}/send-reset", name="user_send_reset")
    async def send_reset(
        self, request: AppRequest, db_session: AsyncSession, user_id: int
    ) -> Redirect:
        await lifecycle.admin_send_reset(
            db_session,
            request.app.state.settings,
            actor_id=principal_of(request).user_id,
            user_id=user_id,
        )
        flash(request, gettext("A mail to set a new password is on its way."), category="success")
        return see_other_route(request, "admin")

    @get("/outbox", name="outbox")
    async def outbox(self, request: AppRequest, db_session: AsyncSession, to: str = "") -> Template:
        return page(
            request,
            "admin/outbox.html",
            mails=await outbox.recent(db_session, address=to[:254]),
            figures=await outbox.figures(db_session),
            to=to,
            smtp_configured=request.app.state.settings.smtp_configured,
        )

    @get("/outbox/{mail_id:int}", name="outbox_mail")
    async def outbox_mail(
        self, request: AppRequest, db_session: AsyncSession, mail_id: int
    ) -> Template:
        return page(
            request,
            "admin/outbox_mail.html",
            mail=await outbox.get(db_session, mail_id),
            # With a real SMTP server the contents (links with tokens) are nobody's business.
            show_body=not request.app.state.settings.smtp_configured,
        )


async def _set_active(
    request: AppRequest, db_session: AsyncSession, user_id: int, *, active: bool
) -> Redirect:
    try:
        user = await lifecycle.set_active(
            db_session, actor_id=principal_of(request).user_id, user_id=user_id, active=active
        )
    except DomainError as exc:
        flash(request, exc.translated(), category="error")
        return see_other_route(request, "admin")
    if active:
        message = gettext("%(name)s can log in again.", name=user.display_name)
    else:
        message = gettext("%(name)s is deactivated and logged out.", name=user.display_name)
    flash(request, message, category="success")
    return see_other_route(request, "admin")
