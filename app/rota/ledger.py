"""The lieu ledger: days in lieu earned, taken, cancelled and outstanding per specialist.

Counted over [start, min(end, now)):

- earned: earnings whose earning shift (the earner's first part of it) started in it;
- cancelled: those of them whose automatic day a scheduler cancelled;
- taken: days off in lieu (automatic, moved or manual) that began in it (local midnight of
  the specialist's zone), so today's day off counts as taken;
- outstanding = earned - taken: a cancelled day is not taken, so it stays outstanding
  until a scheduler adds a manual day; negative means days taken ahead of earning them;
- weeks_without_weekend: Mondays of the complete ISO weeks (in the rotation's zone) in
  which an earning rotation had an occurrence and an active member of that version had no
  final shift starting on that Saturday or Sunday (in the shift's team zone).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.rota.lieu import earnings_from, lieu_days, monday_of, unplaced_earnings
from app.rota.occurrences import base_occurrences
from app.rota.overrides import pre_lieu_shifts
from app.rota.rules import Rota
from app.rota.schedule import final_shifts
from app.rota.wallclock import DATE_SLACK, local_date, local_midnight, require_aware

__all__ = ["LedgerRow", "lieu_ledger"]


@dataclass(frozen=True)
class LedgerRow:
    """One specialist's days in lieu over a range."""

    specialist_id: int
    earned: int
    taken: int
    cancelled: int
    outstanding: int
    weeks_without_weekend: tuple[date, ...]
    # Earnings in the range that found no free weekday (a sixth in one week, a week of
    # holidays): outstanding until a scheduler moves them.
    unplaced: tuple[str, ...] = ()


def _weeks_without_weekend(
    rota: Rota, start: datetime, horizon: datetime
) -> defaultdict[int, set[date]]:
    weekend_days: defaultdict[int, set[date]] = defaultdict(set)
    for shift in final_shifts(rota, start - DATE_SLACK, horizon + DATE_SLACK):
        day = local_date(shift.start, rota.team_tz(shift.team))
        if day.weekday() >= 5:
            weekend_days[shift.specialist_id].add(day)
    flagged: defaultdict[int, set[date]] = defaultdict(set)
    for version in rota.rotations:
        if not version.earns_lieu:
            continue
        team = rota.teams.get(version.team)
        holidays = team.holidays if team else frozenset()
        occurrences = base_occurrences(version, start - DATE_SLACK, horizon + DATE_SLACK, holidays)
        for monday in sorted({monday_of(o.local_date) for o in occurrences}):
            next_monday = monday + timedelta(days=7)
            complete = (
                local_midnight(monday, version.tz) >= start
                and local_midnight(next_monday, version.tz) <= horizon
            )
            if not complete:
                continue
            weekend = {monday + timedelta(days=5), monday + timedelta(days=6)}
            for member in version.members:
                if rota.is_active(member) and not weekend & weekend_days[member]:
                    flagged[member].add(monday)
    return flagged


def lieu_ledger(rota: Rota, start: datetime, end: datetime, now: datetime) -> list[LedgerRow]:
    """Return per-specialist days in lieu earned, taken, cancelled and outstanding."""
    start = require_aware(start, "start")
    horizon = min(require_aware(end, "end"), require_aware(now, "now"))
    earned: defaultdict[int, int] = defaultdict(int)
    cancelled: defaultdict[int, int] = defaultdict(int)
    taken: defaultdict[int, int] = defaultdict(int)
    flagged: defaultdict[int, set[date]] = defaultdict(set)
    unplaced: defaultdict[int, list[str]] = defaultdict(list)
    if horizon > start:
        for earning in earnings_from(rota, pre_lieu_shifts(rota, start, horizon)):
            if start <= earning.start < horizon:
                earned[earning.specialist_id] += 1
                adjusted = rota.lieu_adjustments
                if earning.key in adjusted and adjusted[earning.key] is None:
                    cancelled[earning.specialist_id] += 1
        first = (start - DATE_SLACK).date()
        last = (horizon + DATE_SLACK).date()
        for day_off in lieu_days(rota, first, last):
            begins = local_midnight(day_off.day, rota.specialist_tz(day_off.specialist_id))
            if start <= begins < horizon:
                taken[day_off.specialist_id] += 1
        flagged = _weeks_without_weekend(rota, start, horizon)
        # Placed in the ISO week after the earning: look a week beyond the horizon.
        for earning in unplaced_earnings(rota, first, last + timedelta(days=7)):
            if start <= earning.start < horizon:
                unplaced[earning.specialist_id].append(earning.key)

    people = set(earned) | set(taken) | set(flagged)
    for version in rota.rotations:
        in_effect = version.effective_from < horizon and (
            version.effective_until is None or version.effective_until > start
        )
        if version.earns_lieu and in_effect:
            people.update(m for m in version.members if rota.is_active(m))
    return [
        LedgerRow(
            specialist_id=person,
            earned=earned[person],
            taken=taken[person],
            cancelled=cancelled[person],
            outstanding=earned[person] - taken[person],
            weeks_without_weekend=tuple(sorted(flagged[person])),
            unplaced=tuple(unplaced[person]),
        )
        for person in sorted(people)
    ]
