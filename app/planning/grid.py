"""The planner's grid: shift templates, their concrete UTC instances, coverage segments.

- Templates: given, or derived from the coverage rules: every distinct opening window of a
  weekday becomes one shift when it is at most ``shift_hours`` long, else the fewest
  overlapping shifts of ``shift_hours`` that cover it (start, evenly spread, end), on
  half-hour marks. A 08:00-20:00 window gives 08:00-16:00 and 12:00-20:00.
- Instances: a template on a local date of the period (weekday in its days, not a public
  holiday unless holiday_staff > 0), converted with the rota's wall-clock rules, so a
  shift keeps its wall-clock times across DST and lasts 7 or 9 hours on change days.
- Segments: each coverage window opening on a day of the period (the windows the gaps
  query checks: not on public holidays; clipped at the period's end) cut at every
  instance boundary inside it; an instance covers a segment when it runs through all of
  it. On a public holiday with holiday_staff > 0 the day's opening hours need that many
  people, any language.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from app.planning.problem import PlanProblem, ShiftTemplate
from app.rota.rules import CoverageRule
from app.rota.wallclock import local_midnight, local_to_utc

__all__ = [
    "HOLIDAY_RULE",
    "Grid",
    "Instance",
    "Segment",
    "build_grid",
    "derive_templates",
    "is_night",
]

HOLIDAY_RULE = -1
DAY_MINUTES = 24 * 60
NIGHT_START = 22 * 60
NIGHT_END = 6 * 60


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _clock(minutes: int) -> time:
    minutes %= DAY_MINUTES
    return time(minutes // 60, minutes % 60)


def _span(start: time, end: time) -> tuple[int, int]:
    s, e = _minutes(start), _minutes(end)
    return s, e + DAY_MINUTES if e <= s else e


def is_night(template: ShiftTemplate) -> bool:
    """Whether the template's wall-clock hours touch 22:00-06:00."""
    s, e = _span(template.start, template.end)
    nights = [(0, NIGHT_END), (NIGHT_START, DAY_MINUTES + NIGHT_END)]
    nights.append((DAY_MINUTES + NIGHT_START, 2 * DAY_MINUTES))
    return any(min(e, b) > max(s, a) for a, b in nights)


def _split(start: int, end: int, length: int) -> list[tuple[int, int]]:
    if end - start <= length:
        return [(start, end)]
    count = -(-(end - start) // length)
    step = (end - start - length) / (count - 1)
    starts = [start + round(i * step / 30) * 30 for i in range(count)]
    starts[-1] = end - length
    return [(s, s + length) for s in starts]


def derive_templates(
    coverage: tuple[CoverageRule, ...], shift_hours: int
) -> tuple[ShiftTemplate, ...]:
    """Return shift templates covering every opening window of the coverage rules."""
    by_span: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    for rule in coverage:
        if rule.min_staff == 0:
            continue
        s, e = _span(rule.start, rule.end)
        for piece in _split(s, e, shift_hours * 60):
            by_span[piece].update(rule.days)
    return tuple(
        ShiftTemplate(
            name=f"{_clock(s).strftime('%H:%M')}-{_clock(e).strftime('%H:%M')}",
            start=_clock(s),
            end=_clock(e),
            days=frozenset(days),
        )
        for (s, e), days in sorted(by_span.items())
    )


@dataclass(frozen=True)
class Instance:
    """A template on one local date of the period, in UTC."""

    index: int
    day: date
    template: ShiftTemplate
    start: datetime
    end: datetime
    night: bool
    holiday: bool

    @property
    def minutes(self) -> int:
        """Length in whole minutes (DST days included)."""
        return int((self.end - self.start).total_seconds() // 60)


@dataclass(frozen=True)
class Segment:
    """A stretch of a coverage window with the instances that run through all of it."""

    rule_index: int
    language: str | None
    min_staff: int
    day: date
    start: datetime
    end: datetime
    instances: tuple[int, ...]


@dataclass(frozen=True)
class Grid:
    """Templates, instances (by day) and coverage segments of one problem."""

    templates: tuple[ShiftTemplate, ...]
    instances: tuple[Instance, ...]
    by_day: dict[date, tuple[int, ...]]
    segments: tuple[Segment, ...]


def _instances(problem: PlanProblem, templates: tuple[ShiftTemplate, ...]) -> list[Instance]:
    found: list[Instance] = []
    for day in problem.days:
        holiday = day in problem.holidays
        if holiday and problem.settings.holiday_staff == 0:
            continue
        for template in templates:
            if day.weekday() not in template.days:
                continue
            ends_on = day + timedelta(days=1 if template.overnight else 0)
            start = local_to_utc(day, template.start, problem.tz)
            end = local_to_utc(ends_on, template.end, problem.tz)
            if end <= start:
                continue  # both ends in one spring-forward gap
            found.append(
                Instance(len(found), day, template, start, end, is_night(template), holiday)
            )
    return found


def _window(day: date, rule: CoverageRule, problem: PlanProblem) -> tuple[datetime, datetime]:
    ends_on = day + timedelta(days=1 if rule.end <= rule.start else 0)
    # An overnight window of the last day stops where the period does: the rota after the
    # period covers the rest (as the gaps query over the period sees it).
    closes = min(
        local_to_utc(ends_on, rule.end, problem.tz), local_midnight(problem.end, problem.tz)
    )
    return local_to_utc(day, rule.start, problem.tz), closes


def _windows(problem: PlanProblem) -> list[tuple[int, CoverageRule, date, datetime, datetime]]:
    """Coverage windows opening on a day of the period (as the gaps query computes them)."""
    windows: list[tuple[int, CoverageRule, date, datetime, datetime]] = []
    holiday_staff = problem.settings.holiday_staff
    for day in problem.days:
        holiday = day in problem.holidays
        for index, rule in enumerate(problem.coverage):
            if rule.min_staff == 0 or day.weekday() not in rule.days:
                continue
            if not holiday:
                windows.append((index, rule, day, *_window(day, rule, problem)))
            elif holiday_staff > 0:
                any_language = CoverageRule(rule.days, rule.start, rule.end, holiday_staff)
                windows.append((HOLIDAY_RULE, any_language, day, *_window(day, rule, problem)))
    return windows


def build_grid(problem: PlanProblem) -> Grid:
    """Return the templates, instances and coverage segments of a problem."""
    templates = problem.templates or derive_templates(
        problem.coverage, problem.settings.shift_hours
    )
    instances = _instances(problem, templates)
    by_day: defaultdict[date, list[int]] = defaultdict(list)
    for inst in instances:
        by_day[inst.day].append(inst.index)
    segments: list[Segment] = []
    for index, rule, day, opens, closes in _windows(problem):
        near = [
            instances[i]
            for d in (day - timedelta(days=1), day, day + timedelta(days=1))
            for i in by_day.get(d, ())
        ]
        cuts = {opens, closes}
        for inst in near:
            cuts.update(t for t in (inst.start, inst.end) if opens < t < closes)
        for seg_start, seg_end in pairwise(sorted(cuts)):
            covering = tuple(
                sorted(i.index for i in near if i.start <= seg_start and i.end >= seg_end)
            )
            language = None if index == HOLIDAY_RULE else rule.language
            segments.append(
                Segment(index, language, rule.min_staff, day, seg_start, seg_end, covering)
            )
    return Grid(
        templates=templates,
        instances=tuple(instances),
        by_day={d: tuple(ids) for d, ids in by_day.items()},
        segments=tuple(segments),
    )
