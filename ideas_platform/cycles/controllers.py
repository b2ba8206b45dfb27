"""Admin: start the next agenda cycle of a process."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import admin_required
from ideas_platform.admin.controllers import process_form
from ideas_platform.core.errors import InvalidInput
from ideas_platform.core.i18n import gettext
from ideas_platform.core.requests import AppRequest, principal_of
from ideas_platform.core.web import optional_id, page, see_other_route
from ideas_platform.cycles import service
from ideas_platform.measures.models import MEASURE_STATUS_LABELS
from ideas_platform.processes import service as processes_service
from ideas_platform.processes.models import PhaseKind, Process


async def _form_page(
    request: AppRequest,
    db_session: AsyncSession,
    source: Process,
    form: dict[str, str],
    *,
    chosen_measures: list[str],
    chosen_ideas: list[str],
    errors: dict[str, str] | None = None,
) -> Template:
    return page(
        request,
        "cycles/next_cycle.html",
        status_code=422 if errors else 200,
        source=source,
        form=form,
        errors=errors or {},
        process=None,
        phase_kinds=list(PhaseKind),
        candidates=await service.candidates(db_session, source),
        chosen_measures={optional_id(v) for v in chosen_measures},
        chosen_ideas={optional_id(v) for v in chosen_ideas},
        MEASURE_STATUS_LABELS=MEASURE_STATUS_LABELS,
    )


class NextCycleController(Controller):
    path = "/admin/processes/{process_id:int}/next-cycle"
    guards = [admin_required]
    include_in_schema = False

    @get("/", name="next_cycle")
    async def show(
        self, request: AppRequest, db_session: AsyncSession, process_id: int
    ) -> Template:
        source = await processes_service.get_by_id(db_session, process_id)
        topics = await processes_service.list_topics(db_session, source.id)
        candidates = await service.candidates(db_session, source)
        return await _form_page(
            request,
            db_session,
            source,
            {
                "description": source.description,
                "vote_budget": str(source.vote_budget or ""),
                "topics": "\n".join(t.name for t in topics),
            },
            # Open measures go on unless the admin says otherwise; ideas are chosen one by one.
            chosen_measures=[str(m.id) for m in candidates.measures],
            chosen_ideas=[],
        )

    @post("/", name="next_cycle_start")
    async def start(
        self, request: AppRequest, db_session: AsyncSession, process_id: int
    ) -> Template | Redirect:
        source = await processes_service.get_by_id(db_session, process_id)
        raw = await request.form()
        form = {k: str(v) for k, v in raw.items() if k not in ("_csrf_token", "measure", "idea")}
        measures = [str(v) for v in raw.getall("measure", [])]
        ideas = [str(v) for v in raw.getall("idea", [])]
        try:
            process = await service.start_next_cycle(
                db_session,
                actor_id=principal_of(request).user_id,
                source=source,
                form=process_form(form),
                measure_ids=[optional_id(v) for v in measures],
                idea_ids=[optional_id(v) for v in ideas],
            )
        except InvalidInput as exc:
            # The rollback expired what the session had loaded.
            source = await processes_service.get_by_id(db_session, process_id)
            return await _form_page(
                request,
                db_session,
                source,
                form,
                chosen_measures=measures,
                chosen_ideas=ideas,
                errors=exc.translated_errors(),
            )
        flash(
            request,
            gettext(
                "The next cycle has started with %(measures)s measures and %(ideas)s ideas.",
                measures=len(set(measures)),
                ideas=len(set(ideas)),
            ),
            category="success",
        )
        return see_other_route(request, "process", slug=process.slug)
