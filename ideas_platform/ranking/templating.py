"""What the ranking adds to the pages' templates (composed by the app factory)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from ideas_platform.core.i18n import get_locale
from ideas_platform.ranking.service import METHOD_LABELS, sector_bar


class SectorBars:
    """`sector_bar_html(by_sector)`: the macro of partials/sector_bar.html, rendered once per
    distribution of votes and language (a ranking page draws fifty of these SVGs; the answer
    depends on nothing else)."""

    MAX_ENTRIES = 4096

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._rendered: dict[tuple[str, tuple[tuple[str, int], ...]], Markup] = {}

    def __call__(self, by_sector: dict[str, int]) -> Markup:
        key = (get_locale(), tuple(by_sector.items()))
        html = self._rendered.get(key)
        if html is None:
            if len(self._rendered) >= self.MAX_ENTRIES:
                del self._rendered[next(iter(self._rendered))]  # the oldest
            macro = self.env.get_template("partials/sector_bar.html").module.sector_bar  # type: ignore[attr-defined]
            html = self._rendered[key] = Markup(macro(sector_bar(by_sector)))  # noqa: S704 -- our template's output
        return html


def template_globals(env: Environment) -> dict[str, Any]:
    return {"METHOD_LABELS": METHOD_LABELS, "sector_bar_html": SectorBars(env)}
