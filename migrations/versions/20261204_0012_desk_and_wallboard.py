"""console part 2: availability, dispositions, swap requests, team console settings, events

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-04 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("specialist_presence", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "availability",
                sa.String(length=10),
                server_default=sa.text("'available'"),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("availability_at", UTCDateTime(), nullable=True))
        batch_op.create_check_constraint(
            "availability_known", "availability IN ('available', 'away', 'offline')"
        )
    op.create_table(
        "dispositions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispositions")),
        sa.UniqueConstraint("code", name=op.f("uq_dispositions_code")),
    )
    op.create_table(
        "call_wrap_ups",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("disposition", sa.String(length=40), nullable=False),
        sa.Column("specialist_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_call_wrap_ups_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["specialist_id"],
            ["specialists.id"],
            name=op.f("fk_call_wrap_ups_specialist_id_specialists"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["account_notes.id"],
            name=op.f("fk_call_wrap_ups_note_id_account_notes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_call_wrap_ups")),
    )
    op.create_index(
        op.f("ix_call_wrap_ups_disposition"), "call_wrap_ups", ["disposition"], unique=False
    )
    op.create_table(
        "swap_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("teammate_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("override_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('offer', 'ask')", name=op.f("ck_swap_requests_kind_known")),
        sa.CheckConstraint(
            "state IN ('pending', 'accepted', 'approved', 'declined', 'rejected', 'cancelled')",
            name=op.f("ck_swap_requests_state_known"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_swap_requests_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_swap_requests_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["specialists.id"],
            name=op.f("fk_swap_requests_requester_id_specialists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teammate_id"],
            ["specialists.id"],
            name=op.f("fk_swap_requests_teammate_id_specialists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["specialists.id"],
            name=op.f("fk_swap_requests_accepted_by_id_specialists"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["override_id"],
            ["overrides.id"],
            name=op.f("fk_swap_requests_override_id_overrides"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swap_requests")),
    )
    for column in ("team_id", "requester_id", "teammate_id"):
        op.create_index(op.f(f"ix_swap_requests_{column}"), "swap_requests", [column], unique=False)
    op.create_table(
        "team_console_settings",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("swaps_need_approval", sa.Boolean(), nullable=False),
        sa.Column("wait_amber_seconds", sa.Integer(), nullable=False),
        sa.Column("wait_red_seconds", sa.Integer(), nullable=False),
        sa.Column("service_level_amber", sa.Integer(), nullable=False),
        sa.Column("service_level_red", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_console_settings_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_team_console_settings")),
    )
    op.create_table(
        "console_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("specialist_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('ring', 'ring_ended', 'answered', 'queue', 'presence', 'availability')",
            name=op.f("ck_console_events_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_events")),
    )
    op.create_index("ix_console_events_at", "console_events", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_console_events_at", table_name="console_events")
    op.drop_table("console_events")
    op.drop_table("team_console_settings")
    for column in ("team_id", "requester_id", "teammate_id"):
        op.drop_index(op.f(f"ix_swap_requests_{column}"), table_name="swap_requests")
    op.drop_table("swap_requests")
    op.drop_index(op.f("ix_call_wrap_ups_disposition"), table_name="call_wrap_ups")
    op.drop_table("call_wrap_ups")
    op.drop_table("dispositions")
    with op.batch_alter_table("specialist_presence", schema=None) as batch_op:
        batch_op.drop_constraint("availability_known", type_="check")
        batch_op.drop_column("availability_at")
        batch_op.drop_column("availability")
