"""Dependencies of the form actions of moderators and participants (themes, events, capture):
`moderator` (who acts), `form` (what was sent) and `answer` (how the outcome is told: the
live channels, a flash message, the next page, or the form shown again).

A handler takes them and makes one service call:

    return await answer.redirect(
        lambda: service.rename_theme(db_session, theme_id=theme_id, moderator=moderator, ...),
        back=answer.url("theme", theme_id=theme_id),
        done=N_("The theme has been renamed."),
    )

The controllers that use them set `dependencies = FORM_ACTIONS` (next to their guards, which
still run first, before the body is read).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeVar

from litestar import Response
from litestar.channels import ChannelsPlugin
from litestar.di import Provide
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from ideas_platform.accounts.auth import moderator_required, provide_current_user
from ideas_platform.accounts.models import User
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.i18n import gettext
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import form_data, safe_next, see_other, see_other_route

T = TypeVar("T")

# The fields of a posted form (dependency `form`).
Form: TypeAlias = dict[str, str]
# What a handler answers: a page or a redirect, at once or after a look-up.
Reply: TypeAlias = Response[Any] | Awaitable[Response[Any]]
Refusals: TypeAlias = type[DomainError] | tuple[type[DomainError], ...]


class ShownAgain(Protocol):
    """The form's page, shown again with the field errors, what was sent and a 422."""

    def __call__(
        self, *, errors: dict[str, str], form: Form, status_code: int
    ) -> Template | Awaitable[Template]: ...


async def provide_moderator(request: AppRequest) -> User:
    """Dependency `moderator`: the confirmed user, a moderator or an admin. Answers exactly as
    the `moderator_required` guard does (401 anonymous, 403 another role): it asks the guard."""
    checked = moderator_required(request, request.route_handler)
    if checked is not None:
        await checked
    return await provide_current_user(request)


async def provide_form(request: AppRequest) -> Form:
    """Dependency `form`: the fields of the posted form (without the CSRF token)."""
    return await form_data(request)


async def _replied(reply: Reply) -> Response[Any]:
    return await reply if inspect.isawaitable(reply) else reply


@dataclass(frozen=True, slots=True)
class Answer:
    """Dependency `answer`: tells the outcome of a form action (see the module's docstring)."""

    request: AppRequest
    form: Form
    channels: ChannelsPlugin

    def url(self, route: str, /, **path_params: Any) -> str:
        return self.request.app.route_reverse(route, **path_params)

    def see_other(self, route: str, /, *, fragment: str = "", **path_params: Any) -> Redirect:
        """POST-redirect-GET to a named route (`core.web.see_other_route`)."""
        return see_other_route(self.request, route, fragment=fragment, **path_params)

    def refused(self, exc: DomainError, back: str, category: str = "error") -> Redirect:
        """The reason as a flash (an error unless said otherwise), back to the page the form
        came from."""
        flash(self.request, exc.translated(), category=category)
        return see_other(back)

    def _told(
        self,
        result: T,
        announce: Callable[[T], object] | None,
        done: str | Callable[[T], str] | None,
    ) -> None:
        """After the commit: the live channels first, then the person who acted."""
        if announce is not None:
            announce(result)
        if isinstance(done, str):
            flash(self.request, gettext(done), category="success")
        elif done is not None:
            flash(self.request, done(result), category="success")

    async def redirect(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        back: str,
        done: str,
        to: Callable[[T], str | Awaitable[str | None] | None] | None = None,
        announce: Callable[[T], object] | None = None,
    ) -> Redirect:
        """A moderator's action, POST-redirect-GET: a refusal (any DomainError) is flashed and
        goes `back`; success is announced, flashed (`done`, a msgid) and goes to `to(result)`
        (or `back`; `to` may look the page up). A form field `next` wins either way."""
        next_page = self.form.get("next")
        try:
            result = await call()
        except DomainError as exc:
            return self.refused(exc, safe_next(next_page, back))
        self._told(result, announce, done)
        where = to(result) if to else None
        if inspect.isawaitable(where):
            where = await where
        return see_other(safe_next(next_page, where or back))

    async def submit(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        then: Callable[[T], Reply],
        invalid: ShownAgain | None = None,
        back: str | None = None,
        refusals: Refusals = DomainError,
        refused_as: str = "error",
        announce: Callable[[T], object] | None = None,
        done: str | Callable[[T], str] | None = None,
    ) -> Response[Any]:
        """A form that is shown again when its fields are invalid (`invalid`, with a 422); other
        `refusals` are flashed (`refused_as`: the flash's category) and go `back` (without
        `back` they reach the error page). Success
        is announced, flashed (`done`: a msgid, or the translated message of the result) and
        answered by `then(result)`. `next` is not followed."""
        try:
            result = await call()
        except DomainError as exc:
            if invalid is not None and isinstance(exc, InvalidInput):
                return await _replied(
                    invalid(errors=exc.translated_errors(), form=self.form, status_code=422)
                )
            if back is None or not isinstance(exc, refusals):
                raise
            return self.refused(exc, back, refused_as)
        self._told(result, announce, done)
        return await _replied(then(result))


def provide_answer(request: AppRequest, form: Form, channels: ChannelsPlugin) -> Answer:
    return Answer(request, form, channels)


# `dependencies = FORM_ACTIONS` on a controller whose handlers take them.
FORM_ACTIONS: dict[str, Provide] = {
    "moderator": Provide(provide_moderator),
    "form": Provide(provide_form),
    "answer": Provide(provide_answer, sync_to_thread=False),
}
