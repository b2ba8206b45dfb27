from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.choices import Region, Role, Sector
from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column, enum_column


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_lower", text("lower(email)"), unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    sector: Mapped[Sector] = mapped_column(enum_column(Sector, "sector"), nullable=False)
    organisation: Mapped[str] = mapped_column(String(160), nullable=False, default="")
    region: Mapped[Region] = mapped_column(enum_column(Region, "region"), nullable=False)
    role: Mapped[Role] = mapped_column(
        enum_column(Role, "role"), nullable=False, default=Role.PARTICIPANT
    )
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="de")
    # Bumped on logout and password change: invalidates every session cookie issued before.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_active: Mapped[bool] = mapped_column(nullable=False, default=True)
    # The person agreed that the ministry's exports show their name and organisation;
    # without it they appear as "participant from <sector>, <region>".
    name_in_exports: Mapped[bool] = mapped_column(
        nullable=False, default=False, server_default=false()
    )
    # A guest joined one event with a display name only (no email, no password); it becomes a
    # full account when it adds both, keeping its ideas and votes.
    guest_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    # None until the person followed the link in the confirmation mail (the account works anyway).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The version of the terms and privacy notice the person agreed to, and when.
    consent_version: Mapped[str | None] = mapped_column(String(40))
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def can_moderate(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_guest(self) -> bool:
        return self.guest_event_id is not None

    @property
    def is_ministry(self) -> bool:
        return self.role in (Role.MINISTRY, Role.ADMIN)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    # Only the SHA-256 of the token is stored; the token is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccountTokenPurpose(StrEnum):
    CONFIRM_EMAIL = "confirm_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a password
    CHANGE_EMAIL = "change_email"


class AccountToken(Base):
    """A single-use link sent by mail (confirm the address, reset the password, new address)."""

    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_purpose", "user_id", "purpose", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    purpose: Mapped[AccountTokenPurpose] = mapped_column(
        enum_column(AccountTokenPurpose, "account_token_purpose"), nullable=False
    )
    # Only the SHA-256 of the token is stored; the token itself is only in the mail.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    new_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
