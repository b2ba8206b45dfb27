"""HTML pages: the list of processes and a process page."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.core.markdown import render_markdown
from ideas_platform.core.page_cache import KEPT_WITH_PERSONAL_PARTS
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import page
from ideas_platform.events import service as events_service
from ideas_platform.processes import service


class ProcessController(Controller):
    include_in_schema = False

    @get("/", name="home", opt=KEPT_WITH_PERSONAL_PARTS)
    async def index(self, request: AppRequest, db_session: AsyncSession) -> Template:
        processes = await service.list_processes(db_session)
        return page(
            request,
            "processes/index.html",
            processes=[(p, service.phase_state(p), service.active_phases(p)) for p in processes],
        )

    @get("/processes/{slug:str}", name="process", opt=KEPT_WITH_PERSONAL_PARTS)
    async def detail(self, request: AppRequest, db_session: AsyncSession, slug: str) -> Template:
        process = await service.get_by_slug(db_session, slug)
        earlier, later = await service.cycle_links(db_session, process)
        return page(
            request,
            "processes/detail.html",
            process=process,
            process_description_html=render_markdown(process.description),
            state=service.phase_state(process),
            active=service.active_phases(process),
            figures=await service.figures(db_session, process.id),
            topics=await service.list_topics(db_session, process.id),
            events=await events_service.list_events(db_session, process.id),
            now=service.now_utc(),
            earlier=earlier,
            later=later,
        )
