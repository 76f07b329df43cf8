"""Benchmark of the rota planner: nine offices, 40 people each, 8 weeks (`python -m bench.planner`).

Each team has its office's time zone and public holidays, 40 people speaking two languages
each, realistic coverage rules (weekday opening hours, a second-language desk, weekends, and
nights for the 24-hour offices), part-timers, a week of leave here and there, fairness
history and wishes, and a current rota (weekdays only) to stay close to. The planner runs
with its defaults (20 s limit, seed 1, 2 workers); every plan is checked against every hard
rule by the independent checker. Pure: no database, no server.

    python -m bench.planner                     # all nine offices
    python -m bench.planner --only jp,au        # some of them
    python -m bench.planner --time-limit 30 --workers 2
"""

from __future__ import annotations

import argparse
import os
import platform
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter

from app.planning.check import violations
from app.planning.grid import build_grid
from app.planning.model import build_model
from app.planning.problem import Member, PlanProblem, PlanSettings, Unavailable
from app.planning.solve import solve
from app.rota.rules import CoverageRule, holiday_dates
from app.rota.wallclock import local_midnight

START = date(2027, 3, 1)  # 8 weeks over the DST changes of 2027 (US, Europe, Australia)
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})


@dataclass(frozen=True)
class Office:
    """One office's team."""

    code: str
    name: str
    tz: str
    country: str
    subdivision: str | None
    languages: tuple[str, str, str]  # everyone's first, and one of the other two each
    nights: bool


OFFICES = (
    Office("us", "United States", "America/New_York", "US", "NY", ("en", "es", "fr"), True),
    Office("mx", "Mexico City", "America/Mexico_City", "MX", None, ("es", "en", "pt"), False),
    Office("uk", "United Kingdom", "Europe/London", "GB", "ENG", ("en", "fr", "de"), False),
    Office("ie", "Ireland", "Europe/Dublin", "IE", None, ("en", "de", "fr"), False),
    Office("de", "Germany", "Europe/Berlin", "DE", "BE", ("de", "en", "fr"), False),
    Office("fr", "France", "Europe/Paris", "FR", None, ("fr", "en", "de"), False),
    Office("jp", "Japan", "Asia/Tokyo", "JP", None, ("ja", "en", "ko"), False),
    Office("sg", "Singapore", "Asia/Singapore", "SG", None, ("en", "zh", "ms"), False),
    Office("au", "Australia", "Australia/Sydney", "AU", "NSW", ("en", "ja", "zh"), True),
)


def coverage(office: Office) -> tuple[CoverageRule, ...]:
    """Opening hours: weekdays 08-20 (8 people), a second-language desk, weekends, nights."""
    first, second, _ = office.languages
    rules = [
        CoverageRule(WEEKDAYS, _t(8), _t(20), 8),
        CoverageRule(WEEKDAYS, _t(9), _t(17), 3, second),
        CoverageRule(WEEKDAYS, _t(9), _t(17), 4, first),
        CoverageRule(WEEKEND, _t(9), _t(18), 4),
        CoverageRule(WEEKEND, _t(10), _t(16), 1, second),
    ]
    if office.nights:
        rules.append(CoverageRule(frozenset(range(7)), _t(20), _t(8), 2))
    return tuple(rules)


def _t(hour: int) -> time:
    return time(hour)


def problem(office: Office, people: int, weeks: int, settings: PlanSettings) -> PlanProblem:
    """The office's planning problem (deterministic: seeded by the office code)."""
    rng = random.Random(office.code)
    first, second, third = office.languages
    end = START + timedelta(weeks=weeks)
    members = []
    for i in range(people):
        members.append(
            Member(
                id=i + 1,
                languages=frozenset({first, second if i % 2 == 0 else third}),
                unavailable_weekdays=frozenset({rng.randrange(5)}) if i % 13 == 5 else frozenset(),
                prefers_off=frozenset({rng.randrange(5)}) if i % 4 == 1 else frozenset(),
                prefers_weekend_day=rng.choice([None, 5, 6]),
                history_saturdays=rng.randrange(5),
                history_sundays=rng.randrange(5),
                history_nights=rng.randrange(4) if office.nights else 0,
                history_holidays=rng.randrange(2),
            )
        )
    leave = []
    for who in rng.sample(range(1, people + 1), 4):
        monday = START + timedelta(weeks=rng.randrange(weeks))
        leave.append(
            Unavailable(
                who,
                local_midnight(monday, office.tz),
                local_midnight(monday + timedelta(days=7), office.tz),
            )
        )
    draft = PlanProblem(
        team=office.code,
        tz=office.tz,
        start=START,
        weeks=weeks,
        members=tuple(members),
        coverage=coverage(office),
        holidays=holiday_dates(office.country, office.subdivision, range(START.year, end.year + 1)),
        unavailable=tuple(leave),
        settings=settings,
    )
    # The current rota: everyone on weekdays, early or late shift, no weekends (the rota
    # that misses the weekend rule and that the planner should change as little as it can).
    grid = build_grid(draft)
    current = {}
    for inst in grid.instances:
        if inst.day.weekday() >= 5 or inst.night:
            continue
        for m in members:
            wanted = ("08:00-16:00", "12:00-20:00")[m.id % 2]
            if inst.template.name == wanted:
                current[m.id, inst.day] = (inst.start, inst.end)
    return PlanProblem(**{**draft.__dict__, "current": current})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="office codes, comma-separated")
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--time-limit", type=float, default=PlanSettings().time_limit_s)
    parser.add_argument("--workers", type=int, default=PlanSettings().workers)
    args = parser.parse_args()
    chosen = [o for o in OFFICES if not args.only or o.code in args.only.split(",")]
    settings = PlanSettings(holiday_staff=2, time_limit_s=args.time_limit, workers=args.workers)
    print("### The rota planner: nine offices, one 8-week plan each\n")
    print(
        f"{args.people} people per team, {args.weeks} weeks from {START} (DST changes in the "
        f"US, Europe and Australia), holiday cover 2, time limit {args.time_limit:g} s, "
        f"{args.workers} workers, seed {settings.seed}; {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), shared with other work.\n"
    )
    print(
        "| office | zone | holidays | shift vars | status | first plan (s) | total (s) | "
        "objective | bound | gap | hard rules | shifts |"
    )
    print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|")
    worst_first, worst_total = 0.0, 0.0
    for office in chosen:
        prob = problem(office, args.people, args.weeks, settings)
        size = len(build_model(prob, build_grid(prob)).x)
        in_period = sum(1 for d in prob.holidays if START <= d < prob.end)
        started = perf_counter()
        result = solve(prob)
        total = perf_counter() - started
        broken = violations(prob, result.assignments, result.lieu_days) if result.solved else []
        first = result.first_solution_seconds
        worst_first = max(worst_first, first or float("inf"))
        worst_total = max(worst_total, total)
        gap = f"{100 * result.gap:.1f}%" if result.gap is not None else "-"
        rules = "all met (checked)" if result.solved and not broken else f"{len(broken)} broken"
        if not result.solved:
            rules = "; ".join(r.message for r in result.relaxations[:2]) or result.status
        print(
            f"| {office.name} | {office.tz} | {in_period} | {size} | {result.status} | "
            f"{first:.2f} | {total:.1f} | {result.objective or 0:.0f} | "
            f"{result.bound or 0:.0f} | {gap} | {rules} | {len(result.assignments)} |"
            if first is not None
            else f"| {office.name} | {office.tz} | {in_period} | {size} | {result.status} | - | "
            f"{total:.1f} | - | - | - | {rules} | {len(result.assignments)} |"
        )
    print(
        f"\nSlowest first plan: {worst_first:.2f} s (target < 5 s); slowest team: "
        f"{worst_total:.1f} s (target < 30 s). Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC."
    )


if __name__ == "__main__":
    main()
