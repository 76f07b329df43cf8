"""closures, daily job runs, calls.scrubbed_at, specialists.email / external_ref

Revision ID: 0011
Revises: 0012
Create Date: 2026-12-04 14:47:40.079845
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0011"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("starts_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_closures_ends_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closures")),
    )
    with op.batch_alter_table("closures", schema=None) as batch_op:
        batch_op.create_index("ix_closures_ends_at", ["ends_at"], unique=False)

    op.create_table(
        "daily_job_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("affected", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("job", "day", name=op.f("pk_daily_job_runs")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scrubbed_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("specialists", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("external_ref", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_specialists_email"), ["email"])
        batch_op.create_unique_constraint(
            batch_op.f("uq_specialists_external_ref"), ["external_ref"]
        )


def downgrade() -> None:
    with op.batch_alter_table("specialists", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_specialists_external_ref"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_specialists_email"), type_="unique")
        batch_op.drop_column("external_ref")
        batch_op.drop_column("email")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("scrubbed_at")

    op.drop_table("daily_job_runs")
    with op.batch_alter_table("closures", schema=None) as batch_op:
        batch_op.drop_index("ix_closures_ends_at")

    op.drop_table("closures")
