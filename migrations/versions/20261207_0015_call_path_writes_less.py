"""call path writes less: call_steps keyed by (call_id, seq), no surrogate id; no index of
call_status_events.call_id alone, nor of call_attempts.leg_sid; specialist_presence.call_id
indexed where set only; call_attempts pages leave room for updates in place

Every index entry a webhook writes costs the database a B-tree insert and a WAL record.
A call writes about ten `call_steps` rows, each filed under a surrogate id nothing looks
up and again under (call_id, seq): the pair becomes the primary key and the id goes. The
index of `call_status_events.call_id` repeats the first column of the unique
(call_id, status, sequence) and goes. `specialist_presence.call_id` is NULL for everyone
free: it is indexed where set only, so freeing a specialist writes no entry to it.

A ringing attempt learns its leg's CallSid from the leg's first callback, and nothing
looks an attempt up by it: without that index the leg's callbacks change no indexed
column, so PostgreSQL updates the row in place (a heap-only tuple: no entry in any of the
table's indexes), given room on its page: `call_attempts` pages are filled to 90% (new
pages only; the rows already there stay where they are).

On PostgreSQL the table is not rewritten (dropping a column is a change of the catalogue);
the primary key's index is built in place of the unique one, with `call_steps` locked
meanwhile (under a second for 471,000 rows; see docs/operations.md). SQLite copies the
table.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRESENCE_INDEX = "ix_specialist_presence_call_id"
EVENTS_INDEX = "ix_call_status_events_call_id"
LEG_INDEX = "ix_call_attempts_leg_sid"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgresql():
        op.drop_constraint("pk_call_steps", "call_steps", type_="primary")
        op.drop_column("call_steps", "id")
        op.execute(
            "ALTER TABLE call_steps DROP CONSTRAINT uq_call_steps_call_id_seq, "
            "ADD CONSTRAINT pk_call_steps PRIMARY KEY (call_id, seq)"
        )
    else:
        with op.batch_alter_table("call_steps", recreate="always") as batch_op:
            batch_op.drop_constraint("uq_call_steps_call_id_seq", type_="unique")
            batch_op.drop_column("id")
            batch_op.create_primary_key("pk_call_steps", ["call_id", "seq"])
    op.drop_index(EVENTS_INDEX, table_name="call_status_events")
    op.drop_index(LEG_INDEX, table_name="call_attempts")
    if _postgresql():
        op.execute("ALTER TABLE call_attempts SET (fillfactor = 90)")
    where = sa.text("call_id IS NOT NULL")
    op.drop_index(PRESENCE_INDEX, table_name="specialist_presence")
    op.create_index(
        PRESENCE_INDEX,
        "specialist_presence",
        ["call_id"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index(PRESENCE_INDEX, table_name="specialist_presence")
    op.create_index(PRESENCE_INDEX, "specialist_presence", ["call_id"])
    op.create_index(EVENTS_INDEX, "call_status_events", ["call_id"])
    leg_where = sa.text("leg_sid IS NOT NULL")
    op.create_index(
        LEG_INDEX, "call_attempts", ["leg_sid"], sqlite_where=leg_where, postgresql_where=leg_where
    )
    if _postgresql():
        op.execute("ALTER TABLE call_attempts RESET (fillfactor)")
        op.execute(
            "ALTER TABLE call_steps DROP CONSTRAINT pk_call_steps, "
            "ADD CONSTRAINT uq_call_steps_call_id_seq UNIQUE (call_id, seq), "
            "ADD COLUMN id SERIAL, ADD CONSTRAINT pk_call_steps PRIMARY KEY (id)"
        )
    else:
        with op.batch_alter_table("call_steps", recreate="always") as batch_op:
            batch_op.drop_constraint("pk_call_steps", type_="primary")
            batch_op.add_column(sa.Column("id", sa.Integer(), nullable=True))
            batch_op.create_unique_constraint("uq_call_steps_call_id_seq", ["call_id", "seq"])
        # SQLite numbers the rows as they stand, then the id becomes the key.
        op.execute("UPDATE call_steps SET id = rowid")
        with op.batch_alter_table("call_steps", recreate="always") as batch_op:
            batch_op.alter_column("id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_primary_key("pk_call_steps", ["id"])
