"""set-only indexes: the nullable lookup columns of calls and ringing attempts index their
non-NULL values only

A new call leaves its account, team, answering specialist and work item NULL, and a new
ringing attempt its leg sid and transfer: a full index files each under NULL, a page more
to write per commit on the call path, for lookups that never ask for NULL.

Revision ID: 0014
Revises: 0006
Create Date: 2026-12-06 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SET_ONLY = (
    ("calls", "account_id"),
    ("calls", "team"),
    ("calls", "answered_by_id"),
    ("calls", "work_item_id"),
    ("call_attempts", "leg_sid"),
    ("call_attempts", "transfer_id"),
)


def upgrade() -> None:
    for table, column in SET_ONLY:
        name = f"ix_{table}_{column}"
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for table, column in SET_ONLY:
        name = f"ix_{table}_{column}"
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column])
