"""Reserving specialists for calls, atomically across app instances sharing one database.

A specialist is free when their `specialist_presence` row says `free` or its lease
(`held_until`) has run out. Reserving is a compare-and-set on that condition:

- PostgreSQL: ``UPDATE ... WHERE specialist_id IN (SELECT ... FOR UPDATE SKIP LOCKED)``
  marks those of the wanted candidates who are free and whom no other transaction holds
  (a candidate without a presence row gets one, as ringing, in the same statement).
  A concurrent call skips them instead of waiting, and after our commit they are busy.
- SQLite: one upsert, ``INSERT ... ON CONFLICT DO UPDATE ... WHERE free``. SQLite runs one
  writer at a time on the whole database, so the condition is checked and the rows changed
  under its write lock: two processes can never both see a person free and both take them.

Candidates are tried in ringing order, as many at a time as are still wanted, so the
first free ones are taken.

Every reservation carries a lease: ringing ends by itself `ring_timeout` plus a margin
after it started, and a connected call after BUSY_LEASE. A leg whose callbacks never
arrive (an instance crashed, a callback was lost) therefore never leaves anyone stuck.
Normally the leg's own status callback, the <Dial> action or the call's final status
releases the reservation long before.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    BindParameter,
    CompoundSelect,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert, ReturningUpdate
from sqlalchemy.sql.elements import ColumnElement, Grouping

from app.core.driver_sql import Compiled, flush_pending, is_sqlite, run_core, run_core_many
from app.events.publish import event_row, publish
from app.models.call import RingAttempt
from app.models.console import ConsoleEvent
from app.models.routing import SpecialistPresence

# Time for the whisper, the key press and Twilio's <Dial> action after the ring timeout.
RING_MARGIN = timedelta(seconds=90)
# A connected call whose end was never reported frees its specialist after this.
BUSY_LEASE = timedelta(hours=4)


def is_free(
    now: datetime | BindParameter[datetime], rows: FromClause | None = None
) -> ColumnElement[bool]:
    """SQL condition: the row's specialist can be reserved now (rows: presence rows)."""
    c = (rows if rows is not None else SpecialistPresence.__table__).c
    return or_(c.state == "free", c.held_until.is_(None), c.held_until <= now)


def free_at(state: str | None, held_until: datetime | None, now: datetime) -> bool:
    """`is_free` of a row read earlier (no row at all: free)."""
    return state is None or state == "free" or held_until is None or held_until <= now


def busy_flag(rows: FromClause) -> ColumnElement[int]:
    """SQL on outer-joined presence rows: 1 when the specialist is `taken`, else 0.

    Parameters :now, and :call_id, the call whose own reservations do not count (0: none).
    """
    c = rows.c
    at = bindparam("now", type_=SpecialistPresence.held_until.type)
    taken_now = and_(
        c.specialist_id.is_not(None),
        ~is_free(at, rows),
        or_(c.call_id.is_(None), c.call_id != bindparam("call_id")),
    )
    return case((taken_now, 1), else_=0)


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


# Statements are built once: a statement costs more to build than to run. The ids are one
# parameter (a JSON list on SQLite, an array on PostgreSQL) so each stays the same statement.
_AT = bindparam("at", type_=SpecialistPresence.held_until.type)
_LEASE = bindparam("lease", type_=SpecialistPresence.held_until.type)
_CALL = bindparam("call", type_=Integer)


@lru_cache(maxsize=1)
def _mark_sqlite() -> ReturningInsert[int]:
    """SQLite: reserve those of :ids (a JSON list) who are free, making rows for the rowless.

    One upsert: a missing row is made as ringing, an existing one changes only if free.
    It runs under SQLite's single write lock.
    """
    ids = func.json_each(bindparam("ids")).table_valued("value")
    ringing = select(ids.c.value, literal("ringing"), _CALL, null(), _LEASE, _AT).where(true())
    columns = ("specialist_id", "state", "call_id", "attempt_id", "held_until", "updated_at")
    statement = sqlite_insert(SpecialistPresence).from_select(list(columns), ringing)
    return statement.on_conflict_do_update(
        index_elements=[SpecialistPresence.specialist_id],
        set_={name: getattr(statement.excluded, name) for name in columns[1:]},
        where=and_(is_free(_AT), SpecialistPresence.availability == "available"),
    ).returning(SpecialistPresence.specialist_id)


_MARK_SQLITE = Compiled(_mark_sqlite())  # run on the driver: every routed call runs it


# PostgreSQL: a reservation that rings at once takes its attempt's id as it reserves, so
# the attempt goes in with it (`Ringing`); the sequence behind call_attempts.id.
_NEXT_ATTEMPT_ID: ColumnElement[int] = literal_column("nextval('call_attempts_id_seq')")


@lru_cache(maxsize=2)
def _mark_postgresql(ringing: bool = False) -> ReturningUpdate[Any] | ReturningUpdate[Any, Any]:
    """PostgreSQL: reserve the first :want of :ids (in their order) who are free and whom
    no other transaction holds.

    Rows another transaction holds are skipped (SKIP LOCKED), not waited for, and so are
    rows found taken once locked: the next in order take their place, in this statement.
    `ringing`: each row reserved also takes a new attempt id (returned after the
    specialist's).
    """
    ids = bindparam("ids", type_=ARRAY(Integer))
    free = (
        select(SpecialistPresence.specialist_id)
        .where(
            SpecialistPresence.specialist_id == any_(ids),
            is_free(_AT),
            SpecialistPresence.availability == "available",
        )
        .order_by(func.array_position(ids, SpecialistPresence.specialist_id))
        .limit(bindparam("want", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    attempt: Any = _NEXT_ATTEMPT_ID if ringing else None
    reserving = (
        update(SpecialistPresence)
        .where(SpecialistPresence.specialist_id.in_(free.scalar_subquery()))
        .values(
            state="ringing", call_id=_CALL, attempt_id=attempt, held_until=_LEASE, updated_at=_AT
        )
        .execution_options(synchronize_session=False)
    )
    if ringing:
        return reserving.returning(SpecialistPresence.specialist_id, SpecialistPresence.attempt_id)
    return reserving.returning(SpecialistPresence.specialist_id)


@lru_cache(maxsize=2)
def _mark_postgresql_rowless(ringing: bool = False) -> CompoundSelect[Any]:
    """PostgreSQL: `_mark_postgresql`, and rows made as ringing for :rowless (an array).

    One statement: its UPDATE does not see the rows its INSERT makes. A row another
    transaction makes meanwhile is theirs (they are reserving that person): skipped.
    """
    ids = func.unnest(bindparam("rowless", type_=ARRAY(Integer))).column_valued("id")
    attempt: Any = _NEXT_ATTEMPT_ID if ringing else null()
    ringing_rows = select(ids, literal("ringing"), _CALL, attempt, _LEASE, _AT)
    columns = ["specialist_id", "state", "call_id", "attempt_id", "held_until", "updated_at"]
    making = (
        pg_insert(SpecialistPresence).from_select(columns, ringing_rows).on_conflict_do_nothing()
    )
    made = (
        making.returning(SpecialistPresence.specialist_id, SpecialistPresence.attempt_id)
        if ringing
        else making.returning(SpecialistPresence.specialist_id)
    ).cte("made")
    marked = _mark_postgresql(ringing).cte("marked")
    return select(*made.c).union_all(select(*marked.c))


def _announcing(
    reserving: ReturningUpdate[Any] | ReturningUpdate[Any, Any] | CompoundSelect[Any],
    *,
    events: bool,
    ringing: bool,
) -> Select[Any]:
    """PostgreSQL: `reserving`, and what goes in with it, in the same statement (a
    data-modifying CTE each: routing a call costs a round trip fewer for each).

    `events`: a `ring` console event (team :team) per person reserved. `ringing`: the
    attempt ringing each one (`Ringing`: :batch, and per :ring_ids the :ring_teams and
    :ring_contacts), with the id the reservation took for it.
    """
    reserved = reserving.cte("reserved")
    found = select(*reserved.c)
    if events:
        columns = ["at", "kind", "specialist_id", "team", "call_id"]
        team = bindparam("team", type_=String)
        rows = select(_AT, literal("ring"), reserved.c.specialist_id, team, _CALL)
        found = found.add_cte(insert(ConsoleEvent).from_select(columns, rows).cte("ring_events"))
    if ringing:
        at = func.array_position(
            bindparam("ring_ids", type_=ARRAY(Integer)), reserved.c.specialist_id
        )
        # Parenthesised: `$1::VARCHAR[][i]` would read as a type.
        teams = Grouping(bindparam("ring_teams", type_=ARRAY(String)))
        contacts = Grouping(bindparam("ring_contacts", type_=ARRAY(String)))
        columns = ["id", "call_id", "specialist_id", "team", "batch", "contact", "rung_at"]
        rows = select(
            reserved.c.attempt_id,
            _CALL,
            reserved.c.specialist_id,
            teams[at],
            bindparam("batch", type_=Integer),
            contacts[at],
            _AT,
        )
        attempts = insert(RingAttempt).from_select(
            [*columns, "result"], rows.add_columns(literal("ringing"))
        )
        found = found.add_cte(attempts.cte("ring_attempts"))
    return found


def _statement(rowless: bool, events: bool, ringing: bool) -> Compiled:
    reserving = _mark_postgresql_rowless(ringing) if rowless else _mark_postgresql(ringing)
    if not events and not ringing:
        return Compiled(reserving)
    return Compiled(_announcing(reserving, events=events, ringing=ringing))


# {(rowless, with events, ringing): statement}, each compiled once and run on the driver
_MARK_PG = {
    (rowless, events, ringing): _statement(rowless, events, ringing)
    for rowless in (False, True)
    for events in (False, True)
    for ringing in (False, True)
}


@dataclass(frozen=True)
class Ringing:
    """PostgreSQL: the attempts that ring the specialists a reservation takes, written by
    the reserving statement (each with the id the reservation holds in `attempt_id`).

    `batch`: the call's ringing batch; `people`: each specialist's team and contact. The
    reservation fills `attempts` (specialist id: attempt id) with what it wrote.
    """

    batch: int
    people: dict[int, tuple[str, str]]
    attempts: dict[int, int] = field(default_factory=dict)


async def _mark(
    session: AsyncSession,
    batch: list[int],
    rowless: Collection[int] | None,
    params: dict[str, Any],
    team: str | None,
    ringing: Ringing | None = None,
) -> set[int]:
    """Reserve those of `batch` who are free; returns who was reserved.

    With a team, a `ring` event is written for each one reserved (see `reserve`); with
    `ringing` (PostgreSQL), the attempt ringing each (see `Ringing`).
    """
    # Core statements compiled once, run on the driver: presence rows are no ORM objects.
    if is_sqlite(session):
        on_driver = await run_core(session, _MARK_SQLITE, {**params, "ids": json.dumps(batch)})
        marked = {row[0] for row in on_driver.rows}
        if team is not None:
            at, call_id = params["at"], params["call"]
            await publish(
                session,
                [
                    event_row("ring", at=at, specialist_id=sid, team=team, call_id=call_id)
                    for sid in batch
                    if sid in marked
                ],
            )
        return marked
    missing = [sid for sid in batch if rowless is None or sid in rowless]
    values = {**params, "ids": batch, "team": team}
    if missing:
        values["rowless"] = missing
    if ringing is not None and not all(sid in ringing.people for sid in batch):
        ringing = None  # someone it cannot ring: the caller writes their attempts
    if ringing is not None:
        people = [ringing.people[sid] for sid in batch]
        values["ring_ids"] = batch
        values["ring_teams"] = [their_team for their_team, _ in people]
        values["ring_contacts"] = [contact[:255] for _, contact in people]
        values["batch"] = ringing.batch
    found = await run_core(
        session, _MARK_PG[bool(missing), team is not None, ringing is not None], values
    )
    if ringing is not None:
        ringing.attempts.update((row[0], row[1]) for row in found.rows)
    return {row[0] for row in found.rows}


async def reserve(
    session: AsyncSession,
    ordered_ids: Sequence[int],
    *,
    want: int,
    call_id: int,
    now: datetime,
    ring_timeout: int,
    rowless: Collection[int] | None = None,
    team: str | None = None,
    ringing: Ringing | None = None,
) -> list[int]:
    """Reserve up to `want` of the given specialists (in this order) for ringing a call.

    Returns those reserved, in order; others were taken by someone else in the meantime.
    `rowless`: those of them known to have no presence row yet (None: not known).
    `team`: the console's `ring` event of each one reserved is written too, for this team
    (on PostgreSQL by the reserving statement itself). `ringing` (PostgreSQL): so is the
    attempt ringing each one, in `ringing.attempts`.
    """
    ids = list(dict.fromkeys(ordered_ids))
    params = {
        "at": now,
        "call": call_id,
        "lease": now + timedelta(seconds=ring_timeout) + RING_MARGIN,
    }
    if rowless is not None and not is_sqlite(session) and not any(sid in rowless for sid in ids):
        # PostgreSQL, everyone with a row: the first `want` still free, in one statement
        # however many of them others took in the meantime.
        marked = await _mark(session, ids, rowless, {**params, "want": want}, team, ringing)
        return [sid for sid in ids if sid in marked]
    # The first `want` who are still free, in order: try as many as are still wanted, then
    # the next ones for any that someone else took in the meantime.
    got: list[int] = []
    tried = 0
    while len(got) < want and tried < len(ids):
        batch = ids[tried : tried + want - len(got)]
        tried += len(batch)
        marked = await _mark(session, batch, rowless, {**params, "want": len(batch)}, team, ringing)
        got += [sid for sid in batch if sid in marked]
    return got


_PRESENCE_TABLE = cast(Table, SpecialistPresence.__table__)
_PRESENCE = _PRESENCE_TABLE.c


async def _flushed(session: AsyncSession) -> None:
    """Write the session's pending changes first (as the ORM's autoflush would, before a
    statement run on the driver): rows keep being locked in the order the code changes them."""
    await flush_pending(session)


_ATTACH = (
    update(_PRESENCE_TABLE)
    .where(
        _PRESENCE.specialist_id == bindparam("match_specialist"),
        _PRESENCE.call_id == bindparam("match_call"),
    )
    .values(attempt_id=bindparam("attempt"))
)

_ATTACH_ON_DRIVER = Compiled(_ATTACH)


async def attach_attempts(
    session: AsyncSession, call_id: int, held: Iterable[tuple[int, int]]
) -> None:
    """Note which ringing attempt holds each reservation (so only its end releases it).

    `held`: (specialist id, attempt id) pairs; one statement for all of them.
    """
    rows = [
        {"match_specialist": specialist_id, "match_call": call_id, "attempt": attempt_id}
        for specialist_id, attempt_id in held
    ]
    if rows:
        await _flushed(session)
        await run_core_many(session, _ATTACH_ON_DRIVER, rows)


async def attach_attempt(
    session: AsyncSession, specialist_id: int, call_id: int, attempt_id: int
) -> None:
    """Note which ringing attempt holds a reservation (so only its end releases it)."""
    await attach_attempts(session, call_id, [(specialist_id, attempt_id)])


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
    await publish(
        session, [event_row("answered", at=now, specialist_id=specialist_id, call_id=call_id)]
    )


_FREE = {
    "state": "free",
    "call_id": None,
    "attempt_id": None,
    "held_until": None,
    "updated_at": bindparam("at", type_=SpecialistPresence.updated_at.type),
}
_RELEASE_ATTEMPT = {
    talked: update(_PRESENCE_TABLE)
    .where(
        _PRESENCE.specialist_id == bindparam("specialist"),
        _PRESENCE.attempt_id == bindparam("attempt"),
    )
    .values(**_FREE, **({"idle_since": bindparam("at")} if talked else {}))
    .returning(_PRESENCE.specialist_id)
    for talked in (False, True)
}
# Everyone in a state on the call (:call) freed at :at; their ids come back.
RELEASE_CALL = {
    state: update(_PRESENCE_TABLE)
    .where(_PRESENCE.call_id == bindparam("call"), _PRESENCE.state == state)
    .values(**_FREE, **({"idle_since": bindparam("at")} if state == "busy" else {}))
    .returning(_PRESENCE.specialist_id)
    for state in ("busy", "ringing")
}

_RELEASE_ATTEMPT_ON_DRIVER = {k: Compiled(v) for k, v in _RELEASE_ATTEMPT.items()}


def releasing_attempt_postgresql(talked: bool) -> Select[tuple[int]]:
    """PostgreSQL: `_RELEASE_ATTEMPT[talked]` and its `ring_ended` console event in one
    statement (a data-modifying CTE): one round trip, not two. The event's data is the
    object `release_attempt` writes on SQLite."""
    freed = _RELEASE_ATTEMPT[talked].cte("freed")
    data = func.json_build_object(
        literal_column("'talked'"),
        literal_column("true" if talked else "false"),
        literal_column("'attempt_id'"),
        bindparam("attempt", type_=Integer),
    )
    rows = select(_AT, literal("ring_ended"), freed.c.specialist_id, data)
    columns = ["at", "kind", "specialist_id", "data"]
    events = insert(ConsoleEvent).from_select(columns, rows).cte("ring_ended_events")
    return select(freed.c.specialist_id).add_cte(events)


_RELEASE_ATTEMPT_PG = {
    talked: Compiled(releasing_attempt_postgresql(talked)) for talked in (False, True)
}
_RELEASE_CALL_ON_DRIVER = {k: Compiled(v) for k, v in RELEASE_CALL.items()}


async def release_attempt(
    session: AsyncSession, specialist_id: int, attempt_id: int, *, now: datetime, talked: bool
) -> None:
    """A leg ended: free its specialist if that leg still holds them."""
    await _flushed(session)
    params = {"specialist": specialist_id, "attempt": attempt_id, "at": now}
    if not is_sqlite(session):
        await run_core(session, _RELEASE_ATTEMPT_PG[talked], params)  # the event with it
        return
    freed = await run_core(session, _RELEASE_ATTEMPT_ON_DRIVER[talked], params)
    if freed.rows:
        data = {"talked": talked, "attempt_id": attempt_id}
        await publish(
            session, [event_row("ring_ended", at=now, specialist_id=specialist_id, data=data)]
        )


async def release_call(session: AsyncSession, call_id: int, *, now: datetime) -> None:
    """Free everyone reserved for or talking on a call (its <Dial> ended, or it ended).

    Whoever was on the call (busy) has just finished a conversation: idle from now.
    """
    await _flushed(session)
    ended = []
    for state, statement in _RELEASE_CALL_ON_DRIVER.items():
        freed = await run_core(session, statement, {"call": call_id, "at": now})
        talked = {"talked": state == "busy"}
        ended += [
            event_row("ring_ended", at=now, specialist_id=row[0], call_id=call_id, data=talked)
            for row in freed.rows
        ]
    await publish(session, ended)
