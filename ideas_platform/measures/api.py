"""JSON API of the measures: read by everybody, written by the ministry (documented in /schema)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import ministry_required
from ideas_platform.accounts.models import User
from ideas_platform.api.controllers import SECURITY, errors
from ideas_platform.core.requests import AppRequest
from ideas_platform.measures import service
from ideas_platform.measures.models import Measure, MeasureUpdate
from ideas_platform.processes import service as processes_service


class MeasureUpdateOut(msgspec.Struct):
    id: int
    created_at: datetime
    body_html: str
    progress: int
    status: str
    attachment_url: str | None


class MeasureOut(msgspec.Struct):
    id: int
    title: str
    unit: str
    status: str  # planned, in_progress, done, dropped
    status_reason: str
    progress: int  # percent
    starts_on: date | None
    target_on: date | None
    shortlist_entry_id: int
    url: str


class MeasureDetailOut(MeasureOut, kw_only=True):
    description_html: str
    idea_ids: list[int]
    theme_id: int | None
    updates: list[MeasureUpdateOut]  # newest first


class MeasureUpdateIn(msgspec.Struct, forbid_unknown_fields=True):
    body: str  # Markdown
    progress: int | None = None  # 0-100; also sets the measure's progress


def _out(measure: Measure) -> MeasureOut:
    return MeasureOut(
        id=measure.id,
        title=measure.title,
        unit=measure.unit,
        status=measure.status.value,
        status_reason=measure.status_reason,
        progress=measure.progress,
        starts_on=measure.starts_on,
        target_on=measure.target_on,
        shortlist_entry_id=measure.entry_id,
        url=f"/measures/{measure.id}",
    )


def _update_out(update: MeasureUpdate) -> MeasureUpdateOut:
    return MeasureUpdateOut(
        id=update.id,
        created_at=update.created_at,
        body_html=update.body_html,
        progress=update.progress,
        status=update.status.value,
        attachment_url=(
            f"/measures/updates/{update.id}/attachment" if update.attachment_name else None
        ),
    )


class MeasureApiController(Controller):
    path = "/api"
    tags = ["measures"]

    @get(
        "/processes/{slug:str}/measures",
        responses=errors(404),
        summary="The measures the ministry made of accepted recommendations",
    )
    async def measures(self, db_session: AsyncSession, slug: str) -> list[MeasureOut]:
        process = await processes_service.get_by_slug(db_session, slug)
        return [_out(m) for m in await service.list_measures(db_session, process)]

    @get("/measures/{measure_id:int}", responses=errors(404), summary="One measure with updates")
    async def measure(self, db_session: AsyncSession, measure_id: int) -> MeasureDetailOut:
        view = await service.view(db_session, measure_id)
        base = msgspec.structs.asdict(_out(view.measure))
        return MeasureDetailOut(
            **base,
            description_html=view.measure.description_html,
            idea_ids=[idea.id for idea in view.ideas],
            theme_id=view.entry.theme_id,
            updates=[_update_out(u) for u in view.updates],
        )

    @post(
        "/measures/{measure_id:int}/updates",
        guards=[ministry_required],
        security=SECURITY,
        responses=errors(401, 403, 404, 409, 422),
        summary="Publish an update on a measure (ministry; PDF attachments through the page)",
    )
    async def post_update(
        self,
        request: AppRequest,
        viewer: User | None,
        db_session: AsyncSession,
        measure_id: int,
        data: MeasureUpdateIn,
    ) -> MeasureUpdateOut:
        update = await service.post_update(
            db_session,
            official=viewer,  # type: ignore[arg-type]
            measure_id=measure_id,
            body=data.body,
            progress=None if data.progress is None else str(data.progress),
        )
        return _update_out(update)
