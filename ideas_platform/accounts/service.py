"""Accounts: registration, login, logout, API tokens, roles. Each call is one transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts import lockout
from ideas_platform.accounts.auth import hash_token
from ideas_platform.accounts.lockout import (  # noqa: F401 - the names callers know
    ACCOUNT_LOCKOUT_THRESHOLD,
    LOCKOUT_FIRST_DELAY,
    LOCKOUT_MAX_DELAY,
    LOCKOUT_MEMORY,
    LOCKOUT_THRESHOLD,
    LOCKOUT_WINDOW,
    AccountLocked,
    lockout_key,
)
from ideas_platform.accounts.models import ApiToken, User
from ideas_platform.audit import service as audit
from ideas_platform.core.choices import N_, Region, Role, Sector
from ideas_platform.core.config import Settings
from ideas_platform.core.database import transaction
from ideas_platform.core.errors import DomainError, InvalidInput, NotFoundError, PermissionError_
from ideas_platform.core.i18n import LOCALES
from ideas_platform.core.passwords import hash_password, password_problem, verify_password
from ideas_platform.core.validation import (
    choice_problem,
    clean_text,
    email_problem,
    length_problem,
)

EMAIL_TAKEN = N_("An account with this email address already exists.")
WRONG_LOGIN = N_("Email address or password is wrong.")


class EmailTaken(InvalidInput):
    """The address has an account already. The registration form does not say so to the
    visitor (lifecycle.register_or_notify); the command line and profile forms do."""

    def __init__(self) -> None:
        super().__init__({"email": EMAIL_TAKEN})


@dataclass
class Registration:
    email: str
    display_name: str
    password: str
    sector: str
    region: str
    organisation: str = ""
    locale: str = "de"
    # The registration form asks for consent to the terms and the privacy notice.
    accepted_terms: bool = True


def _validate_registration(data: Registration) -> Registration:
    cleaned = Registration(
        email=clean_text(data.email, max_length=254).lower(),
        display_name=clean_text(data.display_name, max_length=80),
        password=data.password or "",
        sector=clean_text(data.sector, max_length=40),
        region=clean_text(data.region, max_length=40),
        organisation=clean_text(data.organisation, max_length=160),
        locale=data.locale if data.locale in LOCALES else "de",
        accepted_terms=data.accepted_terms,
    )
    errors: dict[str, str] = {}
    if not cleaned.accepted_terms:
        errors["accepted_terms"] = N_(
            "Please agree to the terms of participation and the privacy notice."
        )
    for field, problem in (
        ("email", email_problem(cleaned.email)),
        ("display_name", length_problem(cleaned.display_name, minimum=2, maximum=80)),
        ("sector", choice_problem(cleaned.sector, Sector)),
        ("region", choice_problem(cleaned.region, Region)),
        ("organisation", length_problem(cleaned.organisation, minimum=0, maximum=160)),
        (
            "password",
            password_problem(
                cleaned.password, email=cleaned.email, display_name=cleaned.display_name
            ),
        ),
    ):
        if problem:
            errors[field] = problem
    if errors:
        raise InvalidInput(errors)
    return cleaned


async def email_taken(session: AsyncSession, email: str) -> bool:
    found = await session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    return found is not None


async def register(
    session: AsyncSession,
    data: Registration,
    *,
    role: Role = Role.PARTICIPANT,
    settings: Settings | None = None,
    confirm_by_mail: bool = True,
) -> User:
    """With `settings` (the registration form): the consent is stored with the current version
    and (unless `confirm_by_mail` is off) a confirmation mail goes out in the same transaction.
    Such an account logs in only once the link in that mail is opened (`authenticate`), so the
    registration form tells nobody whether an address had an account. An account made without
    that mail (by an administrator or a tool) counts as confirmed."""
    cleaned = _validate_registration(data)
    sends_confirmation = settings is not None and confirm_by_mail
    user = User(
        email=cleaned.email,
        display_name=cleaned.display_name,
        password_hash=hash_password(cleaned.password),
        sector=Sector(cleaned.sector),
        region=Region(cleaned.region),
        organisation=cleaned.organisation,
        locale=cleaned.locale,
        role=role,
        session_version=0,
        is_active=True,
    )
    try:
        async with transaction(session):
            if await email_taken(session, cleaned.email):
                raise EmailTaken()
            if settings is not None:
                user.consent_version = settings.consent_version
                user.consent_at = func.now()
            if not sends_confirmation:
                user.email_confirmed_at = func.now()
            session.add(user)
            await session.flush()
            if settings is not None and sends_confirmation:
                from ideas_platform.accounts.lifecycle import send_confirmation

                await send_confirmation(session, settings, user)
            if role is not Role.PARTICIPANT:
                audit.record(
                    session,
                    actor_id=None,
                    action="user.create_with_role",
                    target_type="user",
                    target_id=user.id,
                    after={"role": role.value},
                )
    except IntegrityError as exc:  # a concurrent registration with the same email won
        raise EmailTaken() from exc
    return user


class Unconfirmed(DomainError):
    """The right password for an account whose address is not confirmed yet: told to the
    person exactly like a wrong password (the caller mails the link again)."""

    def __init__(self, user_id: int) -> None:
        super().__init__(WRONG_LOGIN, field="email", code="wrong_login")
        self.user_id = user_id


async def authenticate(
    session: AsyncSession,
    email: str,
    password: str,
    *,
    address: str = "",
    device: str | None = None,
) -> User:
    """The account of email and password, or DomainError (wrong) / AccountLocked (429).

    `address`: the client address; `device`: the id of this browser's known-device cookie for
    the account, if it has a valid one (see accounts/lockout.py for whom a lock applies to)."""
    counters = lockout.counters(email, address=address, device=device)
    await lockout.check_not_locked(session, counters)
    user = await session.scalar(
        select(User).where(func.lower(User.email) == (email or "").strip().lower())
    )
    ok = verify_password(user.password_hash if user else None, password or "")
    if user is None or not ok or not user.is_active or user.email_confirmed_at is None:
        # An unconfirmed address answers like a wrong password: otherwise whoever registered
        # somebody else's address could learn from the login whether it had an account.
        locked_for = await lockout.record_failure(session, counters)
        if locked_for:
            raise AccountLocked(locked_for)
        if user is not None and ok and user.is_active:
            raise Unconfirmed(user.id)
        raise DomainError(WRONG_LOGIN, field="email", code="wrong_login")
    await lockout.forget(session, counters[0])
    return user


async def end_all_sessions(session: AsyncSession, user_id: int) -> None:
    """Logout: every session cookie issued to this user so far stops working."""
    async with transaction(session):
        await session.execute(
            update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
        )


async def set_locale(session: AsyncSession, user_id: int, locale: str) -> None:
    if locale not in LOCALES:
        raise InvalidInput({"locale": N_("Please choose a value from the list.")})
    async with transaction(session):
        await session.execute(update(User).where(User.id == user_id).values(locale=locale))


async def set_name_in_exports(session: AsyncSession, user_id: int, consent: bool) -> None:
    """The person's consent that the ministry's exports show their name and organisation."""
    async with transaction(session):
        await session.execute(
            update(User).where(User.id == user_id).values(name_in_exports=consent)
        )


async def create_api_token(session: AsyncSession, user_id: int, name: str) -> str:
    """Answers the token once; only its hash is stored."""
    name = clean_text(name, max_length=80)
    problem = length_problem(name, minimum=1, maximum=80)
    if problem:
        raise InvalidInput({"name": problem})
    token = "ip_" + secrets.token_urlsafe(32)
    async with transaction(session):
        session.add(ApiToken(user_id=user_id, name=name, token_hash=hash_token(token)))
    return token


async def list_api_tokens(session: AsyncSession, user_id: int) -> list[ApiToken]:
    result = await session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)
    )
    return list(result)


async def revoke_api_token(session: AsyncSession, user_id: int, token_id: int) -> None:
    async with transaction(session):
        result = await session.execute(
            delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFoundError(N_("This token does not exist."), code="token_not_found")


USERS_PER_PAGE = 50


@dataclass
class UserPage:
    """One page of the admin's user list; the search stays in the page links."""

    items: list[User]
    total: int
    page: int
    pages: int
    query: str

    def _link(self, page: int) -> str:
        params = {"q": self.query or None, "page": page if page > 1 else None}
        return urlencode({k: v for k, v in params.items() if v is not None})

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_page_query(self) -> str:
        return self._link(self.page + 1) if self.has_next else ""

    @property
    def previous_page_query(self) -> str:
        return self._link(self.page - 1) if self.page > 1 else ""

    @property
    def first_number(self) -> int:
        return (self.page - 1) * USERS_PER_PAGE + 1 if self.items else 0


async def list_users(
    session: AsyncSession, *, query: str = "", page: int = 1, per_page: int = USERS_PER_PAGE
) -> UserPage:
    """Newest accounts first, optionally only those whose name or address contains `query`;
    a page beyond the last shows the last."""
    condition = None
    if query:
        # autoescape: "%" and "_" in the search are letters, not wildcards
        needle = query.lower()
        condition = func.lower(User.email).contains(needle, autoescape=True) | func.lower(
            User.display_name
        ).contains(needle, autoescape=True)
    count = select(func.count()).select_from(User)
    stmt = select(User).order_by(User.created_at.desc(), User.id.desc())
    if condition is not None:
        count, stmt = count.where(condition), stmt.where(condition)
    total = int(await session.scalar(count) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = list(await session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return UserPage(items, total, page, pages, query)


async def change_role(session: AsyncSession, *, actor_id: int, user_id: int, role: str) -> User:
    if choice_problem(role, Role):
        raise InvalidInput({"role": N_("Please choose a value from the list.")})
    async with transaction(session):
        # Lock the admins first (always in the same order), so that two admins demoting
        # each other at the same moment are serialised and one admin always remains.
        admin_ids = list(
            await session.scalars(
                select(User.id).where(User.role == Role.ADMIN).order_by(User.id).with_for_update()
            )
        )
        user = await session.get(User, user_id, with_for_update=True, populate_existing=True)
        if user is None:
            raise NotFoundError(N_("This user does not exist."), code="user_not_found")
        if user.id == actor_id and role != Role.ADMIN:
            raise DomainError(
                N_("You cannot take away your own administrator role."), code="cannot_demote_self"
            )
        if actor_id not in admin_ids:
            raise PermissionError_(N_("Your role does not allow this."))
        before = user.role.value
        user.role = Role(role)
        # A new role takes effect at the next request; the user stays logged in.
        audit.record(
            session,
            actor_id=actor_id,
            action="user.change_role",
            target_type="user",
            target_id=user.id,
            before={"role": before},
            after={"role": role},
        )
    return user


async def create_or_promote_admin(session: AsyncSession, data: Registration) -> User:
    """CLI `create-admin`: a new admin account, or the admin role for an existing email."""
    existing = await session.scalar(
        select(User).where(func.lower(User.email) == data.email.strip().lower())
    )
    if existing is None:
        return await register(session, data, role=Role.ADMIN)
    async with transaction(session):
        existing.role = Role.ADMIN
        audit.record(
            session,
            actor_id=None,
            action="user.promote_admin",
            target_type="user",
            target_id=existing.id,
            after={"role": "admin"},
        )
    return existing
