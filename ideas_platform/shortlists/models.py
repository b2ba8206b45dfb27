from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.choices import N_, LabelledEnum
from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column, enum_column


class Decision(LabelledEnum):
    PENDING = "pending", N_("Nominated, awaiting the ministry")
    ACCEPTED = "accepted", N_("Accepted by the ministry")
    DECLINED = "declined", N_("Declined by the ministry")


DECISION_LABELS: dict[str, str] = Decision.labels()


class Shortlist(Base):
    """The shortlist of a process: its row is the lock every change of the list takes."""

    __tablename__ = "shortlists"

    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    # Set by the ministry; while set, nothing on the list changes (an admin may unfreeze).
    frozen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    frozen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ShortlistEntry(Base):
    """A nomination of one idea or one whole theme, and the ministry's decision on it."""

    __tablename__ = "shortlist_entries"
    __table_args__ = (
        CheckConstraint("(idea_id IS NULL) <> (theme_id IS NULL)", name="idea_or_theme"),
        UniqueConstraint("process_id", "idea_id", name="uq_shortlist_entries_idea"),
        UniqueConstraint("process_id", "theme_id", name="uq_shortlist_entries_theme"),
        CheckConstraint(
            "(decision = 'accepted') = (position IS NOT NULL)", name="position_when_accepted"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), nullable=False, index=True
    )
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    rationale: Mapped[str] = mapped_column(Text, nullable=False)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    decision: Mapped[Decision] = mapped_column(
        enum_column(Decision, "shortlist_decision"), nullable=False, default=Decision.PENDING
    )
    decision_comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The ministry's order of the accepted entries (1 = first); None unless accepted.
    position: Mapped[int | None] = mapped_column(Integer)
