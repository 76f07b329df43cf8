"""What the rota planner answers: assignments, days off in lieu, status, relaxations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

__all__ = ["Assignment", "LieuDay", "PlanResult", "Relaxation", "Status"]

Status = Literal["optimal", "feasible", "infeasible", "unknown"]


@dataclass(frozen=True)
class Assignment:
    """One planned shift: a member works a template on a local date (UTC instants)."""

    member: int
    day: date
    template: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class LieuDay:
    """A weekday off in lieu for a weekend day worked (``earned_on``) in the period."""

    member: int
    day: date
    earned_on: date


@dataclass(frozen=True)
class Relaxation:
    """One rule the planner had to bend, where, and by how much (infeasible problems)."""

    rule: Literal["coverage", "weekend", "lieu", "max_hours", "max_consecutive"]
    amount: int
    message: str
    day: date | None = None
    start: datetime | None = None
    end: datetime | None = None
    member: int | None = None
    rule_index: int | None = None
    language: str | None = None


@dataclass(frozen=True)
class PlanResult:
    """The solver's answer for one problem."""

    status: Status
    wall_seconds: float
    first_solution_seconds: float | None
    objective: float | None
    bound: float | None
    assignments: tuple[Assignment, ...] = ()
    lieu_days: tuple[LieuDay, ...] = ()
    relaxations: tuple[Relaxation, ...] = ()

    @property
    def solved(self) -> bool:
        """Whether every hard rule is met (optimal or feasible)."""
        return self.status in ("optimal", "feasible")

    @property
    def gap(self) -> float | None:
        """Relative gap between the objective and the solver's bound (0 when optimal)."""
        if self.objective is None or self.bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return abs(self.objective - self.bound) / abs(self.objective)
