"""Days off in lieu: who earns them, which weekday they land on, moves, cancels, manual days.

- Earning: each occurrence of an earning version (``earns_lieu``) earns one day off for the
  specialist who works it, judged on the shifts after overrides and before days off in lieu.
  When covers split the occurrence, whoever works the largest part earns it (tie: the
  original member, else the holder whose part starts first); nobody earns when leave cut it
  out entirely. ``earning_key`` = "{rotation_id}:{local date}:{original member}".
- Placement: a weekday (Mon-Fri) of the ISO week after the earning's local date. A fixed
  rule takes its weekday (if already taken by another earning of the same person: the next
  weekday, wrapping round). "most_staffed" (the default) ranks the weekdays on which the
  person has a shift (any team, start date in their own zone; all Mon-Fri if none) by
  surplus = distinct specialists with shifts of the earning rotation's team starting that
  local day (team zone) - the largest min_staff of the team's coverage rules on that
  weekday (0 if none), highest first, ties earliest; if all those days are taken, the other
  weekdays in the same order. Every placement lowers that team-day's surplus by one.
  Earnings of one week are placed in order of their start (then rotation, then member).
  Public holidays of the earning team are never chosen (they are days off already): a
  fixed weekday that is a holiday moves to the next free weekday. A person's earning that
  finds no free weekday (a sixth in one week, or a week of holidays) stays unplaced
  (earned, outstanding) until a scheduler moves it, so placement never reaches beyond one
  week.
- Then scheduler adjustments move or cancel the automatic day (every day a scheduler
  placed has ``moved=True``; a cancelled earning has no day), and manual days off are
  added. Days off are local dates of the specialist's own time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.rota.overrides import pre_lieu_shifts
from app.rota.rules import LieuRule, Rota, RotationVersion
from app.rota.shifts import DayOff, Shift
from app.rota.wallclock import DATE_SLACK, local_date, utc_day_start

__all__ = [
    "Earning",
    "earning_key",
    "earnings_from",
    "lieu_days",
    "monday_of",
    "parse_earning_key",
    "unplaced_earnings",
]


@dataclass(frozen=True)
class Earning:
    """One day off in lieu earned by working one occurrence of an earning rotation."""

    key: str
    rotation_id: int
    team: str
    specialist_id: int
    original_member: int
    local_date: date
    start: datetime
    rule: LieuRule


def monday_of(day: date) -> date:
    """Return the Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def earning_key(rotation_id: int, day: date, original_member: int) -> str:
    """Return the stable key of the earning of one occurrence by one original member."""
    return f"{rotation_id}:{day.isoformat()}:{original_member}"


def parse_earning_key(key: str) -> tuple[int, date, int] | None:
    """Return (rotation_id, local date, original member) of a key, None if malformed."""
    try:
        rotation, day, member = key.split(":")
        return int(rotation), date.fromisoformat(day), int(member)
    except ValueError:
        return None


def earnings_from(rota: Rota, shifts: Iterable[Shift]) -> list[Earning]:
    """Return the earnings of the given (pre-lieu, whole) shifts, ordered by start."""
    versions: dict[tuple[int, int], RotationVersion] = {
        (v.rotation_id, v.version): v for v in rota.rotations
    }
    groups: defaultdict[str, list[tuple[Shift, RotationVersion]]] = defaultdict(list)
    for shift in shifts:
        src = shift.source
        if src.rotation_id is None or src.version is None:
            continue
        version = versions.get((src.rotation_id, src.version))
        if version is not None and version.earns_lieu:
            key = earning_key(src.rotation_id, shift.local_date, shift.original_member)
            groups[key].append((shift, version))

    found: list[Earning] = []
    for key, pieces in groups.items():
        worked: defaultdict[int, timedelta] = defaultdict(timedelta)
        first: dict[int, datetime] = {}
        for shift, _ in pieces:
            person = shift.specialist_id
            worked[person] += shift.end - shift.start
            first[person] = min(first.get(person, shift.start), shift.start)
        shift, version = pieces[0]
        original = shift.original_member
        most = max(worked.values())
        tied = [person for person, span in worked.items() if span == most]
        earner = original if original in tied else min(tied, key=lambda p: (first[p], p))
        found.append(
            Earning(
                key=key,
                rotation_id=version.rotation_id,
                team=shift.team,
                specialist_id=earner,
                original_member=original,
                local_date=shift.local_date,
                start=first[earner],
                rule=version.effective_lieu_rule,
            )
        )
    found.sort(key=lambda e: (e.start, e.rotation_id, e.original_member, e.key))
    return found


@dataclass
class _Staffing:
    """Who has shifts starting on which day: per team (team zone), per person (own zone)."""

    team_day: defaultdict[tuple[str, date], set[int]]
    person_days: defaultdict[int, set[date]]


def _staffing(rota: Rota, shifts: Iterable[Shift]) -> _Staffing:
    staffing = _Staffing(defaultdict(set), defaultdict(set))
    for shift in shifts:
        team_day = local_date(shift.start, rota.team_tz(shift.team))
        staffing.team_day[(shift.team, team_day)].add(shift.specialist_id)
        own_day = local_date(shift.start, rota.specialist_tz(shift.specialist_id))
        staffing.person_days[shift.specialist_id].add(own_day)
    return staffing


def _required(rota: Rota, team: str, day: date) -> int:
    known = rota.teams.get(team)
    rules = known.coverage if known else ()
    return max((r.min_staff for r in rules if day.weekday() in r.days), default=0)


def _place_week(
    rota: Rota, monday: date, earnings: list[Earning], staffing: _Staffing
) -> dict[str, date | None]:
    """Place the earnings of the week before ``monday`` on weekdays of ``monday``'s week."""
    weekdays = [monday + timedelta(days=i) for i in range(5)]
    surplus: dict[tuple[str, date], int] = {}
    taken: defaultdict[int, set[date]] = defaultdict(set)
    placed: dict[str, date | None] = {}

    def surplus_of(team: str, day: date) -> int:
        if (team, day) not in surplus:
            staff = len(staffing.team_day.get((team, day), ()))
            surplus[(team, day)] = staff - _required(rota, team, day)
        return surplus[(team, day)]

    for earning in earnings:
        # A public holiday of the earning team is a day off already: never spend one there.
        team = rota.teams.get(earning.team)
        holidays = team.holidays if team else frozenset()
        free = [d for d in weekdays if d not in taken[earning.specialist_id] and d not in holidays]
        if not free:
            placed[earning.key] = None
            continue
        if earning.rule.kind == "fixed" and earning.rule.weekday is not None:
            wd = earning.rule.weekday
            preference = weekdays[wd:] + weekdays[:wd]
            chosen = next(d for d in preference if d in free)
        else:
            worked = staffing.person_days.get(earning.specialist_id, set())
            candidates = [d for d in weekdays if d in worked] or weekdays
            pool = [d for d in free if d in candidates] or free
            chosen = min(pool, key=lambda d: (-surplus_of(earning.team, d), d))
        taken[earning.specialist_id].add(chosen)
        surplus[(earning.team, chosen)] = surplus_of(earning.team, chosen) - 1
        placed[earning.key] = chosen
    return placed


def _window(first: date, last: date) -> tuple[datetime, datetime]:
    """A UTC window sure to contain every shift starting on local dates first..last."""
    return utc_day_start(first) - DATE_SLACK, utc_day_start(last + timedelta(days=1)) + DATE_SLACK


def _find_earning(rota: Rota, key: str) -> Earning | None:
    parsed = parse_earning_key(key)
    if parsed is None:
        return None
    day = parsed[1]
    shifts = pre_lieu_shifts(rota, *_window(day, day))
    return next((e for e in earnings_from(rota, shifts) if e.key == key), None)


def _placements(
    rota: Rota, first: date, last: date
) -> tuple[dict[str, Earning], dict[str, date | None], list[date]]:
    """Earnings placed in the weeks of first..last, where each landed (None: nowhere)."""
    mondays = [monday_of(first)]
    while mondays[-1] + timedelta(days=7) <= last:
        mondays.append(mondays[-1] + timedelta(days=7))
    earn_first = mondays[0] - timedelta(days=7)
    earn_last = mondays[-1] - timedelta(days=1)
    shifts = pre_lieu_shifts(rota, *_window(earn_first, mondays[-1] + timedelta(days=4)))
    earnings = {
        e.key: e for e in earnings_from(rota, shifts) if earn_first <= e.local_date <= earn_last
    }
    by_week: defaultdict[date, list[Earning]] = defaultdict(list)
    for earning in earnings.values():  # already ordered by start
        by_week[monday_of(earning.local_date) + timedelta(days=7)].append(earning)
    staffing = _staffing(rota, shifts)
    placed: dict[str, date | None] = {}
    for monday in mondays:
        placed.update(_place_week(rota, monday, by_week[monday], staffing))
    return earnings, placed, mondays


def unplaced_earnings(rota: Rota, first: date, last: date) -> list[Earning]:
    """Earnings due a day in the weeks of first..last that found no free weekday.

    A sixth earning of one person in one week, or a week of the team's holidays: the day
    stays earned and outstanding until a scheduler moves it (or cancels it).
    """
    if last < first:
        return []
    earnings, placed, _ = _placements(rota, first, last)
    return [
        earnings[key]
        for key, day in placed.items()
        if day is None and key not in rota.lieu_adjustments
    ]


def lieu_days(rota: Rota, first: date, last: date) -> list[DayOff]:
    """Return every day off (all specialists) on dates first..last, ordered by day."""
    if last < first:
        return []
    earnings, placed, mondays = _placements(rota, first, last)
    earn_first = mondays[0] - timedelta(days=7)
    earn_last = mondays[-1] - timedelta(days=1)
    days: list[DayOff] = []
    adjustments = rota.lieu_adjustments
    for key, day in placed.items():
        if day is not None and key not in adjustments and first <= day <= last:
            days.append(DayOff(earnings[key].specialist_id, day, key, "lieu", moved=False))
    for key, new_day in adjustments.items():
        if new_day is None or not first <= new_day <= last:
            continue
        parsed = parse_earning_key(key)
        if parsed is None:
            continue
        if earn_first <= parsed[1] <= earn_last:
            found = earnings.get(key)  # computed above; absent means no such earning
        else:
            found = _find_earning(rota, key)
        if found is not None:
            days.append(DayOff(found.specialist_id, new_day, key, "lieu", moved=True))
    days.extend(
        DayOff(m.specialist_id, m.day, None, "manual", moved=False)
        for m in rota.manual_days_off
        if first <= m.day <= last
    )
    days.sort(key=lambda d: (d.day, d.specialist_id, d.earning_key or ""))
    return days
