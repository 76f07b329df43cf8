"""Rota plans: proposals of the planner, kept until a scheduler applies (or ignores) them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class RotaPlan(Base):
    """One proposal: what was asked, what the solver answered, and whether it was applied."""

    __tablename__ = "rota_plans"
    __table_args__ = (
        CheckConstraint(
            "status IN ('optimal', 'feasible', 'infeasible', 'unknown')", name="status_known"
        ),
        CheckConstraint("weeks >= 1 AND weeks <= 12", name="weeks_in_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    weeks: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    solve_seconds: Mapped[float] = mapped_column(Float)
    # The request as given (settings, weights, member wishes, templates).
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The planner's answer: assignments, days in lieu, relaxations, figures, the rotations
    # applying it would write.
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The team's version when proposed: applying checks If-Match against the team now.
    team_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
