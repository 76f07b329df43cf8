"""SQLite: AUTOINCREMENT on the tables whose ids the API shows, so a deleted id is never reused

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-04 15:00:00.000000

SQLite cannot add AUTOINCREMENT to a table in place: each table is rebuilt (batch mode copies
its rows, indexes and constraints into a new table). PostgreSQL's identity sequences never
reuse an id, so there this migration does nothing.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "accounts",
    "account_notes",
    "api_keys",
    "teams",
    "specialists",
    "rotations",
    "rotation_versions",
    "overrides",
    "manual_days_off",
    "audit_log",
    "work_items",
    "calls",
    "call_attempts",
)


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table,
            recreate="always",
            table_kwargs={"sqlite_autoincrement": autoincrement},
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
