"""A brute-force planner for tiny one-week problems: the differential tests' reference.

It enumerates every member's week (off, or one shift a day), keeps the combinations that
``app.planning.check`` accepts, and scores them with its own reading of the soft goals.
Only the shift instances (templates on dates, in UTC) come from the planner's grid.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import product

from app.planning.check import coverage_violations, violations
from app.planning.grid import Instance, build_grid
from app.planning.problem import Member, PlanProblem
from app.planning.result import Assignment


def _available(problem: PlanProblem, member: Member, inst: Instance) -> bool:
    rest = timedelta(hours=problem.settings.min_rest_hours)
    return not (
        inst.day.weekday() in member.unavailable_weekdays
        or (member.id, inst.day) in problem.days_off
        or (member.last_shift_end is not None and inst.start < member.last_shift_end + rest)
        or any(
            u.member == member.id and u.start < inst.end and u.end > inst.start
            for u in problem.unavailable
        )
    )


def _assignment(member: int, inst: Instance) -> Assignment:
    return Assignment(member, inst.day, inst.template.name, inst.start, inst.end)


def _score(
    problem: PlanProblem,
    weeks: dict[int, tuple[Instance | None, ...]],
    options: dict[int, list[list[Instance | None]]],
    any_night: bool,
    any_holiday: bool,
) -> int:
    w = problem.weights
    target = problem.settings.target_days_per_week
    score = 0
    counts: dict[str, list[int]] = {"sat": [], "sun": [], "night": [], "holiday": []}
    for member in problem.members:
        shifts = [i for i in weeks[member.id] if i is not None]
        counts["sat"].append(
            member.history_saturdays + sum(1 for i in shifts if i.day.weekday() == 5)
        )
        counts["sun"].append(
            member.history_sundays + sum(1 for i in shifts if i.day.weekday() == 6)
        )
        counts["night"].append(member.history_nights + sum(1 for i in shifts if i.night))
        counts["holiday"].append(member.history_holidays + sum(1 for i in shifts if i.holiday))
        other = {5: 6, 6: 5}.get(member.prefers_weekend_day or -1)
        for i in shifts:
            if (
                i.day.weekday() in member.prefers_off
                or i.template.name in member.avoids_templates
                or i.day.weekday() == other
            ):
                score += w.preference
        for k, day in enumerate(problem.days):
            planned = weeks[member.id][k]
            current = problem.current.get((member.id, day))
            if current is None:
                score += w.change * (planned is not None)
            elif any(o is not None and (o.start, o.end) == current for o in options[member.id][k]):
                score += w.change * (planned is None or (planned.start, planned.end) != current)
        blocked = sum(1 for k in range(5) if all(o is None for o in options[member.id][k]))
        goal = max(0, target - blocked)
        score += w.target_days * abs(len(shifts) - goal)
    if len(problem.members) >= 2:
        score += w.weekend_spread * (max(counts["sat"]) - min(counts["sat"]))
        score += w.weekend_spread * (max(counts["sun"]) - min(counts["sun"]))
        if any_night:
            score += w.night_spread * (max(counts["night"]) - min(counts["night"]))
        if any_holiday:
            score += w.holiday_spread * (max(counts["holiday"]) - min(counts["holiday"]))
    return score


def brute_force(problem: PlanProblem) -> int | None:
    """Return the best objective of a one-week problem, None when no plan obeys the rules."""
    assert problem.weeks == 1
    grid = build_grid(problem)
    options: dict[int, list[list[Instance | None]]] = {}
    for member in problem.members:
        per_day: list[list[Instance | None]] = []
        for day in problem.days:
            todays = [grid.instances[i] for i in grid.by_day.get(day, ())]
            per_day.append([None, *(i for i in todays if _available(problem, member, i))])
        options[member.id] = per_day
    # Each member's weeks that their own rules allow (coverage checked on the combination).
    own: dict[int, list[tuple[Instance | None, ...]]] = {}
    for member in problem.members:
        alone = PlanProblem(
            team=problem.team,
            tz=problem.tz,
            start=problem.start,
            weeks=1,
            members=(member,),
            holidays=problem.holidays,
            templates=problem.templates,
            unavailable=problem.unavailable,
            days_off=problem.days_off,
            settings=problem.settings,
        )
        own[member.id] = [
            week
            for week in product(*options[member.id])
            if not violations(
                alone, tuple(_assignment(member.id, i) for i in week if i is not None), ()
            )
        ]
    any_night = any(i.night for i in grid.instances)
    any_holiday = any(i.holiday for i in grid.instances)
    best: int | None = None
    ids = [m.id for m in problem.members]
    for combo in product(*(own[pid] for pid in ids)):
        weeks = dict(zip(ids, combo, strict=True))
        plan = tuple(
            _assignment(pid, i) for pid, week in weeks.items() for i in week if i is not None
        )
        if coverage_violations(problem, plan):
            continue
        score = _score(problem, weeks, options, any_night, any_holiday)
        if best is None or score < best:
            best = score
    return best
