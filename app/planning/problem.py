"""What the rota planner is asked: a team, its members, a period, the rules and the goals.

Plain frozen dataclasses, like the shift calculator's inputs: the API layer builds them from
the database, the tests build them by hand. Times of day are wall-clock times in the team's
zone; instants are timezone-aware.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from app.rota.rules import CoverageRule
from app.rota.wallclock import require_aware, zone

__all__ = [
    "MAX_WEEKS",
    "Member",
    "PlanProblem",
    "PlanSettings",
    "PlanWeights",
    "ShiftTemplate",
    "Unavailable",
]

MAX_WEEKS = 12


@dataclass(frozen=True)
class ShiftTemplate:
    """A shift people can be given: local start and end (end <= start runs past midnight)."""

    name: str
    start: time
    end: time
    days: frozenset[int] = frozenset(range(7))

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError(f"template {self.name!r}: days must be a non-empty subset of 0..6")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError(f"template {self.name!r}: times must be naive wall-clock times")

    @property
    def overnight(self) -> bool:
        """Whether the shift ends on the next local day."""
        return self.end <= self.start


@dataclass(frozen=True)
class Member:
    """A team member as the planner sees them: languages, fixed days off, wishes, history."""

    id: int
    languages: frozenset[str] = frozenset()
    # Weekdays (0 = Monday) the person never works, e.g. a part-timer's Wednesday.
    unavailable_weekdays: frozenset[int] = frozenset()
    # Wishes (soft): weekdays they would rather have off, templates they would rather not
    # work, the weekend day they prefer (5 = Saturday, 6 = Sunday).
    prefers_off: frozenset[int] = frozenset()
    avoids_templates: frozenset[str] = frozenset()
    prefers_weekend_day: int | None = None
    # Fairness history before the period (from the fairness query and the lieu ledger).
    history_saturdays: int = 0
    history_sundays: int = 0
    history_nights: int = 0
    history_holidays: int = 0
    # Working days in a row just before the period, and the end of their last shift.
    streak_before: int = 0
    last_shift_end: datetime | None = None

    def __post_init__(self) -> None:
        if self.prefers_weekend_day not in (None, 5, 6):
            raise ValueError("prefers_weekend_day must be 5 (Saturday), 6 (Sunday) or None")
        if self.last_shift_end is not None:
            require_aware(self.last_shift_end, "last_shift_end")


@dataclass(frozen=True)
class Unavailable:
    """A window in which a member cannot be given a shift (leave, a cover, an extra)."""

    member: int
    start: datetime
    end: datetime
    reason: str = "leave"

    def __post_init__(self) -> None:
        if require_aware(self.end, "end") <= require_aware(self.start, "start"):
            raise ValueError("an unavailable window must end after it starts")


@dataclass(frozen=True)
class PlanSettings:
    """Hard-rule parameters and solver limits (team settings, with defaults)."""

    weekend_days_per_week: int = 1
    max_consecutive_days: int = 6
    max_hours_per_week: int = 40
    min_rest_hours: float = 11.0
    # Soft: the days a week people are expected to work (a weekday off in lieu included).
    target_days_per_week: int = 5
    # People needed in the opening hours of a public holiday; 0 means nobody works then.
    holiday_staff: int = 0
    # Length of the shifts derived from the coverage rules when no templates are given.
    shift_hours: int = 8
    time_limit_s: float = 20.0
    seed: int = 1
    workers: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.weekend_days_per_week <= 2:
            raise ValueError("weekend_days_per_week must be 0, 1 or 2")
        if not 1 <= self.max_consecutive_days <= 13:
            raise ValueError("max_consecutive_days must be between 1 and 13")
        if not 1 <= self.max_hours_per_week <= 168:
            raise ValueError("max_hours_per_week must be between 1 and 168")
        if not 0 <= self.min_rest_hours <= 24:
            raise ValueError("min_rest_hours must be between 0 and 24")
        if not 0 <= self.target_days_per_week <= 7:
            raise ValueError("target_days_per_week must be between 0 and 7")
        if self.holiday_staff < 0:
            raise ValueError("holiday_staff must be >= 0")
        if not 1 <= self.shift_hours <= 24:
            raise ValueError("shift_hours must be between 1 and 24")
        if not 0 < self.time_limit_s <= 600:
            raise ValueError("time_limit_s must be more than 0 and at most 600")
        if not 1 <= self.workers <= 16:
            raise ValueError("workers must be between 1 and 16")


@dataclass(frozen=True)
class PlanWeights:
    """Weights of the soft goals in the objective (0 switches a goal off)."""

    weekend_spread: int = 20
    night_spread: int = 10
    holiday_spread: int = 10
    preference: int = 3
    change: int = 1
    target_days: int = 5


@dataclass(frozen=True)
class PlanProblem:
    """A planning request: team, members, period (Monday-based weeks), rules and goals."""

    team: str
    tz: str
    start: date
    weeks: int
    members: tuple[Member, ...]
    coverage: tuple[CoverageRule, ...] = ()
    holidays: frozenset[date] = frozenset()
    templates: tuple[ShiftTemplate, ...] = ()
    unavailable: tuple[Unavailable, ...] = ()
    # Days a member already has off (days off in lieu, manual days off) inside the period.
    days_off: frozenset[tuple[int, date]] = frozenset()
    # The current rota's shifts in the period: (member, local start date) -> (start, end).
    current: Mapping[tuple[int, date], tuple[datetime, datetime]] = field(default_factory=dict)
    settings: PlanSettings = PlanSettings()
    weights: PlanWeights = PlanWeights()

    def __post_init__(self) -> None:
        zone(self.tz)
        if self.start.weekday() != 0:
            raise ValueError("the period starts on a Monday (weeks run Monday to Sunday)")
        if not 1 <= self.weeks <= MAX_WEEKS:
            raise ValueError(f"the period is 1 to {MAX_WEEKS} weeks")
        ids = [m.id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError("members must be distinct")

    @property
    def days(self) -> list[date]:
        """The local dates of the period."""
        return [self.start + timedelta(days=i) for i in range(7 * self.weeks)]

    @property
    def end(self) -> date:
        """The first local date after the period."""
        return self.start + timedelta(days=7 * self.weeks)
