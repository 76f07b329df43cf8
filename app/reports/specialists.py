"""Per-specialist activity: rings offered, answered, missed, declined, and utilisation.

- rings_offered: times the specialist's phone rang for a call (ringing attempts started in
  the range); answered (accepted with 1 after the whisper), declined (hung up or pressed
  another key at the whisper), missed (no answer, busy, or the call failed to reach
  them), canceled (the caller left or a colleague rung at the same time answered first);
  rings still going on count as offered only.
- talk_seconds: time on answered calls (answer to end) inside the range.
- on_shift_seconds: time on shift in the range, from the final schedule (rotations,
  overrides, days off in lieu), overlapping shifts counted once.
- utilisation: talk_seconds / on_shift_seconds (null without time on shift).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.call import Call, RingAttempt
from app.rota.repository import specialist_names
from app.rota.writes import preview

MISSED = ("no-answer", "busy", "failed")


@dataclass
class Activity:
    """Running figures of one specialist."""

    offered: int = 0
    answered: int = 0
    missed: int = 0
    declined: int = 0
    canceled: int = 0
    talk: timedelta = timedelta(0)
    shifts: list[tuple[datetime, datetime]] = field(default_factory=list)

    def on_shift(self) -> timedelta:
        """Time on shift, overlapping shifts counted once."""
        total = timedelta(0)
        until: datetime | None = None
        for start, end in sorted(self.shifts):
            if until is not None and start < until:
                start = until
            if end > start:
                total += end - start
                until = end
            elif until is None or end > until:
                until = end
        return total


class SpecialistActivityOut(BaseModel):
    """One specialist's figures (see the module docstring)."""

    specialist_id: int
    name: str | None
    rings_offered: int
    answered: int
    missed: int
    declined: int
    canceled: int
    talk_seconds: int
    on_shift_seconds: int
    utilisation: float | None


class SpecialistReportOut(BaseModel):
    """The per-specialist report of [start, end)."""

    start: datetime
    end: datetime
    team: str | None
    specialists: list[SpecialistActivityOut]


def _ratio(talk: timedelta, shift: timedelta) -> float | None:
    if shift <= timedelta(0):
        return None
    exact = Fraction(talk // timedelta(microseconds=1), shift // timedelta(microseconds=1))
    return math.floor(exact * 10_000 + Fraction(1, 2)) / 10_000


async def specialist_report(
    session: AsyncSession, *, start: datetime, end: datetime, team: str | None
) -> SpecialistReportOut:
    """Each specialist's rings, answers and utilisation over [start, end)."""
    found: dict[int, Activity] = {}
    attempts = select(RingAttempt.specialist_id, RingAttempt.result).where(
        RingAttempt.rung_at >= start,
        RingAttempt.rung_at < end,
        RingAttempt.specialist_id.is_not(None),
    )
    if team is not None:
        attempts = attempts.where(RingAttempt.team == team)
    for specialist_id, result in await session.execute(attempts):
        if specialist_id is None:
            continue
        activity = found.setdefault(specialist_id, Activity())
        activity.offered += 1
        activity.answered += result == "accepted"
        activity.declined += result == "declined"
        activity.missed += result in MISSED
        activity.canceled += result == "canceled"
    talks = select(Call.answered_by_id, Call.answered_at, Call.ended_at).where(
        Call.answered_by_id.is_not(None),
        Call.answered_at < end,
        Call.ended_at > start,
    )
    if team is not None:
        talks = talks.where(Call.team == team)
    for specialist_id, answered_at, ended_at in await session.execute(talks):
        if specialist_id is None or answered_at is None or ended_at is None:
            continue
        talk = min(ended_at, end) - max(answered_at, start)
        if talk > timedelta(0):
            found.setdefault(specialist_id, Activity()).talk += talk
    shifts, _ = await preview(session, start, end)
    for shift in shifts:
        if team is not None and shift.team != team:
            continue
        clipped = (max(shift.start, start), min(shift.end, end))
        if clipped[0] < clipped[1]:
            found.setdefault(shift.specialist_id, Activity()).shifts.append(clipped)
    names = await specialist_names(session, set(found))
    rows = []
    for specialist_id in sorted(found, key=lambda i: (names.get(i) or "", i)):
        activity = found[specialist_id]
        on_shift = activity.on_shift()
        rows.append(
            SpecialistActivityOut(
                specialist_id=specialist_id,
                name=names.get(specialist_id),
                rings_offered=activity.offered,
                answered=activity.answered,
                missed=activity.missed,
                declined=activity.declined,
                canceled=activity.canceled,
                talk_seconds=int(activity.talk.total_seconds()),
                on_shift_seconds=int(on_shift.total_seconds()),
                utilisation=_ratio(activity.talk, on_shift),
            )
        )
    return SpecialistReportOut(start=start, end=end, team=team, specialists=rows)
