"""The team calendar's picture: people by day, coverage per hour, who is on now.

A read service for the console: it asks the same calculator and queries as the API
(final schedule, days off, coverage gaps, on-shift lookup) and arranges the answer by the
days of the zone the page is shown in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import holidays as holidays_lib
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.models.rota import Team
from app.rota import lookup, repository
from app.rota.calculator import Gap, Shift, coverage_gaps, days_off, final_schedule
from app.rota.coverage import rule_windows
from app.rota.wallclock import local_date, local_midnight, zone

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class HourCell:
    """One hour of a day on the coverage strip."""

    label: str
    status: str  # ok, gap, closed, holiday
    missing: int
    title: str


@dataclass(frozen=True)
class DayColumn:
    """A day of the calendar in the zone shown."""

    day: date
    hours: int
    is_today: bool
    is_weekend: bool
    holiday: str | None
    strip: list[HourCell]
    gap_notes: list[str]

    @property
    def dst_note(self) -> str | None:
        """Says when the clocks change that day (a 23- or 25-hour day)."""
        if self.hours < 24:
            return f"{self.hours} h day: clocks go forward"
        if self.hours > 24:
            return f"{self.hours} h day: clocks go back"
        return None


@dataclass(frozen=True)
class CellItem:
    """Something in a person's day: a shift, a covered shift, leave or a day off in lieu."""

    kind: str  # rotation, cover, extra, covered, continued, leave, lieu, manual
    text: str
    note: str
    start: datetime | None = None
    end: datetime | None = None
    override_id: int | None = None
    shift_key: str | None = None


@dataclass
class PersonRow:
    """One person's line on the calendar."""

    specialist_id: int
    name: str
    active: bool
    is_me: bool
    days: list[list[CellItem]] = field(default_factory=list)


@dataclass(frozen=True)
class OnNow:
    """Someone on shift at this moment, and what they are doing (when routing says)."""

    specialist_id: int
    name: str
    until: datetime
    note: str
    status: str | None = None  # available, ringing, on_call, away, offline


STATUS_LABELS = {
    "available": "available",
    "ringing": "ringing",
    "on_call": "on a call",
    "away": "away",
    "offline": "offline",
}

# Who is doing what now comes from routing (presence, availability, calls), which builds on
# the rota: routing registers its answer here, as the sign-out hooks do for the console.
StatusSource = Callable[[AsyncSession, str, datetime], Awaitable[dict[int, str]]]
_STATUS_SOURCES: list[StatusSource] = []


def status_source(source: StatusSource) -> StatusSource:
    """Register what tells each on-shift person's status by team slug (registered once)."""
    if source not in _STATUS_SOURCES:
        _STATUS_SOURCES.append(source)
    return source


async def on_now(session: AsyncSession, slug: str, now: datetime) -> list[OnNow]:
    """Who is on the team's shift at `now`, each with their status when one is known."""
    running = await lookup.on_shift(session, now, team=slug)
    statuses: dict[int, str] = {}
    for source in _STATUS_SOURCES:
        statuses.update(await source(session, slug, now))
    names = {o.specialist_id: o.name for o in running}
    covering = {o.covering_for for o in running if o.covering_for} - names.keys()
    if covering:
        names.update(await repository.specialist_names(session, covering))
    return [
        OnNow(
            o.specialist_id,
            o.name,
            o.ends_at,
            f"covering {names.get(o.covering_for, '?')}" if o.covering_for else o.source_kind,
            statuses.get(o.specialist_id),
        )
        for o in running
    ]


@dataclass
class CalendarView:
    """Everything the calendar page shows."""

    team: Team
    tz: str
    first_day: date
    days: list[DayColumn]
    rows: list[PersonRow]
    on_now: list[OnNow]
    gaps: list[Gap]
    start: datetime
    end: datetime
    has_rotations: bool
    member_ids: list[int]
    names: dict[int, str]


def holiday_names(team: Team, first: date, last: date) -> dict[date, str]:
    """The team's public holidays between two dates, with their names."""
    if not team.holiday_country:
        return {}
    found = holidays_lib.country_holidays(
        team.holiday_country,
        subdiv=team.holiday_subdivision,
        years=range(first.year, last.year + 1),
    )
    return {d: str(name) for d, name in found.items() if first <= d <= last}


def _hhmm(instant: datetime, tz: str) -> str:
    return instant.astimezone(zone(tz)).strftime("%H:%M")


def _span(start: datetime, end: datetime, tz: str, day: date) -> str:
    """'09:00–17:00', or with the end's weekday when it ends on another day."""
    end_local = end.astimezone(zone(tz))
    same_or_midnight = end_local.date() == day or (
        end_local.date() == day + timedelta(days=1) and end_local.hour == end_local.minute == 0
    )
    end_text = end_local.strftime("%H:%M") if same_or_midnight else end_local.strftime("%a %H:%M")
    return f"{_hhmm(start, tz)}–{end_text}"


def _strip(
    team: Team,
    day: date,
    tz: str,
    gaps: list[Gap],
    rules_by_day: dict[int, bool],
    team_holidays: frozenset[date],
) -> tuple[list[HourCell], int]:
    begins, ends = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    rules = repository.coverage_rules(team)
    cells: list[HourCell] = []
    slot = begins
    while slot < ends:
        slot_end = min(slot + HOUR, ends)
        label = slot.astimezone(zone(tz)).strftime("%H")
        span = f"{_hhmm(slot, tz)}–{_hhmm(slot_end, tz)}"
        short = [g for g in gaps if g.start < slot_end and g.end > slot]
        required = any(rule_windows(r, team.tz, team_holidays, slot, slot_end) for r in rules)
        if short:
            missing = max(g.min_staff - g.staffed for g in short)
            langs = sorted({g.language for g in short if g.language})
            extra = f" ({', '.join(langs)} speaker)" if langs else ""
            cells.append(HourCell(label, "gap", missing, f"{span}: gap, {missing} short{extra}"))
        elif required:
            cells.append(HourCell(label, "ok", 0, f"{span}: covered"))
        else:
            team_day = local_date(slot, team.tz)
            if team_day in team_holidays and rules_by_day.get(team_day.weekday()):
                cells.append(HourCell(label, "holiday", 0, f"{span}: public holiday"))
            else:
                cells.append(HourCell(label, "closed", 0, f"{span}: outside coverage hours"))
        slot = slot_end
    hours = round((ends - begins).total_seconds() / 3600)
    return cells, hours


def _gap_notes(gaps: list[Gap], day: date, tz: str) -> list[str]:
    begins, ends = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    notes = []
    for g in gaps:
        if g.start < ends and g.end > begins:
            lo, hi = max(g.start, begins), min(g.end, ends)
            who = f"{g.staffed} of {g.min_staff}" + (f" {g.language}" if g.language else "")
            notes.append(f"gap {_hhmm(lo, tz)}–{_hhmm(hi, tz)} ({who})")
    return notes


def _place_shift(
    rows: dict[int, PersonRow],
    shift: Shift,
    days: list[date],
    tz: str,
    names: dict[int, str],
    rotation_names: dict[int, str],
) -> None:
    src = shift.source
    first = local_date(shift.start, tz)
    for index, day in enumerate(days):
        begins, ends = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
        if not (shift.start < ends and shift.end > begins):
            continue
        row = rows[shift.specialist_id]
        if day != first and index > 0:
            row.days[index].append(
                CellItem(
                    "continued",
                    f"until {_span(shift.start, shift.end, tz, day)[6:]}",
                    "shift continues",
                    shift.start,
                    shift.end,
                    src.override_id,
                    shift.key,
                )
            )
            continue
        text = _span(shift.start, shift.end, tz, day)
        if src.kind == "cover" and src.covering_for is not None:
            whom = names.get(src.covering_for, "?")
            row.days[index].append(
                CellItem(
                    "cover",
                    text,
                    f"covers {whom}",
                    shift.start,
                    shift.end,
                    src.override_id,
                    shift.key,
                )
            )
            if src.covering_for in rows:
                rows[src.covering_for].days[index].append(
                    CellItem(
                        "covered",
                        text,
                        f"covered by {names.get(shift.specialist_id, '?')}",
                        shift.start,
                        shift.end,
                        src.override_id,
                        shift.key,
                    )
                )
        elif src.kind == "extra":
            row.days[index].append(
                CellItem(
                    "extra", text, "extra shift", shift.start, shift.end, src.override_id, shift.key
                )
            )
        else:
            rotation = rotation_names.get(src.rotation_id or 0, "rotation")
            row.days[index].append(
                CellItem("rotation", text, rotation, shift.start, shift.end, None, shift.key)
            )


async def team_calendar(
    session: AsyncSession,
    slug: str,
    *,
    first_day: date,
    n_days: int,
    tz: str | None,
    now: datetime,
    me: int | None,
) -> CalendarView:
    """The calendar of a team for `n_days` from `first_day`, in zone `tz` (default the team's)."""
    team = await repository.team_by_slug(session, slug)
    if team is None:
        raise NotFound(f"team {slug!r} does not exist")
    tz = tz or team.tz
    day_list = [first_day + timedelta(days=i) for i in range(n_days)]
    start = local_midnight(first_day, tz)
    end = local_midnight(first_day + timedelta(days=n_days), tz)
    snapshot = await repository.load_snapshot(session, start, end)
    rota = snapshot.rota
    shifts = await asyncio.to_thread(final_schedule, rota, start, end, team=slug)
    gaps = await asyncio.to_thread(coverage_gaps, rota, slug, start, end)
    offs = await asyncio.to_thread(days_off, rota, start, end)
    members = (await repository.team_members(session, [team.id])).get(team.id, [])
    names = snapshot.specialist_names
    people = list(dict.fromkeys([*members, *(s.specialist_id for s in shifts)]))

    def order(sid: int) -> tuple[int, str]:
        return (0 if sid == me else 1, names.get(sid, "?").casefold())

    rows = {
        sid: PersonRow(
            specialist_id=sid,
            name=names.get(sid, "?"),
            active=rota.is_active(sid) if sid in rota.specialists else False,
            is_me=sid == me,
            days=[[] for _ in day_list],
        )
        for sid in sorted(people, key=order)
    }
    for shift in shifts:
        _place_shift(rows, shift, day_list, tz, names, snapshot.rotation_names)
    for leave in rota.overrides:
        if leave.kind != "leave" or leave.specialist_id not in rows:
            continue
        for index, day in enumerate(day_list):
            begins, ends = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
            if leave.start < ends and leave.end > begins:
                whole = leave.start <= begins and leave.end >= ends
                text = (
                    "leave"
                    if whole
                    else f"leave {_span(max(leave.start, begins), min(leave.end, ends), tz, day)}"
                )
                rows[leave.specialist_id].days[index].append(
                    CellItem("leave", text, "on leave", leave.start, leave.end, leave.id)
                )
    for off in offs:
        if off.specialist_id in rows and off.day in day_list:
            kind = "lieu" if off.source == "lieu" else "manual"
            note = "earned by a weekend shift" if off.source == "lieu" else "added by hand"
            if off.moved:
                note += ", moved"
            rows[off.specialist_id].days[day_list.index(off.day)].append(
                CellItem(kind, "day off in lieu", note)
            )
    for row in rows.values():
        for items in row.days:
            items.sort(key=lambda i: (i.start or start, i.kind))

    team_holidays = repository.team_holidays(team, range(first_day.year - 1, first_day.year + 2))
    named = holiday_names(team, first_day, day_list[-1])
    rule_days: dict[int, bool] = {}
    for rule in repository.coverage_rules(team):
        for weekday in rule.days:
            rule_days[weekday] = True
    today = local_date(now, tz)
    columns = []
    for day in day_list:
        strip, hours = _strip(team, day, tz, gaps, rule_days, team_holidays)
        columns.append(
            DayColumn(
                day=day,
                hours=hours,
                is_today=day == today,
                is_weekend=day.weekday() >= 5,
                holiday=named.get(day),
                strip=strip,
                gap_notes=_gap_notes(gaps, day, tz),
            )
        )
    return CalendarView(
        team=team,
        tz=tz,
        first_day=first_day,
        days=columns,
        rows=list(rows.values()),
        on_now=await on_now(session, slug, now),
        gaps=gaps,
        start=start,
        end=end,
        has_rotations=any(v.team == slug for v in rota.rotations),
        member_ids=members,
        names=names,
    )
