"""ideas of a process by the author's sector, with status and votes (the idea list filtered by
sector counts and sorts from the index)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 16:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_ideas_process_sector", table_name="ideas")
    op.create_index(
        "ix_ideas_process_sector",
        "ideas",
        ["process_id", "author_sector", "status", "vote_count"],
    )


def downgrade() -> None:
    op.drop_index("ix_ideas_process_sector", table_name="ideas")
    op.create_index("ix_ideas_process_sector", "ideas", ["process_id", "author_sector"])
