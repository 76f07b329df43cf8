"""materialised_window: the one row exists from the start; versions and a refresh claim

Revision ID: 0007
Revises: 0013
Create Date: 2026-12-04 15:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0007"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An empty window (covers nothing, due at once): the row rota writes and refreshes lock.
EMPTY = datetime(1970, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("materialised_window", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shifts_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("materialised_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("claimed_until", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    window = sa.table(
        "materialised_window",
        sa.column("id", sa.Integer()),
        sa.column("starts_at", app.models.base.UTCDateTime(timezone=True)),
        sa.column("ends_at", app.models.base.UTCDateTime(timezone=True)),
        sa.column("rota_version", sa.Integer()),
        sa.column("refreshed_at", app.models.base.UTCDateTime(timezone=True)),
    )
    exists = op.get_bind().scalar(sa.select(sa.func.count()).select_from(window))
    if not exists:
        op.bulk_insert(
            window,
            [
                {
                    "id": 1,
                    "starts_at": EMPTY,
                    "ends_at": EMPTY,
                    "rota_version": 0,
                    "refreshed_at": EMPTY,
                }
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("materialised_window", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("materialised_version")
        batch_op.drop_column("shifts_version")
