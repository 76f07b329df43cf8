"""Shift swap requests between teammates: offer a shift or ask someone to take it; the
teammate accepts or declines; an accepted swap becomes a cover override (through the
override service, so with its checks, audit and refresh), after a scheduler's approval
when the team asks for one. Nobody takes a shift while already on shift then."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.core.calc_pool import calculate
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models.console import SwapRequest, TeamConsoleSettings
from app.models.rota import Team, TeamMember
from app.rota.calculator import final_schedule, schedule_and_days_off
from app.rota.override_service import create_override
from app.rota.repository import Snapshot, load_snapshot, team_by_slug
from app.rota.schemas import OverrideIn
from app.rota.wallclock import local_date
from app.rota.writes import RotaWrite

SUPERVISORS = ("admin", "scheduler")
OPEN_STATES = ("pending", "accepted")


def _me(principal: Principal) -> int:
    if principal.specialist_id is None:
        raise Forbidden("only a specialist (a key or user linked to one) may do this")
    return principal.specialist_id


async def _around(session: AsyncSession, start: datetime, end: datetime) -> Snapshot:
    """The rota around a shift (a day either side): what the checks below read, loaded once."""
    return await load_snapshot(session, start - timedelta(days=1), end + timedelta(days=1))


async def _require_own_shift(
    snapshot: Snapshot, sid: int, team: str, start: datetime, end: datetime
) -> None:
    mine = await calculate(final_schedule, snapshot.rota, start, end, specialist=sid)
    if not any(s.team == team and s.start <= start and end <= s.end for s in mine):
        raise Conflict(
            f"specialist {sid} has no shift in {team} covering {start:%Y-%m-%d %H:%M}–"
            f"{end:%Y-%m-%d %H:%M} UTC (the rota may have changed)"
        )


async def _require_free(snapshot: Snapshot, sid: int, start: datetime, end: datetime) -> None:
    """The taker works nothing then, and has no leave or day off that would drop the shift.

    A day off removes every shift that starts on it, covers included, so a swap onto a
    teammate's day off would leave the shift uncovered without a word."""
    busy, offs = await calculate(schedule_and_days_off, snapshot.rota, start, end, specialist=sid)
    who = snapshot.specialist_names.get(sid, f"specialist {sid}")
    if busy:
        clash = busy[0]
        raise Conflict(
            f"{who} already works {clash.team} {clash.start:%Y-%m-%d %H:%M}–"
            f"{clash.end:%Y-%m-%d %H:%M} UTC then: no double booking"
        )
    leave = next(
        (
            o
            for o in snapshot.rota.overrides
            if o.kind == "leave" and o.specialist_id == sid and o.start < end and o.end > start
        ),
        None,
    )
    if leave is not None:
        raise Conflict(f"{who} is on leave then: they cannot take this shift")
    tz = snapshot.rota.specialist_tz(sid) if sid in snapshot.rota.specialists else "UTC"
    day = local_date(start, tz)
    off = next((d for d in offs if d.day == day), None)
    if off is not None:
        kind = "a day off in lieu" if off.source == "lieu" else "a day off"
        raise Conflict(
            f"{who} has {kind} on {day:%a %-d %b}: a shift taken that day would be dropped "
            "(move the day off first)"
        )


async def _members(session: AsyncSession, team_id: int) -> set[int]:
    rows = await session.scalars(
        select(TeamMember.specialist_id).where(TeamMember.team_id == team_id)
    )
    return set(rows)


async def create(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: str,
    team: str,
    start: datetime,
    end: datetime,
    teammate_id: int | None,
    note: str | None,
    now: datetime,
) -> SwapRequest:
    """Offer one of my shifts (to a teammate or anyone in the team) or ask a teammate."""
    me = _me(principal)
    if end <= start:
        raise ValidationFailed(
            "end must be after start", errors=[{"field": "body.end", "message": "not after start"}]
        )
    if start < now:
        raise ValidationFailed(
            "a swap is for a shift still to come",
            errors=[{"field": "body.start", "message": "in the past"}],
        )
    row = await team_by_slug(session, team)
    if row is None:
        raise ValidationFailed(
            f"team {team!r} does not exist",
            errors=[{"field": "body.team", "message": "no such team"}],
        )
    members = await _members(session, row.id)
    if kind == "ask" and teammate_id is None:
        raise ValidationFailed(
            "asking needs the teammate asked",
            errors=[{"field": "body.teammate_id", "message": "required for ask"}],
        )
    if teammate_id is not None and (teammate_id not in members or teammate_id == me):
        raise ValidationFailed(
            f"specialist {teammate_id} is not another member of {team}",
            errors=[{"field": "body.teammate_id", "message": "not a teammate"}],
        )
    await _require_own_shift(await _around(session, start, end), me, team, start, end)
    settings = await session.get(TeamConsoleSettings, row.id)
    swap = SwapRequest(
        kind=kind,
        team_id=row.id,
        requester_id=me,
        teammate_id=teammate_id,
        starts_at=start,
        ends_at=end,
        note=note,
        state="pending",
        needs_approval=bool(settings and settings.swaps_need_approval),
        created_at=now,
        updated_at=now,
    )
    session.add(swap)
    await session.flush()
    return swap


async def get(session: AsyncSession, swap_id: int) -> SwapRequest:
    """One swap request; 404 when there is none."""
    swap = await session.get(SwapRequest, swap_id)
    if swap is None:
        raise NotFound(f"swap request {swap_id} does not exist")
    return swap


async def visible(
    session: AsyncSession, principal: Principal, *, states: tuple[str, ...] | None
) -> list[SwapRequest]:
    """Requests I sent or received (or offered to my teams); every one for supervisors."""
    query = select(SwapRequest).order_by(SwapRequest.starts_at, SwapRequest.id)
    if states:
        query = query.where(SwapRequest.state.in_(states))
    if principal.role not in SUPERVISORS:
        me = _me(principal)
        my_teams = select(TeamMember.team_id).where(TeamMember.specialist_id == me)
        query = query.where(
            or_(
                SwapRequest.requester_id == me,
                SwapRequest.teammate_id == me,
                (SwapRequest.teammate_id.is_(None)) & SwapRequest.team_id.in_(my_teams),
            )
        )
    return list(await session.scalars(query))


async def _make_override(
    session: AsyncSession,
    principal: Principal,
    swap: SwapRequest,
    taker: int,
    now: datetime,
    snapshot: Snapshot,
) -> None:
    """The cover for an agreed swap; `snapshot` is the rota around it, read in this transaction."""
    team = await session.get(Team, swap.team_id)
    assert team is not None
    await _require_own_shift(snapshot, swap.requester_id, team.slug, swap.starts_at, swap.ends_at)
    await _require_free(snapshot, taker, swap.starts_at, swap.ends_at)
    write = await RotaWrite(
        session, principal, now, dry_run=False, refresh_after_commit=True
    ).start()
    rows = await create_override(
        session,
        OverrideIn(
            kind="cover",
            specialist_id=swap.requester_id,
            substitute_id=taker,
            team=team.slug,
            start=swap.starts_at,
            end=swap.ends_at,
            reason=f"swap request {swap.id}" + (f": {swap.note}" if swap.note else ""),
        ),
        write,
        allow_past=False,
    )
    swap.override_id = rows[0].id


def _require_state(swap: SwapRequest, *states: str) -> None:
    if swap.state not in states:
        raise Conflict(f"swap request {swap.id} is {swap.state}")


async def accept(
    session: AsyncSession, principal: Principal, swap_id: int, *, now: datetime
) -> SwapRequest:
    """The teammate (or, for an open offer, anyone in the team) takes the shift."""
    swap = await get(session, swap_id)
    _require_state(swap, "pending")
    me = _me(principal)
    if swap.teammate_id is not None and swap.teammate_id != me:
        raise Forbidden("this request is for another teammate")
    if me == swap.requester_id or me not in await _members(session, swap.team_id):
        raise Forbidden("only a teammate may take this shift")
    snapshot = await _around(session, swap.starts_at, swap.ends_at)
    await _require_free(snapshot, me, swap.starts_at, swap.ends_at)
    swap.accepted_by_id = me
    swap.state = "accepted"
    swap.updated_at = now
    if not swap.needs_approval:
        await _make_override(session, principal, swap, me, now, snapshot)
    await session.flush()
    return swap


async def decline(
    session: AsyncSession, principal: Principal, swap_id: int, *, now: datetime
) -> SwapRequest:
    """The teammate asked says no."""
    swap = await get(session, swap_id)
    _require_state(swap, "pending")
    if swap.teammate_id is None or swap.teammate_id != _me(principal):
        raise Forbidden("only the teammate asked may decline")
    swap.state, swap.updated_at = "declined", now
    await session.flush()
    return swap


async def cancel(
    session: AsyncSession, principal: Principal, swap_id: int, *, now: datetime
) -> SwapRequest:
    """The requester withdraws it (before any override is made)."""
    swap = await get(session, swap_id)
    _require_state(swap, *OPEN_STATES)
    if swap.override_id is not None:
        raise Conflict("the swap is done; a scheduler changes its override")
    if swap.requester_id != _me(principal):
        raise Forbidden("only the requester may cancel")
    swap.state, swap.updated_at = "cancelled", now
    await session.flush()
    return swap


async def decide(
    session: AsyncSession, principal: Principal, swap_id: int, *, approve: bool, now: datetime
) -> SwapRequest:
    """A scheduler approves an accepted swap (making the override) or rejects it."""
    if principal.role not in SUPERVISORS:
        raise Forbidden("only a scheduler or an admin approves swaps")
    swap = await get(session, swap_id)
    _require_state(swap, "accepted")
    if swap.override_id is not None or swap.accepted_by_id is None:
        raise Conflict(f"swap request {swap.id} needs no approval")
    swap.decided_by = principal.name
    swap.updated_at = now
    if approve:
        snapshot = await _around(session, swap.starts_at, swap.ends_at)
        await _make_override(session, principal, swap, swap.accepted_by_id, now, snapshot)
        swap.state = "approved"
    else:
        swap.state = "rejected"
    await session.flush()
    return swap


async def for_schedulers(session: AsyncSession, *, decided_since: datetime) -> list[SwapRequest]:
    """Every open request, and those decided since `decided_since` (newest decisions first)."""
    open_rows = await session.scalars(
        select(SwapRequest)
        .where(SwapRequest.state.in_(OPEN_STATES), SwapRequest.override_id.is_(None))
        .order_by(SwapRequest.starts_at, SwapRequest.id)
    )
    decided = await session.scalars(
        select(SwapRequest)
        .where(
            or_(~SwapRequest.state.in_(OPEN_STATES), SwapRequest.override_id.is_not(None)),
            SwapRequest.updated_at >= decided_since,
        )
        .order_by(SwapRequest.updated_at.desc(), SwapRequest.id.desc())
        .limit(50)
    )
    return [*open_rows, *decided]


async def awaiting_approval(session: AsyncSession) -> int:
    """How many accepted swaps wait for a scheduler."""
    count = await session.scalar(
        select(func.count())
        .select_from(SwapRequest)
        .where(
            SwapRequest.state == "accepted",
            SwapRequest.needs_approval.is_(True),
            SwapRequest.override_id.is_(None),
        )
    )
    return int(count or 0)


async def approval_rules(session: AsyncSession) -> list[tuple[Team, bool]]:
    """Every team and whether its swaps need a scheduler's approval."""
    rows = await session.execute(
        select(Team, TeamConsoleSettings.swaps_need_approval)
        .outerjoin(TeamConsoleSettings, TeamConsoleSettings.team_id == Team.id)
        .order_by(Team.name, Team.slug)
    )
    return [(team, bool(need)) for team, need in rows]
