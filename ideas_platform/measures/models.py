from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ideas_platform.core.choices import N_, LabelledEnum
from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column, enum_column


class MeasureStatus(LabelledEnum):
    PLANNED = "planned", N_("Planned")
    IN_PROGRESS = "in_progress", N_("In progress")
    DONE = "done", N_("Done")
    DROPPED = "dropped", N_("Dropped")


MEASURE_STATUS_LABELS: dict[str, str] = MeasureStatus.labels()


class Measure(Base):
    """What the ministry does with an accepted recommendation (a shortlist entry): the last
    link of the chain idea → theme → recommendation → measure."""

    __tablename__ = "measures"
    __table_args__ = (
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        CheckConstraint(
            "target_on IS NULL OR starts_on IS NULL OR target_on >= starts_on",
            name="target_after_start",
        ),
        CheckConstraint(
            "status <> 'dropped' OR length(status_reason) > 0", name="dropped_with_reason"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # One measure per accepted recommendation.
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("shortlist_entries.id", ondelete="RESTRICT"), nullable=False, unique=True
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_html: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The responsible unit of the ministry ("Referat 32").
    unit: Mapped[str] = mapped_column(String(160), nullable=False)
    status: Mapped[MeasureStatus] = mapped_column(
        enum_column(MeasureStatus, "measure_status"), nullable=False, default=MeasureStatus.PLANNED
    )
    status_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    starts_on: Mapped[date | None] = mapped_column(Date)
    target_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MeasureUpdate(Base):
    """A dated report of the ministry on a measure (Markdown, optionally one PDF)."""

    __tablename__ = "measure_updates"
    __table_args__ = (Index("ix_measure_updates_measure_id_id", "measure_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("measures.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    # The measure's progress and status right after this update (the history of the bar).
    progress: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[MeasureStatus] = mapped_column(
        enum_column(MeasureStatus, "measure_status"), nullable=False
    )
    created_at: Mapped[datetime] = created_at_column()
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment_size: Mapped[int | None] = mapped_column(Integer)
    attachment: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))


class CarriedMeasure(Base):
    """A measure that a later agenda cycle carries on: it keeps its process and its updates
    and is listed on the later process's Umsetzung page too."""

    __tablename__ = "carried_measures"

    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("measures.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = created_at_column()
