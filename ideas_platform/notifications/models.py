from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.choices import N_, LabelledEnum
from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column, enum_column


class NotificationKind(LabelledEnum):
    COMMENT = "comment", N_("Comments on ideas I wrote or follow")
    REPLY = "reply", N_("Replies to my comments")
    MODERATION = "moderation", N_("My ideas merged, separated again or hidden")
    SHORTLIST = "shortlist", N_("Nominations and the ministry's decisions")
    PHASE = "phase", N_("A new phase in a process I take part in")
    THEME = "theme", N_("New ideas in themes I follow")
    MEASURE = "measure", N_("How the ministry implements ideas I support or follow")


class Frequency(LabelledEnum):
    IMMEDIATE = "immediate", N_("Immediately")
    DAILY = "daily", N_("Daily digest")
    WEEKLY = "weekly", N_("Weekly digest")
    OFF = "off", N_("No email")


class MailState(StrEnum):
    PENDING = "pending"  # waits for its mail (immediately or with the next digest)
    MAILED = "mailed"
    NONE = "none"  # the person wants no mail for this kind, or has no address (guest)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
        ),
        Index(
            "ix_notifications_mail_pending",
            "user_id",
            "created_at",
            postgresql_where=text("mail_state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[NotificationKind] = mapped_column(
        enum_column(NotificationKind, "notification_kind"), nullable=False
    )
    # What happened, e.g. "merged", "accepted", "collect"; with `kind` it picks the sentence.
    event: Mapped[str] = mapped_column(String(40), nullable=False)
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    process_id: Mapped[int | None] = mapped_column(ForeignKey("processes.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Snapshot for the sentence (titles, a comment excerpt, the ministry's note).
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mail_state: Mapped[MailState] = mapped_column(
        enum_column(MailState, "notification_mail_state"), nullable=False
    )
    mail_frequency: Mapped[Frequency] = mapped_column(
        enum_column(Frequency, "notification_frequency"), nullable=False
    )
    mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_mails.id", ondelete="SET NULL"), index=True
    )


class Follow(Base):
    """Someone follows an idea (automatic for its author) or a theme."""

    __tablename__ = "follows"
    __table_args__ = (
        CheckConstraint("(idea_id IS NULL) <> (theme_id IS NULL)", name="idea_or_theme"),
        UniqueConstraint("user_id", "idea_id", name="uq_follows_user_idea"),
        UniqueConstraint("user_id", "theme_id", name="uq_follows_user_theme"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    idea_id: Mapped[int | None] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), index=True
    )
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()


class NotificationPreference(Base):
    """How a person wants to hear of one kind; without a row the kind's default applies."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[NotificationKind] = mapped_column(
        enum_column(NotificationKind, "notification_kind"), primary_key=True
    )
    frequency: Mapped[Frequency] = mapped_column(
        enum_column(Frequency, "notification_frequency"), nullable=False
    )


class PhaseAnnouncement(Base):
    """A phase start that was announced (once, whichever worker saw it first)."""

    __tablename__ = "phase_announcements"

    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    announced_at: Mapped[datetime] = created_at_column()
