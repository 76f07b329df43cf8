"""A plan as rotations the rota already understands, and the rota it would make. Pure.

Applying a plan for a period [P0, P1) (local midnights of its first Monday and of the
Monday after it):

- the team's rotation versions stop for the period: a version running across P0 ends at
  P0 and resumes at P1 (same rules, so turns continue where they would have been);
- for each week and shift template, one rotation per set of weekdays worked together:
  assignment ``all`` (everyone listed works each of its days), effective for that week
  only, running on holidays (the plan decided who works them). Weekend days go in their
  own rotations, which earn days off in lieu;
- each planned day off in lieu becomes a lieu adjustment moving that earning to the day
  the plan chose; days off earned before the period keep the dates they had.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from app.planning.problem import ShiftTemplate
from app.planning.result import Assignment, LieuDay
from app.rota.lieu import earning_key
from app.rota.rules import LieuRule, Rota, RotationVersion
from app.rota.wallclock import local_midnight

__all__ = ["PlannedRotation", "RotaChange", "planned_rota", "rota_change"]


@dataclass(frozen=True)
class PlannedRotation:
    """A rotation to create for one week of the plan."""

    key: int  # negative placeholder id until the rotation exists
    name: str
    week: date
    template: str
    start: time
    end: time
    days: frozenset[int]
    members: tuple[int, ...]
    earns_lieu: bool
    effective_from: datetime
    effective_until: datetime


@dataclass(frozen=True)
class RotaChange:
    """Everything applying a plan writes."""

    period_start: datetime
    period_end: datetime
    rotations: tuple[PlannedRotation, ...]
    # earning key (with the placeholder rotation id) -> day off the plan chose
    lieu_moves: Mapping[str, date]
    # earning keys of days off earned before the period that keep their date
    lieu_pins: Mapping[str, date]


def rota_change(
    tz: str,
    first: date,
    weeks: int,
    templates: Iterable[ShiftTemplate],
    assignments: Iterable[Assignment],
    lieu_days: Iterable[LieuDay],
    pins: Mapping[str, date],
    label: str,
) -> RotaChange:
    """Return the rotations and lieu moves that put a plan into the rota."""
    by_name = {t.name: t for t in templates}
    grouped: defaultdict[tuple[date, str, bool, int], set[int]] = defaultdict(set)
    for a in assignments:
        week = a.day - timedelta(days=a.day.weekday())
        grouped[week, a.template, a.day.weekday() >= 5, a.member].add(a.day.weekday())
    by_days: defaultdict[tuple[date, str, bool, frozenset[int]], list[int]] = defaultdict(list)
    for (week, name, weekend, member), worked in grouped.items():
        by_days[week, name, weekend, frozenset(worked)].append(member)
    rotations: list[PlannedRotation] = []
    for (week, name, weekend, days), members in sorted(
        by_days.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], sorted(kv[0][3]))
    ):
        template = by_name[name]
        rotations.append(
            PlannedRotation(
                key=-(len(rotations) + 1),
                name=f"{label} · week of {week.isoformat()} · {name}"
                + (" · weekend" if weekend else ""),
                week=week,
                template=name,
                start=template.start,
                end=template.end,
                days=days,
                members=tuple(sorted(members)),
                earns_lieu=weekend,
                effective_from=local_midnight(week, tz),
                effective_until=local_midnight(week + timedelta(days=7), tz),
            )
        )
    keyed: dict[tuple[date, int], int] = {}
    for rotation in rotations:
        if rotation.earns_lieu:
            for member in rotation.members:
                for day in rotation.days:
                    keyed[rotation.week + timedelta(days=day), member] = rotation.key
    moves = {
        earning_key(keyed[d.earned_on, d.member], d.earned_on, d.member): d.day
        for d in lieu_days
        if (d.earned_on, d.member) in keyed
    }
    return RotaChange(
        period_start=local_midnight(first, tz),
        period_end=local_midnight(first + timedelta(weeks=weeks), tz),
        rotations=tuple(rotations),
        lieu_moves=moves,
        lieu_pins=dict(pins),
    )


def paused_versions(
    versions: Iterable[RotationVersion], team: str, start: datetime, end: datetime
) -> list[RotationVersion]:
    """The team's versions with the period [start, end) cut out (others unchanged)."""
    out: list[RotationVersion] = []
    for v in versions:
        until = v.effective_until
        if v.team != team or v.effective_from >= end or (until is not None and until <= start):
            out.append(v)
            continue
        if v.effective_from < start:
            out.append(replace(v, effective_until=start))
        if until is None or until > end:
            out.append(replace(v, effective_from=max(end, v.effective_from), version=-v.version))
    return out


def planned_rota(current: Rota, team: str, tz: str, change: RotaChange) -> Rota:
    """The rota as it would be with the plan applied (placeholder ids for new rotations)."""
    versions = paused_versions(current.rotations, team, change.period_start, change.period_end)
    for r in change.rotations:
        versions.append(
            RotationVersion(
                rotation_id=r.key,
                version=1,
                team=team,
                tz=tz,
                members=r.members,
                days=r.days,
                start=r.start,
                end=r.end,
                anchor=r.week,
                effective_from=r.effective_from,
                effective_until=r.effective_until,
                assignment="all",
                run_on_holidays=True,
                earns_lieu=r.earns_lieu,
                lieu_rule=LieuRule.most_staffed() if r.earns_lieu else None,
            )
        )
    adjustments = dict(current.lieu_adjustments)
    adjustments.update(change.lieu_pins)
    adjustments.update(change.lieu_moves)
    return replace(current, rotations=tuple(versions), lieu_adjustments=adjustments)
