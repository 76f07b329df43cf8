"""The call queue: callers waiting for a team whose specialists are all busy.

Order: priority (paid callers first), then arrival. A caller keeps their place when a
specialist they were offered to does not answer and they wait again. Nobody is pushed:
a waiting caller's hold loop asks again every few seconds, and a specialist who becomes
free is kept for the first caller in line they can serve (a newer call does not take
them), so the head of the queue gets them on its next check.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.models.call import RingAttempt
from app.models.routing import QueueEntry

PRIORITY = {"paid": 1}  # everyone else 0


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


def _ahead_of(place: Place) -> ColumnElement[bool]:
    return or_(
        QueueEntry.priority > place.priority,
        and_(QueueEntry.priority == place.priority, QueueEntry.enqueued_at < place.since),
    )


async def waiting_ahead(session: AsyncSession, team: str, place: Place) -> list[QueueEntry]:
    """Callers waiting for the team ahead of this place, first in line first."""
    query = (
        select(QueueEntry)
        .where(QueueEntry.state == "waiting", QueueEntry.team == team, _ahead_of(place))
        .order_by(QueueEntry.priority.desc(), QueueEntry.enqueued_at, QueueEntry.id)
    )
    if place.call_id is not None:
        query = query.where(QueueEntry.call_id != place.call_id)
    return list(await session.scalars(query))


async def held_for_others(
    session: AsyncSession,
    ahead: Sequence[QueueEntry],
    free: Collection[tuple[int, tuple[str, ...]]],
    *,
    serves_all_languages: bool,
) -> dict[int, QueueEntry]:
    """Free specialists kept for callers ahead in line: {specialist: that caller's entry}.

    Each caller ahead, first in line first, keeps one free specialist (taken in the order
    given): one who speaks their language (anyone, for a team that does not restrict
    languages) and has not already been rung for them. Everyone else stays free.
    """
    if not ahead or not free:
        return {}
    rung = {
        (call_id, sid)
        for call_id, sid in (
            await session.execute(
                select(RingAttempt.call_id, RingAttempt.specialist_id).where(
                    RingAttempt.call_id.in_([e.call_id for e in ahead]),
                    RingAttempt.specialist_id.in_([sid for sid, _ in free]),
                )
            )
        ).all()
    }
    held: dict[int, QueueEntry] = {}
    for entry in ahead:
        for sid, languages in free:
            speaks = serves_all_languages or entry.language in languages
            if sid not in held and speaks and (entry.call_id, sid) not in rung:
                held[sid] = entry
                break
    return held


async def position(session: AsyncSession, entry: QueueEntry) -> int:
    """1-based place of a waiting entry in its team's queue."""
    place = Place(entry.call_id, entry.priority, entry.enqueued_at)
    ahead = await session.scalar(
        select(func.count())
        .select_from(QueueEntry)
        .where(
            QueueEntry.state.in_(("waiting", "ringing")),
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


async def leave_call(
    session: AsyncSession, call_id: int | None, result: str, *, now: datetime
) -> None:
    """The call left its queue for good (nothing happens if it never queued or left)."""
    entry = await entry_of(session, call_id)
    if entry is not None:
        leave(entry, result, now=now)


def leave(entry: QueueEntry, result: str, *, now: datetime) -> None:
    """The caller left the queue for good."""
    if entry.state == "left":
        return
    entry.state = "left"
    entry.result = result
    entry.left_at = now
    entry.updated_at = now
