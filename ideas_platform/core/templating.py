"""Jinja2 set-up: translations, formatting filters, label tables."""

from __future__ import annotations

from jinja2 import Environment
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from ideas_platform.core.choices import REGION_LABELS, ROLE_LABELS, SECTOR_LABELS, Region, Sector
from ideas_platform.core.config import PROJECT_ROOT
from ideas_platform.core.i18n import (
    LOCALES,
    format_date,
    format_datetime,
    format_number,
    format_percent,
    get_locale,
    gettext,
    ngettext,
)
from ideas_platform.events.models import LIVE_MODE_LABELS
from ideas_platform.ideas.models import STATUS_LABELS
from ideas_platform.processes.models import PHASE_LABELS
from ideas_platform.ranking.service import METHOD_LABELS
from ideas_platform.shortlists.models import DECISION_LABELS


def configure_environment(env: Environment) -> None:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        datetime=format_datetime,
        date=format_date,
        number=format_number,
        percent=format_percent,
    )
    env.globals.update(
        get_locale=get_locale,
        LOCALES=LOCALES,
        SECTORS=list(Sector),
        REGIONS=list(Region),
        SECTOR_LABELS=SECTOR_LABELS,
        REGION_LABELS=REGION_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        PHASE_LABELS=PHASE_LABELS,
        STATUS_LABELS=STATUS_LABELS,
        DECISION_LABELS=DECISION_LABELS,
        LIVE_MODE_LABELS=LIVE_MODE_LABELS,
        METHOD_LABELS=METHOD_LABELS,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True


def template_config(*, auto_reload: bool = False) -> TemplateConfig[JinjaTemplateEngine]:
    def callback(engine: JinjaTemplateEngine) -> None:
        configure_environment(engine.engine)
        # Checking every template file's mtime on each render costs syscalls; only in development.
        engine.engine.auto_reload = auto_reload

    return TemplateConfig(
        directory=PROJECT_ROOT / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=callback,
    )
