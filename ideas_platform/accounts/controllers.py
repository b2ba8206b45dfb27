"""HTML pages: register, login, logout, profile (language, API tokens)."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import quote

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts import lifecycle, lockout, privacy, service
from ideas_platform.accounts.auth import (
    SESSION_USER_KEY,
    SESSION_VERSION_KEY,
    login_required,
)
from ideas_platform.accounts.models import User
from ideas_platform.api.controllers import errors as api_errors
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.i18n import LOCALE_COOKIE, LOCALES, gettext
from ideas_platform.core.rate_limits import (
    TooManyAttempts,
    client_address,
    limit_attempt,
    with_retry_after,
)
from ideas_platform.core.requests import AppRequest, principal_of
from ideas_platform.core.validation import clean_text
from ideas_platform.core.web import form_data, page, safe_next, see_other, see_other_route
from ideas_platform.events import service as events_service
from ideas_platform.ideas import service as ideas_service

REGISTER_FIELDS = ("email", "display_name", "password", "sector", "region", "organisation")


def start_session(request: AppRequest, user: User) -> None:
    # A fresh session on login: nothing of the anonymous session survives (no fixation).
    request.clear_session()
    request.set_session(
        {
            SESSION_USER_KEY: user.id,
            SESSION_VERSION_KEY: user.session_version,
            "sid": secrets.token_urlsafe(12),  # a new value, hence a new cookie, on every login
        }
    )


def remember_device(
    request: AppRequest, response: Response[Any], email: str, device: str | None = None
) -> Response[Any]:
    """This browser is known to the account from now on: a strangers' lock does not apply to
    it (accounts/lockout.py). Sent only to the login form."""
    settings = request.app.state.settings
    response.set_cookie(
        lockout.DEVICE_COOKIE,
        lockout.device_token(settings.secret_key, email, device),
        max_age=lockout.DEVICE_COOKIE_MAX_AGE,
        path=request.app.route_reverse("login_submit"),
        samesite="lax",
        httponly=True,
        secure=settings.secure_cookies,
    )
    return response


def with_locale_cookie(response: Response[Any], locale: str) -> Response[Any]:
    response.set_cookie(
        LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax", httponly=True
    )
    return response


async def profile_page(
    request: AppRequest,
    db_session: AsyncSession,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """The profile page, with whatever a form on it wants to show (errors, a new token)."""
    user_id = principal_of(request).user_id
    context.setdefault("new_token", None)
    context.setdefault("error", None)
    return page(
        request,
        "accounts/profile.html",
        status_code=status_code,
        tokens=await service.list_api_tokens(db_session, user_id),
        my_ideas=await ideas_service.mine(db_session, user_id),
        **context,
    )


class AccountController(Controller):
    include_in_schema = False

    @get("/register", name="register")
    async def register_form(self, request: AppRequest) -> Template:
        return page(request, "accounts/register.html", form={}, errors={})

    @post("/register", name="register_submit")
    async def register(self, request: AppRequest, db_session: AsyncSession) -> Response[Any]:
        form = await form_data(request)
        data = service.Registration(
            **{field: form.get(field, "") for field in REGISTER_FIELDS},
            locale=form.get("locale") or request.cookies.get(LOCALE_COOKIE) or "de",
            accepted_terms=form.get("accepted_terms") == "1",
        )
        try:
            await limit_attempt(request, data.email)
            await lifecycle.register_or_notify(
                db_session, data, settings=request.app.state.settings
            )
        except InvalidInput as exc:
            form.pop("password", None)
            return page(
                request,
                "accounts/register.html",
                status_code=422,
                form=form,
                errors=exc.translated_errors(),
            )
        except TooManyAttempts as exc:
            form.pop("password", None)
            return with_retry_after(
                page(
                    request,
                    "accounts/register.html",
                    status_code=exc.status_code,
                    form=form,
                    errors={},
                    error=exc.translated(),
                ),
                exc,
            )
        # The same answer whether or not the address had an account (nobody may learn which
        # addresses are registered): a fresh session that is not logged in, the same message
        # and redirect. A new account logs in by the link in its confirmation mail; the owner
        # of an existing one got a mail instead.
        request.clear_session()
        request.set_session({"sid": secrets.token_urlsafe(12)})
        address = clean_text(data.email, max_length=254).lower()
        flash(
            request,
            gettext(
                "We have sent a mail to %(address)s. Please open the link in it to confirm "
                "your address; then you are logged in.",
                address=address,
            ),
            category="success",
        )
        locale = data.locale if data.locale in LOCALES else "de"
        return with_locale_cookie(see_other(safe_next(form.get("next"), "/")), locale)

    @get("/login", name="login")
    async def login_form(self, request: AppRequest, next: str = "/") -> Template:
        return page(request, "accounts/login.html", form={"next": safe_next(next)}, error=None)

    @post("/login", name="login_submit")
    async def login(self, request: AppRequest, db_session: AsyncSession) -> Response[Any]:
        form = await form_data(request)
        email = form.get("email", "")
        device = lockout.known_device(
            request.app.state.settings.secret_key, email, request.cookies.get(lockout.DEVICE_COOKIE)
        )
        try:
            await limit_attempt(request, email)
            user = await lifecycle.log_in(
                db_session,
                request.app.state.settings,
                email,
                form.get("password", ""),
                address=client_address(request),
                device=device,
            )
        except DomainError as exc:
            form.pop("password", None)
            # 400 for a wrong password; 429 over a rate limit or while the account is locked
            return with_retry_after(
                page(
                    request,
                    "accounts/login.html",
                    status_code=exc.status_code,
                    form=form,
                    error=exc.translated(),
                ),
                exc,
            )
        start_session(request, user)
        target = safe_next(form.get("next"), "/")
        if lifecycle.needs_consent(user, request.app.state.settings):
            # New terms (or none agreed to yet): asked once, right after the login.
            target = f"{request.app.route_reverse('consent')}?next={quote(target)}"
        return remember_device(
            request, with_locale_cookie(see_other(target), user.locale), email, device
        )

    @post("/logout", guards=[login_required], name="logout")
    async def logout(self, request: AppRequest, db_session: AsyncSession) -> Redirect:
        await service.end_all_sessions(db_session, principal_of(request).user_id)
        request.clear_session()
        return see_other_route(request, "home")

    @post("/language", name="language_switch")
    async def switch_language(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession
    ) -> Response[Any]:
        form = await form_data(request)
        locale = form.get("locale", "de")
        if locale not in LOCALES:
            locale = "de"
        # Only a confirmed user: a session cookie from before a logout must not write.
        user = viewer
        if user is not None:
            await service.set_locale(db_session, user.id, locale)
        return with_locale_cookie(see_other(safe_next(form.get("next"), "/")), locale)

    @get("/profile", guards=[login_required], name="profile")
    async def profile(self, request: AppRequest, db_session: AsyncSession) -> Template:
        return await profile_page(request, db_session)

    @post("/profile/tokens", guards=[login_required], name="token_create")
    async def create_token(self, request: AppRequest, db_session: AsyncSession) -> Template:
        form = await form_data(request)
        user_id = principal_of(request).user_id
        new_token, error = None, None
        try:
            new_token = await service.create_api_token(db_session, user_id, form.get("name", ""))
        except InvalidInput as exc:
            error = exc.translated()
        # The token is shown on this response only; it is never stored in clear.
        return await profile_page(
            request,
            db_session,
            status_code=201 if new_token else 422,
            new_token=new_token,
            error=error,
        )

    @post("/profile/full-account", guards=[login_required], name="full_account_create")
    async def full_account(
        self, request: AppRequest, db_session: AsyncSession
    ) -> Template | Redirect:
        """A guest of a workshop keeps the account: sets a password and confirms an address."""
        form = await form_data(request)
        await limit_attempt(request, f"user:{principal_of(request).user_id}")
        try:
            await events_service.make_full_account(
                db_session,
                settings=request.app.state.settings,
                user_id=principal_of(request).user_id,
                email=form.get("email", ""),
                password=form.get("password", ""),
            )
        except InvalidInput as exc:
            return page(
                request,
                "accounts/profile.html",
                status_code=422,
                tokens=[],
                my_ideas=await ideas_service.mine(db_session, principal_of(request).user_id),
                new_token=None,
                error=None,
                account_form=form,
                account_errors=exc.translated_errors(),
            )
        flash(
            request,
            gettext(
                "We have sent a link to %(address)s. Your account is complete when you open "
                "it; from then on you log in with this address.",
                address=clean_text(form.get("email", ""), max_length=254).lower(),
            ),
            category="success",
        )
        return see_other_route(request, "profile")

    @post("/profile/consent", guards=[login_required], name="profile_consent")
    async def consent(self, request: AppRequest, db_session: AsyncSession) -> Redirect:
        form = await form_data(request)
        consent = form.get("name_in_exports") == "1"
        await service.set_name_in_exports(db_session, principal_of(request).user_id, consent)
        flash(request, gettext("Your choice has been saved."), category="success")
        return see_other_route(request, "profile")

    @post("/profile/tokens/{token_id:int}/revoke", guards=[login_required], name="token_revoke")
    async def revoke_token(
        self, request: AppRequest, db_session: AsyncSession, token_id: int
    ) -> Redirect:
        await service.revoke_api_token(db_session, principal_of(request).user_id, token_id)
        flash(request, gettext("The token was revoked."), category="success")
        return see_other_route(request, "profile")

    @get("/profile/data", guards=[login_required], name="my_data")
    async def my_data(self, request: AppRequest, db_session: AsyncSession) -> Response[Any]:
        """All data stored about the person, as a JSON download."""
        data = await privacy.export_data(db_session, principal_of(request).user_id)
        return Response(
            content=json.dumps(data, ensure_ascii=False, indent=2).encode(),
            media_type="application/json",
            headers={
                "Content-Disposition": 'attachment; filename="meine-daten.json"',
                "Cache-Control": "no-store",
            },
        )

    @get(
        "/api/me/data",
        guards=[login_required],
        include_in_schema=True,
        tags=["me"],
        responses=api_errors(401),
        summary="All data stored about the authenticated user (GDPR export)",
    )
    async def api_my_data(self, request: AppRequest, db_session: AsyncSession) -> Response[Any]:
        data = await privacy.export_data(db_session, principal_of(request).user_id)
        return Response(content=data, headers={"Cache-Control": "no-store"})

    @post("/profile/delete", guards=[login_required], name="account_delete")
    async def delete_account(self, request: AppRequest, db_session: AsyncSession) -> Response[Any]:
        """Deletes the account after the password (a guest: the display name) is confirmed."""
        form = await form_data(request)
        user_id = principal_of(request).user_id
        try:
            await limit_attempt(request, f"user:{user_id}")
            await privacy.delete_account(
                db_session,
                user_id,
                password=form.get("password", ""),
                display_name=form.get("display_name", ""),
            )
        except DomainError as exc:
            return with_retry_after(
                await profile_page(
                    request, db_session, status_code=exc.status_code, delete_error=exc.translated()
                ),
                exc,
            )
        request.clear_session()
        request.set_session({})  # an empty, anonymous session that carries the message
        flash(request, gettext("Your account has been deleted."), category="success")
        return see_other_route(request, "home")
