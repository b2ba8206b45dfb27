"""votes of a process by time (the dashboard's weeks)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_votes_process_created", "votes", ["process_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_votes_process_created", table_name="votes")
