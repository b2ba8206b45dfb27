"""idea embeddings (sentence vectors), with an HNSW index where pgvector is available;
how the number of suggested themes was chosen

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idea_embeddings",
        sa.Column("idea_id", sa.BigInteger(), nullable=False),
        sa.Column("process_id", sa.BigInteger(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("vector", postgresql.ARRAY(sa.REAL()), nullable=False),
        sa.Column(
            "embedded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_embeddings_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["processes.id"],
            name=op.f("fk_idea_embeddings_process_id_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idea_id", name=op.f("pk_idea_embeddings")),
    )
    op.create_index(
        "ix_idea_embeddings_process",
        "idea_embeddings",
        ["process_id", "embedded_at"],
        unique=False,
    )
    op.add_column(
        "theme_suggestions",
        sa.Column("k_choice", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    # pgvector where the server offers it (the embedded PostgreSQL does); without it the app
    # searches the vectors exactly in numpy. CREATE EXTENSION needs the right to create it: a
    # refusal leaves the app on the exact search (said in its log), the migration goes on.
    bind = op.get_bind()
    available = bind.scalar(
        sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
    )
    if not available:
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError:
        return
    op.execute(
        "CREATE INDEX ix_idea_embeddings_hnsw ON idea_embeddings "
        "USING hnsw ((vector::vector(512)) vector_cosine_ops)"
    )


def downgrade() -> None:
    op.drop_column("theme_suggestions", "k_choice")
    op.drop_table("idea_embeddings")
