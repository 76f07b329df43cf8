"""`/v1/rota/...`: on shift now, final schedule, coverage gaps, fairness, lieu ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import APIRouter
from sqlalchemy import select

from app.auth.deps import RotaReader, RotaWriter
from app.core.deps import ClockDep, DbSession
from app.core.errors import ValidationFailed
from app.core.types import DbId, Instant
from app.models.rota import Rotation
from app.rota import lookup
from app.rota.calculator import (
    LedgerRow,
    Rota,
    coverage_gaps,
    fairness,
    lieu_ledger,
    schedule_and_days_off,
)
from app.rota.component import connected_part
from app.rota.deps import own_specialist
from app.rota.endpoints_changes import MAX_RANGE, check_range
from app.rota.repository import Snapshot, team_by_slug
from app.rota.schemas import (
    FairnessOut,
    GapOut,
    LedgerOut,
    OnShiftOut,
    ScheduleOut,
    ShiftOut,
    ShiftSourceOut,
    UnplacedOut,
)
from app.rota.snapshot_work import calculate_on_snapshot
from app.rota.writes import day_off_out, require_aware_query, shift_out

router = APIRouter(prefix="/v1/rota", tags=["rota queries"])
MAX_SCHEDULE = timedelta(days=92)
# A specialist reads their own ledger; half a year keeps each request's work small.
MAX_SPECIALIST_LEDGER = timedelta(days=184)
UNPLACED = (
    "no free weekday in the week after it was earned (every weekday already holds one of "
    "their days off, or is a public holiday of the team): a scheduler moves it with "
    "PATCH /v1/days-off/{id}"
)


async def _known_team(session: DbSession, team: str | None) -> None:
    if team is not None and await team_by_slug(session, team) is None:
        raise ValidationFailed(
            f"team {team!r} does not exist",
            errors=[{"field": "query.team", "message": "no such team"}],
        )


@router.get("/on-shift", response_model=OnShiftOut)
async def on_shift(
    session: DbSession,
    clock: ClockDep,
    _: RotaReader,
    at: Instant | None = None,
    team: str | None = None,
    language: str | None = None,
    skill: str | None = None,
) -> OnShiftOut:
    """Who is on shift at an instant (default now) and which rotation or override put them there."""
    require_aware_query(at, "at")
    await _known_team(session, team)
    instant = at or clock.now()
    found = await lookup.on_shift(session, instant, team=team, language=language, skill=skill)
    names: dict[int, str] = {}
    if any(o.rotation_id for o in found):
        ids = {o.rotation_id for o in found if o.rotation_id}
        names = {
            r.id: r.name
            for r in await session.scalars(select(Rotation).where(Rotation.id.in_(ids)))
        }
    return OnShiftOut(
        at=instant,
        on_shift=[
            ShiftOut(
                key=o.key,
                specialist_id=o.specialist_id,
                specialist_name=o.name,
                team=o.team,
                start=o.starts_at,
                end=o.ends_at,
                local_date=o.local_date,
                source=ShiftSourceOut(
                    kind=o.source_kind,
                    rotation_id=o.rotation_id,
                    rotation_name=names.get(o.rotation_id) if o.rotation_id else None,
                    override_id=o.override_id,
                    covering_for=o.covering_for,
                ),
            )
            for o in found
        ],
    )


@router.get("/schedule", response_model=ScheduleOut)
async def schedule(
    session: DbSession,
    principal: RotaReader,
    start: Instant,
    end: Instant,
    team: str | None = None,
    specialist: DbId | None = None,
) -> ScheduleOut:
    """The final schedule between two instants: every shift with its source, and days off."""
    check_range(start, end, MAX_SCHEDULE)
    await _known_team(session, team)
    specialist = own_specialist(principal, specialist)
    # The connection goes back before the CPU work (the worker loads the rules itself).
    return await calculate_on_snapshot(
        session, start, end, schedule_answer, start, end, team, specialist
    )


def schedule_answer(
    snapshot: Snapshot, start: datetime, end: datetime, team: str | None, specialist: int | None
) -> ScheduleOut:
    """The final schedule's answer (CPU, in the calculation worker)."""
    shifts, offs = schedule_and_days_off(
        snapshot.rota, start, end, team=team, specialist=specialist
    )
    if team is not None:
        members = {s.specialist_id for s in shifts} | {
            sid for v in snapshot.rota.rotations if v.team == team for sid in v.members
        }
        offs = [d for d in offs if d.specialist_id in members]
    return ScheduleOut(
        start=start,
        end=end,
        shifts=[shift_out(s, snapshot) for s in shifts],
        days_off=[day_off_out(d, snapshot) for d in offs],
    )


@router.get("/gaps", response_model=list[GapOut])
async def gaps(
    session: DbSession, _: RotaReader, start: Instant, end: Instant, team: str
) -> list[GapOut]:
    """Intervals in which a coverage rule of the team has fewer staff than its minimum."""
    check_range(start, end, MAX_SCHEDULE)
    await _known_team(session, team)
    return await calculate_on_snapshot(session, start, end, gaps_answer, team, start, end)


def gaps_answer(snapshot: Snapshot, team: str, start: datetime, end: datetime) -> list[GapOut]:
    """The coverage gaps' answer (CPU, in the calculation worker)."""
    return [
        GapOut(
            start=g.start,
            end=g.end,
            team=team,
            staffed=g.staffed,
            min_staff=g.min_staff,
            language=g.language,
            rule_index=g.rule_index,
        )
        for g in coverage_gaps(snapshot.rota, team, start, end)
    ]


@router.get("/fairness", response_model=list[FairnessOut])
async def fairness_report(
    session: DbSession,
    _: RotaWriter,
    start: Instant,
    end: Instant,
    team: str | None = None,
) -> list[FairnessOut]:
    """Shifts, hours, weekend days and night hours (22:00-06:00 their time) per specialist.

    For admins and schedulers: it compares colleagues' workloads.
    """
    check_range(start, end)
    await _known_team(session, team)
    return await calculate_on_snapshot(session, start, end, fairness_answer, start, end, team)


def fairness_answer(
    snapshot: Snapshot, start: datetime, end: datetime, team: str | None
) -> list[FairnessOut]:
    """The fairness report's answer (CPU, in the calculation worker)."""
    return [
        FairnessOut(
            specialist_id=r.specialist_id,
            specialist_name=snapshot.specialist_names.get(r.specialist_id, "?"),
            shifts=r.shifts,
            hours=round(r.hours, 2),
            weekend_days=r.weekend_days,
            night_hours=round(r.night_hours, 2),
        )
        for r in fairness(snapshot.rota, start, end, team=team)
    ]


@router.get("/lieu-ledger", response_model=list[LedgerOut])
async def ledger(
    session: DbSession,
    clock: ClockDep,
    principal: RotaReader,
    start: Instant | None = None,
    end: Instant | None = None,
    specialist: DbId | None = None,
) -> list[LedgerOut]:
    """Days off in lieu earned, taken, cancelled and outstanding, and weeks without a weekend."""
    now = clock.now()
    start = start or now - timedelta(days=91)
    end = end or now
    check_range(start, end, MAX_SPECIALIST_LEDGER if principal.role == "specialist" else MAX_RANGE)
    specialist = own_specialist(principal, specialist)
    # `lieu_ledger` is passed (not looked up in the worker), so a test can stand in for it.
    return await calculate_on_snapshot(
        session, start, end, ledger_answer, lieu_ledger, start, end, now, specialist
    )


def ledger_answer(
    snapshot: Snapshot,
    ledger_of: Callable[[Rota, datetime, datetime, datetime], list[LedgerRow]],
    start: datetime,
    end: datetime,
    now: datetime,
    specialist: int | None,
) -> list[LedgerOut]:
    """The lieu ledger's answer (CPU, in the calculation worker)."""
    rota = snapshot.rota
    if specialist is not None:
        # One person's ledger needs only the part of the rota linked to them.
        rota = connected_part(rota, (), (specialist,)).rota
    return [
        LedgerOut(
            specialist_id=r.specialist_id,
            specialist_name=snapshot.specialist_names.get(r.specialist_id, "?"),
            earned=r.earned,
            taken=r.taken,
            cancelled=r.cancelled,
            outstanding=r.outstanding,
            weeks_without_weekend=list(r.weeks_without_weekend),
            unplaced=[UnplacedOut(day_off_id=f"lieu:{key}", reason=UNPLACED) for key in r.unplaced],
        )
        for r in ledger_of(rota, start, end, now)
        if specialist is None or r.specialist_id == specialist
    ]
