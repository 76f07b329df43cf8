"""Rota tables: teams, specialists, rotations (versioned), overrides, days off, audit, shifts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import NEVER_REUSE_IDS, Base, UTCDateTime


class Team(Base):
    """A support team with its time zone, languages, coverage rules and holiday calendar."""

    __tablename__ = "teams"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tz: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"days": [0..6], "start": "HH:MM", "end": "HH:MM", "min_staff": n, "language": "en"|None}]
    coverage: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    holiday_country: Mapped[str | None] = mapped_column(String(8), nullable=True)
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Specialist(Base):
    """A person who takes calls."""

    __tablename__ = "specialists"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(255))
    tz: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Keys for bulk imports from an HR system or a spreadsheet (PUT /v1/specialists:bulk).
    email: Mapped[str | None] = mapped_column(String(320), unique=True, nullable=True)
    external_ref: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamMember(Base):
    """Membership of a specialist in a team."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    specialist_id: Mapped[int] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Rotation(Base):
    """A named rotation of a team; its rules live in versions (edits never rewrite the past)."""

    __tablename__ = "rotations"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    anchor: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RotationVersionRow(Base):
    """The rules of a rotation from effective_from until effective_until."""

    __tablename__ = "rotation_versions"
    __table_args__ = (
        UniqueConstraint("rotation_id", "seq"),
        CheckConstraint("assignment IN ('all', 'turns')", name="assignment_known"),
        CheckConstraint("length_days >= 1 AND every_weeks >= 1", name="positive_lengths"),
        CheckConstraint("per_occurrence >= 1", name="positive_per_occurrence"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rotation_id: Mapped[int] = mapped_column(
        ForeignKey("rotations.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    members: Mapped[list[int]] = mapped_column(JSON)
    days: Mapped[list[int]] = mapped_column(JSON)
    start_time: Mapped[str] = mapped_column(String(5))
    end_time: Mapped[str] = mapped_column(String(5))
    length_days: Mapped[int] = mapped_column(Integer, default=1)
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    assignment: Mapped[str] = mapped_column(String(10))
    per_occurrence: Mapped[int] = mapped_column(Integer, default=1)
    turn_offset: Mapped[int] = mapped_column(Integer, default=0)
    run_on_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    earns_lieu: Mapped[bool] = mapped_column(Boolean, default=False)
    # "mon".."fri" for a fixed weekday, "most_staffed", or None
    lieu_rule: Mapped[str | None] = mapped_column(String(16), nullable=True)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    effective_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OverrideRow(Base):
    """A cover, leave or extra window (a swap is two covers sharing swap_group)."""

    __tablename__ = "overrides"
    __table_args__ = (
        CheckConstraint("kind IN ('cover', 'leave', 'extra')", name="kind_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_overrides_specialist_window", "specialist_id", "starts_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    specialist_id: Mapped[int] = mapped_column(ForeignKey("specialists.id", ondelete="CASCADE"))
    substitute_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), nullable=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), nullable=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    swap_group: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LieuAdjustmentRow(Base):
    """A scheduler moved (new_date) or cancelled (NULL) an automatic day off in lieu."""

    __tablename__ = "lieu_adjustments"

    earning_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    specialist_id: Mapped[int] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), index=True
    )
    new_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ManualDayOffRow(Base):
    """A day off in lieu added by hand."""

    __tablename__ = "manual_days_off"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    specialist_id: Mapped[int] = mapped_column(
        ForeignKey("specialists.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who changed what, when, with the state before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    actor_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(20))
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str] = mapped_column(String(100))
    effective_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_audit_log_resource", "resource_type", "resource_id"),
        NEVER_REUSE_IDS,
    )


# Shifts over 12 hours, in SQL: on-shift lookups (app.rota.lookup) find the shifts that
# started more than a day before an instant through this partial index, repeating these
# predicates in their queries so that the planner can use it.
LONG_SHIFT_SQLITE = "julianday(ends_at) - julianday(starts_at) > 0.5"
LONG_SHIFT_POSTGRESQL = "ends_at - starts_at > interval '12 hours'"


class ShiftInstance(Base):
    """A materialised final shift inside the rolling horizon, for indexed on-shift lookups."""

    __tablename__ = "shift_instances"
    __table_args__ = (
        Index("ix_shift_instances_team_start", "team_id", "starts_at"),
        Index("ix_shift_instances_specialist_start", "specialist_id", "starts_at"),
        Index(
            "ix_shift_instances_team_long",
            "team_id",
            "starts_at",
            sqlite_where=text(LONG_SHIFT_SQLITE),
            postgresql_where=text(LONG_SHIFT_POSTGRESQL),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    specialist_id: Mapped[int] = mapped_column(ForeignKey("specialists.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    local_date: Mapped[date] = mapped_column(Date)
    source_kind: Mapped[str] = mapped_column(String(10))
    rotation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    override_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    covering_for: Mapped[int | None] = mapped_column(Integer, nullable=True)
    key: Mapped[str] = mapped_column(String(200))


class MaterialisedWindow(Base):
    """The instants between which shift_instances is complete (one row)."""

    __tablename__ = "materialised_window"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Bumped by every rota write (under the row's lock), so a computation can tell whether
    # the rules changed since it read them.
    rota_version: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Bumped by every write to shift_instances: a computed diff applies only to what it read.
    shifts_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The rota_version the stored shifts reflect; behind rota_version means a refresh is due.
    materialised_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An instance rebuilding the window claims it until then, so others do not repeat it.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
