"""Inputs of the shift calculator: the rota rules, as plain frozen dataclasses.

The database layer builds these; the calculator never touches a database. Times of day are
naive wall-clock times in the named IANA zone; instants are timezone-aware.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

import holidays as holidays_lib

from app.rota.wallclock import require_aware, zone

__all__ = [
    "CoverageRule",
    "LieuAdjustment",
    "LieuRule",
    "ManualDayOff",
    "Override",
    "Rota",
    "RotationVersion",
    "SpecialistInfo",
    "TeamRota",
    "adjustments_from",
    "holiday_dates",
]


def _check_days(days: frozenset[int], what: str) -> None:
    if not days or not days <= frozenset(range(7)):
        raise ValueError(f"{what}: days must be a non-empty subset of 0..6, got {sorted(days)}")


def _check_wall_time(value: time, what: str) -> None:
    if value.tzinfo is not None:
        raise ValueError(f"{what} must be a naive wall-clock time")


@dataclass(frozen=True)
class CoverageRule:
    """Minimum staff for local hours on some weekdays; end <= start runs past midnight."""

    days: frozenset[int]
    start: time
    end: time
    min_staff: int
    language: str | None = None

    def __post_init__(self) -> None:
        _check_days(self.days, "coverage rule")
        _check_wall_time(self.start, "coverage start")
        _check_wall_time(self.end, "coverage end")
        if self.min_staff < 0:
            raise ValueError("min_staff must be >= 0")


@dataclass(frozen=True)
class TeamRota:
    """A team as the calculator sees it; ``holidays`` are local dates of its calendar."""

    slug: str
    tz: str
    holidays: frozenset[date] = frozenset()
    coverage: tuple[CoverageRule, ...] = ()
    languages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        zone(self.tz)


@dataclass(frozen=True)
class SpecialistInfo:
    """A specialist as the calculator sees it."""

    id: int
    tz: str
    languages: frozenset[str] = frozenset()
    skills: frozenset[str] = frozenset()
    active: bool = True

    def __post_init__(self) -> None:
        zone(self.tz)


@dataclass(frozen=True)
class LieuRule:
    """Where an earned day off in lieu goes: a fixed weekday (0-4) or the most staffed day."""

    kind: Literal["fixed", "most_staffed"]
    weekday: int | None = None

    def __post_init__(self) -> None:
        if self.kind == "fixed" and (self.weekday is None or not 0 <= self.weekday <= 4):
            raise ValueError("a fixed lieu rule needs a weekday 0 (Mon) .. 4 (Fri)")
        if self.kind == "most_staffed" and self.weekday is not None:
            raise ValueError("a most_staffed lieu rule takes no weekday")

    @classmethod
    def fixed(cls, weekday: int) -> LieuRule:
        """Return a rule placing the day off on ``weekday`` (0 = Monday .. 4 = Friday)."""
        return cls("fixed", weekday)

    @classmethod
    def most_staffed(cls) -> LieuRule:
        """Return a rule placing the day off on the weekday with the most staff to spare."""
        return cls("most_staffed")


@dataclass(frozen=True, kw_only=True)
class RotationVersion:
    """One version of a rotation; versions of a rotation share ``rotation_id`` and ``anchor``."""

    rotation_id: int
    version: int
    team: str
    tz: str
    members: tuple[int, ...]
    days: frozenset[int]
    start: time
    end: time
    length_days: int = 1
    every_weeks: int = 1
    anchor: date
    effective_from: datetime
    effective_until: datetime | None = None
    assignment: Literal["all", "turns"] = "all"
    per_occurrence: int = 1
    turn_offset: int = 0
    run_on_holidays: bool = False
    earns_lieu: bool = False
    lieu_rule: LieuRule | None = None

    def __post_init__(self) -> None:
        zone(self.tz)
        _check_days(self.days, f"rotation {self.rotation_id}")
        _check_wall_time(self.start, "rotation start")
        _check_wall_time(self.end, "rotation end")
        if self.length_days < 1 or self.every_weeks < 1 or self.per_occurrence < 1:
            raise ValueError("length_days, every_weeks and per_occurrence must be >= 1")
        require_aware(self.effective_from, "effective_from")
        if self.effective_until is not None:
            until = require_aware(self.effective_until, "effective_until")
            if until < self.effective_from:
                raise ValueError("effective_until is before effective_from")

    @property
    def effective_lieu_rule(self) -> LieuRule:
        """The lieu rule in force: the explicit one, else most_staffed."""
        return self.lieu_rule or LieuRule.most_staffed()


@dataclass(frozen=True)
class Override:
    """A cover, leave or extra window; ``team`` None means every team (cover, leave)."""

    id: int
    kind: Literal["cover", "leave", "extra"]
    specialist_id: int
    substitute_id: int | None
    team: str | None
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if require_aware(self.end, "override end") <= require_aware(self.start, "override start"):
            raise ValueError(f"override {self.id}: end must be after start")
        if self.kind == "cover" and self.substitute_id is None:
            raise ValueError(f"cover {self.id} needs a substitute")
        if self.kind == "extra" and self.team is None:
            raise ValueError(f"extra {self.id} needs a team")


@dataclass(frozen=True)
class LieuAdjustment:
    """A scheduler moved (``new_date``) or cancelled (None) an automatic day off in lieu."""

    earning_key: str
    new_date: date | None


@dataclass(frozen=True)
class ManualDayOff:
    """A day off in lieu a scheduler added by hand."""

    id: int
    specialist_id: int
    day: date


@dataclass(frozen=True)
class Rota:
    """Everything the calculator needs: teams, people, rotation versions, overrides, lieu."""

    teams: Mapping[str, TeamRota]
    specialists: Mapping[int, SpecialistInfo]
    rotations: tuple[RotationVersion, ...] = ()
    overrides: tuple[Override, ...] = ()
    lieu_adjustments: Mapping[str, date | None] = field(default_factory=dict)
    manual_days_off: tuple[ManualDayOff, ...] = ()

    def team_tz(self, team: str) -> str:
        """Return the team's time zone name (UTC for a team the rota does not know)."""
        known = self.teams.get(team)
        return known.tz if known else "UTC"

    def specialist_tz(self, specialist_id: int) -> str:
        """Return the specialist's time zone name (UTC for an unknown specialist)."""
        known = self.specialists.get(specialist_id)
        return known.tz if known else "UTC"

    def is_active(self, specialist_id: int) -> bool:
        """Return whether the specialist exists and is active."""
        known = self.specialists.get(specialist_id)
        return known is not None and known.active


def adjustments_from(items: Iterable[LieuAdjustment]) -> dict[str, date | None]:
    """Return the ``Rota.lieu_adjustments`` mapping for a list of adjustments."""
    return {item.earning_key: item.new_date for item in items}


def holiday_dates(country: str, subdivision: str | None, years: Iterable[int]) -> frozenset[date]:
    """Return the public-holiday dates of a country (and subdivision) in the given years."""
    calendar = holidays_lib.country_holidays(country, subdiv=subdivision, years=list(years))
    return frozenset(calendar.keys())
