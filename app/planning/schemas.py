"""API shapes of the rota planner: the request, the proposal, the diff, the apply outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from app.core.types import DbId
from app.rota.schemas import (
    HHMM,
    WEEKDAYS,
    DayOffOut,
    FairnessOut,
    GapOut,
    ScheduleOut,
    ShiftOut,
    Strict,
    Weekday,
)

ALL_DAYS: list[Weekday] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def day_numbers(days: Sequence[str]) -> frozenset[int]:
    """API weekday names to 0=Monday..6=Sunday."""
    return frozenset(WEEKDAYS.index(d) for d in days)


class MemberWishes(Strict):
    """One member's fixed days off and wishes for the planner."""

    specialist_id: DbId
    unavailable_days: list[Weekday] = Field(
        default_factory=list, description="weekdays this person never works (hard)"
    )
    prefers_off: list[Weekday] = Field(
        default_factory=list, description="weekdays they would rather have off (soft)"
    )
    avoids_shifts: list[str] = Field(
        default_factory=list, description="shift template names they would rather not work"
    )
    prefers_weekend_day: Literal["sat", "sun"] | None = None


class ShiftTemplateIn(Strict):
    """A shift the planner may hand out; without templates they come from coverage hours."""

    name: str = Field(min_length=1, max_length=40)
    start: HHMM
    end: HHMM
    days: list[Weekday] = Field(default_factory=lambda: list(ALL_DAYS), min_length=1)


class PlanSettingsIn(Strict):
    """Hard-rule parameters (team settings) and the solver's limit."""

    weekend_days_per_week: int = Field(default=1, ge=0, le=2)
    max_consecutive_days: int = Field(default=6, ge=1, le=13)
    max_hours_per_week: int = Field(default=40, ge=1, le=168)
    min_rest_hours: float = Field(default=11.0, ge=0, le=24)
    target_days_per_week: int = Field(default=5, ge=0, le=7)
    holiday_staff: int = Field(
        default=0, ge=0, le=1000, description="people needed on public holidays (0: closed)"
    )
    shift_hours: int = Field(default=8, ge=1, le=24)
    time_limit_seconds: float | None = Field(
        default=None, gt=0, le=600, description="default: the server's planner time limit"
    )
    seed: int = Field(default=1, ge=0, le=2**31 - 1)


class PlanWeightsIn(Strict):
    """Weights of the soft goals (0 switches one off)."""

    weekend_spread: int = Field(default=20, ge=0, le=1000)
    night_spread: int = Field(default=10, ge=0, le=1000)
    holiday_spread: int = Field(default=10, ge=0, le=1000)
    preference: int = Field(default=3, ge=0, le=1000)
    change: int = Field(default=1, ge=0, le=1000)
    target_days: int = Field(default=5, ge=0, le=1000)


class PlanRequest(Strict):
    """Propose a rota for a team: a period of whole weeks from a Monday."""

    start: date = Field(description="a Monday; weeks run Monday to Sunday in the team's zone")
    weeks: int = Field(default=4, ge=1, le=12)
    settings: PlanSettingsIn = Field(default_factory=PlanSettingsIn)
    weights: PlanWeightsIn = Field(default_factory=PlanWeightsIn)
    members: list[MemberWishes] = Field(default_factory=list)
    templates: list[ShiftTemplateIn] | None = None

    @field_validator("start")
    @classmethod
    def _monday(cls, value: date) -> date:
        if value.weekday() != 0:
            raise ValueError(f"{value} is a {value.strftime('%A')}; the period starts on a Monday")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> PlanRequest:
        ids = [m.specialist_id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError("each member appears at most once in members")
        if self.templates is not None:
            names = [t.name for t in self.templates]
            if len(set(names)) != len(names):
                raise ValueError("shift template names must be distinct")
        return self


class RelaxationOut(BaseModel):
    """A rule the planner had to bend to find any plan, where, and by how much."""

    rule: str
    amount: int
    message: str
    day: date | None
    start: datetime | None
    end: datetime | None
    specialist_id: int | None
    rule_index: int | None
    language: str | None


class SolverOut(BaseModel):
    """How the search went."""

    status: Literal["optimal", "feasible", "infeasible", "unknown"]
    seconds: float
    first_solution_seconds: float | None
    objective: float | None
    bound: float | None
    gap: float | None
    time_limit_seconds: float
    workers: int
    seed: int


class LieuDayOut(BaseModel):
    """A planned weekday off in lieu and the weekend day that earned it."""

    specialist_id: int
    day: date
    earned_on: date


class PlannedRotationOut(BaseModel):
    """A rotation applying the plan would create."""

    name: str
    days: list[str]
    start: str
    end: str
    members: list[int]
    earns_lieu: bool
    effective_from: datetime
    effective_until: datetime


class MemberChange(BaseModel):
    """One person's shifts added and removed against the current rota."""

    specialist_id: int
    specialist_name: str
    added: list[ShiftOut]
    removed: list[ShiftOut]


class PlanOut(BaseModel):
    """A stored proposal."""

    id: int
    team: str
    start: date
    weeks: int
    created_at: datetime
    created_by: str
    applied_at: datetime | None
    applied_by: str | None
    solver: SolverOut
    proposal: ScheduleOut
    gaps: list[GapOut]
    relaxations: list[RelaxationOut]
    lieu_days: list[LieuDayOut]
    fairness_before: list[FairnessOut]
    fairness_after: list[FairnessOut]
    changes: list[MemberChange]
    rotations: list[PlannedRotationOut]
    templates: list[ShiftTemplateIn]
    request: dict[str, Any]


class PlanApplied(BaseModel):
    """What applying a plan wrote (or, with dry_run, would write)."""

    dry_run: bool
    plan_id: int
    rotations_created: list[PlannedRotationOut]
    rotations_paused: list[int]
    days_off_in_lieu_moved: list[LieuDayOut]
    added: list[ShiftOut]
    removed: list[ShiftOut]
    days_off_added: list[DayOffOut]
    days_off_removed: list[DayOffOut]
