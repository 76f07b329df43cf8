"""What the desk page shows, read in one transaction: the service calls behind the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calls import wrapup
from app.config import Settings
from app.core.db import Database
from app.core.errors import ValidationFailed
from app.core.phone import contact_kind
from app.models.call import Call
from app.models.console import CallWrapUp
from app.models.rota import Specialist, Team, TeamMember
from app.rota import swaps
from app.rota.calculator import DayOff, Shift, schedule_and_days_off
from app.rota.endpoints_swaps import swap_outs
from app.rota.repository import Snapshot
from app.rota.snapshot_work import calculate_on_committed_snapshot
from app.routing import availability
from app.telephony.voice_token import client_identity
from app.worklist import repository as work_repository
from app.worklist import service as work_service

WEEKS = 4
WRAP_UP_WINDOW = timedelta(hours=24)


class UnknownAction(ValidationFailed):
    """A form posted to an action the desk does not have."""

    def __init__(self, verb: str) -> None:
        super().__init__(f"there is no action {verb!r}")


@dataclass
class Day:
    """A day of my next four weeks in my zone: its shifts and any day off."""

    day: date
    shifts: list[dict[str, Any]] = field(default_factory=list)
    off: str | None = None


@dataclass(frozen=True)
class MyShift:
    """A shift of mine that I may offer or ask a teammate to take."""

    value: str  # team|start|end, as the swap form posts it
    label: str


def shift_choice(team: str, start: datetime, end: datetime) -> str:
    """The form value of a shift."""
    return f"{team}|{start.isoformat()}|{end.isoformat()}"


def parse_shift_choice(value: str) -> tuple[str, datetime, datetime]:
    """A shift posted by the swap form."""
    try:
        team, start, end = value.split("|")
        return team, datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError:
        raise ValidationFailed(
            "choose one of your shifts",
            errors=[{"field": "form.shift", "message": "not one of your shifts"}],
        ) from None


async def client_identity_of(session: AsyncSession, specialist_id: int) -> str | None:
    """The softphone identity of the specialist, if calls ring a softphone."""
    contact = await session.scalar(select(Specialist.contact).where(Specialist.id == specialist_id))
    return client_identity(contact) if contact else None


def _schedule_of(
    snapshot: Snapshot, start: datetime, end: datetime, sid: int
) -> tuple[list[Shift], list[DayOff], dict[int, str]]:
    """Their shifts and days off, and the names of the people they cover for (CPU)."""
    shifts, offs = schedule_and_days_off(snapshot.rota, start, end, specialist=sid)
    covered = {s.source.covering_for for s in shifts if s.source.covering_for}
    names = {c: snapshot.specialist_names[c] for c in covered if c in snapshot.specialist_names}
    return shifts, offs, names


async def _weeks(
    session: AsyncSession, sid: int, zone: ZoneInfo, now: datetime
) -> tuple[list[Day], list[MyShift]]:
    end = now + timedelta(weeks=WEEKS)
    # The page's transaction stays open (the console's session), so the short lane: the
    # worker loads the rules itself, and never queues this behind a long ledger read while
    # the page holds its connection (on SQLite, the one the webhooks write through).
    shifts, offs, names = await calculate_on_committed_snapshot(
        session, now - timedelta(days=1), end + timedelta(days=1), _schedule_of, now, end, sid
    )
    days: dict[date, Day] = {}
    mine: list[MyShift] = []
    for s in shifts:
        if s.specialist_id != sid:
            continue
        start, stop = s.start.astimezone(zone), s.end.astimezone(zone)
        covering = s.source.covering_for
        days.setdefault(start.date(), Day(start.date())).shifts.append(
            {
                "start": start,
                "end": stop,
                "team": s.team,
                "covering": names.get(covering) if covering else None,
            }
        )
        if s.start >= now:
            mine.append(
                MyShift(
                    shift_choice(s.team, s.start, s.end),
                    f"{start:%a %d %b %H:%M}–{stop:%H:%M} {s.team}",
                )
            )
    for d in offs:
        if d.specialist_id == sid:
            days.setdefault(d.day, Day(d.day)).off = (
                "day off" if d.source == "manual" else "day off in lieu"
            )
    return [days[k] for k in sorted(days)], mine


async def desk(db: Database, sid: int, *, now: datetime, settings: Settings) -> dict[str, Any]:
    """Everything the desk page shows for a specialist at `now`."""
    async with db.transaction() as session:
        me = await session.get(Specialist, sid)
        assert me is not None
        zone = ZoneInfo(me.tz)
        state = await availability.read(session, sid)
        dispositions = await wrapup.listed(session, include_inactive=False)
        # My calls of the last day without a disposition yet: what "after the call" lists.
        answered = (
            await session.scalars(
                select(Call)
                .outerjoin(CallWrapUp, CallWrapUp.call_id == Call.id)
                .where(
                    Call.answered_by_id == sid,
                    Call.started_at >= now - WRAP_UP_WINDOW,
                    CallWrapUp.call_id.is_(None),
                )
                .order_by(Call.started_at.desc())
                .limit(20)
            )
        ).all()
        teams = list(
            await session.scalars(
                select(Team.slug)
                .join(TeamMember, TeamMember.team_id == Team.id)
                .where(TeamMember.specialist_id == sid)
            )
        )
        # The work list's own order: paid customers first, then oldest.
        claimed = [
            item
            for item, _ in await work_repository.page(
                session,
                work_repository.WorkFilter(statuses=("claimed",), claimed_by_id=sid),
                after=None,
                limit=50,
            )
        ]
        open_items = [
            item
            for item, _ in await work_repository.page(
                session, work_repository.WorkFilter(statuses=("open",)), after=None, limit=200
            )
            if item.team is None or item.team in teams
        ]
        found = await work_repository.related(session, [*claimed, *open_items])
        work = [work_service.to_out(i, found) for i in [*claimed, *open_items]]
        # Paid first, then oldest (the list comes oldest first).
        work.sort(
            key=lambda w: (w.account is None or w.account.tier != "paid", w.status != "claimed")
        )
        weeks, my_shifts = await _weeks(session, sid, zone, now)
        swap_rows = await swaps.visible(
            session,
            _principal_for(sid),
            states=("pending", "accepted", "approved", "declined", "rejected", "cancelled"),
        )
        swap_list = await swap_outs(session, swap_rows)
        control = await call_control(session, sid)
        mates = list(
            await session.execute(
                select(Specialist.id, Specialist.name)
                .join(TeamMember, TeamMember.specialist_id == Specialist.id)
                .join(Team, Team.id == TeamMember.team_id)
                .where(Team.slug.in_(teams), Specialist.id != sid, Specialist.active)
                .distinct()
                .order_by(Specialist.name)
            )
        )
    kind = contact_kind(me.contact)
    return {
        "specialist": me,
        "zone": me.tz,
        "availability": state.availability,
        "presence": state.state,
        "softphone": kind == "client",
        "softphone_ready": kind == "client" and settings.softphone_configured,
        "identity": client_identity(me.contact),
        "dispositions": dispositions,
        "to_wrap_up": answered,
        "work": work,
        "weeks": weeks,
        "my_shifts": my_shifts,
        "swaps": swap_list,
        "teammates": [(mid, name) for mid, name in mates],
        "calendar_url": (
            f"{settings.public_base_url}/calendars/specialists/{sid}.ics?token={me.calendar_token}"
        ),
        "now": now,
        "dial_text": dial_text,
        **control,
    }


DIAL_WORDS = {
    "dialing": "Placing the call…",
    "ringing_specialist": "Ringing you: pick up and press 1 to call the customer…",
    "calling_customer": "Calling the customer…",
    "answered": "The customer answered. Complete the item when you are done.",
    "no_answer": "No answer from the customer.",
    "busy": "The customer's line was busy.",
    "failed": "The call failed.",
    "specialist_missed": "You did not take the call.",
}


def dial_text(status: str | None, error: str | None) -> str:
    """Where an item's last callback got to, in words; a miss says why and to retry."""
    words = DIAL_WORDS.get(status or "", "")
    if status in ("no_answer", "busy", "failed", "specialist_missed"):
        reason = f" ({error})" if error else ""
        words = f"{words.rstrip('.')}{reason}. Call back again when you like."
    return words


async def call_control(session: AsyncSession, sid: int) -> dict[str, Any]:
    """The call I am on now (for the transfer control) and where it could go."""
    from app.models.routing import SpecialistPresence

    on_call = (
        await session.execute(
            select(Call.sid, Call.from_number)
            .join(SpecialistPresence, SpecialistPresence.call_id == Call.id)
            .where(SpecialistPresence.specialist_id == sid, SpecialistPresence.state == "busy")
        )
    ).first()
    teams = list(await session.scalars(select(Team.slug).order_by(Team.slug)))
    people = list(
        await session.execute(
            select(Specialist.id, Specialist.name)
            .where(Specialist.active, Specialist.id != sid)
            .order_by(Specialist.name)
        )
    )
    return {
        "on_call": None if on_call is None else {"sid": on_call[0], "from": on_call[1]},
        "transfer_teams": teams,
        "transfer_people": [(pid, name) for pid, name in people],
    }


def _principal_for(sid: int) -> Any:
    from app.auth.service import Principal

    return Principal(key_id=0, name="desk", role="specialist", specialist_id=sid)
