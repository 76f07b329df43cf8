"""call control and alerts: outbound calls on the call log, dial state of work items,
transfers, alert channels, rules and the delivery outbox

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-04 14:53:43.202007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0013"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('slack', 'email')", name=op.f("ck_alert_channels_kind_known")),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_alert_channels_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_channels")),
        sa.UniqueConstraint("team_id", "name", name=op.f("uq_alert_channels_team_id_name")),
    )
    with op.batch_alter_table("alert_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_channels_team_id"), ["team_id"], unique=False)

    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("checked_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("seen_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('new_work', 'caller_waiting', 'service_level', 'coverage_gap', "
            "'ring_unanswered')",
            name=op.f("ck_alert_rules_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["alert_channels.id"],
            name=op.f("fk_alert_rules_channel_id_alert_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_alert_rules_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
    )
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_rules_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_rules_team_id"), ["team_id"], unique=False)

    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')",
            name=op.f("ck_alert_deliveries_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["alert_channels.id"],
            name=op.f("fk_alert_deliveries_channel_id_alert_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alert_deliveries_rule_id_alert_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_alert_deliveries_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint(
            "channel_id", "event_key", name=op.f("uq_alert_deliveries_channel_id_event_key")
        ),
    )
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_deliveries_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            "ix_alert_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alert_deliveries_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("direction", sa.String(length=10), server_default="inbound", nullable=False)
        )
        batch_op.add_column(sa.Column("work_item_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_calls_work_item_id"), ["work_item_id"], unique=False)
        batch_op.create_check_constraint("direction_known", "direction IN ('inbound', 'outbound')")
        batch_op.create_foreign_key(
            batch_op.f("fk_calls_work_item_id_work_items"),
            "work_items",
            ["work_item_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dial_status", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("dial_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("last_dial_at", app.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_dial_error", sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            "dial_status_known",
            "dial_status IS NULL OR dial_status IN ('dialing', 'ringing_specialist', "
            "'calling_customer', 'answered', 'no_answer', 'busy', 'failed', "
            "'specialist_missed')",
        )

    op.create_table(
        "call_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("from_specialist_id", sa.Integer(), nullable=True),
        sa.Column("from_leg_sid", sa.String(length=64), nullable=True),
        sa.Column("target_team", sa.String(length=64), nullable=True),
        sa.Column("target_specialist_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('cold', 'warm')", name=op.f("ck_call_transfers_mode_known")),
        sa.CheckConstraint(
            "status IN ('ringing', 'talking', 'connected', 'returned', 'failed')",
            name=op.f("ck_call_transfers_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_transfers_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_specialist_id"],
            ["specialists.id"],
            name=op.f("fk_call_transfers_from_specialist_id_specialists"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_specialist_id"],
            ["specialists.id"],
            name=op.f("fk_call_transfers_target_specialist_id_specialists"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_transfers")),
    )
    with op.batch_alter_table("call_transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_transfers_call_id"), ["call_id"], unique=False)

    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transfer_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_call_attempts_transfer_id"), ["transfer_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_call_attempts_transfer_id_call_transfers"),
            "call_transfers",
            ["transfer_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_call_attempts_transfer_id_call_transfers"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_call_attempts_transfer_id"))
        batch_op.drop_column("transfer_id")

    with op.batch_alter_table("call_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_transfers_call_id"))

    op.drop_table("call_transfers")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_work_items_dial_status_known"), type_="check")
        batch_op.drop_column("last_dial_error")
        batch_op.drop_column("last_dial_at")
        batch_op.drop_column("dial_attempts")
        batch_op.drop_column("dial_status")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_calls_work_item_id_work_items"), type_="foreignkey")
        batch_op.drop_constraint(op.f("ck_calls_direction_known"), type_="check")
        batch_op.drop_index(batch_op.f("ix_calls_work_item_id"))
        batch_op.drop_column("error")
        batch_op.drop_column("work_item_id")
        batch_op.drop_column("direction")

    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_deliveries_team_id"))
        batch_op.drop_index("ix_alert_deliveries_due")
        batch_op.drop_index(batch_op.f("ix_alert_deliveries_channel_id"))

    op.drop_table("alert_deliveries")
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rules_team_id"))
        batch_op.drop_index(batch_op.f("ix_alert_rules_channel_id"))

    op.drop_table("alert_rules")
    with op.batch_alter_table("alert_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_channels_team_id"))

    op.drop_table("alert_channels")
