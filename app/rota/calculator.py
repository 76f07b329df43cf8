"""The shift calculator: rota rules in, concrete UTC shifts out. Pure: no database, no web.

Semantics (each module's docstring has the details):

1. Occurrences (:mod:`app.rota.occurrences`). A version runs on local date d when d's
   weekday is in ``days``, d >= anchor, d's Monday-based week is active (week 0 holds the
   anchor; active when week_index % every_weeks == 0) and the start instant lies in
   [effective_from, effective_until). Shift: d at ``start`` to d + (length_days - 1)
   (+1 when end <= start) at ``end``; overnight shifts belong to their start day.
   Occurrence index n = qualifying dates of the rotation before d (from the anchor, in
   active weeks, ignoring effective windows and holidays), computed in O(1). ``all``: every
   member works; ``turns``: members[(n*k + turn_offset + j) % len] for j < k. ``all``
   rotations skip team holidays unless ``run_on_holidays``; ``turns`` ignore them.
2. Wall clock (:mod:`app.rota.wallclock`): a nonexistent local time moves to the first
   instant after the gap; an ambiguous one takes its first occurrence. Shifts keep their
   wall-clock times across DST (a weekly shift lasts 167 or 169 hours).
3. Overrides (:mod:`app.rota.overrides`): covers replace (parts of A's rotation shifts in
   the window become B's, source "cover"), then extras add, then leave cuts out any part
   of the person's shifts in the window. Inactive specialists get no shifts.
4. Days off in lieu (:mod:`app.rota.lieu`): earning occurrences earn one day off for the
   person working most of them, placed on a weekday of the following ISO week (fixed
   weekday or "most_staffed"), then moved/cancelled by scheduler adjustments, plus manual
   days. A day off removes all the person's shifts starting that date in their own zone.
5. Results are the same whatever range is asked: shifts overlapping [start, end) are
   returned whole, and lieu placement looks back at the weeks it needs on its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.rota.coverage import Gap, coverage_gaps
from app.rota.fairness import FairnessRow, fairness
from app.rota.ledger import LedgerRow, lieu_ledger
from app.rota.lieu import lieu_days
from app.rota.occurrences import base_occurrences
from app.rota.rules import (
    CoverageRule,
    LieuAdjustment,
    LieuRule,
    ManualDayOff,
    Override,
    Rota,
    RotationVersion,
    SpecialistInfo,
    TeamRota,
    holiday_dates,
)
from app.rota.schedule import final_shifts
from app.rota.shifts import DayOff, Occurrence, Shift, ShiftSource
from app.rota.wallclock import local_midnight, require_aware

__all__ = [
    "CoverageRule",
    "DayOff",
    "FairnessRow",
    "Gap",
    "LedgerRow",
    "LieuAdjustment",
    "LieuRule",
    "ManualDayOff",
    "Occurrence",
    "Override",
    "Rota",
    "RotationVersion",
    "Shift",
    "ShiftSource",
    "SpecialistInfo",
    "TeamRota",
    "base_occurrences",
    "coverage_gaps",
    "coverage_gaps_of_teams",
    "days_off",
    "fairness",
    "final_schedule",
    "holiday_dates",
    "lieu_ledger",
    "lieu_ledger_and_fairness",
    "on_shift_at",
    "schedule_and_days_off",
]


def final_schedule(
    rota: Rota,
    start: datetime,
    end: datetime,
    *,
    team: str | None = None,
    specialist: int | None = None,
) -> list[Shift]:
    """Return the final shifts overlapping [start, end), sorted by start, team, specialist."""
    return [
        shift
        for shift in final_shifts(rota, start, end)
        if (team is None or shift.team == team)
        and (specialist is None or shift.specialist_id == specialist)
    ]


def days_off(
    rota: Rota, start: datetime, end: datetime, *, specialist: int | None = None
) -> list[DayOff]:
    """Return the days off whose local day (specialist's zone) overlaps [start, end)."""
    start = require_aware(start, "start")
    end = require_aware(end, "end")
    if end <= start:
        return []
    # Local dates lie within two days of the UTC date; filter exactly below.
    first = start.date() - timedelta(days=2)
    last = end.date() + timedelta(days=2)
    found: list[DayOff] = []
    for day_off in lieu_days(rota, first, last):
        if specialist is not None and day_off.specialist_id != specialist:
            continue
        tz = rota.specialist_tz(day_off.specialist_id)
        begins = local_midnight(day_off.day, tz)
        ends = local_midnight(day_off.day + timedelta(days=1), tz)
        if begins < end and ends > start:
            found.append(day_off)
    return found


def on_shift_at(rota: Rota, at: datetime, *, team: str | None = None) -> list[Shift]:
    """Return the final shifts in progress at instant ``at`` (start <= at < end)."""
    at = require_aware(at, "at")
    return final_schedule(rota, at, at + timedelta(microseconds=1), team=team)


def schedule_and_days_off(
    rota: Rota,
    start: datetime,
    end: datetime,
    *,
    team: str | None = None,
    specialist: int | None = None,
) -> tuple[list[Shift], list[DayOff]]:
    """`final_schedule` and `days_off` over one range in one call (one trip to a worker)."""
    shifts = final_schedule(rota, start, end, team=team, specialist=specialist)
    return shifts, days_off(rota, start, end, specialist=specialist)


def coverage_gaps_of_teams(
    rota: Rota, ranges: list[tuple[str, datetime, datetime]]
) -> list[list[Gap]]:
    """`coverage_gaps` of several (team, start, end) in one call, in their order."""
    return [coverage_gaps(rota, team, start, end) for team, start, end in ranges]


def lieu_ledger_and_fairness(
    rota: Rota, start: datetime, end: datetime, now: datetime, *, team: str | None = None
) -> tuple[list[LedgerRow], list[FairnessRow]]:
    """`lieu_ledger` and `fairness` (of a team) over one range in one call."""
    return lieu_ledger(rota, start, end, now), fairness(rota, start, end, team=team)
