"""What the ranking adds to the pages' templates (composed by the app factory)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from ideas_platform.core.i18n import get_locale
from ideas_platform.ranking.service import METHOD_LABELS, sector_bar


class SectorBars:
    """`sector_bar_html(by_sector)`: the macro of partials/sector_bar.html, rendered once per
    distribution of votes and language (a ranking page draws fifty of these SVGs; the answer
    depends on nothing else). The rendered bars are kept for the life of the process: restart
    after editing the template."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._drawn = lru_cache(maxsize=4096)(self._draw)

    def __call__(self, by_sector: dict[str, int]) -> Markup:
        return self._drawn(get_locale(), tuple(by_sector.items()))

    def _draw(self, locale: str, distribution: tuple[tuple[str, int], ...]) -> Markup:
        """`locale` is part of the key only: the macro translates with the current one."""
        macro = self.env.get_template("partials/sector_bar.html").module.sector_bar  # type: ignore[attr-defined]
        return Markup(macro(sector_bar(dict(distribution))))  # noqa: S704 -- our template's output


def template_globals(env: Environment) -> dict[str, Any]:
    return {"METHOD_LABELS": METHOD_LABELS, "sector_bar_html": SectorBars(env)}
