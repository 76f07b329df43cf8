"""Small builders for rota test data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from app.rota.rules import (
    CoverageRule,
    ManualDayOff,
    Override,
    Rota,
    RotationVersion,
    SpecialistInfo,
    TeamRota,
)
from app.rota.shifts import Shift

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def version(**fields: Any) -> RotationVersion:
    """Return a rotation version with sensible defaults (UTC, Mon-Fri 09-17, all)."""
    defaults: dict[str, Any] = {
        "rotation_id": 1,
        "version": 1,
        "team": "t",
        "tz": "UTC",
        "members": (1,),
        "days": frozenset(range(5)),
        "start": time(9),
        "end": time(17),
        "anchor": date(2024, 1, 1),
        "effective_from": EPOCH,
    }
    defaults.update(fields)
    return RotationVersion(**defaults)


def team(slug: str = "t", tz: str = "UTC", **fields: Any) -> TeamRota:
    """Return a team."""
    return TeamRota(slug=slug, tz=tz, **fields)


def people(*ids: int, tz: str = "UTC", **fields: Any) -> dict[int, SpecialistInfo]:
    """Return active specialists keyed by id."""
    return {i: SpecialistInfo(id=i, tz=tz, **fields) for i in ids}


def rota(
    rotations: Iterable[RotationVersion],
    *,
    teams: Iterable[TeamRota] = (),
    specialists: Mapping[int, SpecialistInfo] | None = None,
    overrides: Iterable[Override] = (),
    lieu_adjustments: Mapping[str, date | None] | None = None,
    manual_days_off: Iterable[ManualDayOff] = (),
) -> Rota:
    """Return a rota; teams default to one UTC team per rotation team, people to members."""
    rotations = tuple(rotations)
    team_map = {t.slug: t for t in teams}
    for v in rotations:
        team_map.setdefault(v.team, team(v.team))
    if specialists is None:
        ids = {m for v in rotations for m in v.members}
        ids |= {o.specialist_id for o in overrides}
        ids |= {o.substitute_id for o in overrides if o.substitute_id is not None}
        specialists = people(*sorted(ids))
    return Rota(
        teams=team_map,
        specialists=specialists,
        rotations=rotations,
        overrides=tuple(overrides),
        lieu_adjustments=dict(lieu_adjustments or {}),
        manual_days_off=tuple(manual_days_off),
    )


def cover(
    oid: int,
    absent: int,
    substitute: int,
    start: datetime,
    end: datetime,
    team: str | None = None,
) -> Override:
    """Return a cover override."""
    return Override(oid, "cover", absent, substitute, team, start, end)


def leave(oid: int, person: int, start: datetime, end: datetime) -> Override:
    """Return a leave override."""
    return Override(oid, "leave", person, None, None, start, end)


def extra(oid: int, person: int, team: str, start: datetime, end: datetime) -> Override:
    """Return an extra override."""
    return Override(oid, "extra", person, None, team, start, end)


def rule(
    days: Iterable[int], start: time, end: time, min_staff: int, language: str | None = None
) -> CoverageRule:
    """Return a coverage rule."""
    return CoverageRule(frozenset(days), start, end, min_staff, language)


def who(shifts: Iterable[Shift]) -> list[tuple[date, int]]:
    """Return (local date, specialist) pairs of shifts, in order."""
    return [(s.local_date, s.specialist_id) for s in shifts]


def spans(shifts: Iterable[Shift]) -> list[tuple[int, datetime, datetime, str]]:
    """Return (specialist, start, end, source kind) of shifts, in order."""
    return [(s.specialist_id, s.start, s.end, s.source.kind) for s in shifts]
