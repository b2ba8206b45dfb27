from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.choices import N_, LabelledEnum, Region, Sector
from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column, enum_column


class IdeaStatus(LabelledEnum):
    PUBLISHED = "published", N_("Published")
    HIDDEN = "hidden", N_("Hidden")
    MERGED = "merged", N_("Merged")
    WITHDRAWN = "withdrawn", N_("Withdrawn")


STATUS_LABELS: dict[str, str] = IdeaStatus.labels()

SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('german'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('german'::regconfig, coalesce(body, '')), 'B')"
)


class Idea(Base):
    __tablename__ = "ideas"
    __table_args__ = (
        CheckConstraint("vote_count >= 0", name="vote_count_not_negative"),
        CheckConstraint("comment_count >= 0", name="comment_count_not_negative"),
        CheckConstraint(
            "merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_self"
        ),
        Index("ix_ideas_process_status_votes", "process_id", "status", "vote_count"),
        Index("ix_ideas_process_status_created", "process_id", "status", "created_at"),
        Index("ix_ideas_search", "search", postgresql_using="gin"),
        Index("ix_ideas_process_sector", "process_id", "author_sector", "status", "vote_count"),
        # An idea is carried into a later process at most once.
        Index(
            "uq_ideas_process_carried_over_from",
            "process_id",
            "carried_over_from_id",
            unique=True,
            postgresql_where=text("carried_over_from_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("topics.id", ondelete="SET NULL"), index=True
    )
    # The theme of the cluster board the idea is sorted into (None: "unsorted").
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("themes.id", ondelete="SET NULL"), index=True
    )
    # The moderator who typed or imported the paper card (None: submitted by its author).
    captured_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # Sanitised HTML rendered from `body` when it is written; templates show only this.
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    region: Mapped[Region] = mapped_column(enum_column(Region, "region"), nullable=False)
    # Copied from the author at submission; imported paper cards carry it without an account.
    author_sector: Mapped[Sector | None] = mapped_column(enum_column(Sector, "sector"))
    status: Mapped[IdeaStatus] = mapped_column(
        enum_column(IdeaStatus, "idea_status"), nullable=False, default=IdeaStatus.PUBLISHED
    )
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="SET NULL"))
    # The idea of an earlier cycle this one was carried over from (its votes stay there).
    carried_over_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("ideas.id", ondelete="SET NULL"), index=True
    )
    # Why a moderator hid the idea, or the note of the merge; shown to the people concerned.
    moderation_note: Mapped[str | None] = mapped_column(Text)
    vote_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search: Mapped[str] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True), deferred=True
    )
