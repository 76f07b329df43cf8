"""A deliberately naive reference for rotation occurrences, written from SPEC 6 only.

Nothing here comes from ``app.rota``'s helpers: it walks day by day from the anchor, counts
the occurrence index as it goes and converts wall-clock times by probing ``zoneinfo``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.rota.calculator import RotationVersion

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, order=True)
class RefOccurrence:
    """One expected occurrence."""

    local_date: date
    index: int
    start: datetime
    end: datetime
    members: tuple[int, ...]


def instants_of(wall: datetime, tz: ZoneInfo) -> list[datetime]:
    """Return the UTC instants whose wall time in ``tz`` is ``wall`` (0, 1 or 2), sorted."""
    found: set[datetime] = set()
    for fold in (0, 1):
        instant = wall.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == wall:
            found.add(instant)
    return sorted(found)


def wall_to_utc(day: date, at: time, tz_name: str) -> datetime:
    """Local ``day`` at ``at``: first occurrence if ambiguous, end of the gap if nonexistent."""
    tz = ZoneInfo(tz_name)
    wall = datetime.combine(day, at)
    probe = wall
    for _ in range(24 * 60):
        instants = instants_of(probe, tz)
        if instants:
            # For ``wall`` itself: the first occurrence. For a later probe: the first wall time
            # after the gap that exists, whose instant is the transition (gaps end on minutes).
            return instants[0]
        probe += MINUTE
    raise AssertionError(f"no instant found after {wall} in {tz_name}")


def monday_of(day: date) -> date:
    """Return the Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def qualifies(version: RotationVersion, day: date) -> bool:
    """Return whether the rotation's pattern runs on ``day`` (no window, no holidays)."""
    week = (monday_of(day) - monday_of(version.anchor)).days // 7
    return (
        day >= version.anchor and day.weekday() in version.days and week % version.every_weeks == 0
    )


def members_for(version: RotationVersion, index: int) -> tuple[int, ...]:
    """Return who works occurrence ``index``."""
    if version.assignment == "all":
        return version.members
    size, k = len(version.members), version.per_occurrence
    return tuple(version.members[(index * k + version.turn_offset + j) % size] for j in range(k))


def occurrences(
    version: RotationVersion, start: datetime, end: datetime, holidays: frozenset[date]
) -> list[RefOccurrence]:
    """Return the occurrences overlapping [start, end), sorted."""
    last = end.astimezone(ZoneInfo(version.tz)).date() + 2 * DAY
    found: list[RefOccurrence] = []
    index = 0
    day = version.anchor
    while day <= last:
        if not qualifies(version, day):
            day += DAY
            continue
        shift_start = wall_to_utc(day, version.start, version.tz)
        overnight = 1 if version.end <= version.start else 0
        end_day = day + (version.length_days - 1 + overnight) * DAY
        shift_end = wall_to_utc(end_day, version.end, version.tz)
        in_effect = version.effective_from <= shift_start and (
            version.effective_until is None or shift_start < version.effective_until
        )
        holiday = version.assignment == "all" and not version.run_on_holidays and day in holidays
        if (
            shift_end > shift_start
            and in_effect
            and not holiday
            and shift_start < end
            and shift_end > start
        ):
            found.append(
                RefOccurrence(day, index, shift_start, shift_end, members_for(version, index))
            )
        index += 1
        day += DAY
    return sorted(found)


def transition_dates(tz_name: str, year: int) -> list[date]:
    """Return the local dates in ``year`` on which ``tz_name``'s UTC offset changes."""
    tz = ZoneInfo(tz_name)
    found: list[date] = []
    day = date(year, 1, 1)
    while day.year == year:
        noon = datetime.combine(day, time(12), tzinfo=UTC)
        before, after = (noon - DAY).astimezone(tz), noon.astimezone(tz)
        if before.utcoffset() != after.utcoffset():
            found.append(after.date())
        day += DAY
    return found
