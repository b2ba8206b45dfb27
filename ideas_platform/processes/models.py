from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ideas_platform.core.choices import N_, LabelledEnum
from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column, enum_column


class PhaseKind(LabelledEnum):
    COLLECT = "collect", N_("Collecting ideas")
    VOTE = "vote", N_("Voting")
    CLUSTER = "cluster", N_("Clustering into themes")
    SHORTLIST = "shortlist", N_("Shortlist")


PHASE_LABELS: dict[str, str] = {
    **PhaseKind.labels(),
    "closed": N_("Closed"),
    "upcoming": N_("Not started yet"),
}


class Process(Base):
    __tablename__ = "processes"
    __table_args__ = (
        CheckConstraint("vote_budget IS NULL OR vote_budget > 0", name="vote_budget_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Dot voting: at most this many supports per participant in the process; NULL = unlimited.
    vote_budget: Mapped[int | None] = mapped_column(Integer)
    # The next agenda cycle: the earlier process this one carries ideas and measures over from.
    carried_over_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("processes.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()

    phases: Mapped[list[ProcessPhase]] = relationship(
        back_populates="process",
        order_by="ProcessPhase.starts_at",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    topics: Mapped[list[Topic]] = relationship(
        back_populates="process", order_by="Topic.name", cascade="all, delete-orphan"
    )


class ProcessPhase(Base):
    """A phase of a process with its dates. Phases may overlap (collect while voting)."""

    __tablename__ = "process_phases"
    __table_args__ = (
        UniqueConstraint("process_id", "kind", name="uq_process_phases_process_kind"),
        CheckConstraint("starts_at < ends_at", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[PhaseKind] = mapped_column(enum_column(PhaseKind, "phase_kind"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    process: Mapped[Process] = relationship(back_populates="phases")


class Topic(Base):
    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("process_id", "name", name="uq_topics_process_name"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)

    process: Mapped[Process] = relationship(back_populates="topics")
