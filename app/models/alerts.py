"""Alerts: where a team's alerts go (channels), what raises one (rules), and the outbox.

`alert_deliveries` is a durable outbox: a row per (channel, event), written in the
transaction that notices the event and delivered after commit by whichever app instance
claims it first. The unique (channel_id, event_key) makes an event noticed by several
instances at once one delivery.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

CHANNEL_KINDS = ("slack", "email")
RULE_KINDS = ("new_work", "caller_waiting", "service_level", "coverage_gap", "ring_unanswered")
DELIVERY_STATES = ("pending", "sending", "sent", "failed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class AlertChannel(Base):
    """A Slack-compatible incoming webhook or a list of e-mail addresses of a team."""

    __tablename__ = "alert_channels"
    __table_args__ = (
        UniqueConstraint("team_id", "name"),
        CheckConstraint(_one_of("kind", CHANNEL_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    # The webhook URL (slack) or comma-separated addresses (email).
    target: Mapped[str] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertRule(Base):
    """What raises an alert for a team, sent to one channel or to all the team's channels."""

    __tablename__ = "alert_rules"
    __table_args__ = (CheckConstraint(_one_of("kind", RULE_KINDS), name="kind_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Seconds (caller_waiting), percent (service_level) or days (coverage_gap).
    threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_channels.id", ondelete="CASCADE"), nullable=True, index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When the rule was last checked, and the newest row it has seen (a work item, call
    # or audit entry id, by kind): the next check reads only what is newer.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    seen_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertDelivery(Base):
    """One alert for one channel: pending until an instance claims and sends it."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "event_key"),
        CheckConstraint(_one_of("status", DELIVERY_STATES), name="status_known"),
        Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("alert_channels.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="SET NULL"), nullable=True
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    # What happened, unique per channel: `work:12`, `wait:40`, `gap:2026-12-05T09:00...`.
    event_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A claimed row whose instance died is claimable again after this instant.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
