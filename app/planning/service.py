"""Proposing a rota: snapshot the team briefly, solve with no connection held, store briefly.

The solver may run for its whole time limit, so it never runs inside a transaction: a
short transaction reads everything the problem needs (and closes), the problem is solved
and turned into a proposal in a worker thread, then a second short transaction stores it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.errors import NotFound, ValidationFailed
from app.models.planning import RotaPlan
from app.models.rota import Team
from app.planning.check import violations
from app.planning.grid import build_grid, is_night
from app.planning.problem import (
    Member,
    PlanProblem,
    PlanSettings,
    PlanWeights,
    ShiftTemplate,
    Unavailable,
)
from app.planning.result import PlanResult
from app.planning.schemas import (
    LieuDayOut,
    MemberChange,
    PlannedRotationOut,
    PlanOut,
    PlanRequest,
    RelaxationOut,
    ShiftTemplateIn,
    SolverOut,
    day_numbers,
)
from app.planning.solve import solve
from app.planning.translate import RotaChange, planned_rota, rota_change
from app.rota import repository
from app.rota.calculator import (
    Shift,
    coverage_gaps,
    days_off,
    fairness,
    final_schedule,
)
from app.rota.lieu import parse_earning_key
from app.rota.repository import Snapshot, load_snapshot
from app.rota.schemas import (
    FairnessOut,
    GapOut,
    ScheduleOut,
    parse_hhmm,
    weekday_names,
)
from app.rota.wallclock import local_date, local_midnight, zone
from app.rota.writes import day_off_out, shift_out

HISTORY = timedelta(weeks=8)


@dataclass(frozen=True)
class Limits:
    """The server's planner settings."""

    time_limit_seconds: float
    workers: int


@dataclass(frozen=True)
class Prepared:
    """Everything read from the database for one proposal."""

    team_id: int
    team_slug: str
    team_version: int
    tz: str
    problem: PlanProblem
    snapshot: Snapshot
    pins: dict[str, date]
    members: tuple[int, ...]


def _field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"field": field, "message": message}])


async def _read(
    session: AsyncSession, slug: str, data: PlanRequest
) -> tuple[Team, list[int], Snapshot]:
    team = await repository.team_by_slug(session, slug)
    if team is None:
        raise NotFound(f"team {slug!r} does not exist")
    members = (await repository.team_members(session, [team.id])).get(team.id, [])
    for i, wish in enumerate(data.members):
        if wish.specialist_id not in members:
            raise _field_error(
                f"body.members[{i}].specialist_id",
                f"specialist {wish.specialist_id} is not a member of team {slug!r}",
            )
    start = local_midnight(data.start, team.tz)
    end = local_midnight(data.start + timedelta(weeks=data.weeks), team.tz)
    snapshot = await load_snapshot(session, start - HISTORY, end + timedelta(days=7))
    return team, members, snapshot


async def prepare(db: Database, slug: str, data: PlanRequest, limits: Limits) -> Prepared:
    """Read the team, its members and their rota in one short transaction."""
    async with db.transaction() as session:
        team, member_ids, snapshot = await _read(session, slug, data)
        team_id, team_version, tz = team.id, team.version, team.tz
    return await _prepared(snapshot, slug, team_id, team_version, tz, member_ids, data, limits)


async def _prepared(
    snapshot: Snapshot,
    slug: str,
    team_id: int,
    team_version: int,
    tz: str,
    member_ids: list[int],
    data: PlanRequest,
    limits: Limits,
) -> Prepared:
    active = tuple(m for m in member_ids if snapshot.rota.is_active(m))
    if not active:
        raise _field_error("path.slug", f"team {slug!r} has no active members to plan for")
    problem, pins = await asyncio.to_thread(build_problem, snapshot, slug, tz, active, data, limits)
    return Prepared(team_id, slug, team_version, tz, problem, snapshot, pins, active)


def _templates(data: PlanRequest) -> tuple[ShiftTemplate, ...]:
    if not data.templates:
        return ()
    return tuple(
        ShiftTemplate(t.name, parse_hhmm(t.start), parse_hhmm(t.end), day_numbers(t.days))
        for t in data.templates
    )


def build_problem(
    snapshot: Snapshot,
    slug: str,
    tz: str,
    member_ids: tuple[int, ...],
    data: PlanRequest,
    limits: Limits,
) -> tuple[PlanProblem, dict[str, date]]:
    """The planning problem for a team from a rota snapshot (pure; runs in a thread)."""
    rota = snapshot.rota
    team = rota.teams[slug]
    first, after = data.start, data.start + timedelta(weeks=data.weeks)
    p0, p1 = local_midnight(first, tz), local_midnight(after, tz)
    ours = set(member_ids)
    shifts = final_schedule(rota, p0 - HISTORY, p1)
    current: dict[tuple[int, date], tuple[datetime, datetime]] = {}
    unavailable: list[Unavailable] = []
    history: defaultdict[int, list[Shift]] = defaultdict(list)
    worked_days: defaultdict[int, set[date]] = defaultdict(set)
    last_end: dict[int, datetime] = {}
    for s in shifts:
        if s.specialist_id not in ours:
            continue
        if s.start < p0:
            if s.team == slug and s.start >= p0 - HISTORY:
                history[s.specialist_id].append(s)
            worked_days[s.specialist_id].add(local_date(s.start, tz))
            last_end[s.specialist_id] = max(last_end.get(s.specialist_id, s.end), s.end)
        elif s.team == slug and first <= s.local_date < after:
            current.setdefault((s.specialist_id, s.local_date), (s.start, s.end))
        elif s.team != slug:
            # Another team's shift, with the rest the rules ask for on either side of it.
            gap = timedelta(hours=data.settings.min_rest_hours)
            unavailable.append(
                Unavailable(s.specialist_id, s.start - gap, s.end + gap, "other team")
            )
    for o in rota.overrides:
        if o.specialist_id in ours and o.start < p1 and o.end > p0:
            unavailable.append(Unavailable(o.specialist_id, o.start, o.end, o.kind))
    team_rotations = {v.rotation_id for v in rota.rotations if v.team == slug}
    fixed_off: set[tuple[int, date]] = set()
    pins: dict[str, date] = {}
    for d in days_off(rota, p0, p1):
        if d.specialist_id not in ours or not first <= d.day < after:
            continue
        parsed = parse_earning_key(d.earning_key) if d.earning_key else None
        if parsed is not None and parsed[0] in team_rotations and parsed[1] >= first:
            continue  # earned by this team's rota inside the period: the plan replaces it
        fixed_off.add((d.specialist_id, d.day))
        if d.earning_key is not None:
            pins[d.earning_key] = d.day
    wishes = {w.specialist_id: w for w in data.members}
    members = []
    for pid in member_ids:
        wish = wishes.get(pid)
        mine = history[pid]
        streak, day = 0, first - timedelta(days=1)
        while day in worked_days[pid]:
            streak, day = streak + 1, day - timedelta(days=1)
        members.append(
            Member(
                id=pid,
                languages=rota.specialists[pid].languages,
                unavailable_weekdays=day_numbers(wish.unavailable_days) if wish else frozenset(),
                prefers_off=day_numbers(wish.prefers_off) if wish else frozenset(),
                avoids_templates=frozenset(wish.avoids_shifts) if wish else frozenset(),
                prefers_weekend_day=(
                    {"sat": 5, "sun": 6}[wish.prefers_weekend_day]
                    if wish and wish.prefers_weekend_day
                    else None
                ),
                history_saturdays=sum(1 for s in mine if s.local_date.weekday() == 5),
                history_sundays=sum(1 for s in mine if s.local_date.weekday() == 6),
                history_nights=sum(1 for s in mine if _night_shift(s, tz)),
                history_holidays=sum(1 for s in mine if s.local_date in team.holidays),
                streak_before=streak,
                last_shift_end=last_end.get(pid),
            )
        )
    asked = data.settings
    problem = PlanProblem(
        team=slug,
        tz=tz,
        start=first,
        weeks=data.weeks,
        members=tuple(members),
        coverage=team.coverage,
        holidays=team.holidays,
        templates=_templates(data),
        unavailable=tuple(unavailable),
        days_off=frozenset(fixed_off),
        current=current,
        settings=PlanSettings(
            weekend_days_per_week=asked.weekend_days_per_week,
            max_consecutive_days=asked.max_consecutive_days,
            max_hours_per_week=asked.max_hours_per_week,
            min_rest_hours=asked.min_rest_hours,
            target_days_per_week=asked.target_days_per_week,
            holiday_staff=asked.holiday_staff,
            shift_hours=asked.shift_hours,
            time_limit_s=min(asked.time_limit_seconds or limits.time_limit_seconds, 600),
            seed=asked.seed,
            workers=limits.workers,
        ),
        weights=PlanWeights(**data.weights.model_dump()),
    )
    return problem, pins


def _night_shift(shift: Shift, tz: str) -> bool:
    here = zone(tz)
    start = shift.start.astimezone(here).time().replace(tzinfo=None)
    end = shift.end.astimezone(here).time().replace(tzinfo=None)
    return is_night(ShiftTemplate("history", start, end))


def _fairness_out(rows: list[Any], snapshot: Snapshot) -> list[FairnessOut]:
    return [
        FairnessOut(
            specialist_id=r.specialist_id,
            specialist_name=snapshot.specialist_names.get(r.specialist_id, "?"),
            shifts=r.shifts,
            hours=round(r.hours, 2),
            weekend_days=r.weekend_days,
            night_hours=round(r.night_hours, 2),
        )
        for r in rows
    ]


def _changes(
    before: list[Shift], after: list[Shift], members: tuple[int, ...], snapshot: Snapshot
) -> list[MemberChange]:
    def ident(s: Shift) -> tuple[int, datetime, datetime]:
        return (s.specialist_id, s.start, s.end)

    old = {ident(s) for s in before}
    new = {ident(s) for s in after}
    out = []
    for pid in sorted(set(members) | {s.specialist_id for s in before + after}):
        added = [
            shift_out(s, snapshot) for s in after if s.specialist_id == pid and ident(s) not in old
        ]
        removed = [
            shift_out(s, snapshot) for s in before if s.specialist_id == pid and ident(s) not in new
        ]
        if added or removed:
            out.append(
                MemberChange(
                    specialist_id=pid,
                    specialist_name=snapshot.specialist_names.get(pid, "?"),
                    added=added,
                    removed=removed,
                )
            )
    return out


def _rotations_out(change: RotaChange) -> list[PlannedRotationOut]:
    return [
        PlannedRotationOut(
            name=r.name,
            days=weekday_names(r.days),
            start=r.start.strftime("%H:%M"),
            end=r.end.strftime("%H:%M"),
            members=list(r.members),
            earns_lieu=r.earns_lieu,
            effective_from=r.effective_from,
            effective_until=r.effective_until,
        )
        for r in change.rotations
    ]


def assemble(prepared: Prepared, result: PlanResult, data: PlanRequest) -> dict[str, Any]:
    """The stored answer: proposal, gaps, fairness, changes, rotations (pure; in a thread)."""
    problem, snapshot, slug = prepared.problem, prepared.snapshot, prepared.team_slug
    templates = build_grid(problem).templates
    change = rota_change(
        problem.tz,
        problem.start,
        problem.weeks,
        templates,
        result.assignments,
        result.lieu_days,
        prepared.pins,
        f"Plan {problem.start.isoformat()}",
    )
    after_rota = planned_rota(snapshot.rota, slug, prepared.tz, change)
    names = dict(snapshot.rotation_names) | {r.key: r.name for r in change.rotations}
    planned = replace(snapshot, rota=after_rota, rotation_names=names)
    p0, p1 = change.period_start, change.period_end
    before = final_schedule(snapshot.rota, p0, p1, team=slug)
    after = final_schedule(after_rota, p0, p1, team=slug)
    ours = set(prepared.members)
    offs = [d for d in days_off(after_rota, p0, p1) if d.specialist_id in ours]
    gaps = coverage_gaps(after_rota, slug, p0, p1)
    broken = violations(problem, result.assignments, result.lieu_days) if result.solved else []
    if broken:  # never expected: the checker and the model disagree
        raise RuntimeError(f"the planner broke a hard rule: {broken[:3]}")
    solver = SolverOut(
        status=result.status,
        seconds=round(result.wall_seconds, 3),
        first_solution_seconds=(
            round(result.first_solution_seconds, 3)
            if result.first_solution_seconds is not None
            else None
        ),
        objective=result.objective,
        bound=result.bound,
        gap=result.gap,
        time_limit_seconds=problem.settings.time_limit_s,
        workers=problem.settings.workers,
        seed=problem.settings.seed,
    )
    body = {
        "solver": solver,
        "proposal": ScheduleOut(
            start=p0,
            end=p1,
            shifts=[shift_out(s, planned) for s in after],
            days_off=[day_off_out(d, planned) for d in offs],
        ),
        "gaps": [
            GapOut(
                start=g.start,
                end=g.end,
                team=slug,
                staffed=g.staffed,
                min_staff=g.min_staff,
                language=g.language,
                rule_index=g.rule_index,
            )
            for g in gaps
        ],
        "relaxations": [
            RelaxationOut(
                rule=r.rule,
                amount=r.amount,
                message=r.message,
                day=r.day,
                start=r.start,
                end=r.end,
                specialist_id=r.member,
                rule_index=r.rule_index,
                language=r.language,
            )
            for r in result.relaxations
        ],
        "lieu_days": [
            LieuDayOut(specialist_id=d.member, day=d.day, earned_on=d.earned_on)
            for d in result.lieu_days
        ],
        "fairness_before": _fairness_out(fairness(snapshot.rota, p0, p1, team=slug), snapshot),
        "fairness_after": _fairness_out(fairness(after_rota, p0, p1, team=slug), planned),
        "changes": _changes(before, after, prepared.members, planned),
        "rotations": _rotations_out(change),
        "templates": [
            ShiftTemplateIn(
                name=t.name,
                start=t.start.strftime("%H:%M"),
                end=t.end.strftime("%H:%M"),
                days=weekday_names(t.days),
            )
            for t in templates
        ],
        # What apply writes, with placeholder rotation keys (negative).
        "apply": {
            "assignments": [
                [a.member, a.day, a.template, a.start, a.end] for a in result.assignments
            ],
            "lieu_days": [[d.member, d.day, d.earned_on] for d in result.lieu_days],
            "pins": prepared.pins,
        },
    }
    return dict(jsonable_encoder(body))


def _row(
    prepared: Prepared,
    data: PlanRequest,
    result: PlanResult,
    body: dict[str, Any],
    who: str,
    now: datetime,
) -> RotaPlan:
    return RotaPlan(
        team_id=prepared.team_id,
        period_start=data.start,
        weeks=data.weeks,
        status=result.status,
        solve_seconds=result.wall_seconds,
        request=jsonable_encoder(data.model_dump()),
        result=body,
        team_version=prepared.team_version,
        created_by=who,
        created_at=now,
    )


async def propose(
    db: Database, slug: str, data: PlanRequest, limits: Limits, who: str, now: datetime
) -> int:
    """Solve a planning request and store the proposal; returns its id."""
    prepared = await prepare(db, slug, data, limits)
    result = await asyncio.to_thread(solve, prepared.problem)
    body = await asyncio.to_thread(assemble, prepared, result, data)
    async with db.transaction() as session:
        row = _row(prepared, data, result, body, who, now)
        session.add(row)
        await session.flush()
        return row.id


async def propose_in(
    session: AsyncSession, slug: str, data: PlanRequest, limits: Limits, who: str, now: datetime
) -> RotaPlan:
    """Solve and store a proposal inside the caller's transaction (seeding: one transaction).

    Holds the transaction while the solver runs: for short limits and callers that own the
    database (the demo seed), never for requests.
    """
    team, member_ids, snapshot = await _read(session, slug, data)
    prepared = await _prepared(
        snapshot, slug, team.id, team.version, team.tz, member_ids, data, limits
    )
    result = await asyncio.to_thread(solve, prepared.problem)
    body = await asyncio.to_thread(assemble, prepared, result, data)
    row = _row(prepared, data, result, body, who, now)
    session.add(row)
    await session.flush()
    return row


async def team_of(session: AsyncSession, row: RotaPlan) -> Team:
    """The team a plan is for."""
    team = await session.get(Team, row.team_id)
    assert team is not None
    return team


async def get_plan(session: AsyncSession, plan_id: int) -> RotaPlan:
    """A stored plan or 404."""
    row = await session.get(RotaPlan, plan_id)
    if row is None:
        raise NotFound(f"plan {plan_id} does not exist")
    return row


async def plan_view(session: AsyncSession, row: RotaPlan) -> PlanOut:
    """The API view of a stored plan."""
    team = await session.get(Team, row.team_id)
    assert team is not None
    body = {k: v for k, v in row.result.items() if k != "apply"}
    return PlanOut.model_validate(
        {
            **body,
            "id": row.id,
            "team": team.slug,
            "start": row.period_start,
            "weeks": row.weeks,
            "created_at": row.created_at,
            "created_by": row.created_by,
            "applied_at": row.applied_at,
            "applied_by": row.applied_by,
            "request": row.request,
        }
    )
