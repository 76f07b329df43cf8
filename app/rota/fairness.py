"""Fairness: shifts, hours, weekend days and night hours per specialist over a range.

- shifts: final shifts overlapping the range; hours: their hours clipped to the range;
- weekend_days: distinct Saturday/Sunday dates (the shift's team zone) on which the
  specialist starts a shift inside the range;
- night_hours: clipped hours between 22:00 and 06:00 in the specialist's own zone (wall
  clock, so a night across a DST change lasts 7 or 9 hours).

Rows cover everyone with a shift plus the active members of rotations (of the team, when
filtered) in effect during the range, so someone with no shifts shows up with zeros.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from app.rota.rules import Rota
from app.rota.schedule import final_shifts
from app.rota.wallclock import local_date, local_to_utc, require_aware

__all__ = ["FairnessRow", "fairness", "night_hours"]

NIGHT_START = time(22, 0)
NIGHT_END = time(6, 0)


@dataclass(frozen=True)
class FairnessRow:
    """One specialist's load over a range."""

    specialist_id: int
    shifts: int
    hours: float
    weekend_days: int
    night_hours: float


@dataclass
class _Tally:
    shifts: int = 0
    worked: list[tuple[datetime, datetime]] = field(default_factory=list)
    weekend: set[date] = field(default_factory=set)


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The union of time spans, as disjoint spans in order."""
    out: list[tuple[datetime, datetime]] = []
    for begin, finish in sorted(spans):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], finish))
        else:
            out.append((begin, finish))
    return out


def night_hours(start: datetime, end: datetime, tz: str) -> float:
    """Return the hours of [start, end) that fall between 22:00 and 06:00 local time."""
    seconds = 0.0
    day = local_date(start, tz) - timedelta(days=1)
    last = local_date(end, tz)
    while day <= last:
        night_from = local_to_utc(day, NIGHT_START, tz)
        night_to = local_to_utc(day + timedelta(days=1), NIGHT_END, tz)
        overlap = min(end, night_to) - max(start, night_from)
        seconds += max(overlap.total_seconds(), 0.0)
        day += timedelta(days=1)
    return seconds / 3600


def fairness(
    rota: Rota, start: datetime, end: datetime, *, team: str | None = None
) -> list[FairnessRow]:
    """Return per-specialist shifts, hours, weekend days and night hours over [start, end)."""
    start = require_aware(start, "start")
    end = require_aware(end, "end")
    tallies: defaultdict[int, _Tally] = defaultdict(_Tally)
    for version in rota.rotations:
        in_effect = version.effective_from < end and (
            version.effective_until is None or version.effective_until > start
        )
        if in_effect and (team is None or version.team == team):
            for member in version.members:
                if rota.is_active(member):
                    tallies.setdefault(member, _Tally())
    for shift in final_shifts(rota, start, end):
        if team is not None and shift.team != team:
            continue
        tally = tallies[shift.specialist_id]
        clip_start, clip_end = max(shift.start, start), min(shift.end, end)
        tally.shifts += 1
        tally.worked.append((clip_start, clip_end))
        if start <= shift.start < end:
            day = local_date(shift.start, rota.team_tz(shift.team))
            if day.weekday() >= 5:
                tally.weekend.add(day)
    rows = []
    for person, tally in sorted(tallies.items()):
        # Shifts of one person that overlap (double-booked before such overrides were
        # refused) are one stretch of work: no hour counts twice.
        worked = _merged(tally.worked)
        tz = rota.specialist_tz(person) if worked else "UTC"
        rows.append(
            FairnessRow(
                specialist_id=person,
                shifts=tally.shifts,
                hours=sum((b - a).total_seconds() for a, b in worked) / 3600,
                weekend_days=len(tally.weekend),
                night_hours=sum(night_hours(a, b, tz) for a, b in worked),
            )
        )
    return rows
