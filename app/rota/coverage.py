"""Coverage gaps: where a team's coverage rule has fewer people on shift than its minimum.

A rule's window on local date d (weekday in the rule's days, d not a team holiday) runs
from d at ``start`` to d (+1 when end <= start) at ``end``, converted with the wall-clock
rules. Inside a window, staffed = distinct specialists with a final shift of the team (and
speaking the rule's language, when it names one) covering the instant. Gaps are the parts
of windows (clipped to the range asked) where staffed < min_staff; touching parts of one
rule with the same staffed count merge. Hours outside every rule are never gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from app.rota.rules import CoverageRule, Rota
from app.rota.schedule import final_shifts
from app.rota.shifts import Shift
from app.rota.wallclock import local_date, local_to_utc, require_aware

__all__ = ["Gap", "coverage_gaps", "rule_windows"]


@dataclass(frozen=True)
class Gap:
    """An interval in which one coverage rule is understaffed."""

    start: datetime
    end: datetime
    rule_index: int
    staffed: int
    min_staff: int
    language: str | None


def rule_windows(
    rule: CoverageRule, tz: str, holidays: frozenset[date], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Return the rule's UTC windows clipped to [start, end), skipping team holidays."""
    overnight = 1 if rule.end <= rule.start else 0
    windows: list[tuple[datetime, datetime]] = []
    day = local_date(start, tz) - timedelta(days=2)
    last = local_date(end, tz) + timedelta(days=1)
    while day <= last:
        if day.weekday() in rule.days and day not in holidays:
            opens = max(local_to_utc(day, rule.start, tz), start)
            closes = min(local_to_utc(day + timedelta(days=overnight), rule.end, tz), end)
            if opens < closes:
                windows.append((opens, closes))
        day += timedelta(days=1)
    return windows


def _understaffed(
    window: tuple[datetime, datetime], staff: list[Shift], rule: CoverageRule, index: int
) -> list[Gap]:
    opens, closes = window
    cuts = {opens, closes}
    for shift in staff:
        cuts.update(t for t in (shift.start, shift.end) if opens < t < closes)
    gaps: list[Gap] = []
    for seg_start, seg_end in pairwise(sorted(cuts)):
        on = {s.specialist_id for s in staff if s.start <= seg_start and s.end >= seg_end}
        if len(on) >= rule.min_staff:
            continue
        gap = Gap(seg_start, seg_end, index, len(on), rule.min_staff, rule.language)
        gaps.append(gap)
    return gaps


def _merge(gaps: list[Gap]) -> list[Gap]:
    merged: list[Gap] = []
    for gap in sorted(gaps, key=lambda g: (g.rule_index, g.start)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.rule_index == gap.rule_index
            and last.end == gap.start
            and last.staffed == gap.staffed
        ):
            merged[-1] = Gap(
                last.start, gap.end, gap.rule_index, gap.staffed, gap.min_staff, gap.language
            )
        else:
            merged.append(gap)
    return sorted(merged, key=lambda g: (g.start, g.rule_index))


def coverage_gaps(rota: Rota, team: str, start: datetime, end: datetime) -> list[Gap]:
    """Return the team's understaffed intervals inside its coverage rules, within range."""
    start = require_aware(start, "start")
    end = require_aware(end, "end")
    if team not in rota.teams:
        raise ValueError(f"unknown team {team!r}")
    team_rota = rota.teams[team]
    shifts = [s for s in final_shifts(rota, start, end) if s.team == team]
    gaps: list[Gap] = []
    for index, rule in enumerate(team_rota.coverage):
        if rule.min_staff == 0:
            continue
        staff = [s for s in shifts if rule.language is None or _speaks(rota, s, rule.language)]
        for window in rule_windows(rule, team_rota.tz, team_rota.holidays, start, end):
            gaps.extend(_understaffed(window, staff, rule, index))
    return _merge(gaps)


def _speaks(rota: Rota, shift: Shift, language: str) -> bool:
    person = rota.specialists.get(shift.specialist_id)
    return person is not None and language in person.languages
