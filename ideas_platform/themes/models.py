from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
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


class ThemeSuggestion(Base):
    """A run of the machine suggestions for a process, and what the moderators did with it.

    `proposals`: a list of {"title", "keywords", "idea_ids", "state": open|accepted|dropped,
    "theme_id"}; written by the background job, then updated by accept/drop.
    """

    __tablename__ = "theme_suggestions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), nullable=False, index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_k: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    ideas: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    proposals: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    # How the number of themes was chosen: {"k", "automatic", "silhouettes": {k: score}}.
    k_choice: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def model_missing(self) -> bool:
        return (self.error or "").startswith("EmbedderUnavailable")

    @property
    def silhouettes(self) -> list[tuple[int, float]]:
        """(k, score) of every k tried, for the moderator's table."""
        scores = (self.k_choice or {}).get("silhouettes") or {}
        return sorted((int(k), float(v)) for k, v in scores.items())
