"""Read services of the scheduler's pages: team list, lieu ledger with fairness, audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.calc_pool import calculate
from app.core.errors import NotFound
from app.models.rota import AuditEntry, ManualDayOffRow, OverrideRow, Rotation, Specialist, Team
from app.rota import repository
from app.rota.calculator import (
    FairnessRow,
    LedgerRow,
    coverage_gaps_of_teams,
    lieu_ledger_and_fairness,
)
from app.rota.wallclock import local_date, local_midnight

AUDIT_SCAN = 5000


@dataclass(frozen=True)
class TeamSummary:
    """A team on the teams page."""

    slug: str
    name: str
    tz: str
    people: int
    gaps_this_week: int
    gap_hours_this_week: float


async def team_zone(session: AsyncSession, slug: str) -> str | None:
    """The team's time zone, or None when there is no such team."""
    team = await repository.team_by_slug(session, slug)
    return team.tz if team else None


async def specialist_zone(session: AsyncSession, specialist_id: int | None) -> str | None:
    """A specialist's own zone (a user's 'my zone' when linked to one)."""
    if specialist_id is None:
        return None
    spec = await session.get(Specialist, specialist_id)
    return spec.tz if spec else None


async def team_rotations(session: AsyncSession, team_id: int) -> list[Rotation]:
    """The team's rotations, oldest first."""
    return list(
        await session.scalars(
            select(Rotation).where(Rotation.team_id == team_id).order_by(Rotation.id)
        )
    )


async def team_summaries(session: AsyncSession, now: datetime) -> list[TeamSummary]:
    """Every team with its people and the gaps of its current week (its own zone)."""
    teams = list(await session.scalars(select(Team).order_by(Team.name)))
    members = await repository.team_members(session, [t.id for t in teams])
    if not teams:
        return []
    lo = now - timedelta(days=8)
    snapshot = await repository.load_snapshot(session, lo, now + timedelta(days=8))
    ranges = []
    for team in teams:
        today = local_date(now, team.tz)
        monday = today - timedelta(days=today.weekday())
        start = local_midnight(monday, team.tz)
        end = local_midnight(monday + timedelta(days=7), team.tz)
        ranges.append((team.slug, start, end))
    out = []
    for team, gaps in zip(
        teams, await calculate(coverage_gaps_of_teams, snapshot.rota, ranges), strict=True
    ):
        out.append(
            TeamSummary(
                slug=team.slug,
                name=team.name,
                tz=team.tz,
                people=len(members.get(team.id, [])),
                gaps_this_week=len(gaps),
                gap_hours_this_week=round(
                    sum((g.end - g.start).total_seconds() for g in gaps) / 3600, 1
                ),
            )
        )
    return out


@dataclass(frozen=True)
class ReportRow:
    """One person's lieu ledger and fairness figures over a period."""

    name: str
    ledger: LedgerRow | None
    load: FairnessRow | None


@dataclass(frozen=True)
class TeamReport:
    """The ledger and fairness tables of a team for a period (the team's zone)."""

    team: Team
    rows: list[ReportRow]


async def team_report(
    session: AsyncSession, slug: str, first: date, last: date, now: datetime
) -> TeamReport:
    """Lieu days earned/taken/outstanding and hours/weekends/nights per member of the team."""
    team = await repository.team_by_slug(session, slug)
    if team is None:
        raise NotFound(f"team {slug!r} does not exist")
    start = local_midnight(first, team.tz)
    end = local_midnight(last + timedelta(days=1), team.tz)
    members = (await repository.team_members(session, [team.id])).get(team.id, [])
    snapshot = await repository.load_snapshot(session, start, end)
    ledger, loads = await calculate(
        lieu_ledger_and_fairness, snapshot.rota, start, end, now, team=slug
    )
    by_ledger = {r.specialist_id: r for r in ledger}
    by_load = {r.specialist_id: r for r in loads}
    people = list(dict.fromkeys([*members, *by_load]))
    names = snapshot.specialist_names
    rows = [
        ReportRow(names.get(sid, "?"), by_ledger.get(sid), by_load.get(sid))
        for sid in sorted(people, key=lambda s: names.get(s, "?").casefold())
    ]
    return TeamReport(team, rows)


@dataclass(frozen=True)
class AuditPage:
    """A page of the team's audit trail."""

    team: Team
    entries: list[AuditEntry]
    names: dict[int, str]
    next_before: int | None


def _involves(entry: AuditEntry, members: set[int]) -> bool:
    for state in (entry.before, entry.after):
        if not state:
            continue
        if state.get("specialist_id") in members or state.get("substitute_id") in members:
            return True
        for item in state.get("overrides", []) or []:
            if isinstance(item, dict) and item.get("specialist_id") in members:
                return True
    return False


async def team_audit(
    session: AsyncSession, slug: str, *, before_id: int | None, limit: int
) -> AuditPage:
    """The audit entries about the team, its rotations, its people and their overrides."""
    team = await repository.team_by_slug(session, slug)
    if team is None:
        raise NotFound(f"team {slug!r} does not exist")
    members = set((await repository.team_members(session, [team.id])).get(team.id, []))
    rotations = {
        str(r)
        for r in await session.scalars(select(Rotation.id).where(Rotation.team_id == team.id))
    }
    override_filter = [OverrideRow.team_id == team.id]
    if members:
        override_filter += [
            OverrideRow.specialist_id.in_(members),
            OverrideRow.substitute_id.in_(members),
        ]
    overrides = {
        str(o) for o in await session.scalars(select(OverrideRow.id).where(or_(*override_filter)))
    }
    manual = {
        f"manual:{m}"
        for m in await session.scalars(
            select(ManualDayOffRow.id).where(ManualDayOffRow.specialist_id.in_(members))
        )
    }
    people = {str(m) for m in members}
    wanted: dict[str, set[str]] = {
        "team": {slug},
        "rotation": rotations,
        "override": overrides,
        "specialist": people,
        "day-off": manual,
    }
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_SCAN)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    found: list[AuditEntry] = []
    for entry in await session.scalars(query):
        if entry.resource_id in wanted.get(entry.resource_type, set()) or (
            entry.resource_type in ("override", "day-off") and _involves(entry, members)
        ):
            found.append(entry)
            if len(found) > limit:
                break
    names = dict(
        (sid, name) for sid, name in await session.execute(select(Specialist.id, Specialist.name))
    )
    more = len(found) > limit
    found = found[:limit]
    return AuditPage(team, found, names, found[-1].id if more and found else None)


def _describe_console(changed: dict[str, Any]) -> str:
    parts = []
    if "swaps_need_approval" in changed:
        parts.append(
            "swaps now need a scheduler's approval"
            if changed["swaps_need_approval"]
            else "swaps no longer need a scheduler's approval"
        )
    thresholds = [
        f"{name} {value}" for name, value in changed.items() if name != "swaps_need_approval"
    ]
    if thresholds:
        parts.append("wallboard thresholds: " + ", ".join(thresholds))
    return "; ".join(parts) or "console settings"


def describe(entry: AuditEntry, names: dict[int, str]) -> str:
    """A short sentence for an audit entry, in a scheduler's words."""
    state: dict[str, Any] = entry.after or entry.before or {}
    what = entry.resource_type
    if what == "override":
        kind = state.get("kind", "override")
        who = names.get(state.get("specialist_id", 0), "?")
        sub = state.get("substitute_id")
        text = f"{kind} for {who}" if sub is None else f"{names.get(sub, '?')} covers {who}"
        window = f"{str(state.get('start', ''))[:16]} → {str(state.get('end', ''))[:16]} UTC"
        return f"{entry.action} {text} ({window})"
    if what == "rotation":
        return f"{entry.action} rotation {state.get('name', entry.resource_id)}"
    if what == "specialist":
        return f"{entry.action} specialist {state.get('name', entry.resource_id)}"
    if what == "team":
        console = (entry.after or {}).get("console_settings")
        if isinstance(console, dict):
            return _describe_console(console)
        return f"{entry.action} team settings"
    if what == "day-off":
        return f"{entry.action} day off {entry.resource_id} ({state.get('day', '')})"
    return f"{entry.action} {what} {entry.resource_id}"
