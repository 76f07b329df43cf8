"""The rota planner's constraint model (OR-Tools CP-SAT). Pure: no database, no web.

Variables: ``x[p, i]`` = member p works shift instance i (see :mod:`app.planning.grid`),
created only where p is available (not a fixed weekday off, no day off already, no leave or
other window overlapping it, rest after their last shift before the period); ``lieu[p, d]``
= weekday d is p's day off in lieu.

Hard rules (each can be relaxed by a slack variable when diagnosing, see ``relax``):

- at most one shift per member per local day; rest of ``min_rest_hours`` between any two;
- coverage: in every segment of every coverage window, at least min_staff members (who
  speak the rule's language, when it names one) on shift;
- weekend: per member and week (Monday-Sunday), at least ``weekend_days_per_week`` weekend
  days worked, or as many as the member can work that week (leave, holidays, fixed days);
- lieu: every weekend day worked earns a weekday off in lieu (Mon-Fri, not a holiday, a
  day off already, a fixed day off or a day touched by leave) in the same or the next
  week; earnings of the last week may take theirs after the period (the rota's lieu rule
  places them);
- at most ``max_consecutive_days`` working days in a row (counting the streak before the
  period) and ``max_hours_per_week`` hours per week.

Soft goals (weights in :class:`PlanWeights`): Saturdays, Sundays, night shifts and holiday
shifts spread evenly (max - min over members, history included); preferences honoured;
few changes against the current rota; close to ``target_days_per_week`` days per week.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from ortools.sat.python import cp_model

from app.planning.grid import Grid, Instance
from app.planning.problem import Member, PlanProblem
from app.rota.wallclock import local_midnight

__all__ = ["PlanModel", "Slack", "build_model"]

LinearExpr = cp_model.LinearExpr | int


@dataclass
class Slack:
    """Slack variables of a relaxed model, keyed by what they relax."""

    coverage: dict[int, cp_model.IntVar] = field(default_factory=dict)  # by segment index
    weekend: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)  # (p, week)
    lieu: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    max_hours: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    max_consecutive: dict[tuple[int, date], cp_model.IntVar] = field(default_factory=dict)


@dataclass
class PlanModel:
    """A built model with its decision variables."""

    model: cp_model.CpModel
    grid: Grid
    x: dict[tuple[int, int], cp_model.IntVar]
    lieu: dict[tuple[int, date], cp_model.IntVar]
    slack: Slack | None


def monday(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


class _Builder:
    def __init__(self, problem: PlanProblem, grid: Grid, relax: bool) -> None:
        self.p = problem
        self.grid = grid
        self.m = cp_model.CpModel()
        self.slack = Slack() if relax else None
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        # The same variables by (member, day) and by member, for building constraints.
        self.day_vars: dict[tuple[int, date], list[cp_model.IntVar]] = {}
        self.member_vars: defaultdict[int, list[tuple[Instance, cp_model.IntVar]]] = defaultdict(
            list
        )
        self.lieu: dict[tuple[int, date], cp_model.IntVar] = {}
        self.objective: list[LinearExpr] = []
        self.rest = timedelta(hours=problem.settings.min_rest_hours)
        self.week_starts = [problem.start + timedelta(weeks=w) for w in range(problem.weeks)]

    # -- availability -----------------------------------------------------------------

    def _available(self, member: Member, inst: Instance) -> bool:
        if inst.day.weekday() in member.unavailable_weekdays:
            return False
        if (member.id, inst.day) in self.p.days_off:
            return False
        if member.last_shift_end is not None and inst.start < member.last_shift_end + self.rest:
            return False
        return not any(
            u.member == member.id and u.start < inst.end and u.end > inst.start
            for u in self.p.unavailable
        )

    def _lieu_possible(self, member: Member, day: date) -> bool:
        if day.weekday() >= 5 or day in self.p.holidays:
            return False
        if day.weekday() in member.unavailable_weekdays or (member.id, day) in self.p.days_off:
            return False
        # A day touched by leave (or another window away) is off anyway: no day in lieu.
        opens = local_midnight(day, self.p.tz)
        closes = local_midnight(day + timedelta(days=1), self.p.tz)
        return not any(
            u.member == member.id and u.start < closes and u.end > opens for u in self.p.unavailable
        )

    def _works(self, pid: int, day: date) -> LinearExpr:
        return cp_model.LinearExpr.sum(self.day_vars.get((pid, day), []))

    def _can_work(self, pid: int, day: date) -> bool:
        return (pid, day) in self.day_vars

    # -- hard rules ---------------------------------------------------------------------

    def variables(self) -> None:
        for member in self.p.members:
            mine = self.member_vars[member.id]
            for inst in self.grid.instances:
                if self._available(member, inst):
                    var = self.m.new_bool_var(f"x_{member.id}_{inst.index}")
                    self.x[member.id, inst.index] = var
                    self.day_vars.setdefault((member.id, inst.day), []).append(var)
                    mine.append((inst, var))
            for day in self.p.days:
                if self._lieu_possible(member, day):
                    self.lieu[member.id, day] = self.m.new_bool_var(f"lieu_{member.id}_{day}")

    def one_shift_a_day_and_rest(self) -> None:
        conflicts: list[tuple[int, int]] = []
        instances = self.grid.instances
        for a in instances:
            # Shifts last at most a day or so: only the next two days can be too close.
            later = [a.day + timedelta(days=k) for k in (1, 2)]
            for b in (instances[i] for d in later for i in self.grid.by_day.get(d, ())):
                if b.start - a.end < self.rest and a.start - b.end < self.rest:
                    conflicts.append((a.index, b.index))
        for member in self.p.members:
            pid = member.id
            for day in self.p.days:
                if self._can_work(pid, day):
                    self.m.add(self._works(pid, day) <= 1)
                if (pid, day) in self.lieu:
                    self.m.add(self._works(pid, day) + self.lieu[pid, day] <= 1)
            for first, second in conflicts:
                if (pid, first) in self.x and (pid, second) in self.x:
                    self.m.add_bool_or([self.x[pid, first].Not(), self.x[pid, second].Not()])

    def coverage(self) -> None:
        speakers = {m.id: m.languages for m in self.p.members}
        for index, seg in enumerate(self.grid.segments):
            staff = [
                self.x[pid, i]
                for i in seg.instances
                for pid, langs in speakers.items()
                if (pid, i) in self.x and (seg.language is None or seg.language in langs)
            ]
            if self.slack is not None:
                short = self.m.new_int_var(0, seg.min_staff, f"cover_slack_{index}")
                self.slack.coverage[index] = short
                self.m.add(sum(staff) + short >= seg.min_staff)
            else:
                self.m.add(sum(staff) >= seg.min_staff)

    def weekend_and_lieu(self) -> None:
        wanted = self.p.settings.weekend_days_per_week
        for member in self.p.members:
            pid = member.id
            carried: LinearExpr = 0
            for w, first in enumerate(self.week_starts):
                weekend = [first + timedelta(days=5), first + timedelta(days=6)]
                workable = [d for d in weekend if self._can_work(pid, d)]
                earned = sum(self._works(pid, d) for d in weekend)
                need = min(wanted, len(workable))
                if need > 0:
                    if self.slack is not None:
                        miss = self.m.new_int_var(0, need, f"weekend_slack_{pid}_{w}")
                        self.slack.weekend[pid, w] = miss
                        self.m.add(earned + miss >= need)
                    else:
                        self.m.add(earned >= need)
                # Earnings of week w take their day in week w (same) or w + 1 (next).
                same = self.m.new_int_var(0, 2, f"lieu_same_{pid}_{w}")
                later = self.m.new_int_var(0, 2, f"lieu_next_{pid}_{w}")
                week_days = [first + timedelta(days=k) for k in range(5)]
                taken = sum(self.lieu[pid, d] for d in week_days if (pid, d) in self.lieu)
                if self.slack is not None:
                    missing = self.m.new_int_var(0, 2, f"lieu_slack_{pid}_{w}")
                    self.slack.lieu[pid, w] = missing
                    self.m.add(same + later + missing == earned)
                else:
                    self.m.add(same + later == earned)
                self.m.add(taken == same + carried)
                carried = later

    def limits(self) -> None:
        settings = self.p.settings
        cap = settings.max_hours_per_week * 60
        longest = settings.max_consecutive_days
        for member in self.p.members:
            pid = member.id
            for w, first in enumerate(self.week_starts):
                minutes = sum(
                    inst.minutes * self.x[pid, i]
                    for k in range(7)
                    for i in self.grid.by_day.get(first + timedelta(days=k), ())
                    if (pid, i) in self.x
                    for inst in (self.grid.instances[i],)
                )
                if self.slack is not None:
                    over = self.m.new_int_var(0, 168, f"hours_slack_{pid}_{w}")
                    self.slack.max_hours[pid, w] = over
                    self.m.add(minutes <= cap + 60 * over)
                else:
                    self.m.add(minutes <= cap)
            streak = min(member.streak_before, longest)
            sequence: list[tuple[date | None, LinearExpr]] = [(None, 1)] * streak
            sequence += [(d, self._works(pid, d)) for d in self.p.days]
            for k in range(len(sequence) - longest):
                window = sequence[k : k + longest + 1]
                last_day = window[-1][0]
                assert last_day is not None
                total = sum(expr for _, expr in window)
                if self.slack is not None:
                    extra = self.m.new_int_var(0, longest + 1, f"run_slack_{pid}_{k}")
                    self.slack.max_consecutive[pid, last_day] = extra
                    self.m.add(total <= longest + extra)
                else:
                    self.m.add(total <= longest)

    # -- soft goals -------------------------------------------------------------------

    def _spread(self, name: str, counts: dict[int, LinearExpr], weight: int) -> None:
        if weight == 0 or len(counts) < 2:
            return
        top = self.m.new_int_var(0, 10_000, f"{name}_max")
        bottom = self.m.new_int_var(0, 10_000, f"{name}_min")
        for expr in counts.values():
            self.m.add(top >= expr)
            self.m.add(bottom <= expr)
        self.objective.append(weight * (top - bottom))

    def goals(self) -> None:
        weights = self.p.weights
        grid = self.grid
        saturdays: dict[int, LinearExpr] = {}
        sundays: dict[int, LinearExpr] = {}
        nights: dict[int, LinearExpr] = {}
        holidays: dict[int, LinearExpr] = {}
        any_night = any(i.night for i in grid.instances)
        any_holiday = any(i.holiday for i in grid.instances)
        for member in self.p.members:
            pid = member.id
            mine = self.member_vars[pid]
            saturdays[pid] = member.history_saturdays + sum(
                v for inst, v in mine if inst.day.weekday() == 5
            )
            sundays[pid] = member.history_sundays + sum(
                v for inst, v in mine if inst.day.weekday() == 6
            )
            nights[pid] = member.history_nights + sum(v for inst, v in mine if inst.night)
            holidays[pid] = member.history_holidays + sum(v for inst, v in mine if inst.holiday)
            self._preferences(member, mine)
            self._changes(member)
            self._target_days(member)
        self._spread("saturdays", saturdays, weights.weekend_spread)
        self._spread("sundays", sundays, weights.weekend_spread)
        if any_night:
            self._spread("nights", nights, weights.night_spread)
        if any_holiday:
            self._spread("holidays", holidays, weights.holiday_spread)

    def _preferences(self, member: Member, mine: list[tuple[Instance, cp_model.IntVar]]) -> None:
        weight = self.p.weights.preference
        if weight == 0:
            return
        other_weekend_day = {5: 6, 6: 5}.get(member.prefers_weekend_day or -1)
        for inst, var in mine:
            unwanted = (
                inst.day.weekday() in member.prefers_off
                or inst.template.name in member.avoids_templates
                or inst.day.weekday() == other_weekend_day
            )
            if unwanted:
                self.objective.append(weight * var)

    def _changes(self, member: Member) -> None:
        weight = self.p.weights.change
        if weight == 0:
            return
        pid = member.id
        for day in self.p.days:
            current = self.p.current.get((pid, day))
            if current is None:
                if self._can_work(pid, day):
                    self.objective.append(weight * self._works(pid, day))
                continue
            same = [
                self.x[pid, i]
                for i in self.grid.by_day.get(day, ())
                if (pid, i) in self.x
                and (self.grid.instances[i].start, self.grid.instances[i].end) == current
            ]
            if same:
                self.objective.append(weight * (1 - same[0]))

    def _target_days(self, member: Member) -> None:
        weight = self.p.weights.target_days
        target = self.p.settings.target_days_per_week
        if weight == 0:
            return
        pid = member.id
        for w, first in enumerate(self.week_starts):
            days = [first + timedelta(days=k) for k in range(7)]
            blocked = sum(1 for d in days[:5] if not self._can_work(pid, d))
            goal = max(0, target - blocked)
            worked = sum(self._works(pid, d) for d in days)
            off_by = self.m.new_int_var(0, 7, f"target_dev_{pid}_{w}")
            self.m.add(off_by >= worked - goal)
            self.m.add(off_by >= goal - worked)
            self.objective.append(weight * off_by)

    def hint_current(self) -> None:
        """Suggest the current rota's shifts to the search (a partial hint)."""
        for (pid, day), span in self.p.current.items():
            for i in self.grid.by_day.get(day, ()):
                inst = self.grid.instances[i]
                if (pid, i) in self.x and (inst.start, inst.end) == span:
                    self.m.add_hint(self.x[pid, i], True)

    def relaxed_objective(self) -> None:
        assert self.slack is not None
        s = self.slack
        # What bending costs: one more person for one stretch of opening hours (callers go
        # unanswered) weighs most; one member-week without a weekend day or its day in lieu,
        # or one more day in a row, a little less; an hour over the weekly cap, least.
        terms: list[LinearExpr] = []
        terms += [10 * v for v in s.coverage.values()]
        terms += [8 * v for v in s.weekend.values()]
        terms += [8 * v for v in s.lieu.values()]
        terms += [2 * v for v in s.max_hours.values()]
        terms += [8 * v for v in s.max_consecutive.values()]
        self.m.minimize(sum(terms))


def build_model(
    problem: PlanProblem, grid: Grid, *, relax: bool = False, goals: bool = True
) -> PlanModel:
    """Build the CP-SAT model of a problem.

    ``relax``: hard rules get slack, and the slack is minimised; ``goals=False``: the hard
    rules alone, no objective (a quick first plan to start the optimisation from).
    """
    builder = _Builder(problem, grid, relax)
    builder.variables()
    builder.one_shift_a_day_and_rest()
    builder.coverage()
    builder.weekend_and_lieu()
    builder.limits()
    if relax:
        builder.relaxed_objective()
    else:
        builder.hint_current()
    if goals and not relax:
        builder.goals()
        builder.m.minimize(sum(builder.objective))
    return PlanModel(builder.m, grid, builder.x, builder.lieu, builder.slack)


def by_member(problem: PlanProblem) -> dict[int, Member]:
    """The problem's members by id."""
    return {m.id: m for m in problem.members}


def instances_by_member(plan: PlanModel) -> defaultdict[int, list[int]]:
    """Instance indices each member could work."""
    found: defaultdict[int, list[int]] = defaultdict(list)
    for pid, i in plan.x:
        found[pid].append(i)
    return found
