from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.choices import N_, LabelledEnum
from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column, enum_column


class MergeRecord(Base):
    """What one merge of `source` into `target` moved, so that it can be undone exactly."""

    __tablename__ = "merge_records"
    __table_args__ = (
        Index("ix_merge_records_target", "target_id"),
        Index("ix_merge_records_source", "source_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), nullable=False
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source_status: Mapped[str] = mapped_column(String(40), nullable=False)
    # Voters of the source who did not support the target: their vote moved to the target.
    moved_vote_user_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)
    # Voters of both: their vote on the source was dropped (the budget came back to them).
    dropped_vote_user_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)
    # When each dropped vote was cast, so that an unmerge restores it as it was.
    dropped_vote_created_at: Mapped[list[datetime]] = mapped_column(
        ARRAY(DateTime(timezone=True)), nullable=False
    )
    moved_comment_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)
    added_coauthor_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class IdeaCoauthor(Base):
    """Authors of ideas merged into this one (the idea's own author stays `ideas.author_id`)."""

    __tablename__ = "idea_coauthors"

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    merge_id: Mapped[int | None] = mapped_column(
        ForeignKey("merge_records.id", ondelete="SET NULL")
    )


class ReportReason(LabelledEnum):
    SPAM = "spam", N_("Spam or advertising")
    OFFENSIVE = "offensive", N_("Insulting or discriminating")
    PERSONAL_DATA = "personal_data", N_("Contains personal data")
    OFF_TOPIC = "off_topic", N_("Off topic")
    DUPLICATE = "duplicate", N_("Duplicate of another idea")
    OTHER = "other", N_("Something else")


REPORT_REASON_LABELS: dict[str, str] = ReportReason.labels()


class ReportStatus(StrEnum):
    OPEN = "open"
    HIDDEN = "hidden"
    KEPT = "kept"


class Report(Base):
    """A user's report of an idea or (with `comment_id`) of a comment on it."""

    __tablename__ = "reports"
    __table_args__ = (
        # One open report per person and content: a second click does not pile up the queue.
        Index(
            "uq_reports_open_per_reporter",
            "reporter_id",
            "idea_id",
            text("coalesce(comment_id, 0)"),
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_reports_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[ReportReason] = mapped_column(
        enum_column(ReportReason, "report_reason"), nullable=False
    )
    details: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "report_status"), nullable=False, default=ReportStatus.OPEN
    )
    created_at: Mapped[datetime] = created_at_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
