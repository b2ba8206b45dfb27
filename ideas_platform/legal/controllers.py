"""The legal pages, linked in every page's footer."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from ideas_platform.core.config import Settings
from ideas_platform.core.i18n import get_locale
from ideas_platform.core.web import page
from ideas_platform.legal import pages


class LegalController(Controller):
    include_in_schema = False

    @get("/legal/{name:str}", name="legal")
    async def show(self, request: Request[Any, Any, Any], name: str) -> Template:
        settings: Settings = request.app.state.settings
        legal = pages.load(settings.legal_pages_dir, name, get_locale())
        return page(request, "legal/page.html", legal=legal)
