"""The "Umsetzung" pages: measures by status with progress, one measure with its chain and
updates; the ministry creates and changes measures and posts updates (with a PDF)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import load_user, ministry_required
from ideas_platform.accounts.models import User
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.i18n import gettext
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import form_data, optional_id, page, see_other_route
from ideas_platform.measures import service
from ideas_platform.measures.models import MEASURE_STATUS_LABELS, MeasureStatus
from ideas_platform.processes import service as processes_service
from ideas_platform.shortlists import service as shortlists_service
from ideas_platform.themes import service as themes_service

# A 10 MB PDF plus the rest of the form.
UPDATE_FORM_LIMIT = service.MAX_ATTACHMENT_BYTES + 512 * 1024


def _measure_form(form: dict[str, str]) -> service.MeasureForm:
    return service.MeasureForm(
        title=form.get("title", ""),
        unit=form.get("unit", ""),
        description=form.get("description", ""),
        starts_on=form.get("starts_on", ""),
        target_on=form.get("target_on", ""),
    )


async def _measure_page(
    request: AppRequest,
    db_session: AsyncSession,
    measure_id: int,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    view = await service.view(db_session, measure_id)
    process = await processes_service.get_by_id(db_session, view.measure.process_id)
    context.setdefault("errors", {})
    context.setdefault("form", None)
    return page(
        request,
        "measures/measure.html",
        status_code=status_code,
        view=view,
        process=process,
        statuses=list(MeasureStatus),
        MEASURE_STATUS_LABELS=MEASURE_STATUS_LABELS,
        user=await load_user(request),
        **context,
    )


class MeasureController(Controller):
    include_in_schema = False

    @get("/processes/{slug:str}/umsetzung", name="implementation")
    async def implementation(
        self,
        request: AppRequest,
        viewer: User | None,
        db_session: AsyncSession,
        slug: str,
        theme: str = "",
        sector: str = "",
        unit: str = "",
    ) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        filters = service.MeasureFilter(
            theme_id=optional_id(theme), sector=sector.strip()[:40], unit=unit.strip()[:160]
        )
        measures = await service.list_measures(db_session, process, filters)
        user = viewer
        earlier = {m.process_id for m in measures if m.process_id != process.id}
        return page(
            request,
            "measures/implementation.html",
            process=process,
            by_status=[
                (status, [m for m in measures if m.status == status]) for status in MeasureStatus
            ],
            count=len(measures),
            carried_from={
                process_id: await processes_service.get_by_id(db_session, process_id)
                for process_id in sorted(earlier)
            },
            filters=filters,
            themes=await themes_service.active_themes(db_session, process.id),
            units=await service.units(db_session, process),
            MEASURE_STATUS_LABELS=MEASURE_STATUS_LABELS,
            user=user,
            open_entries=(
                await service.accepted_without_measure(db_session, process)
                if user is not None and user.is_ministry
                else []
            ),
        )

    @get("/measures/{measure_id:int}", name="measure")
    async def measure(
        self, request: AppRequest, db_session: AsyncSession, measure_id: int
    ) -> Template:
        return await _measure_page(request, db_session, measure_id)

    @get("/measures/updates/{update_id:int}/attachment", name="measure_attachment")
    async def attachment(self, db_session: AsyncSession, update_id: int) -> Response[bytes]:
        name, data = await service.attachment_of(db_session, update_id)
        safe = "".join(c for c in name if c.isalnum() or c in "._- ") or "anhang.pdf"
        return Response(
            content=data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{safe}"'},
        )

    @get(
        "/shortlist-entries/{entry_id:int}/measure/new",
        guards=[ministry_required],
        name="measure_new",
    )
    async def new_measure(
        self, request: AppRequest, db_session: AsyncSession, entry_id: int
    ) -> Template:
        entry = await shortlists_service.entry_by_id(db_session, entry_id)
        process = await processes_service.get_by_id(db_session, entry.process_id)
        return page(request, "measures/new.html", entry=entry, process=process, form={}, errors={})

    @post(
        "/shortlist-entries/{entry_id:int}/measure",
        guards=[ministry_required],
        name="measure_create",
    )
    async def create_measure(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, entry_id: int
    ) -> Template | Redirect:
        form = await form_data(request)
        try:
            measure = await service.create_measure(
                db_session,
                official=viewer,  # type: ignore[arg-type]
                entry_id=entry_id,
                form=_measure_form(form),
            )
        except InvalidInput as exc:
            entry = await shortlists_service.entry_by_id(db_session, entry_id)
            process = await processes_service.get_by_id(db_session, entry.process_id)
            return page(
                request,
                "measures/new.html",
                status_code=422,
                entry=entry,
                process=process,
                form=form,
                errors=exc.translated_errors(),
            )
        flash(request, gettext("The measure has been created."), category="success")
        return see_other_route(request, "measure", measure_id=measure.id)

    @post("/measures/{measure_id:int}", guards=[ministry_required], name="measure_edit")
    async def change_measure(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, measure_id: int
    ) -> Template | Redirect:
        form = await form_data(request)
        try:
            await service.change_measure(
                db_session,
                official=viewer,  # type: ignore[arg-type]
                measure_id=measure_id,
                form=_measure_form(form),
                status=form.get("status", ""),
                progress=form.get("progress", ""),
                reason=form.get("status_reason", ""),
            )
        except InvalidInput as exc:
            return await _measure_page(
                request,
                db_session,
                measure_id,
                status_code=422,
                form=form,
                errors=exc.translated_errors(),
            )
        flash(request, gettext("The measure has been saved."), category="success")
        return see_other_route(request, "measure", measure_id=measure_id)

    @post(
        "/measures/{measure_id:int}/updates",
        name="measure_update_create",
        guards=[ministry_required],
        request_max_body_size=UPDATE_FORM_LIMIT,
    )
    async def post_update(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, measure_id: int
    ) -> Template | Redirect:
        raw = await request.form()
        upload = raw.get("attachment")
        attachment = None
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(service.MAX_ATTACHMENT_BYTES + 1)
            attachment = service.Attachment(upload.filename, upload.content_type or "", data)
        try:
            await service.post_update(
                db_session,
                official=viewer,  # type: ignore[arg-type]
                measure_id=measure_id,
                body=str(raw.get("body") or ""),
                progress=str(raw.get("progress") or ""),
                attachment=attachment,
            )
        except InvalidInput as exc:
            return await _measure_page(
                request,
                db_session,
                measure_id,
                status_code=422,
                update_form={
                    "body": str(raw.get("body") or ""),
                    "progress": str(raw.get("progress") or ""),
                },
                update_errors=exc.translated_errors(),
            )
        except DomainError as exc:
            return await _measure_page(
                request,
                db_session,
                measure_id,
                status_code=exc.status_code,
                update_errors={"body": exc.translated()},
            )
        flash(request, gettext("The update has been published."), category="success")
        return see_other_route(request, "measure", measure_id=measure_id, fragment="updates")
