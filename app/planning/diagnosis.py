"""Turn the slack of a relaxed model into readable relaxations (which rule, where, how much).

Coverage shortfalls of touching stretches merge, then those of the same rule, weekday and
local hours group into one line: "1 more person needed on Sundays 09:00-17:00 JST
(speaking ja): 2026-12-13, 2026-12-20". The member rules give one line per member.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from ortools.sat.python import cp_model

from app.planning.grid import HOLIDAY_RULE
from app.planning.model import PlanModel
from app.planning.problem import PlanProblem
from app.planning.result import Relaxation
from app.rota.wallclock import zone

__all__ = ["describe"]

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _people(n: int) -> str:
    return "1 more person" if n == 1 else f"{n} more people"


def _coverage(problem: PlanProblem, plan: PlanModel, solver: cp_model.CpSolver) -> list[Relaxation]:
    assert plan.slack is not None
    short: list[tuple[int, date, datetime, datetime, int, str | None]] = []
    for index, var in sorted(plan.slack.coverage.items()):
        value = solver.value(var)
        if value <= 0:
            continue
        seg = plan.grid.segments[index]
        last = short[-1] if short else None
        if (
            last is not None
            and last[0] == seg.rule_index
            and last[1] == seg.day
            and last[3] == seg.start
            and last[4] == value
        ):
            short[-1] = (last[0], last[1], last[2], seg.end, value, last[5])
        else:
            short.append((seg.rule_index, seg.day, seg.start, seg.end, value, seg.language))
    tz = zone(problem.tz)
    groups: defaultdict[
        tuple[int, int, str, str, str, int, str | None], list[tuple[date, datetime, datetime]]
    ]
    groups = defaultdict(list)
    for rule_index, day, start, end, value, language in short:
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        key = (
            rule_index,
            day.weekday(),
            local_start.strftime("%H:%M"),
            local_end.strftime("%H:%M"),
            local_start.tzname() or problem.tz,
            value,
            language,
        )
        groups[key].append((day, start, end))
    found: list[Relaxation] = []
    for (rule_index, weekday, opens, closes, tz_name, value, language), days in groups.items():
        when = f"{DAY_NAMES[weekday]}s" if len(days) > 1 else f"{DAY_NAMES[weekday]} {days[0][0]}"
        speaking = f" speaking {language}" if language else ""
        what = "public holiday cover" if rule_index == HOLIDAY_RULE else f"rule {rule_index}"
        dates = ", ".join(d.isoformat() for d, _, _ in days)
        message = (
            f"{_people(value)}{speaking} needed on {when} {opens}-{closes} {tz_name} "
            f"({what}, team {problem.team})"
        )
        if len(days) > 1:
            message += f": {dates}"
        found.append(
            Relaxation(
                rule="coverage",
                amount=value * len(days),
                message=message,
                day=days[0][0],
                start=days[0][1],
                end=days[0][2],
                rule_index=None if rule_index == HOLIDAY_RULE else rule_index,
                language=language,
            )
        )
    return found


def _weeks(problem: PlanProblem, weeks: list[int]) -> str:
    return ", ".join((problem.start + timedelta(weeks=w)).isoformat() for w in weeks)


def _members(problem: PlanProblem, plan: PlanModel, solver: cp_model.CpSolver) -> list[Relaxation]:
    assert plan.slack is not None
    slack = plan.slack
    found: list[Relaxation] = []
    weekend: defaultdict[int, list[int]] = defaultdict(list)
    asked: defaultdict[int, int] = defaultdict(int)
    for (pid, w), var in sorted(slack.weekend.items()):
        asked[pid] += 1
        if solver.value(var) > 0:
            weekend[pid].append(w)
    for pid, weeks in weekend.items():
        met = asked[pid] - len(weeks)
        found.append(
            Relaxation(
                rule="weekend",
                amount=len(weeks),
                message=(
                    f"weekend rule met in {met} of {asked[pid]} weeks for specialist {pid} "
                    f"(not in the weeks of {_weeks(problem, weeks)})"
                ),
                day=problem.start + timedelta(weeks=weeks[0]),
                member=pid,
            )
        )
    for (pid, w), var in sorted(slack.lieu.items()):
        if (value := solver.value(var)) > 0:
            found.append(
                Relaxation(
                    rule="lieu",
                    amount=value,
                    message=(
                        f"{value} day(s) off in lieu for specialist {pid}'s weekend in the week "
                        f"of {_weeks(problem, [w])} fit in neither that week nor the next"
                    ),
                    day=problem.start + timedelta(weeks=w),
                    member=pid,
                )
            )
    for (pid, w), var in sorted(slack.max_hours.items()):
        if (value := solver.value(var)) > 0:
            found.append(
                Relaxation(
                    rule="max_hours",
                    amount=value,
                    message=(
                        f"specialist {pid} needs {value} h over the "
                        f"{problem.settings.max_hours_per_week} h weekly cap in the week of "
                        f"{_weeks(problem, [w])}"
                    ),
                    day=problem.start + timedelta(weeks=w),
                    member=pid,
                )
            )
    for (pid, day), var in sorted(slack.max_consecutive.items()):
        if (value := solver.value(var)) > 0:
            longest = problem.settings.max_consecutive_days
            found.append(
                Relaxation(
                    rule="max_consecutive",
                    amount=value,
                    message=(
                        f"specialist {pid} works {longest + value} days in a row up to {day} "
                        f"(cap {longest})"
                    ),
                    day=day,
                    member=pid,
                )
            )
    return found


def describe(
    problem: PlanProblem, plan: PlanModel, solver: cp_model.CpSolver
) -> tuple[Relaxation, ...]:
    """Return the relaxations a solved relaxed model used, coverage first."""
    return tuple(_coverage(problem, plan, solver) + _members(problem, plan, solver))
