"""rota_plans: the rota planner's stored proposals

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-04 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0009"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rota_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("solve_seconds", sa.Float(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("team_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_by", sa.String(length=200), nullable=True),
        sa.Column("applied_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('optimal', 'feasible', 'infeasible', 'unknown')",
            name=op.f("ck_rota_plans_status_known"),
        ),
        sa.CheckConstraint("weeks >= 1 AND weeks <= 12", name=op.f("ck_rota_plans_weeks_in_range")),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_rota_plans_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_plans")),
    )
    with op.batch_alter_table("rota_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rota_plans_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rota_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rota_plans_team_id"))
    op.drop_table("rota_plans")
