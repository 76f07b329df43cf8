"""Rota queries, and the snapshot that turns rows into the calculator's inputs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.rota import (
    LieuAdjustmentRow,
    ManualDayOffRow,
    OverrideRow,
    Rotation,
    RotationVersionRow,
    Specialist,
    Team,
    TeamMember,
)
from app.rota.calculator import (
    CoverageRule,
    LieuRule,
    ManualDayOff,
    Override,
    Rota,
    RotationVersion,
    SpecialistInfo,
    TeamRota,
    holiday_dates,
)
from app.rota.schemas import WEEKDAYS, parse_hhmm, weekday_numbers

# Overrides and versions this far outside a window can still shape it (multi-day shifts,
# and the earning week a day off in lieu comes from).
SNAPSHOT_MARGIN = timedelta(days=35)


@lru_cache(maxsize=512)
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return holiday_dates(country, subdivision, [year])


@dataclass(frozen=True)
class TeamBrief:
    """What the `hours` step reads of a team (a `TeamLike` for the helpers below)."""

    slug: str
    tz: str
    coverage: list[dict[str, Any]]
    holiday_country: str | None
    holiday_subdivision: str | None


# The snapshot reads plain rows (no ORM objects: a tenth of the cost), which these helpers
# take as well as the mapped objects.
TeamLike = Team | Row[Any] | TeamBrief


def team_holidays(team: TeamLike, years: range) -> frozenset[date]:
    """The team's public holidays in the given years."""
    if not team.holiday_country:
        return frozenset()
    out: frozenset[date] = frozenset()
    for year in years:
        out |= _holidays(team.holiday_country, team.holiday_subdivision, year)
    return out


def coverage_rules(team: TeamLike) -> tuple[CoverageRule, ...]:
    """The team's coverage rules as calculator inputs."""
    return tuple(
        CoverageRule(
            days=weekday_numbers(rule["days"]),
            start=parse_hhmm(rule["start"]),
            end=parse_hhmm(rule["end"]),
            min_staff=int(rule["min_staff"]),
            language=rule.get("language"),
        )
        for rule in team.coverage
    )


def lieu_rule(name: str | None) -> LieuRule | None:
    """A stored lieu rule name as a calculator rule."""
    if name is None:
        return None
    if name == "most_staffed":
        return LieuRule.most_staffed()
    return LieuRule.fixed(WEEKDAYS.index(name))


def version_input(
    row: RotationVersionRow | Row[Any], rotation: Rotation | Row[Any], team: TeamLike
) -> RotationVersion:
    """A stored rotation version as a calculator input."""
    return RotationVersion(
        rotation_id=rotation.id,
        version=row.seq,
        team=team.slug,
        tz=team.tz,
        members=tuple(row.members),
        days=weekday_numbers([WEEKDAYS[d] for d in row.days]),
        start=parse_hhmm(row.start_time),
        end=parse_hhmm(row.end_time),
        length_days=row.length_days,
        every_weeks=row.every_weeks,
        anchor=rotation.anchor,
        effective_from=row.effective_from,
        effective_until=row.effective_until,
        assignment=row.assignment,  # type: ignore[arg-type]  # checked by a constraint
        per_occurrence=row.per_occurrence,
        turn_offset=row.turn_offset,
        run_on_holidays=row.run_on_holidays,
        earns_lieu=row.earns_lieu,
        lieu_rule=lieu_rule(row.lieu_rule),
    )


@dataclass(frozen=True)
class Snapshot:
    """The calculator's Rota plus the names the API shows."""

    rota: Rota
    team_ids: dict[str, int]
    team_slugs: dict[int, str]
    specialist_names: dict[int, str]
    rotation_names: dict[int, str]


async def load_snapshot(session: AsyncSession, start: datetime, end: datetime) -> Snapshot:
    """Everything that shapes the final schedule between two instants."""
    lo, hi = start - SNAPSHOT_MARGIN, end + SNAPSHOT_MARGIN
    teams = list(await session.execute(select(Team.__table__)))
    specialists = list(await session.execute(select(Specialist.__table__)))
    rotations = {r.id: r for r in await session.execute(select(Rotation.__table__))}
    versions = await session.execute(
        select(RotationVersionRow.__table__).where(
            RotationVersionRow.effective_from < hi,
            or_(
                RotationVersionRow.effective_until.is_(None),
                RotationVersionRow.effective_until > lo,
            ),
        )
    )
    overrides = await session.execute(
        select(
            OverrideRow.id,
            OverrideRow.kind,
            OverrideRow.specialist_id,
            OverrideRow.substitute_id,
            OverrideRow.team_id,
            OverrideRow.starts_at,
            OverrideRow.ends_at,
        ).where(and_(OverrideRow.starts_at < hi, OverrideRow.ends_at > lo))
    )
    adjustments = await session.execute(
        select(LieuAdjustmentRow.earning_key, LieuAdjustmentRow.new_date)
    )
    manual = await session.execute(
        select(ManualDayOffRow.id, ManualDayOffRow.specialist_id, ManualDayOffRow.day).where(
            ManualDayOffRow.day >= lo.date() - timedelta(days=1),
            ManualDayOffRow.day <= hi.date() + timedelta(days=1),
        )
    )
    by_id = {t.id: t for t in teams}
    years = range(lo.year, hi.year + 1)
    team_inputs = {
        t.slug: TeamRota(
            slug=t.slug,
            tz=t.tz,
            holidays=team_holidays(t, years),
            coverage=coverage_rules(t),
            languages=tuple(t.languages),
        )
        for t in teams
    }
    specialist_inputs = {
        s.id: SpecialistInfo(
            id=s.id,
            tz=s.tz,
            languages=frozenset(s.languages),
            skills=frozenset(s.skills),
            active=s.active,
        )
        for s in specialists
    }
    version_inputs = tuple(
        version_input(v, rotations[v.rotation_id], by_id[rotations[v.rotation_id].team_id])
        for v in versions
    )
    override_inputs = tuple(
        Override(
            id=o.id,
            kind=o.kind,  # checked by a constraint
            specialist_id=o.specialist_id,
            substitute_id=o.substitute_id,
            team=by_id[o.team_id].slug if o.team_id is not None else None,
            start=o.starts_at,
            end=o.ends_at,
        )
        for o in overrides
    )
    rota = Rota(
        teams=team_inputs,
        specialists=specialist_inputs,
        rotations=version_inputs,
        overrides=override_inputs,
        lieu_adjustments={a.earning_key: a.new_date for a in adjustments},
        manual_days_off=tuple(
            ManualDayOff(id=m.id, specialist_id=m.specialist_id, day=m.day) for m in manual
        ),
    )
    return Snapshot(
        rota=rota,
        team_ids={t.slug: t.id for t in teams},
        team_slugs={t.id: t.slug for t in teams},
        specialist_names={s.id: s.name for s in specialists},
        rotation_names={r.id: r.name for r in rotations.values()},
    )


async def team_by_slug(session: AsyncSession, slug: str) -> Team | None:
    """A team by its slug."""
    return await session.scalar(select(Team).where(Team.slug == slug))


async def team_members(session: AsyncSession, team_ids: list[int]) -> dict[int, list[int]]:
    """Specialist ids per team id."""
    out: dict[int, list[int]] = defaultdict(list)
    if team_ids:
        rows = await session.execute(
            select(TeamMember.team_id, TeamMember.specialist_id)
            .where(TeamMember.team_id.in_(team_ids))
            .order_by(TeamMember.specialist_id)
        )
        for team_id, specialist_id in rows:
            out[team_id].append(specialist_id)
    return out


async def specialist_teams(session: AsyncSession, ids: list[int]) -> dict[int, list[str]]:
    """Team slugs per specialist id."""
    out: dict[int, list[str]] = defaultdict(list)
    if ids:
        rows = await session.execute(
            select(TeamMember.specialist_id, Team.slug)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.specialist_id.in_(ids))
            .order_by(Team.slug)
        )
        for specialist_id, slug in rows:
            out[specialist_id].append(slug)
    return out


async def specialist_names(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    """Names by specialist id (ids that do not exist are left out)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Specialist.id, Specialist.name).where(Specialist.id.in_(wanted))
    )
    return {sid: name for sid, name in rows}


async def rotation_versions(session: AsyncSession, rotation_id: int) -> list[RotationVersionRow]:
    """A rotation's versions in order."""
    rows = await session.scalars(
        select(RotationVersionRow)
        .where(RotationVersionRow.rotation_id == rotation_id)
        .order_by(RotationVersionRow.seq)
    )
    return list(rows)
