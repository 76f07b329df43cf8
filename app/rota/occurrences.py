"""Occurrences of rotation versions: which local dates a rotation runs on and who works them.

An occurrence on local date d of a version exists when d's weekday is in ``days``,
d >= ``anchor``, d lies in an active week (weeks are Monday-based, week 0 contains the
anchor, a week is active when its index is a multiple of ``every_weeks``) and the
occurrence's start instant lies in [effective_from, effective_until). It runs from d at
``start`` to d + (length_days - 1) (+1 when end <= start) at ``end``, both converted with
the wall-clock rules of :mod:`app.rota.wallclock`; an overnight shift belongs to the day it
starts. An occurrence whose two ends fall into the same DST gap is empty and dropped.

The occurrence index n counts the rotation's qualifying dates (from the anchor, in active
weeks, ignoring effective windows and holidays) before d, so it is the same in every version
and is computed arithmetically. ``all``: every member works every occurrence. ``turns``
with per_occurrence k: occurrence n is worked by members[(n*k + turn_offset + j) % len]
for j in 0..k-1 (a member listed once per occurrence even when k > len(members)).
``all`` rotations skip the team's holidays (the occurrence's local date) unless
``run_on_holidays``; ``turns`` rotations ignore holidays.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from app.rota.rules import Rota, RotationVersion
from app.rota.shifts import Occurrence, Shift, ShiftSource
from app.rota.wallclock import local_date, local_to_utc, require_aware

__all__ = [
    "assigned_members",
    "base_occurrences",
    "is_occurrence_date",
    "occurrence_index",
    "rotation_shifts",
    "shift_bounds",
    "week_index",
]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_index(anchor: date, day: date) -> int:
    """Return the index of ``day``'s Monday-based week, week 0 containing ``anchor``."""
    return (_monday(day) - _monday(anchor)).days // 7


def is_occurrence_date(version: RotationVersion, day: date) -> bool:
    """Return whether the version's pattern (ignoring effective window, holidays) hits day."""
    return (
        day >= version.anchor
        and day.weekday() in version.days
        and week_index(version.anchor, day) % version.every_weeks == 0
    )


def occurrence_index(version: RotationVersion, day: date) -> int:
    """Return how many qualifying dates of the rotation lie in [anchor, day); O(1)."""
    if day <= version.anchor:
        return 0
    weeks = week_index(version.anchor, day)
    per_week = len(version.days)
    # Active weeks among 0..weeks-1, each with every weekday in `days`...
    active_before = -(-weeks // version.every_weeks)
    count = active_before * per_week
    # ...plus the days of day's own week before it, when that week is active...
    if weeks % version.every_weeks == 0:
        count += sum(1 for wd in version.days if wd < day.weekday())
    # ...minus the days of the anchor's week before the anchor (week 0 is always active).
    count -= sum(1 for wd in version.days if wd < version.anchor.weekday())
    return count


def assigned_members(version: RotationVersion, index: int) -> tuple[int, ...]:
    """Return the members who work occurrence ``index`` of the version."""
    members = version.members
    if version.assignment == "all" or not members:
        return tuple(dict.fromkeys(members))
    k = version.per_occurrence
    picks = (members[(index * k + version.turn_offset + j) % len(members)] for j in range(k))
    return tuple(dict.fromkeys(picks))


def shift_bounds(version: RotationVersion, day: date) -> tuple[datetime, datetime]:
    """Return the UTC start and end of the version's shift starting on local ``day``."""
    overnight = 1 if version.end <= version.start else 0
    end_day = day + timedelta(days=version.length_days - 1 + overnight)
    return (
        local_to_utc(day, version.start, version.tz),
        local_to_utc(end_day, version.end, version.tz),
    )


def _in_effect(version: RotationVersion, instant: datetime) -> bool:
    if instant < version.effective_from:
        return False
    return version.effective_until is None or instant < version.effective_until


def _dates(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def base_occurrences(
    version: RotationVersion,
    start: datetime,
    end: datetime,
    holidays: frozenset[date] = frozenset(),
) -> list[Occurrence]:
    """Return the version's occurrences overlapping [start, end), ordered by start."""
    start = require_aware(start, "start")
    end = require_aware(end, "end")
    tz = version.tz
    # A shift lasts at most length_days + 1 local days; pad a day more for DST gaps.
    first = local_date(start, tz) - timedelta(days=version.length_days + 2)
    last = local_date(end, tz) + timedelta(days=1)
    first = max(first, version.anchor, local_date(version.effective_from, tz) - timedelta(days=1))
    if version.effective_until is not None:
        last = min(last, local_date(version.effective_until, tz) + timedelta(days=1))
    skip_holidays = version.assignment == "all" and not version.run_on_holidays
    found: list[Occurrence] = []
    for day in _dates(first, last):
        if not is_occurrence_date(version, day) or (skip_holidays and day in holidays):
            continue
        shift_start, shift_end = shift_bounds(version, day)
        if shift_end <= shift_start or shift_end <= start or shift_start >= end:
            continue
        if not _in_effect(version, shift_start):
            continue
        index = occurrence_index(version, day)
        found.append(
            Occurrence(
                rotation_id=version.rotation_id,
                version=version.version,
                team=version.team,
                local_date=day,
                index=index,
                start=shift_start,
                end=shift_end,
                members=assigned_members(version, index),
            )
        )
    return found


def rotation_shifts(rota: Rota, start: datetime, end: datetime) -> list[Shift]:
    """Return one shift per member per occurrence of every rotation overlapping [start, end)."""
    shifts: list[Shift] = []
    for version in rota.rotations:
        team = rota.teams.get(version.team)
        holidays = team.holidays if team else frozenset()
        for occ in base_occurrences(version, start, end, holidays):
            source = ShiftSource(
                kind="rotation",
                rotation_id=occ.rotation_id,
                version=occ.version,
                occurrence=occ.index,
            )
            shifts.extend(
                Shift(member, occ.team, occ.start, occ.end, occ.local_date, source)
                for member in occ.members
            )
    return shifts
