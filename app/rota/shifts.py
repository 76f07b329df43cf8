"""Outputs of the shift calculator: occurrences, concrete shifts and days off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Literal

__all__ = ["DayOff", "Occurrence", "Shift", "ShiftSource", "shift_sort_key"]


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a rotation version: when it runs and who works it."""

    rotation_id: int
    version: int
    team: str
    local_date: date
    index: int
    start: datetime
    end: datetime
    members: tuple[int, ...]


@dataclass(frozen=True)
class ShiftSource:
    """Where a shift comes from: a rotation occurrence, a cover of one, or an extra."""

    kind: Literal["rotation", "cover", "extra"]
    rotation_id: int | None = None
    version: int | None = None
    override_id: int | None = None
    occurrence: int | None = None
    covering_for: int | None = None


@dataclass(frozen=True)
class Shift:
    """A concrete shift of one specialist for one team, in UTC."""

    specialist_id: int
    team: str
    start: datetime
    end: datetime
    local_date: date
    source: ShiftSource

    @property
    def original_member(self) -> int:
        """The rotation member whose occurrence this is (the covered person for a cover)."""
        if self.source.covering_for is not None:
            return self.source.covering_for
        return self.specialist_id

    @property
    def hours(self) -> float:
        """Length of the shift in hours."""
        return (self.end - self.start).total_seconds() / 3600

    @cached_property
    def key(self) -> str:
        """Stable identifier (calendar UID) built only from what defines this shift."""
        # Origin plus UTC start: unrelated edits (other rotations, other people's overrides,
        # a member added) keep it; the start tells apart the pieces of a split shift and
        # two versions' occurrences on the same date, which never start at the same instant.
        # Cached and formatted by hand: schedules sort and de-duplicate by it many times.
        u = self.start.astimezone(UTC)
        stamp = f"{u.year:04d}{u.month:02d}{u.day:02d}T{u.hour:02d}{u.minute:02d}{u.second:02d}Z"
        src = self.source
        if src.kind == "extra":
            return f"extra-{src.override_id}-{stamp}"
        d = self.local_date
        day = f"{d.year:04d}{d.month:02d}{d.day:02d}"
        if src.kind == "cover":
            return f"cover-{src.override_id}-{src.rotation_id}-{day}-{src.covering_for}-{stamp}"
        return f"rot-{src.rotation_id}-{day}-{self.specialist_id}-{stamp}"


def shift_sort_key(shift: Shift) -> tuple[datetime, str, int, datetime, str]:
    """Order shifts by start, then team, then specialist (ties broken by end and key)."""
    return (shift.start, shift.team, shift.specialist_id, shift.end, shift.key)


@dataclass(frozen=True)
class DayOff:
    """A day off in lieu: assigned for an earning (``earning_key``) or added by hand."""

    specialist_id: int
    day: date
    earning_key: str | None
    source: Literal["lieu", "manual"]
    moved: bool = False
