"""The call queue: callers waiting for a team whose specialists are all busy.

Order: priority (paid callers first), then arrival. A caller keeps their place when a
specialist they were offered to does not answer and they wait again. Nobody is pushed:
a waiting caller's hold loop asks again every few seconds, and a specialist who becomes
free is kept for the first caller in line they can serve (a newer call does not take
them), so the head of the queue gets them on its next check.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.elements import ColumnElement

from app.core.driver_sql import Compiled, flush_pending, run_core
from app.events.publish import event_row, publish
from app.models.routing import QueueEntry

PRIORITY = {"paid": 1}  # everyone else 0
IN_LINE = ("waiting", "ringing")  # a ringing caller keeps their place


def priority_of(tier: str) -> int:
    """Queue priority of a caller tier (higher goes first)."""
    return PRIORITY.get(tier, 0)


@dataclass(frozen=True)
class Place:
    """Where a call stands (or would stand) in a team's queue."""

    call_id: int | None
    priority: int
    since: datetime


async def entry_of(session: AsyncSession, call_id: int | None) -> QueueEntry | None:
    """The call's queue entry, if it ever queued."""
    if call_id is None:
        return None
    found: QueueEntry | None = await session.scalar(
        select(QueueEntry).where(QueueEntry.call_id == call_id)
    )
    return found


def active_entry(entry: QueueEntry | None, team: str) -> QueueEntry | None:
    """The entry if it still waits (or rings) in this team's queue."""
    if entry is not None and entry.state != "left" and entry.team == team:
        return entry
    return None


def _ahead_of(place: Place) -> ColumnElement[bool]:
    return or_(
        QueueEntry.priority > place.priority,
        and_(QueueEntry.priority == place.priority, QueueEntry.enqueued_at < place.since),
    )


@dataclass(frozen=True)
class Line:
    """A call's own queue entry, the callers waiting for a team, and whom each was rung to."""

    own: QueueEntry | None
    entries: tuple[QueueEntry, ...]  # the own entry and those in the team's line
    rung: frozenset[tuple[int, int]]  # (call id, specialist id) of their ringing attempts
    whole: bool = True  # False: only the first in line were read (`roster.read_line`)


def in_team_line(team_slug: ColumnElement[str]) -> ColumnElement[bool]:
    """SQL: the entry waits (or rings) in the team's line.

    The states are written into the statement, not bound: a statement compiled once
    (`driver_sql.Compiled`, the shortlist) is run by PostgreSQL with a generic plan after
    a few runs, and one that cannot see the states scans every entry the table ever held
    (1.5 ms at 18,000 entries) where the (state, team) index finds the few waiting ones.
    """
    states: list[ColumnElement[str]] = [literal_column(f"'{state}'") for state in IN_LINE]
    return and_(QueueEntry.state.in_(states), QueueEntry.team == team_slug)


def line_of(call_id: int | None, rows: Iterable[tuple[QueueEntry | None, int | None]]) -> Line:
    """The Line from rows of (entry, a specialist its call rang), entries outer-joined."""
    entries: dict[int, QueueEntry] = {}
    rung: set[tuple[int, int]] = set()
    for entry, specialist_id in rows:
        if entry is None:
            continue
        entries[entry.id] = entry
        if specialist_id is not None:
            rung.add((entry.call_id, specialist_id))
    own = next((e for e in entries.values() if e.call_id == call_id), None)
    return Line(own, tuple(entries.values()), frozenset(rung))


def waiting_ahead(line: Line, team: str, place: Place) -> list[QueueEntry]:
    """Callers waiting for the team ahead of this place, first in line first."""
    ahead = [
        e
        for e in line.entries
        if e.state == "waiting"
        and e.team == team
        and e.call_id != place.call_id
        and (
            e.priority > place.priority
            or (e.priority == place.priority and e.enqueued_at < place.since)
        )
    ]
    ahead.sort(key=lambda e: (-e.priority, e.enqueued_at, e.id))
    return ahead


def held_for_others(
    line: Line,
    ahead: Sequence[QueueEntry],
    free: Iterable[tuple[int, tuple[str, ...]]],
    *,
    serves_all_languages: bool,
) -> dict[int, QueueEntry]:
    """Free specialists kept for callers ahead in line: {specialist: that caller's entry}.

    Each caller ahead, first in line first, keeps one free specialist (taken in the order
    given): one who speaks their language (anyone, for a team that does not restrict
    languages) and has not already been rung for them. Everyone else stays free.
    Given only the first of the free specialists, it keeps the same ones among them.
    """
    held: dict[int, QueueEntry] = {}
    if not ahead:
        return held
    offered = list(free)
    for entry in ahead:
        if len(held) == len(offered):
            break  # everyone free is kept: those further back can keep no one
        for sid, languages in offered:
            speaks = serves_all_languages or entry.language in languages
            if sid not in held and speaks and (entry.call_id, sid) not in line.rung:
                held[sid] = entry
                break
    return held


def position_in(line: Line, entry: QueueEntry) -> int:
    """`position` from the team's line as read with the routing decision."""
    return 1 + sum(
        1
        for e in line.entries
        if e.state in IN_LINE
        and e.team == entry.team
        and e.call_id != entry.call_id
        and (
            e.priority > entry.priority
            or (e.priority == entry.priority and e.enqueued_at < entry.enqueued_at)
        )
    )


async def position(session: AsyncSession, entry: QueueEntry) -> int:
    """1-based place of a waiting entry in its team's queue."""
    place = Place(entry.call_id, entry.priority, entry.enqueued_at)
    ahead = await session.scalar(
        select(func.count())
        .select_from(QueueEntry)
        .where(
            QueueEntry.state.in_(IN_LINE),
            QueueEntry.team == entry.team,
            QueueEntry.call_id != entry.call_id,
            _ahead_of(place),
        )
    )
    return int(ahead or 0) + 1


def enqueue(
    session: AsyncSession,
    *,
    call_id: int,
    team: str,
    language: str,
    skill: str | None,
    tier: str,
    max_wait: int,
    now: datetime,
) -> QueueEntry:
    """Put a call in a team's queue."""
    entry = QueueEntry(
        call_id=call_id,
        team=team,
        language=language,
        skill=skill,
        priority=priority_of(tier),
        enqueued_at=now,
        deadline=now + timedelta(seconds=max_wait),
        state="waiting",
        updated_at=now,
    )
    session.add(entry)
    return entry


_QUEUE_TABLE = cast(Table, QueueEntry.__table__)
_QUEUE = _QUEUE_TABLE.c
_AT = bindparam("at", type_=QueueEntry.updated_at.type)
# The call's entry leaves the queue (:call, :result, :at); its id and team come back.
LEAVE_CALL = (
    update(_QUEUE_TABLE)
    .where(_QUEUE.call_id == bindparam("call"), _QUEUE.state != "left")
    .values(state="left", result=bindparam("result"), left_at=_AT, updated_at=_AT)
    .returning(_QUEUE.id, _QUEUE.team)
)
_LEAVE_CALL = Compiled(LEAVE_CALL)


async def leave_call(
    session: AsyncSession, call_id: int | None, result: str, *, now: datetime
) -> None:
    """The call left its queue for good (nothing happens if it never queued or left).

    One UPDATE on the driver (a call's status callback ends here, on the hot path); an
    entry the session holds is given the values written, as if it had been read back.
    """
    if call_id is None:
        return
    await flush_pending(session)  # an entry enqueued in this transaction is written first
    left = await run_core(session, _LEAVE_CALL, {"call": call_id, "result": result, "at": now})
    events = []
    for entry_id, team in left.rows:
        left_in_session(session, entry_id, result, now=now)
        data = {"change": "left", "result": result}
        events.append(event_row("queue", at=now, team=team, call_id=call_id, data=data))
    await publish(session, events)


def left_in_session(session: AsyncSession, entry_id: int, result: str, *, now: datetime) -> None:
    """An entry that `LEAVE_CALL` wrote, if the session holds it, given the values written
    as if it had been read back."""
    held = session.sync_session.identity_map.get(identity_key(QueueEntry, entry_id))
    if isinstance(held, QueueEntry):
        written = {"state": "left", "result": result, "left_at": now, "updated_at": now}
        for name, value in written.items():
            set_committed_value(held, name, value)


def left_event(entry: QueueEntry) -> dict[str, Any]:
    """The console event of a caller leaving the queue (the wallboards count the wait)."""
    return event_row(
        "queue",
        at=entry.updated_at,
        team=entry.team,
        call_id=entry.call_id,
        data={"change": "left", "result": entry.result},
    )


def leave(entry: QueueEntry, result: str, *, now: datetime) -> None:
    """The caller left the queue for good."""
    if entry.state == "left":
        return
    entry.state = "left"
    entry.result = result
    entry.left_at = now
    entry.updated_at = now
