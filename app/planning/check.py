"""An independent check of a plan against every hard rule, written apart from the model.

It reads only the problem and the plan (UTC instants, dates) and recomputes each rule from
its definition, so a bug in the model's constraints shows up here. Tests, the benchmark and
the API (before storing a proposal) use it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import pairwise

from app.planning.problem import PlanProblem
from app.planning.result import Assignment, LieuDay
from app.rota.wallclock import local_midnight, local_to_utc

__all__ = ["coverage_violations", "violations"]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _templates_for(problem: PlanProblem, day: date) -> list[tuple[str, datetime, datetime]]:
    from app.planning.grid import derive_templates

    templates = problem.templates or derive_templates(
        problem.coverage, problem.settings.shift_hours
    )
    found = []
    for t in templates:
        if day.weekday() in t.days:
            start = local_to_utc(day, t.start, problem.tz)
            end = local_to_utc(
                day + timedelta(days=1 if t.end <= t.start else 0), t.end, problem.tz
            )
            if end > start:
                found.append((t.name, start, end))
    return found


def _blocked(problem: PlanProblem, member: int, day: date, start: datetime, end: datetime) -> bool:
    person = next(m for m in problem.members if m.id == member)
    rest = timedelta(hours=problem.settings.min_rest_hours)
    return (
        (day in problem.holidays and problem.settings.holiday_staff == 0)
        or day.weekday() in person.unavailable_weekdays
        or (member, day) in problem.days_off
        or (person.last_shift_end is not None and start < person.last_shift_end + rest)
        or any(u.member == member and u.start < end and u.end > start for u in problem.unavailable)
    )


def _workable(problem: PlanProblem, member: int, day: date) -> bool:
    return any(
        not _blocked(problem, member, day, start, end)
        for _, start, end in _templates_for(problem, day)
    )


def coverage_violations(problem: PlanProblem, plan: tuple[Assignment, ...]) -> list[str]:
    """Return every moment a coverage rule (or holiday cover) is understaffed."""
    problems: list[str] = []
    langs = {m.id: m.languages for m in problem.members}
    needs: list[tuple[str, str | None, int, datetime, datetime]] = []
    for day in problem.days:
        holiday = day in problem.holidays
        for index, rule in enumerate(problem.coverage):
            if rule.min_staff == 0 or day.weekday() not in rule.days:
                continue
            if holiday and problem.settings.holiday_staff == 0:
                continue
            opens = local_to_utc(day, rule.start, problem.tz)
            closes = min(
                local_to_utc(
                    day + timedelta(days=1 if rule.end <= rule.start else 0), rule.end, problem.tz
                ),
                local_midnight(problem.end, problem.tz),
            )
            if holiday:
                needs.append(("holiday", None, problem.settings.holiday_staff, opens, closes))
            else:
                needs.append((f"rule {index}", rule.language, rule.min_staff, opens, closes))
    for what, language, minimum, opens, closes in needs:
        staff = [a for a in plan if language is None or language in langs[a.member]]
        instants = {opens} | {a.start for a in staff if opens < a.start < closes}
        instants |= {a.end for a in staff if opens < a.end < closes}
        for at in sorted(instants):
            on = {a.member for a in staff if a.start <= at < a.end}
            if len(on) < minimum:
                problems.append(f"coverage: {what} has {len(on)} < {minimum} at {at.isoformat()}")
    return problems


def _per_member(
    problem: PlanProblem, plan: tuple[Assignment, ...], lieu: tuple[LieuDay, ...]
) -> list[str]:
    settings = problem.settings
    problems: list[str] = []
    rest = timedelta(hours=settings.min_rest_hours)
    mine: defaultdict[int, list[Assignment]] = defaultdict(list)
    for a in plan:
        mine[a.member].append(a)
    for member in problem.members:
        pid = member.id
        shifts = sorted(mine[pid], key=lambda a: a.start)
        days = [a.day for a in shifts]
        if len(set(days)) != len(days):
            problems.append(f"member {pid}: two shifts on one day")
        for a in shifts:
            if (
                not any((a.template, a.start, a.end) == t for t in _templates_for(problem, a.day))
                or not problem.start <= a.day < problem.end
            ):
                problems.append(f"member {pid}: {a.day} {a.template} is not a shift of the period")
            if _blocked(problem, pid, a.day, a.start, a.end):
                problems.append(f"member {pid}: works {a.day} while unavailable")
        for a, b in pairwise(shifts):
            if b.start - a.end < rest:
                problems.append(f"member {pid}: only {b.start - a.end} rest before {b.start}")
        worked = set(days)
        for w in range(problem.weeks):
            first = problem.start + timedelta(weeks=w)
            week = [first + timedelta(days=k) for k in range(7)]
            weekend = week[5:]
            need = min(
                settings.weekend_days_per_week,
                sum(1 for d in weekend if _workable(problem, pid, d)),
            )
            if sum(1 for d in weekend if d in worked) < need:
                problems.append(f"member {pid}: too few weekend days in the week of {first}")
            hours = sum((a.end - a.start).total_seconds() / 3600 for a in shifts if a.day in week)
            if hours > settings.max_hours_per_week + 1e-9:
                problems.append(f"member {pid}: {hours} h in the week of {first}")
        run = min(member.streak_before, settings.max_consecutive_days)
        for day in problem.days:
            run = run + 1 if day in worked else 0
            if run > settings.max_consecutive_days:
                problems.append(f"member {pid}: {run} days in a row up to {day}")
        problems += _lieu(problem, pid, worked, [d for d in lieu if d.member == pid])
    return problems


def _lieu(problem: PlanProblem, pid: int, worked: set[date], lieu: list[LieuDay]) -> list[str]:
    problems: list[str] = []
    person = next(m for m in problem.members if m.id == pid)
    earned = sorted(d for d in worked if d.weekday() >= 5)
    used = [d.earned_on for d in lieu]
    if len(set(used)) != len(used) or any(e not in earned for e in used):
        problems.append(f"member {pid}: days in lieu not matched one to one with weekend days")
    last_week = problem.start + timedelta(weeks=problem.weeks - 1)
    for e in earned:
        if _monday(e) != last_week and e not in used:
            problems.append(f"member {pid}: no day off in lieu for working {e}")
    for d in lieu:
        if not (
            d.day.weekday() < 5
            and d.day not in worked
            and d.day not in problem.holidays
            and d.day.weekday() not in person.unavailable_weekdays
            and (pid, d.day) not in problem.days_off
            and problem.start <= d.day < problem.end
            and not any(
                u.member == pid
                and u.start < local_midnight(d.day + timedelta(days=1), problem.tz)
                and u.end > local_midnight(d.day, problem.tz)
                for u in problem.unavailable
            )
            and _monday(d.day) - _monday(d.earned_on) in (timedelta(0), timedelta(weeks=1))
        ):
            problems.append(f"member {pid}: {d.day} is no valid day off in lieu for {d.earned_on}")
    return problems


def violations(
    problem: PlanProblem, plan: tuple[Assignment, ...], lieu: tuple[LieuDay, ...]
) -> list[str]:
    """Return every hard rule the plan breaks (empty when it obeys them all)."""
    known = {m.id for m in problem.members}
    strangers = [f"member {a.member} is not in the team" for a in plan if a.member not in known]
    return strangers + coverage_violations(problem, plan) + _per_member(problem, plan, lieu)
