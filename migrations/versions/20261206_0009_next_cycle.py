"""next agenda cycle: processes, ideas and measures carried over

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("processes", sa.Column("carried_over_from_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_processes_carried_over_from_id_processes"),
        "processes",
        "processes",
        ["carried_over_from_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        op.f("ix_processes_carried_over_from_id"), "processes", ["carried_over_from_id"]
    )
    op.add_column("ideas", sa.Column("carried_over_from_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_ideas_carried_over_from_id_ideas"),
        "ideas",
        "ideas",
        ["carried_over_from_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(op.f("ix_ideas_carried_over_from_id"), "ideas", ["carried_over_from_id"])
    op.create_index(
        "uq_ideas_process_carried_over_from",
        "ideas",
        ["process_id", "carried_over_from_id"],
        unique=True,
        postgresql_where=sa.text("carried_over_from_id IS NOT NULL"),
    )
    op.create_table(
        "carried_measures",
        sa.Column("process_id", sa.BigInteger(), nullable=False),
        sa.Column("measure_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measures.id"],
            name=op.f("fk_carried_measures_measure_id_measures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["processes.id"],
            name=op.f("fk_carried_measures_process_id_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("process_id", "measure_id", name=op.f("pk_carried_measures")),
    )
    op.create_index(op.f("ix_carried_measures_measure_id"), "carried_measures", ["measure_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_carried_measures_measure_id"), table_name="carried_measures")
    op.drop_table("carried_measures")
    op.drop_index("uq_ideas_process_carried_over_from", table_name="ideas")
    op.drop_index(op.f("ix_ideas_carried_over_from_id"), table_name="ideas")
    op.drop_constraint(op.f("fk_ideas_carried_over_from_id_ideas"), "ideas", type_="foreignkey")
    op.drop_column("ideas", "carried_over_from_id")
    op.drop_index(op.f("ix_processes_carried_over_from_id"), table_name="processes")
    op.drop_constraint(
        op.f("fk_processes_carried_over_from_id_processes"), "processes", type_="foreignkey"
    )
    op.drop_column("processes", "carried_over_from_id")
