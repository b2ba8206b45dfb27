"""Pages of the account's self-service: forgotten password, confirming addresses, editing the
profile, changing address or password, agreeing to new terms."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts import lifecycle
from ideas_platform.accounts.auth import login_required
from ideas_platform.accounts.controllers import (
    profile_page,
    remember_device,
    start_session,
    with_locale_cookie,
)
from ideas_platform.accounts.models import AccountTokenPurpose, User
from ideas_platform.core.config import Settings
from ideas_platform.core.errors import DomainError, InvalidInput
from ideas_platform.core.i18n import gettext
from ideas_platform.core.rate_limits import TooManyAttempts, limit_attempt, with_retry_after
from ideas_platform.core.requests import AppRequest, principal_of
from ideas_platform.core.web import form_data, page, safe_next, see_other, see_other_route


def _settings(request: AppRequest) -> Settings:
    return request.app.state.settings


def _link_page(
    request: AppRequest,
    *,
    title: str,
    text: str,
    action: str,
    button: str,
    password_needed: bool = False,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """A mailed link opens a page with a button: a mail scanner that follows links does not
    use the token up."""
    return page(
        request,
        "accounts/link_confirm.html",
        status_code=status_code,
        title=title,
        text=text,
        action=action,
        button=button,
        password_needed=password_needed,
        errors=errors or {},
    )


def _link_error(request: AppRequest, exc: DomainError) -> Template:
    return page(
        request,
        "accounts/link_confirm.html",
        status_code=400,
        title=gettext("This link cannot be used"),
        text=exc.translated(),
        action=None,
        button=None,
    )


def _confirm_page(
    request: AppRequest,
    token: str,
    *,
    password_needed: bool,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return _link_page(
        request,
        title=gettext("Confirm your email address"),
        text=gettext("Enter your password, and your email address is confirmed.")
        if password_needed
        else gettext("One click, and your email address is confirmed."),
        action=request.app.route_reverse("account_confirm_submit", token=token),
        button=gettext("Confirm email address"),
        password_needed=password_needed,
        errors=errors,
        status_code=status_code,
    )


class AccountLifecycleController(Controller):
    include_in_schema = False

    # --- forgotten password ---

    @get("/password/forgot", name="password_forgot")
    async def forgot_form(self, request: AppRequest) -> Template:
        return page(request, "accounts/forgot.html", form={}, errors={}, sent=False)

    @post("/password/forgot", name="password_forgot_submit")
    async def forgot(self, request: AppRequest, db_session: AsyncSession) -> Template:
        form = await form_data(request)
        try:
            await limit_attempt(request, form.get("email", ""))
            await lifecycle.request_password_reset(
                db_session, _settings(request), form.get("email", "")
            )
        except InvalidInput as exc:
            return page(
                request,
                "accounts/forgot.html",
                status_code=422,
                form=form,
                errors=exc.translated_errors(),
                sent=False,
            )
        except TooManyAttempts as exc:
            return with_retry_after(
                page(
                    request,
                    "accounts/forgot.html",
                    status_code=exc.status_code,
                    form=form,
                    errors={"email": exc.translated()},
                    sent=False,
                ),
                exc,
            )
        # The same answer whether or not the address has an account.
        return page(request, "accounts/forgot.html", form={}, errors={}, sent=True)

    @get("/password/reset/{token:str}", name="password_reset")
    async def reset_form(
        self, request: AppRequest, db_session: AsyncSession, token: str
    ) -> Template:
        try:
            await lifecycle.check_token(db_session, token, AccountTokenPurpose.RESET_PASSWORD)
        except DomainError as exc:
            return _link_error(request, exc)
        return page(request, "accounts/reset.html", token=token, errors={})

    @post("/password/reset/{token:str}", name="password_reset_submit")
    async def reset(
        self, request: AppRequest, db_session: AsyncSession, token: str
    ) -> Response[Any]:
        form = await form_data(request)
        try:
            await limit_attempt(request, f"reset:{token}")
            user = await lifecycle.reset_password(db_session, token, form.get("password", ""))
        except InvalidInput as exc:
            return page(
                request,
                "accounts/reset.html",
                status_code=422,
                token=token,
                errors=exc.translated_errors(),
            )
        except TooManyAttempts as exc:
            return with_retry_after(
                page(
                    request,
                    "accounts/reset.html",
                    status_code=exc.status_code,
                    token=token,
                    errors={},
                    error=exc.translated(),
                ),
                exc,
            )
        except DomainError as exc:
            return _link_error(request, exc)
        request.clear_session()
        request.set_session({})
        flash(
            request,
            gettext("Your new password is set. Please log in with it."),
            category="success",
        )
        # The mailed link proved the mailbox: this browser logs in even while strangers have
        # locked the account (accounts/lockout.py).
        return remember_device(request, see_other_route(request, "login"), user.email)

    # --- confirming addresses ---

    @get("/account/confirm/{token:str}", name="account_confirm")
    async def confirm_form(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, token: str
    ) -> Template:
        try:
            owner = await lifecycle.check_token(
                db_session, token, AccountTokenPurpose.CONFIRM_EMAIL
            )
        except DomainError as exc:
            return _link_error(request, exc)
        return _confirm_page(request, token, password_needed=viewer is None or viewer.id != owner)

    @post("/account/confirm/{token:str}", name="account_confirm_submit")
    async def confirm(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, token: str
    ) -> Response[Any]:
        form = await form_data(request)
        try:
            await limit_attempt(request, f"confirm:{token[:64]}")
            user = await lifecycle.confirm_email(
                db_session,
                token,
                password=form.get("password", ""),
                viewer_id=viewer.id if viewer else None,
            )
        except InvalidInput as exc:
            return _confirm_page(
                request,
                token,
                password_needed=True,
                errors=exc.translated_errors(),
                status_code=422,
            )
        except TooManyAttempts as exc:
            return with_retry_after(
                _confirm_page(
                    request,
                    token,
                    password_needed=True,
                    errors={"password": exc.translated()},
                    status_code=exc.status_code,
                ),
                exc,
            )
        except DomainError as exc:
            return _link_error(request, exc)
        if user.is_active:
            # Mailbox and password: this browser logs in.
            start_session(request, user)
        # After the new session: the message lives in it.
        flash(request, gettext("Thank you: your email address is confirmed."), category="success")
        if not user.is_active:
            return see_other_route(request, "login")
        target = see_other_route(request, "profile")
        if lifecycle.needs_consent(user, _settings(request)):
            target = see_other(f"{request.app.route_reverse('consent')}?next=/profile")
        return remember_device(request, target, user.email)

    @post("/profile/confirmation", guards=[login_required], name="confirmation_resend")
    async def resend_confirmation(self, request: AppRequest, db_session: AsyncSession) -> Redirect:
        await limit_attempt(request, f"user:{principal_of(request).user_id}")
        await lifecycle.resend_confirmation(
            db_session, _settings(request), principal_of(request).user_id
        )
        flash(
            request,
            gettext("We have sent the confirmation link again. Please look into your inbox."),
            category="success",
        )
        return see_other_route(request, "profile")

    @get("/account/email/{token:str}", name="email_change_confirm")
    async def email_change_form(
        self, request: AppRequest, db_session: AsyncSession, token: str
    ) -> Template:
        try:
            await lifecycle.check_token(db_session, token, AccountTokenPurpose.CHANGE_EMAIL)
        except DomainError as exc:
            return _link_error(request, exc)
        return _link_page(
            request,
            title=gettext("Confirm your new email address"),
            text=gettext("From now on you log in with the new address."),
            action=request.app.route_reverse("email_change_confirm_submit", token=token),
            button=gettext("Confirm new email address"),
        )

    @post("/account/email/{token:str}", name="email_change_confirm_submit")
    async def email_change(
        self, request: AppRequest, viewer: User | None, db_session: AsyncSession, token: str
    ) -> Template | Redirect:
        try:
            await lifecycle.confirm_email_change(db_session, _settings(request), token)
        except DomainError as exc:
            return _link_error(request, exc)
        flash(request, gettext("Your new email address is confirmed."), category="success")
        return see_other_route(request, "profile" if viewer else "login")

    # --- the profile's forms ---

    @post("/profile/edit", guards=[login_required], name="profile_edit")
    async def edit_profile(self, request: AppRequest, db_session: AsyncSession) -> Response[Any]:
        form = await form_data(request)
        try:
            user = await lifecycle.update_profile(
                db_session,
                principal_of(request).user_id,
                lifecycle.ProfileForm(
                    display_name=form.get("display_name", ""),
                    organisation=form.get("organisation", ""),
                    sector=form.get("sector", ""),
                    region=form.get("region", ""),
                    locale=form.get("locale", ""),
                    name_in_exports=form.get("name_in_exports") == "1",
                ),
            )
        except InvalidInput as exc:
            return await profile_page(
                request,
                db_session,
                status_code=422,
                profile_form=form,
                profile_errors=exc.translated_errors(),
            )
        flash(request, gettext("Your profile has been saved."), category="success")
        return with_locale_cookie(see_other_route(request, "profile"), user.locale)

    @post("/profile/email", guards=[login_required], name="email_change")
    async def change_email(
        self, request: AppRequest, db_session: AsyncSession
    ) -> Template | Redirect:
        form = await form_data(request)
        await limit_attempt(request, f"user:{principal_of(request).user_id}")
        try:
            await lifecycle.request_email_change(
                db_session,
                _settings(request),
                principal_of(request).user_id,
                new_email=form.get("new_email", ""),
                password=form.get("current_password", ""),
            )
        except InvalidInput as exc:
            form.pop("current_password", None)
            return await profile_page(
                request,
                db_session,
                status_code=422,
                email_form=form,
                email_errors=exc.translated_errors(),
            )
        flash(
            request,
            gettext(
                "We have sent a link to %(address)s. Your address changes when you open it.",
                address=form.get("new_email", "").strip(),
            ),
            category="success",
        )
        return see_other_route(request, "profile")

    @post("/profile/password", guards=[login_required], name="password_change")
    async def change_password(
        self, request: AppRequest, db_session: AsyncSession
    ) -> Template | Redirect:
        form = await form_data(request)
        await limit_attempt(request, f"user:{principal_of(request).user_id}")
        try:
            user = await lifecycle.change_password(
                db_session,
                _settings(request),
                principal_of(request).user_id,
                current=form.get("current_password", ""),
                new=form.get("new_password", ""),
            )
        except InvalidInput as exc:
            return await profile_page(
                request, db_session, status_code=422, password_errors=exc.translated_errors()
            )
        start_session(request, user)  # this session goes on; all others have ended
        flash(
            request,
            gettext("Your password has been changed. Other sessions were logged out."),
            category="success",
        )
        return see_other_route(request, "profile")

    # --- consent to new terms ---

    @get("/consent", guards=[login_required], name="consent")
    async def consent_form(self, request: AppRequest, next: str = "/") -> Template:
        return page(
            request, "accounts/consent.html", next=safe_next(next), error=None, form={}, errors={}
        )

    @post("/consent", guards=[login_required], name="consent_submit")
    async def consent(self, request: AppRequest, db_session: AsyncSession) -> Template | Redirect:
        form = await form_data(request)
        if form.get("accepted_terms") != "1":
            return page(
                request,
                "accounts/consent.html",
                status_code=422,
                next=safe_next(form.get("next")),
                form=form,
                errors={},
                error=gettext("Please agree to the terms of participation and the privacy notice."),
            )
        await lifecycle.record_consent(
            db_session, _settings(request), principal_of(request).user_id
        )
        flash(request, gettext("Thank you. Your agreement has been saved."), category="success")
        return see_other(safe_next(form.get("next"), "/"))
