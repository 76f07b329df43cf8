"""The planner page's picture of a proposal: current rota beside the plan, per person per day.

Pure: built from a stored proposal (its schedule and its changes against the rota as it was
when proposed), so the comparison is the one the solver saw. The current rota is the
proposal minus the shifts it adds plus the shifts it removes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.planning.schemas import PlanApplied, PlanOut, RelaxationOut
from app.rota.schemas import (
    FairnessOut,
    GapOut,
    ShiftOut,
)

STATUS_WORDS = {
    "optimal": (
        "ok",
        "Optimal",
        "Every rule is met, and no better plan exists under these rules and weights.",
    ),
    "feasible": (
        "ok",
        "Feasible",
        "Every rule is met; the solver stopped at its time limit before proving that no "
        "better plan exists.",
    ),
    "infeasible": (
        "error",
        "Infeasible",
        "The rules cannot all be met. Below: what has to give, and a best-effort plan "
        "(which cannot be applied).",
    ),
    "unknown": (
        "warn",
        "No answer in time",
        "The solver's time limit ran out before it found any plan. Give it more time "
        "(Solver time limit) or fewer weeks.",
    ),
}


@dataclass(frozen=True)
class Cell:
    """One person's day: the shift now and in the plan, and what changes."""

    current: str | None
    proposed: str | None
    day_off: bool
    change: str  # "same", "added", "removed", "moved", "none"

    @property
    def changed(self) -> bool:
        """True when the plan changes this day."""
        return self.change in ("added", "removed", "moved")


@dataclass
class Row:
    """One person over the period."""

    specialist_id: int
    name: str
    cells: list[Cell] = field(default_factory=list)
    changed_days: int = 0


@dataclass(frozen=True)
class Day:
    """One day column."""

    day: date
    weekend: bool
    holiday: str | None
    gaps_now: list[str]
    gaps_planned: list[str]


@dataclass(frozen=True)
class FairLine:
    """One person's load before and after."""

    name: str
    before: FairnessOut | None
    after: FairnessOut | None


@dataclass(frozen=True)
class Comparison:
    """The whole picture of a proposal."""

    days: list[Day]
    weeks: list[list[int]]  # day indexes per week
    rows: list[Row]
    fairness: list[FairLine]
    spread_before: dict[str, int]
    spread_after: dict[str, int]
    changed_days: int
    relaxations: list[str]
    status: tuple[str, str, str]


def _hhmm(shift: ShiftOut, tz: ZoneInfo) -> str:
    start, end = shift.start.astimezone(tz), shift.end.astimezone(tz)
    return f"{start:%H:%M}–{end:%H:%M}"


def _gap_words(gaps: list[GapOut], tz: ZoneInfo) -> dict[date, list[str]]:
    out: defaultdict[date, list[str]] = defaultdict(list)
    for g in gaps:
        start, end = g.start.astimezone(tz), g.end.astimezone(tz)
        missing = g.min_staff - g.staffed
        lang = f" ({g.language})" if g.language else ""
        out[start.date()].append(f"gap {start:%H:%M}–{end:%H:%M}: {missing} missing{lang}")
    return out


def _spread(rows: list[FairnessOut], members: set[int]) -> dict[str, int]:
    """Most minus fewest weekend days and shifts among the members."""
    by_id = {r.specialist_id: r for r in rows}
    weekend = [by_id[m].weekend_days if m in by_id else 0 for m in members]
    shifts = [by_id[m].shifts if m in by_id else 0 for m in members]
    return {
        "weekend_days": max(weekend) - min(weekend) if weekend else 0,
        "shifts": max(shifts) - min(shifts) if shifts else 0,
    }


_SPECIALIST = re.compile(r"\bspecialist (\d+)\b")


def plain_relaxation(r: RelaxationOut, names: dict[int, str]) -> str:
    """A relaxation's message with people's names instead of their ids."""
    return _SPECIALIST.sub(lambda m: names.get(int(m.group(1)), m.group(0)), r.message)


def compare(
    plan: PlanOut,
    tz_name: str,
    holidays: dict[date, str],
    gaps_now: list[GapOut],
) -> Comparison:
    """Current rota beside the proposal, per person per day, with gaps and fairness."""
    tz = ZoneInfo(tz_name)
    first = plan.start
    day_list = [first + timedelta(days=i) for i in range(plan.weeks * 7)]
    proposed = list(plan.proposal.shifts)
    added = {s.key for c in plan.changes for s in c.added}
    removed = [s for c in plan.changes for s in c.removed]
    current = [s for s in proposed if s.key not in added] + removed
    names: dict[int, str] = {}
    for s in proposed + removed:
        names[s.specialist_id] = s.specialist_name
    for f in plan.fairness_before + plan.fairness_after:
        names.setdefault(f.specialist_id, f.specialist_name)
    for c in plan.changes:
        names.setdefault(c.specialist_id, c.specialist_name)
    now_by: dict[tuple[int, date], list[str]] = defaultdict(list)
    plan_by: dict[tuple[int, date], list[str]] = defaultdict(list)
    for s in current:
        now_by[(s.specialist_id, s.local_date)].append(_hhmm(s, tz))
    for s in proposed:
        plan_by[(s.specialist_id, s.local_date)].append(_hhmm(s, tz))
    offs = {(d.specialist_id, d.day) for d in plan.proposal.days_off}
    rows = []
    for pid in sorted(names, key=lambda p: names[p]):
        row = Row(pid, names[pid])
        for day in day_list:
            now = ", ".join(sorted(now_by.get((pid, day), []))) or None
            new = ", ".join(sorted(plan_by.get((pid, day), []))) or None
            if now == new:
                change = "same" if now else "none"
            elif now is None:
                change = "added"
            elif new is None:
                change = "removed"
            else:
                change = "moved"
            cell = Cell(now, new, (pid, day) in offs, change)
            row.changed_days += cell.changed
            row.cells.append(cell)
        rows.append(row)
    planned_gaps = _gap_words(plan.gaps, tz)
    current_gaps = _gap_words(gaps_now, tz)
    days = [
        Day(
            day=d,
            weekend=d.weekday() >= 5,
            holiday=holidays.get(d),
            gaps_now=current_gaps.get(d, []),
            gaps_planned=planned_gaps.get(d, []),
        )
        for d in day_list
    ]
    before = {f.specialist_id: f for f in plan.fairness_before}
    after = {f.specialist_id: f for f in plan.fairness_after}
    members = set(names)
    return Comparison(
        days=days,
        weeks=[list(range(w * 7, w * 7 + 7)) for w in range(plan.weeks)],
        rows=rows,
        fairness=[
            FairLine(r.name, before.get(r.specialist_id), after.get(r.specialist_id)) for r in rows
        ],
        spread_before=_spread(plan.fairness_before, members),
        spread_after=_spread(plan.fairness_after, members),
        changed_days=sum(r.changed_days for r in rows),
        relaxations=[plain_relaxation(r, names) for r in plan.relaxations],
        status=STATUS_WORDS[plan.solver.status],
    )


@dataclass(frozen=True)
class ApplyLine:
    """One person's net change if the plan is applied."""

    name: str
    added: int
    removed: int
    days_off_added: int
    days_off_removed: int


def applied_summary(outcome: PlanApplied, names: dict[int, str]) -> list[ApplyLine]:
    """Per person: shifts and days off in lieu the write adds and removes."""
    counts: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for s in outcome.added:
        counts[s.specialist_id][0] += 1
    for s in outcome.removed:
        counts[s.specialist_id][1] += 1
    for d in outcome.days_off_added:
        counts[d.specialist_id][2] += 1
    for d in outcome.days_off_removed:
        counts[d.specialist_id][3] += 1
    return [
        ApplyLine(names.get(pid, f"#{pid}"), *c)
        for pid, c in sorted(counts.items(), key=lambda kv: names.get(kv[0], ""))
    ]


def rotation_words(
    days: list[str], start: str, end: str, members: list[int], names: dict[int, str]
) -> str:
    """'Sat 09:00–17:00: Maya Patel, Jordan Reyes'."""
    who = ", ".join(names.get(m, f"#{m}") for m in members)
    return f"{' '.join(d.capitalize() for d in days)} {start}–{end}: {who}"


def when(instant: datetime, tz: str) -> str:
    """A local date for a period boundary."""
    return instant.astimezone(ZoneInfo(tz)).strftime("%a %-d %b %Y")
