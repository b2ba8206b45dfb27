"""The bell's pages: the list, opening one, settings, one-click unsubscribe, following."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import login_required
from ideas_platform.accounts.models import User
from ideas_platform.core.errors import InvalidInput
from ideas_platform.core.i18n import gettext
from ideas_platform.core.requests import AppRequest, principal_of
from ideas_platform.core.web import form_data, page, safe_next, see_other, see_other_route
from ideas_platform.ideas import visibility
from ideas_platform.mail.compose import user_of_unsubscribe_token
from ideas_platform.notifications import service, texts
from ideas_platform.notifications.models import Frequency, NotificationKind


def _settings_page(
    request: AppRequest, chosen: dict[str, str], *, status_code: int = 200, **extra: Any
) -> Template:
    return page(
        request,
        "notifications/settings.html",
        status_code=status_code,
        kinds=list(NotificationKind),
        frequencies=list(Frequency),
        chosen=chosen,
        KIND_LABELS=texts.KIND_LABELS,
        FREQUENCY_LABELS=texts.FREQUENCY_LABELS,
        **extra,
    )


class NotificationController(Controller):
    include_in_schema = False

    @get("/notifications", guards=[login_required], name="notifications")
    async def index(self, request: AppRequest, db_session: AsyncSession) -> Template:
        notifications = await service.latest(db_session, principal_of(request).user_id)
        return page(
            request,
            "notifications/list.html",
            items=[(n, texts.sentence(n), texts.link(n)) for n in notifications],
        )

    @get("/notifications/{notification_id:int}", guards=[login_required], name="notification")
    async def open(
        self, request: AppRequest, db_session: AsyncSession, notification_id: int
    ) -> Redirect:
        """Marks it read and goes where it points."""
        notification = await service.open_notification(
            db_session, principal_of(request).user_id, notification_id
        )
        return see_other(texts.link(notification))

    @post("/notifications/read", guards=[login_required], name="notifications_read")
    async def read_all(self, request: AppRequest, db_session: AsyncSession) -> Redirect:
        await service.mark_all_read(db_session, principal_of(request).user_id)
        return see_other_route(request, "notifications")

    @get("/notifications/settings", guards=[login_required], name="notification_settings")
    async def settings_form(self, request: AppRequest, db_session: AsyncSession) -> Template:
        chosen = await service.frequencies(db_session, principal_of(request).user_id)
        return _settings_page(request, {kind.value: f.value for kind, f in chosen.items()})

    @post("/notifications/settings", guards=[login_required], name="notification_settings_save")
    async def save_settings(
        self, request: AppRequest, db_session: AsyncSession
    ) -> Template | Redirect:
        form = await form_data(request)
        try:
            await service.save_frequencies(db_session, principal_of(request).user_id, form)
        except InvalidInput as exc:
            return _settings_page(request, form, status_code=422, errors=exc.translated_errors())
        flash(request, gettext("Your notification settings have been saved."), category="success")
        return see_other_route(request, "notification_settings")

    # RFC 8058: mail programs POST "List-Unsubscribe=One-Click" to this address, without a
    # cookie or CSRF token (the path is exempt from the CSRF check); the signed token is the key.
    @get("/unsubscribe/{token:str}", name="unsubscribe")
    async def unsubscribe_form(self, request: AppRequest, token: str) -> Template:
        valid = user_of_unsubscribe_token(request.app.state.settings, token) is not None
        return page(
            request,
            "notifications/unsubscribe.html",
            status_code=200 if valid else 400,
            token=token,
            valid=valid,
            done=False,
        )

    @post("/unsubscribe/{token:str}", name="unsubscribe_submit")
    async def unsubscribe(
        self, request: AppRequest, db_session: AsyncSession, token: str
    ) -> Template:
        user_id = user_of_unsubscribe_token(request.app.state.settings, token)
        done = user_id is not None and await service.unsubscribe_all(db_session, user_id)
        return page(
            request,
            "notifications/unsubscribe.html",
            status_code=200 if done else 400,
            token=token,
            valid=done,
            done=done,
        )

    @post("/ideas/{idea_id:int}/follow", guards=[login_required], name="idea_follow")
    async def follow_idea(
        self, request: AppRequest, current_user: User, db_session: AsyncSession, idea_id: int
    ) -> Redirect:
        await visibility.get_readable_idea(db_session, idea_id, current_user)
        form = await form_data(request)
        follow = form.get("follow") != "0"
        await service.set_following(
            db_session, principal_of(request).user_id, idea_id=idea_id, follow=follow
        )
        flash(
            request,
            gettext("You follow this idea now.")
            if follow
            else gettext("You no longer follow this idea."),
            category="success",
        )
        return see_other(
            safe_next(form.get("next"), request.app.route_reverse("idea", idea_id=idea_id))
        )

    @post("/themes/{theme_id:int}/follow", guards=[login_required], name="theme_follow")
    async def follow_theme(
        self, request: AppRequest, db_session: AsyncSession, theme_id: int
    ) -> Redirect:
        form = await form_data(request)
        follow = form.get("follow") != "0"
        await service.set_following(
            db_session, principal_of(request).user_id, theme_id=theme_id, follow=follow
        )
        flash(
            request,
            gettext("You follow this theme now.")
            if follow
            else gettext("You no longer follow this theme."),
            category="success",
        )
        return see_other(
            safe_next(form.get("next"), request.app.route_reverse("theme", theme_id=theme_id))
        )
