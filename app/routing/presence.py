"""Reserving specialists for calls, atomically across app instances sharing one database.

A specialist is free when their `specialist_presence` row says `free` or its lease
(`held_until`) has run out. Reserving is a compare-and-set on that condition:

- PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` picks the first free rows in ringing
  order that no other transaction holds, then they are marked in the same transaction.
  A concurrent call skips them instead of waiting, and after our commit they are busy.
- SQLite: one ``UPDATE ... WHERE free`` per candidate. SQLite runs one writer at a time
  on the whole database, so the condition is checked and the row changed under its write
  lock: two processes can never both see a person free and both take them.

Every reservation carries a lease: ringing ends by itself `ring_timeout` plus a margin
after it started, and a connected call after BUSY_LEASE. A leg whose callbacks never
arrive (an instance crashed, a callback was lost) therefore never leaves anyone stuck.
Normally the leg's own status callback, the <Dial> action or the call's final status
releases the reservation long before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.models.routing import SpecialistPresence

# Time for the whisper, the key press and Twilio's <Dial> action after the ring timeout.
RING_MARGIN = timedelta(seconds=90)
# A connected call whose end was never reported frees its specialist after this.
BUSY_LEASE = timedelta(hours=4)


def is_free(now: datetime) -> ColumnElement[bool]:
    """SQL condition: the row's specialist can be reserved now."""
    return or_(
        SpecialistPresence.state == "free",
        SpecialistPresence.held_until.is_(None),
        SpecialistPresence.held_until <= now,
    )


async def taken(
    session: AsyncSession, ids: Iterable[int], *, now: datetime, call_id: int | None = None
) -> dict[int, SpecialistPresence]:
    """Rows of the given specialists who are ringing or on a call (other than `call_id`)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    query = select(SpecialistPresence).where(
        SpecialistPresence.specialist_id.in_(wanted), ~is_free(now)
    )
    rows = {row.specialist_id: row for row in await session.scalars(query)}
    return {k: v for k, v in rows.items() if call_id is None or v.call_id != call_id}


async def idle_since(session: AsyncSession, ids: Iterable[int]) -> dict[int, datetime | None]:
    """When each specialist's last conversation ended (missing: never had one)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    query = select(SpecialistPresence.specialist_id, SpecialistPresence.idle_since).where(
        SpecialistPresence.specialist_id.in_(wanted)
    )
    return {sid: idle for sid, idle in (await session.execute(query)).all()}


async def _ensure_rows(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    existing = set(
        await session.scalars(
            select(SpecialistPresence.specialist_id).where(
                SpecialistPresence.specialist_id.in_(ids)
            )
        )
    )
    missing = [i for i in ids if i not in existing]
    if not missing:
        return
    rows = [{"specialist_id": i, "state": "free", "updated_at": now} for i in missing]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(SpecialistPresence).values(rows).on_conflict_do_nothing()
    await session.execute(statement)


async def reserve(
    session: AsyncSession,
    ordered_ids: Sequence[int],
    *,
    want: int,
    call_id: int,
    now: datetime,
    ring_timeout: int,
) -> list[int]:
    """Reserve up to `want` of the given specialists (in this order) for ringing a call.

    Returns those reserved, in order; others were taken by someone else in the meantime.
    """
    if not ordered_ids or want <= 0:
        return []
    ids = list(dict.fromkeys(ordered_ids))
    await _ensure_rows(session, ids, now)
    lease = now + timedelta(seconds=ring_timeout) + RING_MARGIN
    values = {
        "state": "ringing",
        "call_id": call_id,
        "attempt_id": None,
        "held_until": lease,
        "updated_at": now,
    }
    if session.get_bind().dialect.name == "postgresql":
        rank = case({sid: i for i, sid in enumerate(ids)}, value=SpecialistPresence.specialist_id)
        locked = list(
            await session.scalars(
                select(SpecialistPresence.specialist_id)
                .where(SpecialistPresence.specialist_id.in_(ids), is_free(now))
                .order_by(rank)
                .limit(want)
                .with_for_update(skip_locked=True)
            )
        )
        if locked:
            await session.execute(
                update(SpecialistPresence)
                .where(SpecialistPresence.specialist_id.in_(locked))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        return locked
    got: list[int] = []
    for sid in ids:
        result = await session.execute(
            update(SpecialistPresence)
            .where(SpecialistPresence.specialist_id == sid, is_free(now))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            got.append(sid)
            if len(got) == want:
                break
    return got


async def attach_attempt(
    session: AsyncSession, specialist_id: int, call_id: int, attempt_id: int
) -> None:
    """Note which ringing attempt holds a reservation (so only its end releases it)."""
    await session.execute(
        update(SpecialistPresence)
        .where(
            SpecialistPresence.specialist_id == specialist_id,
            SpecialistPresence.call_id == call_id,
        )
        .values(attempt_id=attempt_id)
        .execution_options(synchronize_session=False)
    )


async def connected(
    session: AsyncSession, specialist_id: int, call_id: int, *, now: datetime
) -> None:
    """The specialist accepted the call: busy until the conversation ends."""
    await session.execute(
        update(SpecialistPresence)
        .where(SpecialistPresence.specialist_id == specialist_id)
        .values(state="busy", call_id=call_id, held_until=now + BUSY_LEASE, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def release_attempt(
    session: AsyncSession, specialist_id: int, attempt_id: int, *, now: datetime, talked: bool
) -> None:
    """A leg ended: free its specialist if that leg still holds them."""
    values: dict[str, object] = {
        "state": "free",
        "call_id": None,
        "attempt_id": None,
        "held_until": None,
        "updated_at": now,
    }
    if talked:
        values["idle_since"] = now
    await session.execute(
        update(SpecialistPresence)
        .where(
            SpecialistPresence.specialist_id == specialist_id,
            SpecialistPresence.attempt_id == attempt_id,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def release_call(session: AsyncSession, call_id: int, *, now: datetime) -> None:
    """Free everyone reserved for or talking on a call (its <Dial> ended, or it ended).

    Whoever was on the call (busy) has just finished a conversation: idle from now.
    """
    base = {"state": "free", "call_id": None, "attempt_id": None, "held_until": None}
    for state, extra in (("busy", {"idle_since": now}), ("ringing", {})):
        await session.execute(
            update(SpecialistPresence)
            .where(SpecialistPresence.call_id == call_id, SpecialistPresence.state == state)
            .values(**base, **extra, updated_at=now)
            .execution_options(synchronize_session=False)
        )
