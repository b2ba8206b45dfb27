"""Jinja2 set-up: translations, formatting filters, label tables.

Pages call `_()` a hundred times and format a date or a number on every card of a list, so the
template callables here are the cheap forms of `core.i18n`'s (issue 16): one Jinja call per
`_()` instead of three, and the formatting memoised (its result depends only on the value and
the language).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, pass_eval_context
from jinja2.nodes import EvalContext
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from ideas_platform.core.choices import REGION_LABELS, ROLE_LABELS, SECTOR_LABELS, Region, Sector
from ideas_platform.core.config import PROJECT_ROOT
from ideas_platform.core.i18n import (
    BERLIN,
    LOCALES,
    format_date,
    format_datetime,
    format_number,
    format_percent,
    get_locale,
    gettext,
    ngettext,
    translations,
)
from ideas_platform.events.models import LIVE_MODE_LABELS
from ideas_platform.ideas.models import STATUS_LABELS
from ideas_platform.processes.models import PHASE_LABELS
from ideas_platform.shortlists.models import DECISION_LABELS


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
    """`_()` and `gettext()` in templates: what Jinja's "newstyle" gettext around
    `i18n.gettext` answers (translated, Markup when autoescaping, always a format string), in
    one call where Jinja's alias `_` costs three."""
    text: str = translations(get_locale()).gettext(message)
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 -- the catalogue is ours, as in Jinja's own
    # `text % {}` is `text` unless it holds a "%": skip the formatting then.
    return text % variables if variables or "%" in text else text


@pass_eval_context
def template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
) -> str:
    """`ngettext()` in templates: Jinja's "newstyle" ngettext around `i18n.ngettext`, in one
    call (the number formatted in, as `i18n.ngettext` does, then the variables)."""
    variables.setdefault("num", num)
    text: str = translations(get_locale()).ngettext(singular, plural, num) % {"num": num}
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 -- the catalogue is ours, as in Jinja's own
    return text % variables


@lru_cache(maxsize=4096)
def _date_of_day(year: int, month: int, day: int, locale: str) -> str:
    return format_date(datetime(year, month, day, 12, tzinfo=BERLIN))


def template_date(value: datetime | date | None) -> str:
    """`i18n.format_date`, once per day and language: "d. MMM y" shows the day in Berlin only."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        return format_date(value)
    local = value.astimezone(BERLIN)
    return _date_of_day(local.year, local.month, local.day, get_locale())


@lru_cache(maxsize=4096)
def _number(value: int | float, locale: str) -> str:
    return format_number(value)


def template_number(value: int | float) -> str:
    """`i18n.format_number`, memoised per value and language."""
    return _number(value, get_locale())


@lru_cache(maxsize=4096)
def _percent(fraction: float, decimals: int, locale: str) -> str:
    return format_percent(fraction, decimals)


def template_percent(fraction: float, decimals: int = 0) -> str:
    """`i18n.format_percent`, memoised per value, decimals and language."""
    return _percent(fraction, decimals, get_locale())


def configure_environment(env: Environment) -> None:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    # The same answers as the callables just installed, cheaper (see template_gettext).
    env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)
    env.filters.update(
        datetime=format_datetime,
        date=template_date,
        number=template_number,
        percent=template_percent,
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
    )
    env.trim_blocks = True
    env.lstrip_blocks = True


def template_config(
    *,
    auto_reload: bool = False,
    domain_globals: Callable[[Environment], Mapping[str, Any]] | None = None,
) -> TemplateConfig[JinjaTemplateEngine]:
    """The pages' templates. `domain_globals(env)`: what the domains add for their templates
    (the app factory composes them, so that core imports no domain)."""

    def callback(engine: JinjaTemplateEngine) -> None:
        configure_environment(engine.engine)
        if domain_globals is not None:
            engine.engine.globals.update(domain_globals(engine.engine))
        # Checking every template file's mtime on each render costs syscalls; only in development.
        engine.engine.auto_reload = auto_reload

    return TemplateConfig(
        directory=PROJECT_ROOT / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=callback,
    )
