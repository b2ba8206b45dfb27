"""The legal pages, linked in every page's footer."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from ideas_platform.core.config import Settings
from ideas_platform.core.i18n import get_locale
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import page
from ideas_platform.legal import pages


class LegalController(Controller):
    include_in_schema = False

    @get("/legal/{page_name:str}", name="legal")
    async def show(self, request: AppRequest, page_name: str) -> Template:
        settings: Settings = request.app.state.settings
        legal = pages.load(settings.legal_pages_dir, page_name, get_locale())
        return page(request, "legal/page.html", legal=legal)
