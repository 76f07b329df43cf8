"""Applying a stored plan: rotations and lieu moves the rest of the rota already understands.

One transaction (the request's): the team's rotations pause for the period, the plan's
week rotations are created, its days off in lieu are placed by lieu adjustments, the team's
version is bumped (its ETag changes) and the plan marked applied; one audit entry records it.
A dry run does all of it, answers what it wrote and what the period's schedule would
become, and rolls back.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from app.core.errors import Conflict, DryRunOutcome
from app.models.planning import RotaPlan
from app.models.rota import LieuAdjustmentRow, Rotation, RotationVersionRow, Team
from app.planning.problem import ShiftTemplate
from app.planning.result import Assignment, LieuDay
from app.planning.schemas import (
    LieuDayOut,
    PlanApplied,
    PlannedRotationOut,
    ShiftTemplateIn,
    day_numbers,
)
from app.planning.translate import RotaChange, rota_change
from app.rota.lieu import earning_key, parse_earning_key
from app.rota.schemas import DayOffOut, ShiftOut, parse_hhmm, weekday_names
from app.rota.writes import RotaWrite, check_if_match, etag, preview, require_not_past


def team_etag(team: Team) -> str:
    """The team's ETag (as the teams endpoints send it)."""
    return etag("team", team.slug, team.version)


def change_from_row(row: RotaPlan, tz: str) -> RotaChange:
    """The rota change a stored plan applies."""
    stored: dict[str, Any] = row.result["apply"]
    templates = [ShiftTemplateIn.model_validate(t) for t in row.result["templates"]]
    assignments = [
        Assignment(
            member=int(m),
            day=date.fromisoformat(d),
            template=str(t),
            start=datetime.fromisoformat(s),
            end=datetime.fromisoformat(e),
        )
        for m, d, t, s, e in stored["assignments"]
    ]
    lieu = [
        LieuDay(member=int(m), day=date.fromisoformat(d), earned_on=date.fromisoformat(e))
        for m, d, e in stored["lieu_days"]
    ]
    pins = {k: date.fromisoformat(v) for k, v in stored["pins"].items()}
    return rota_change(
        tz,
        row.period_start,
        row.weeks,
        [
            ShiftTemplate(t.name, parse_hhmm(t.start), parse_hhmm(t.end), day_numbers(t.days))
            for t in templates
        ],
        assignments,
        lieu,
        pins,
        f"Plan {row.id}",
    )


def _copy(row: RotationVersionRow, seq: int, start: datetime, now: datetime) -> RotationVersionRow:
    return RotationVersionRow(
        rotation_id=row.rotation_id,
        seq=seq,
        members=list(row.members),
        days=list(row.days),
        start_time=row.start_time,
        end_time=row.end_time,
        length_days=row.length_days,
        every_weeks=row.every_weeks,
        assignment=row.assignment,
        per_occurrence=row.per_occurrence,
        turn_offset=row.turn_offset,
        run_on_holidays=row.run_on_holidays,
        earns_lieu=row.earns_lieu,
        lieu_rule=row.lieu_rule,
        effective_from=start,
        effective_until=row.effective_until,
        created_at=now,
    )


async def _pause(session: AsyncSession, team: Team, change: RotaChange, now: datetime) -> list[int]:
    """Cut the period out of the team's rotation versions; returns the rotations touched."""
    p0, p1 = change.period_start, change.period_end
    rotations = {
        r.id: r for r in await session.scalars(select(Rotation).where(Rotation.team_id == team.id))
    }
    if not rotations:
        return []
    versions = list(
        await session.scalars(
            select(RotationVersionRow)
            .where(RotationVersionRow.rotation_id.in_(rotations))
            .order_by(RotationVersionRow.rotation_id, RotationVersionRow.seq)
        )
    )
    next_seq: dict[int, int] = {}
    for v in versions:
        next_seq[v.rotation_id] = max(next_seq.get(v.rotation_id, 0), v.seq) + 1
    touched: set[int] = set()
    for v in versions:
        until = v.effective_until
        if v.effective_from >= p1 or (until is not None and until <= p0):
            continue
        touched.add(v.rotation_id)
        runs_on = until is None or until > p1
        if v.effective_from < p0:
            v.effective_until = p0
            if runs_on:
                seq = next_seq[v.rotation_id]
                next_seq[v.rotation_id] = seq + 1
                copy = _copy(v, seq, p1, now)
                copy.effective_until = until
                session.add(copy)
        elif runs_on:
            v.effective_from = p1
        else:
            await session.delete(v)
    for rid in touched:
        rotations[rid].updated_at = now
        flag_modified(rotations[rid], "updated_at")
    await session.flush()
    return sorted(touched)


async def _create(
    session: AsyncSession, team: Team, change: RotaChange, now: datetime
) -> dict[int, int]:
    """Create the plan's rotations; returns placeholder key -> rotation id."""
    ids: dict[int, int] = {}
    for r in change.rotations:
        rotation = Rotation(
            team_id=team.id, name=r.name[:200], anchor=r.week, created_at=now, updated_at=now
        )
        session.add(rotation)
        await session.flush()
        ids[r.key] = rotation.id
        session.add(
            RotationVersionRow(
                rotation_id=rotation.id,
                seq=1,
                members=list(r.members),
                days=sorted(r.days),
                start_time=r.start.strftime("%H:%M"),
                end_time=r.end.strftime("%H:%M"),
                length_days=1,
                every_weeks=1,
                assignment="all",
                per_occurrence=1,
                turn_offset=0,
                run_on_holidays=True,
                earns_lieu=r.earns_lieu,
                lieu_rule="most_staffed" if r.earns_lieu else None,
                effective_from=r.effective_from,
                effective_until=r.effective_until,
                created_at=now,
            )
        )
    await session.flush()
    return ids


async def _place(session: AsyncSession, key: str, member: int, day: date, now: datetime) -> None:
    row = await session.get(LieuAdjustmentRow, key)
    if row is None:
        session.add(
            LieuAdjustmentRow(
                earning_key=key, specialist_id=member, new_date=day, created_at=now, updated_at=now
            )
        )
    elif row.new_date != day:
        row.new_date = day
        row.updated_at = now


async def _lieu(
    session: AsyncSession, change: RotaChange, ids: dict[int, int], now: datetime
) -> list[LieuDayOut]:
    moved: list[LieuDayOut] = []
    for key, day in sorted(change.lieu_moves.items()):
        parsed = parse_earning_key(key)
        assert parsed is not None
        placeholder, earned_on, member = parsed
        await _place(session, earning_key(ids[placeholder], earned_on, member), member, day, now)
        moved.append(LieuDayOut(specialist_id=member, day=day, earned_on=earned_on))
    for key, day in sorted(change.lieu_pins.items()):
        parsed = parse_earning_key(key)
        if parsed is not None:
            await _place(session, key, parsed[2], day, now)
    await session.flush()
    return moved


def _ident(s: ShiftOut) -> tuple[Any, ...]:
    return (s.specialist_id, s.team, s.start, s.end)


def _day_ident(d: DayOffOut) -> tuple[Any, ...]:
    return (d.specialist_id, d.day)


async def apply_plan(
    session: AsyncSession,
    row: RotaPlan,
    write: RotaWrite,
    *,
    if_match: str | None,
    allow_past: bool,
    dry_run: bool,
) -> PlanApplied:
    """Write a stored plan into the rota (or, with dry_run, show what that would write)."""
    team = await session.get(Team, row.team_id)
    assert team is not None
    check_if_match(if_match, team_etag(team))
    if row.applied_at is not None:
        raise Conflict(f"plan {row.id} was already applied at {row.applied_at.isoformat()}")
    if row.status not in ("optimal", "feasible"):
        raise Conflict(
            f"plan {row.id} is {row.status}: it breaks hard rules; change the rules or the "
            "team and propose again"
        )
    if team.version != row.team_version:
        raise Conflict(
            f"team {team.slug!r} changed since plan {row.id} was proposed; propose again"
        )
    change = change_from_row(row, team.tz)
    require_not_past(change.period_start, write.now, allow_past, "plan.start")
    p0, p1 = change.period_start, change.period_end
    before_shifts, before_days = await preview(session, p0, p1)
    paused = await _pause(session, team, change, write.now)
    ids = await _create(session, team, change, write.now)
    moved = await _lieu(session, change, ids, write.now)
    row.applied_at = write.now
    row.applied_by = write.principal.name
    team.updated_at = write.now
    flag_modified(team, "updated_at")
    await session.flush()
    after_shifts, after_days = await preview(session, p0, p1)
    members = {s.specialist_id for s in before_shifts + after_shifts if s.team == team.slug}
    old = {_ident(s) for s in before_shifts if s.team == team.slug}
    new = {_ident(s) for s in after_shifts if s.team == team.slug}
    old_days = {_day_ident(d) for d in before_days if d.specialist_id in members}
    new_days = {_day_ident(d) for d in after_days if d.specialist_id in members}
    outcome = PlanApplied(
        dry_run=dry_run,
        plan_id=row.id,
        rotations_created=[
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
        ],
        rotations_paused=paused,
        days_off_in_lieu_moved=moved,
        added=[s for s in after_shifts if s.team == team.slug and _ident(s) not in old],
        removed=[s for s in before_shifts if s.team == team.slug and _ident(s) not in new],
        days_off_added=[
            d for d in after_days if d.specialist_id in members and _day_ident(d) not in old_days
        ],
        days_off_removed=[
            d for d in before_days if d.specialist_id in members and _day_ident(d) not in new_days
        ],
    )
    await write.audit(
        "apply",
        "plan",
        row.id,
        {"team": team.slug, "rotations_paused": paused},
        {
            "team": team.slug,
            "period": [p0.isoformat(), p1.isoformat()],
            "rotations_created": sorted(ids.values()),
            "days_off_in_lieu_moved": len(moved),
        },
        effective_from=p0,
    )
    if dry_run:
        raise DryRunOutcome(outcome)
    write.affected_teams.add(team.slug)
    await write.finish(None)
    return outcome
