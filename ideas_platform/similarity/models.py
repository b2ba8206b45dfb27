from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, REAL
from sqlalchemy.orm import Mapped, mapped_column

from ideas_platform.core.database import Base
from ideas_platform.core.models_base import created_at_column


class IdeaTerm(Base):
    """The analysed terms of an idea (see `similarity.text`): the index behind the suggestions.

    Keyed by process first, so that "which ideas of this process contain these terms" and "how
    many ideas contain this term" are index-only scans.
    """

    __tablename__ = "idea_terms"
    __table_args__ = (Index("ix_idea_terms_idea", "idea_id"),)

    process_id: Mapped[int] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    # "C" collation: terms are [a-z0-9], and prefix ranges (term >= 'grund' AND term < 'grund{')
    # must follow byte order to use the index.
    term: Mapped[str] = mapped_column(String(64, collation="C"), primary_key=True)
    idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    weight: Mapped[float] = mapped_column(Float, nullable=False)


class DuplicatePair(Base):
    """A candidate pair for the moderators' duplicates queue (first_idea_id < second_idea_id)."""

    __tablename__ = "duplicate_pairs"
    __table_args__ = (
        CheckConstraint("first_idea_id < second_idea_id", name="ordered_pair"),
        Index(
            "ix_duplicate_pairs_open",
            "process_id",
            "score",
            postgresql_where=text("dismissed_at IS NULL"),
        ),
        Index("ix_duplicate_pairs_second", "second_idea_id"),
    )

    first_idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    second_idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    process_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("processes.id", ondelete="CASCADE"), nullable=False
    )
    score: Mapped[float] = mapped_column(Float, nullable=False)
    found_at: Mapped[datetime] = created_at_column()
    # "Not a duplicate": the pair never comes back, whatever the scorer says later.
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class IdeaEmbedding(Base):
    """An idea's sentence embedding (see `similarity.embedder`), for meaning-based neighbours.

    A plain `real[]`, so the table is the same on every server; where PostgreSQL has pgvector,
    an HNSW index on `vector::vector(512)` answers nearest-neighbour queries (see `vectors`).
    """

    __tablename__ = "idea_embeddings"
    __table_args__ = (Index("ix_idea_embeddings_process", "process_id", "embedded_at"),)

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    process_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("processes.id", ondelete="CASCADE"), nullable=False
    )
    model: Mapped[str] = mapped_column(String(64), nullable=False)
    vector: Mapped[list[float]] = mapped_column(ARRAY(REAL), nullable=False)
    embedded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )


# Created by migration 0006 only where the server has pgvector; not part of the models.
SERVER_DEPENDENT_INDEXES = frozenset({"ix_idea_embeddings_hnsw"})


def compared_by_alembic(obj: object, name: str | None, type_: str, *_: object) -> bool:
    """Alembic's `include_object`: leave the indexes that depend on the server alone."""
    return not (type_ == "index" and name in SERVER_DEPENDENT_INDEXES)
