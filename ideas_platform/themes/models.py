from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Identity, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column


class Theme(Base):
    """A group of ideas on the cluster board ("a column on the workshop wall")."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Locked themes keep their ideas: only moderators move ideas in or out.
    locked: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # Set when a moderator merged this theme into another; it is then no longer on the board.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
