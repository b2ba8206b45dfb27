"""GET /processes/{slug}/dashboard: the figures of a process for moderators, ministry, admins."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import role_required
from ideas_platform.core.choices import Role
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import page
from ideas_platform.dashboard import charts, service
from ideas_platform.processes import service as processes_service

staff_required = role_required(Role.MODERATOR, Role.MINISTRY)  # admins always may


class DashboardController(Controller):
    include_in_schema = False

    @get("/processes/{slug:str}/dashboard", name="dashboard", guards=[staff_required])
    async def dashboard(self, request: AppRequest, db_session: AsyncSession, slug: str) -> Template:
        process = await processes_service.get_by_slug(db_session, slug)
        figures = await service.dashboard(request.app.state.engine, process.id)
        return page(
            request,
            "dashboard/dashboard.html",
            process=process,
            figures=figures,
            sectors=charts.bar_chart(figures.by_sector),
            saxony=charts.saxony_map(figures),
            week_charts=charts.week_charts(figures.weeks),
            workshops=charts.workshop_chart(figures.workshops),
            max_age=service.MAX_AGE,
        )
