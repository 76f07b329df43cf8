"""shift_instances: partial index of the shifts over 12 hours, for on-shift lookups

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The predicates are app.models.rota.LONG_SHIFT_SQLITE / LONG_SHIFT_POSTGRESQL.
    with op.batch_alter_table("shift_instances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shift_instances_team_long",
            ["team_id", "starts_at"],
            unique=False,
            sqlite_where=sa.text("julianday(ends_at) - julianday(starts_at) > 0.5"),
            postgresql_where=sa.text("ends_at - starts_at > interval '12 hours'"),
        )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.dialect.server_version_info >= (14,):
        # Statistics of shift lengths, so that the planner knows how few shifts the partial
        # index holds (without them it guesses a third of the rows and may hash-join).
        op.execute(
            "CREATE STATISTICS IF NOT EXISTS st_shift_instances_length "
            "ON (ends_at - starts_at) FROM shift_instances"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_shift_instances_length")
    with op.batch_alter_table("shift_instances", schema=None) as batch_op:
        batch_op.drop_index("ix_shift_instances_team_long")
