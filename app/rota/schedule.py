"""The final schedule: shifts after overrides with days off in lieu applied.

A day off (in lieu or manual) removes every shift of that specialist (rotation, cover or
extra, in every team) that starts on that date in the specialist's own time zone. The
shifts are whole (never clipped to the range asked) and independent of the range: each
comes from its own occurrence, overrides and the lieu placement of the weeks around it.
"""

from __future__ import annotations

from datetime import datetime

from app.rota.lieu import lieu_days
from app.rota.overrides import pre_lieu_shifts
from app.rota.rules import Rota
from app.rota.shifts import Shift, shift_sort_key
from app.rota.wallclock import local_date, require_aware

__all__ = ["final_shifts", "sorted_unique"]


def sorted_unique(shifts: list[Shift]) -> list[Shift]:
    """Return shifts deduplicated by key and in schedule order."""
    unique = {shift.key: shift for shift in reversed(shifts)}
    return sorted(unique.values(), key=shift_sort_key)


def final_shifts(rota: Rota, start: datetime, end: datetime) -> list[Shift]:
    """Return every specialist's final shifts overlapping [start, end), whole and sorted."""
    start = require_aware(start, "start")
    end = require_aware(end, "end")
    if end <= start:
        return []
    overlapping = [s for s in pre_lieu_shifts(rota, start, end) if s.start < end and s.end > start]
    if not overlapping:
        return []
    own_day = {s.key: local_date(s.start, rota.specialist_tz(s.specialist_id)) for s in overlapping}
    days = own_day.values()
    off = {(d.specialist_id, d.day) for d in lieu_days(rota, min(days), max(days))}
    kept = [s for s in overlapping if (s.specialist_id, own_day[s.key]) not in off]
    return sorted_unique(kept)
