"""Looking after one's own account: confirm the address, reset a forgotten password, edit the
profile, change address or password, consent to the terms; admins (de)activate accounts.
Every mail is written to the outbox in the transaction of the change that causes it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts import service
from ideas_platform.accounts.auth import hash_token
from ideas_platform.accounts.models import AccountToken, AccountTokenPurpose, ApiToken, User
from ideas_platform.accounts.service import (
    EMAIL_TAKEN,
    EmailTaken,
    Registration,
    email_taken,
    register,
)
from ideas_platform.audit import service as audit
from ideas_platform.core.choices import N_, Region, Sector
from ideas_platform.core.config import Settings
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError, InvalidInput, NotFoundError
from ideas_platform.core.i18n import LOCALES
from ideas_platform.core.passwords import hash_password, password_problem, verify_password
from ideas_platform.core.validation import (
    choice_problem,
    clean_text,
    email_problem,
    length_problem,
)
from ideas_platform.mail.compose import Recipient, enqueue
from ideas_platform.mail.models import OutboxMail

TOKEN_LIFETIME = {
    AccountTokenPurpose.CONFIRM_EMAIL: timedelta(days=7),
    AccountTokenPurpose.RESET_PASSWORD: timedelta(hours=1),
    AccountTokenPurpose.CHANGE_EMAIL: timedelta(days=1),
}
# Reset mails per account and hour; more requests are answered the same way but send nothing.
RESETS_PER_HOUR = 3
# "Somebody tried to register with your address" mails per account and hour, likewise.
REGISTRATION_NOTICES_PER_HOUR = 3

LINK_UNKNOWN = N_("This link is not valid. Please request a new one.")
LINK_USED = N_("This link has already been used. Please request a new one.")
LINK_EXPIRED = N_("This link has expired. Please request a new one.")
WRONG_PASSWORD = N_("The current password is not correct.")
NOT_THIS_ACCOUNTS_PASSWORD = N_(
    "This is not the password of the account. If you do not know it (or somebody else "
    "registered with your address), set a new password: that confirms the address too."
)


def recipient(user: User, address: str | None = None) -> Recipient:
    return Recipient(address or user.email, user.display_name, user.id, user.locale)


async def _issue(
    session: AsyncSession, user: User, purpose: AccountTokenPurpose, new_email: str | None = None
) -> str:
    """A new single-use token (in the caller's transaction); only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            new_email=new_email,
            expires_at=func.now() + TOKEN_LIFETIME[purpose],
        )
    )
    return token


async def _consume(session: AsyncSession, token: str, purpose: AccountTokenPurpose) -> AccountToken:
    """Marks the token used (in the caller's transaction) or says clearly why it cannot be."""
    used = await session.scalar(
        update(AccountToken)
        .where(
            AccountToken.token_hash == hash_token(token or ""),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > func.now(),
        )
        .values(used_at=func.now())
        .returning(AccountToken)
    )
    if used is not None:
        return used
    await check_token(session, token, purpose)
    # used or expired between the two statements
    raise DomainError(LINK_UNKNOWN, code="link_unknown")


async def check_token(session: AsyncSession, token: str, purpose: AccountTokenPurpose) -> int:
    """The id of the token's account; raises with the reason if the token cannot be used (the
    form shows it before typing)."""
    found = await session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == hash_token(token or ""), AccountToken.purpose == purpose
        )
    )
    now = await session.scalar(select(func.now()))
    if found is None:
        raise DomainError(LINK_UNKNOWN, code="link_unknown")
    if found.used_at is not None:
        raise DomainError(LINK_USED, code="link_used")
    if now is not None and found.expires_at <= now:
        raise DomainError(LINK_EXPIRED, code="link_expired")
    return found.user_id


# --- email confirmation ---


async def send_confirmation(session: AsyncSession, settings: Settings, user: User) -> None:
    """In the caller's transaction (registration, or "send again" on the profile)."""
    token = await _issue(session, user, AccountTokenPurpose.CONFIRM_EMAIL, new_email=user.email)
    enqueue(
        session,
        settings,
        to=recipient(user),
        template="confirm_email",
        subject=N_("Please confirm your email address"),
        link=f"{settings.public_url}/account/confirm/{token}",
    )


async def resend_confirmation(session: AsyncSession, settings: Settings, user_id: int) -> None:
    async with transaction(session):
        user = await session.get(User, user_id, with_for_update=True)
        if user is None or user.email_confirmed_at is not None or user.is_guest:
            return
        await send_confirmation_again(session, settings, user)


async def confirm_email(
    session: AsyncSession, token: str, *, password: str, viewer_id: int | None
) -> User:
    """The mailed link, opened: confirms the address and (the caller) logs the browser in.
    It takes the account's password too, unless the browser is logged in to that account: the
    link alone proves the mailbox, not who chose the password. (Somebody may have registered
    the address first with a password of their own, waiting for its owner to click; the owner
    sets a new password instead, which confirms the address as well.)"""
    async with transaction(session):
        used = await _consume(session, token, AccountTokenPurpose.CONFIRM_EMAIL)
        user = await session.get(User, used.user_id, with_for_update=True)
        if user is None or (used.new_email or "").lower() != user.email.lower():
            # the address changed since the mail was sent
            raise DomainError(LINK_UNKNOWN, code="link_unknown")
        if viewer_id != user.id and not verify_password(user.password_hash, password or ""):
            raise InvalidInput({"password": NOT_THIS_ACCOUNTS_PASSWORD})  # the token stays
        await _mark_confirmed(session, user)
    return user


async def _mark_confirmed(session: AsyncSession, user: User) -> None:
    """The mailbox of the account's address answered (a confirmation or a reset link): the
    address is confirmed, and the account's other confirmation links are spent."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = func.now()
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == AccountTokenPurpose.CONFIRM_EMAIL,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=func.now())
    )


# --- registering with an address that has an account ---


async def register_or_notify(
    session: AsyncSession, data: Registration, *, settings: Settings
) -> None:
    """The registration form: a new account; or, if the address has an account already, a
    mail to its owner (`notify_owner`). The form answers both the same way, so that nobody
    learns which addresses are registered. Invalid input raises InvalidInput as before."""
    try:
        await register(session, data, settings=settings)
    except EmailTaken:
        async with transaction(session):
            owner = await _account_locked(session, clean_text(data.email, max_length=254).lower())
            if owner is not None:
                await notify_owner(session, settings, owner)


async def _account_locked(session: AsyncSession, address: str) -> User | None:
    """The account of the (lower-case) address, locked for this transaction, if there is one."""
    return await session.scalar(
        select(User).where(func.lower(User.email) == address).with_for_update()
    )


async def _mails_in_last_hour(session: AsyncSession, user: User, kind: str) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(OutboxMail)
            .where(
                OutboxMail.to_user_id == user.id,
                OutboxMail.kind == kind,
                OutboxMail.created_at > func.now() - timedelta(hours=1),
            )
        )
        or 0
    )


async def notify_owner(session: AsyncSession, settings: Settings, user: User) -> None:
    """Somebody gave the address of `user` for a new account (registration, a guest's full
    account, a changed address). In the caller's transaction, `user` locked. An unconfirmed
    account gets its confirmation link again; a confirmed one a notice (log in, or set a new
    password). At most REGISTRATION_NOTICES_PER_HOUR mails of either kind per account and hour."""
    if not user.is_active or user.is_guest:
        return
    if user.email_confirmed_at is None:
        await send_confirmation_again(session, settings, user)
        return
    if await _mails_in_last_hour(session, user, "registration_attempt") >= (
        REGISTRATION_NOTICES_PER_HOUR
    ):
        return
    enqueue(
        session,
        settings,
        to=recipient(user),
        template="registration_attempt",
        subject=N_("Somebody tried to register with your email address"),
        login_url=f"{settings.public_url}/login",
        forgot_url=f"{settings.public_url}/password/forgot",
    )


async def send_confirmation_again(session: AsyncSession, settings: Settings, user: User) -> None:
    """The confirmation link once more (in the caller's transaction), at most
    REGISTRATION_NOTICES_PER_HOUR times an hour: asked for on the profile, by a second
    registration or by a login with the right password before the address was confirmed."""
    if await _mails_in_last_hour(session, user, "confirm_email") < REGISTRATION_NOTICES_PER_HOUR:
        await send_confirmation(session, settings, user)


async def log_in(
    session: AsyncSession,
    settings: Settings,
    email: str,
    password: str,
    *,
    address: str,
    device: str | None,
) -> User:
    """The login form: the account, or the same DomainError for a wrong password and for an
    address not confirmed yet; in the second case the confirmation link goes out again."""
    try:
        return await service.authenticate(session, email, password, address=address, device=device)
    except service.Unconfirmed as exc:
        async with transaction(session):
            user = await session.get(User, exc.user_id, with_for_update=True)
            if user is not None and user.email_confirmed_at is None:
                await send_confirmation_again(session, settings, user)
        raise


# --- password reset ---


async def request_password_reset(session: AsyncSession, settings: Settings, email: str) -> None:
    """Always answers the same way: whether the address has an account is not told."""
    address = clean_text(email, max_length=254).lower()
    if email_problem(address):
        raise InvalidInput({"email": N_("Please enter a valid email address.")})
    async with transaction(session):
        user = await _account_locked(session, address)
        if user is None or not user.is_active:
            return
        recent = await session.scalar(
            select(func.count())
            .select_from(AccountToken)
            .where(
                AccountToken.user_id == user.id,
                AccountToken.purpose == AccountTokenPurpose.RESET_PASSWORD,
                AccountToken.created_at > func.now() - timedelta(hours=1),
            )
        )
        if (recent or 0) >= RESETS_PER_HOUR:
            return
        await _send_reset(session, settings, user)


async def _send_reset(session: AsyncSession, settings: Settings, user: User) -> None:
    token = await _issue(session, user, AccountTokenPurpose.RESET_PASSWORD)
    enqueue(
        session,
        settings,
        to=recipient(user),
        template="reset_password",
        subject=N_("Set a new password"),
        link=f"{settings.public_url}/password/reset/{token}",
    )


async def reset_password(session: AsyncSession, token: str, new_password: str) -> User:
    async with transaction(session):
        await check_token(session, token, AccountTokenPurpose.RESET_PASSWORD)
        user_id = await session.scalar(
            select(AccountToken.user_id).where(AccountToken.token_hash == hash_token(token or ""))
        )
        user = await session.get(User, user_id, with_for_update=True) if user_id else None
        if user is not None and (
            problem := password_problem(
                new_password, email=user.email, display_name=user.display_name
            )
        ):
            raise InvalidInput({"password": problem})
        used = await _consume(session, token, AccountTokenPurpose.RESET_PASSWORD)
        if user is None or used.user_id != user.id or not user.is_active:
            raise DomainError(LINK_UNKNOWN, code="link_unknown")
        user.password_hash = hash_password(new_password)
        user.session_version += 1  # every session, also a thief's, ends
        # and every API token: whoever took over the account may have made one
        await session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
        # The link came by mail: the address works.
        await _mark_confirmed(session, user)
        audit.record(
            session,
            actor_id=user.id,
            action="user.reset_password",
            target_type="user",
            target_id=user.id,
        )
    return user


# --- profile, address, password ---


@dataclass
class ProfileForm:
    display_name: str
    organisation: str
    sector: str
    region: str
    locale: str
    name_in_exports: bool


async def update_profile(session: AsyncSession, user_id: int, form: ProfileForm) -> User:
    display_name = clean_text(form.display_name, max_length=80)
    organisation = clean_text(form.organisation, max_length=160)
    errors = {
        field: problem
        for field, problem in (
            ("display_name", length_problem(display_name, minimum=2, maximum=80)),
            ("organisation", length_problem(organisation, minimum=0, maximum=160)),
            ("sector", choice_problem(form.sector, Sector)),
            ("region", choice_problem(form.region, Region)),
            (
                "locale",
                None if form.locale in LOCALES else N_("Please choose a value from the list."),
            ),
        )
        if problem
    }
    if errors:
        raise InvalidInput(errors)
    async with transaction(session):
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFoundError(N_("This user does not exist."), code="user_not_found")
        user.display_name = display_name
        user.organisation = organisation
        user.sector = Sector(form.sector)
        user.region = Region(form.region)
        user.locale = form.locale
        user.name_in_exports = form.name_in_exports
    return user


async def request_email_change(
    session: AsyncSession, settings: Settings, user_id: int, *, new_email: str, password: str
) -> None:
    address = clean_text(new_email, max_length=254).lower()
    if problem := email_problem(address):
        raise InvalidInput({"new_email": problem})
    async with transaction(session):
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFoundError(N_("This user does not exist."), code="user_not_found")
        if not verify_password(user.password_hash, password or ""):
            raise InvalidInput({"current_password": WRONG_PASSWORD})
        if address == user.email.lower():
            raise InvalidInput({"new_email": N_("This is already your email address.")})
        await send_address_link(session, settings, user, address)


async def send_address_link(
    session: AsyncSession, settings: Settings, user: User, address: str
) -> None:
    """The link that makes `address` the address of `user` once opened (in the caller's
    transaction). If `address` has an account already, its owner is told instead
    (notify_owner); the person asking sees the same answer either way."""
    owner = await _account_locked(session, address)
    if owner is not None:
        await notify_owner(session, settings, owner)
        return
    token = await _issue(session, user, AccountTokenPurpose.CHANGE_EMAIL, new_email=address)
    enqueue(
        session,
        settings,
        to=recipient(user, address),
        template="change_email",
        subject=N_("Please confirm your new email address"),
        link=f"{settings.public_url}/account/email/{token}",
        new_email=address,
    )


async def confirm_email_change(session: AsyncSession, settings: Settings, token: str) -> User:
    try:
        async with transaction(session):
            used = await _consume(session, token, AccountTokenPurpose.CHANGE_EMAIL)
            user = await session.get(User, used.user_id, with_for_update=True)
            if user is None or not used.new_email:
                raise DomainError(LINK_UNKNOWN, code="link_unknown")
            if await email_taken(session, used.new_email):
                raise DomainError(EMAIL_TAKEN, code="email_taken")
            old_address, was_guest = user.email, user.is_guest
            user.email = used.new_email
            user.email_confirmed_at = func.now()
            # A workshop guest who asked for a full account has one now (same user).
            user.guest_event_id = None
            await session.flush()
            if not was_guest:
                # The old address learns of it (someone with the password could have done it).
                enqueue(
                    session,
                    settings,
                    to=recipient(user, old_address),
                    template="email_changed",
                    subject=N_("Your email address was changed"),
                    new_email=used.new_email,
                )
            audit.record(
                session,
                actor_id=user.id,
                action="user.full_account" if was_guest else "user.change_email",
                target_type="user",
                target_id=user.id,
            )
    except IntegrityError as exc:  # somebody registered the address meanwhile
        raise DomainError(EMAIL_TAKEN, code="email_taken") from exc
    return user


async def change_password(
    session: AsyncSession, settings: Settings, user_id: int, *, current: str, new: str
) -> User:
    async with transaction(session):
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFoundError(N_("This user does not exist."), code="user_not_found")
        if not verify_password(user.password_hash, current or ""):
            raise InvalidInput({"current_password": WRONG_PASSWORD})
        if problem := password_problem(new, email=user.email, display_name=user.display_name):
            raise InvalidInput({"new_password": problem})
        user.password_hash = hash_password(new)
        user.session_version += 1  # other sessions end; the caller starts a new one
        enqueue(
            session,
            settings,
            to=recipient(user),
            template="password_changed",
            subject=N_("Your password was changed"),
        )
    return user


# --- consent ---


def needs_consent(user: User, settings: Settings) -> bool:
    return not user.is_guest and user.consent_version != settings.consent_version


async def record_consent(session: AsyncSession, settings: Settings, user_id: int) -> None:
    async with transaction(session):
        await session.execute(
            update(User)
            .where(User.id == user_id)
            .values(consent_version=settings.consent_version, consent_at=func.now())
        )


# --- admins ---


async def set_active(session: AsyncSession, *, actor_id: int, user_id: int, active: bool) -> User:
    async with transaction(session):
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFoundError(N_("This user does not exist."), code="user_not_found")
        if user.id == actor_id:
            raise DomainError(
                N_("You cannot deactivate your own account."), code="cannot_deactivate_self"
            )
        before = user.is_active
        user.is_active = active
        if not active:
            user.session_version += 1  # logged out everywhere at once
        audit.record(
            session,
            actor_id=actor_id,
            action="user.activate" if active else "user.deactivate",
            target_type="user",
            target_id=user.id,
            before={"active": before},
            after={"active": active},
        )
    return user


async def admin_send_reset(
    session: AsyncSession, settings: Settings, *, actor_id: int, user_id: int
) -> None:
    async with transaction(session):
        user = await session.get(User, user_id, with_for_update=True)
        if user is None or user.is_guest or not user.email:
            raise NotFoundError(N_("This user does not exist."), code="user_not_found")
        await _send_reset(session, settings, user)
        audit.record(
            session,
            actor_id=actor_id,
            action="user.send_reset",
            target_type="user",
            target_id=user.id,
        )
