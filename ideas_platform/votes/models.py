from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column


class Vote(Base):
    """One support of one user for one idea. The primary key forbids a second one."""

    __tablename__ = "votes"
    __table_args__ = (
        Index("ix_votes_user_process", "user_id", "process_id"),
        # The dashboard counts a process's votes per week from this index alone.
        Index("ix_votes_process_created", "process_id", "created_at"),
    )

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Denormalised from the idea so that the budget check is one index lookup.
    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = created_at_column()
