from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    String,
    Text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.choices import N_, LabelledEnum
from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column, enum_column


class LiveMode(LabelledEnum):
    """What the projector shows; the moderator switches it."""

    COLLECT = "collect", N_("Collecting ideas")
    VOTE = "vote", N_("Dot voting")
    RESULTS = "results", N_("Results")


LIVE_MODE_LABELS: dict[str, str] = LiveMode.labels()


class Event(Base):
    """A live workshop of a process; ideas may be captured at one."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("dot_budget IS NULL OR dot_budget > 0", name="dot_budget_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    place: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    join_code: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at_column()
    # At most this many people join (guests and accounts); NULL: no limit.
    capacity: Mapped[int | None] = mapped_column(Integer)
    # The join code works until then (NULL: until the moderation closes joining).
    join_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    joining_open: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    # Dots per person for the event's ideas, instead of the process's vote budget; NULL: none.
    dot_budget: Mapped[int | None] = mapped_column(Integer)
    live_mode: Mapped[LiveMode] = mapped_column(
        enum_column(LiveMode, "live_mode"),
        nullable=False,
        default=LiveMode.COLLECT,
        server_default=LiveMode.COLLECT.value,
    )
    timer_label: Mapped[str] = mapped_column(
        String(120), nullable=False, default="", server_default=""
    )
    timer_ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EventAttendee(Base):
    """Somebody who joined an event with its code (an account or a guest)."""

    __tablename__ = "event_attendees"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = created_at_column()
