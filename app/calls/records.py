"""A call's row, IVR state and ringing attempts on the webhook path, without the ORM.

Every webhook about a call reads its row (and a caller's webhook its IVR state) and writes
back what changed. Through the ORM that was an identity-mapped load and a unit-of-work
flush, about a third of a webhook's CPU (bench/RESULTS.md, issue 17); here they are
statements written once (app/core/driver_sql.py) run in the webhook's own transaction.
`save_with_state` writes the call, its new path rows and its state together: one
statement on PostgreSQL.

The `Call` handed out is the ORM class, not attached to the session: the business rules
(`app.calls.service`, routing, the work list) read and set its attributes as before, and
`save` writes the columns they changed in one UPDATE. Nothing flushes it behind the
caller's back, so a webhook must `save` (or `store`, for a call it opened) before it
commits: `Database.transaction` blocks on the call path do. Ringing attempts go the same
way (`insert_attempts`, `attempt_of_call`, `save_attempt`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from app.calls import service
from app.closures.repository import HoursAhead, hours_column
from app.core.driver_sql import (
    Compiled,
    Sql,
    final_statement,
    flush_pending,
    from_db_time,
    is_sqlite,
    marks,
    run,
    run_core,
    runs_alone,
    to_db_time,
)
from app.models.base import Base, UTCDateTime
from app.models.call import TERMINAL_STATUSES, Call, CallStatusEvent, RingAttempt
from app.routing import ending, presence


class _Mapped:
    """How one mapped table's rows travel between the driver and detached objects."""

    def __init__(self, mapped: type[Base]) -> None:
        table = cast(Table, mapped.__table__)
        self._table = table
        self.table = table.name
        self.columns: tuple[str, ...] = tuple(c.name for c in table.columns)
        self.times = frozenset(c.name for c in table.columns if isinstance(c.type, UTCDateTime))
        self.select_list = ", ".join(f"{table.name}.{name}" for name in self.columns)
        self._manager = mapped.__mapper__.class_manager

    def detached(self, row: Sequence[Any]) -> tuple[Any, dict[str, Any]]:
        """The object a row of `select_list` makes, and the values read (its columns first)."""
        values = {name: row[i] for i, name in enumerate(self.columns)}
        for name in self.times:
            values[name] = from_db_time(values[name])
        # The mapped class without its constructor's per-attribute events (23 µs to 1 µs): a
        # transient instance whose attributes are the values read; changes are tracked here.
        obj = self._manager.new_instance()
        obj.__dict__.update(values)
        return obj, values

    def values(self, obj: Any) -> dict[str, Any]:
        """The object's column values now.

        Read from the instance's `__dict__`, where the ORM's attribute events keep them, not
        through each attribute's descriptor (25 columns: ~3.5% of a webhook's instructions): the
        objects here are never attached to a session, so no attribute is ever expired or
        lazy-loaded, and a column never set reads None either way.
        """
        held = obj.__dict__
        return {name: held.get(name) for name in self.columns}

    def stored(self, name: str, value: Any, *, sqlite: bool) -> Any:
        """A column value as the driver takes it (instants as `UTCDateTime` stores them)."""
        return to_db_time(value, sqlite=sqlite) if name in self.times else value

    def changed(self, obj: Any, written: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The object's values now, and the columns that differ from `written`."""
        values = self.values(obj)
        return values, tuple(name for name in self.columns if values[name] != written.get(name))

    def with_update(self, statement: Select[Any], changed: tuple[str, ...], key: str) -> Compiled:
        """PostgreSQL: `statement` with this table's UPDATE of the `changed` columns as one more
        data-modifying CTE (the row whose id is :<key>; its values from `set_params`)."""
        if changed:
            table = self._table
            sets = {name: bindparam(f"set_{name}", type_=table.c[name].type) for name in changed}
            written = update(table).where(table.c.id == bindparam(key)).values(sets)
            statement = statement.add_cte(written.cte(f"{self.table}_row"))
        return Compiled(statement)

    @staticmethod
    def set_params(values: dict[str, Any], changed: tuple[str, ...]) -> dict[str, Any]:
        """The parameters of `with_update`'s UPDATE."""
        return {f"set_{name}": values[name] for name in changed}

    async def insert(self, session: AsyncSession, values: dict[str, Any]) -> int:
        """INSERT the columns that have a value (the database fills the rest); the new id."""
        names = tuple(name for name in self.columns if name != "id" and values[name] is not None)
        sqlite = is_sqlite(session)
        params = [self.stored(name, values[name], sqlite=sqlite) for name in names]
        found = await run(session, _insert(self.table, names), params)
        return int(found.rows[0][0])

    async def update(
        self, session: AsyncSession, obj: Any, written: dict[str, Any]
    ) -> dict[str, Any]:
        """UPDATE the columns changed since `written` (nothing when none did); the values
        written now."""
        values, changed = self.changed(obj, written)
        if not changed:
            return written
        sqlite = is_sqlite(session)
        params = [self.stored(name, values[name], sqlite=sqlite) for name in changed]
        await run(session, _update(self.table, changed), [*params, obj.id])
        return values


@lru_cache(maxsize=64)
def _insert(table: str, names: tuple[str, ...]) -> Sql:
    return Sql.of(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks(len(names))}) RETURNING id"
    )


@lru_cache(maxsize=256)
def _update(table: str, names: tuple[str, ...]) -> Sql:
    sets = ", ".join(f"{name} = ?" for name in names)
    return Sql.of(f"UPDATE {table} SET {sets} WHERE id = ?")


_CALLS = _Mapped(Call)
_ATTEMPTS = _Mapped(RingAttempt)
COLUMNS = _CALLS.columns
# Python-side defaults the ORM would apply on INSERT (direction).
_DEFAULTS = {
    c.name: getattr(c.default, "arg", None)
    for c in cast(Table, Call.__table__).columns
    if c.default is not None and getattr(c.default, "is_scalar", False)
}
_STATE_COLUMNS = ("version", "state", "last_response", "path_logged")

_STATE_LIST = ", ".join(f"call_states.{name}" for name in _STATE_COLUMNS)
_WITH_STATE = (
    f"SELECT {_CALLS.select_list}, {_STATE_LIST} FROM calls "
    "LEFT OUTER JOIN call_states ON call_states.call_id = calls.id WHERE calls.sid = ?"
)
# PostgreSQL: the accounts with the caller's number come with the call while it has none
# linked (NULL once it has): caller ID asks for them on the call's first menus, and this
# saves it a round trip of its own. `[[id, name, tier, number], ...]`, ordered by id, as
# `accounts.repository.brief_by_phone` reads them.
_CALLER_ACCOUNTS = (
    "CASE WHEN calls.account_id IS NULL THEN (SELECT coalesce(json_agg(json_build_array("
    "accounts.id, accounts.name, accounts.tier, accounts.number) ORDER BY accounts.id), "
    "'[]'::json) FROM accounts JOIN account_phones ON account_phones.account_id = accounts.id "
    "WHERE account_phones.e164 = calls.from_number) END"
)
_WITH_STATE_PG = _WITH_STATE.replace(
    f"{_STATE_LIST} FROM", f"{_STATE_LIST}, {_CALLER_ACCOUNTS} FROM", 1
)
# The row lock (PostgreSQL) holds until commit: two webhooks of one call take turns.
CALL_AND_STATE = Sql(
    _WITH_STATE, Sql.of(_WITH_STATE_PG, postgresql_suffix=" FOR UPDATE OF calls").postgresql
)
# Read by statements run alone (`driver_sql.statements_alone`): a lock would end with the
# statement, so none is taken (the save checks the state's version itself).
CALL_AND_STATE_UNLOCKED = Sql(_WITH_STATE, Sql.of(_WITH_STATE_PG).postgresql)
_BY_SID = f"SELECT {_CALLS.select_list} FROM calls WHERE calls.sid = ?"
CALL_BY_SID = Sql.of(_BY_SID, postgresql_suffix=" FOR UPDATE")
# PostgreSQL: the call read and locked as CALL_BY_SID does, and a status event recorded for
# it in the same statement: the unique (call, status, sequence) decides, race-free, whether
# the event is new (`ON CONFLICT`), so a callback that repeated one recorded while this one
# waited for the lock records nothing. Its last column: 1 when the event was new.
CALL_BY_SID_RECORDING = Sql(
    "",
    f"WITH locked AS ({Sql.of(_BY_SID).postgresql} FOR UPDATE), "
    "event AS (INSERT INTO call_status_events (call_id, status, sequence, at, received_at) "
    "SELECT id, $2::varchar, $3::integer, $4::timestamptz, $5::timestamptz FROM locked "
    "ON CONFLICT (call_id, status, sequence) DO NOTHING RETURNING 1) "
    "SELECT locked.*, (SELECT count(*) FROM event) FROM locked",
)
INSERT_STATE = Sql.of(
    "INSERT INTO call_states (call_id, state, version, last_response, path_logged, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
UPDATE_STATE = Sql.of(
    "UPDATE call_states SET state = ?, version = ?, last_response = ?, path_logged = ?, "
    "updated_at = ? WHERE call_id = ? AND version = ?"
)
INSERT_STEPS = Sql.of(
    "INSERT INTO call_steps (call_id, seq, step, input, at) VALUES (?, ?, ?, ?, ?)"
)
ATTEMPT_OF_CALL = Sql.of(
    f"SELECT {_ATTEMPTS.select_list} FROM call_attempts "
    "JOIN calls ON calls.id = call_attempts.call_id "
    "WHERE call_attempts.id = ? AND calls.sid = ?"
)


@dataclass
class CallRecord:
    """A call as read (or opened) by a webhook, and the values last written for it."""

    call: Call
    written: dict[str, Any] = field(default_factory=dict)
    # Whether the read recorded the status event it was given as new (None: it recorded
    # none, `call_by_sid` without an event).
    recorded: bool | None = None
    # The accounts with the caller's number (id, name, tier, number), read with the call
    # (`call_and_state` on PostgreSQL, while no account is linked); None: not read.
    caller_accounts: list[tuple[int, str, str, str]] | None = None

    @property
    def stored(self) -> bool:
        """True once the call has a row."""
        return self.call.id is not None


@dataclass(frozen=True)
class StoredState:
    """A call's IVR state row as read: what `_replay` and the versioned save need."""

    version: int
    state: dict[str, Any]
    last_response: str | None
    path_logged: int


def _call_from(row: Sequence[Any]) -> CallRecord:
    call, values = _CALLS.detached(row)
    return CallRecord(call, values)


@lru_cache(maxsize=16)
def _call_and_state_with_hours(teams: int, *, unlocked: bool) -> Sql:
    # PostgreSQL: the call read as CALL_AND_STATE(_UNLOCKED) does, with the `hours` step's
    # read of `teams` teams as its last column (`closures.repository.hours_column`).
    text = _WITH_STATE_PG.replace(
        f"{_CALLER_ACCOUNTS} FROM", f"{_CALLER_ACCOUNTS}, {hours_column(teams)} FROM", 1
    )
    return Sql(
        "", Sql.of(text, postgresql_suffix="" if unlocked else " FOR UPDATE OF calls").postgresql
    )


async def call_and_state(
    session: AsyncSession, sid: str, *, hours: HoursAhead | None = None
) -> tuple[CallRecord | None, StoredState | None]:
    """The call with a CallSid and its IVR state, in one statement, the call row locked
    (in a transaction; run alone, not locked).

    `hours` (PostgreSQL, with teams): the `hours` step's read made in the same statement,
    kept on it (`HoursAhead.briefs`)."""
    unlocked = runs_alone(session.sync_session)
    if hours is not None and hours.teams and not is_sqlite(session):
        statement = _call_and_state_with_hours(len(hours.teams), unlocked=unlocked)
        found = await run(session, statement, (*hours.params(), sid))
    else:
        hours = None
        found = await run(session, CALL_AND_STATE_UNLOCKED if unlocked else CALL_AND_STATE, (sid,))
    if not found.rows:
        return None, None
    row = found.rows[0]
    record = _call_from(row)
    start = len(COLUMNS)
    version, state, last_response, path_logged = row[start : start + 4]
    if len(row) > start + 4 and row[start + 4] is not None:  # PostgreSQL: _CALLER_ACCOUNTS
        read = row[start + 4]
        read = json.loads(read) if isinstance(read, str) else read
        record.caller_accounts = [(a[0], a[1], a[2], a[3]) for a in read]
    if hours is not None:
        hours.read(row[start + 5])
    if version is None:
        return record, None
    if isinstance(state, str):
        state = json.loads(state)
    return record, StoredState(version, state, last_response, path_logged or 0)


async def call_by_sid(
    session: AsyncSession, sid: str, *, event: StatusEvent | None = None
) -> CallRecord | None:
    """The call with a CallSid, its row locked until commit (PostgreSQL).

    `event` (PostgreSQL, an event with a sequence number): recorded in the same statement
    (`CALL_BY_SID_RECORDING`), whether it was new in the record's `recorded`. Elsewhere
    the event is left to `service.apply_status` (`recorded` is None).
    """
    if event is None or event.sequence is None or is_sqlite(session):
        found = await run(session, CALL_BY_SID, (sid,))
        return _call_from(found.rows[0]) if found.rows else None
    params = (
        sid,
        event.status,
        event.sequence,
        to_db_time(event.at, sqlite=False),
        to_db_time(event.received_at, sqlite=False),
    )
    found = await run(session, CALL_BY_SID_RECORDING, params)
    if not found.rows:
        return None
    row = found.rows[0]
    record = _call_from(row[: len(COLUMNS)])
    record.recorded = row[len(COLUMNS)] == 1
    return record


@dataclass(frozen=True)
class StatusEvent:
    """A status callback's event as `call_status_events` stores it."""

    status: str
    sequence: int | None
    at: datetime
    received_at: datetime


def opened(call: Call) -> CallRecord:
    """A record for a call made in memory (`service.new_call`), not stored yet."""
    return CallRecord(call)


async def store(session: AsyncSession, record: CallRecord) -> int:
    """INSERT an opened call (one statement, its id returned); a stored call is `save`d."""
    call = record.call
    if call.id is not None:
        await save(session, record)
        return call.id
    values = _new_values(call)
    call.id = await _CALLS.insert(session, values)
    values["id"] = call.id
    record.written = values
    return call.id


def _new_values(call: Call) -> dict[str, Any]:
    """An opened call's column values, the ORM's Python-side defaults applied to both."""
    values = _CALLS.values(call)
    for name, default in _DEFAULTS.items():
        if values[name] is None:
            values[name] = default
            setattr(call, name, default)
    return values


async def save(session: AsyncSession, record: CallRecord) -> None:
    """Write the columns changed since the call was read or last written (one UPDATE)."""
    if record.call.id is None:
        await store(session, record)
        return
    record.written = await _CALLS.update(session, record.call, record.written)


async def save_ended(
    session: AsyncSession, record: CallRecord, result: str, *, now: datetime
) -> None:
    """The call is over: free everyone reserved for or talking on it and take it out of its
    queue with `result` (`ending.end_call`), and write the call (`save`).

    On PostgreSQL in one statement, the call's UPDATE a data-modifying CTE of `end_call`'s:
    a call's final status callback makes one round trip fewer.
    """
    call = record.call
    if call.id is None or is_sqlite(session):
        if call.id is not None:
            await ending.end_call(session, call.id, result, now=now)
        await save(session, record)
        return
    values, changed = _CALLS.changed(call, record.written)
    params = {**_CALLS.set_params(values, changed), "call": call.id}
    statement = _ending_call_postgresql(changed)
    await ending.end_call_postgresql(session, statement, params, result, now=now)
    record.written = values


@lru_cache(maxsize=64)
def _ending_call_postgresql(changed: tuple[str, ...]) -> Compiled:
    """`ending.ending_postgresql()` with the call's UPDATE of `changed` (the call is :call)."""
    return _CALLS.with_update(ending.ending_postgresql(), changed, "call")


# PostgreSQL, a status callback run alone (`driver_sql.statements_alone`): one statement
# that locks the call with the CallSid, records the event (`ON CONFLICT DO NOTHING` on the
# unique (call, status, sequence): race-free, a repeat records nothing) and, only when it
# was new, decides what it changes on the call as locked, as `service.apply_status` does
# (held to it by tests/telephony/test_status_statement.py), and for a final status ends the
# call (`ending.ending_postgresql()`, its :call the recorded event's).
def _word(name: str) -> Any:
    """A constant written into the statement (a generic plan, no expanding `IN`)."""
    return literal_column(f"'{name}'")


def _words(names: Sequence[str]) -> list[Any]:
    return [_word(name) for name in names]


def _rank(column: Any, ranks: Mapping[str, int], default: int) -> Any:
    return case(
        *((column == _word(name), literal_column(str(rank))) for name, rank in ranks.items()),
        else_=literal_column(str(default)),
    )


@lru_cache(maxsize=2)
def _status_postgresql(ending_call: bool) -> Compiled:
    """The statement of `save_status_postgresql` (`ending_call`: a final status)."""
    calls = _CALLS._table
    events = cast(Table, CallStatusEvent.__table__)
    c = calls.c
    current = (
        select(c.id)
        .where(c.sid == bindparam("sid", type_=c.sid.type))
        .with_for_update()
        .cte("current")
    )
    status = bindparam("event_status", type_=events.c.status.type)
    sequence = bindparam("event_sequence", type_=Integer)
    at = bindparam("event_at", type_=events.c.at.type)
    received = bindparam("event_received_at", type_=events.c.received_at.type)
    event_row = select(
        current.c.id,
        status,
        sequence,
        at,
        received,
    )
    recorded = (
        pg_insert(events)
        .from_select(["call_id", "status", "sequence", "at", "received_at"], event_row)
        .on_conflict_do_nothing(index_elements=["call_id", "status", "sequence"])
        .returning(events.c.call_id)
        .cte("recorded")
    )
    the_call = select(recorded.c.call_id).scalar_subquery()  # NULL unless recorded
    terminal = bindparam("terminal", type_=Boolean)
    early = bindparam("early", type_=Boolean)  # initiated or ringing
    forward = and_(
        func.coalesce(c.status, _word("")).not_in(_words(TERMINAL_STATUSES)),
        or_(c.status_seq.is_(None), sequence >= c.status_seq),
        _rank(status, service.STATUS_RANK, 3) >= _rank(c.status, service.STATUS_RANK, 3),
    )
    from_number = bindparam("from_number", type_=c.from_number.type)
    unnumbered = and_(func.coalesce(c.from_number, "") == "", from_number != "")
    sets = {
        "updated_at": received,
        "started_at": case((and_(early, at < c.started_at), at), else_=c.started_at),
        "ended_at": case((terminal, func.coalesce(c.ended_at, at)), else_=c.ended_at),
        "duration": case(
            (and_(terminal, c.duration.is_(None)), bindparam("duration", type_=Integer)),
            else_=c.duration,
        ),
        "outcome": case(
            (
                and_(
                    terminal,
                    or_(c.outcome.is_(None), c.outcome.not_in(_words(list(service.OUTCOME_RANK)))),
                ),
                _word("abandoned"),
            ),
            else_=c.outcome,
        ),
        "status": case((forward, status), else_=c.status),
        "status_seq": case((forward, sequence), else_=c.status_seq),
        "from_number": case((unnumbered, from_number), else_=c.from_number),
        "to_number": case(
            (
                and_(unnumbered, func.coalesce(c.to_number, "") == ""),
                bindparam("to_number", type_=c.to_number.type),
            ),
            else_=c.to_number,
        ),
    }
    written = update(calls).where(c.id == the_call).values(sets).cte("call_row")
    columns = (
        select(func.count()).select_from(current).scalar_subquery(),
        select(func.count()).select_from(recorded).scalar_subquery(),
    )
    statement: Select[Any]
    if ending_call:
        # `ending_postgresql()` for the call just recorded: its :call is `the_call`.
        def _swap(element: Any, **_: Any) -> Any:
            if isinstance(element, BindParameter) and element.key == "call":
                return the_call
            return None

        swapped = cast(Select[Any], replacement_traverse(ending.ending_postgresql(), {}, _swap))
        statement = swapped.with_only_columns(*columns)
    else:
        statement = cast(Select[Any], select(*columns)).add_cte(recorded)
    return Compiled(statement.add_cte(written))


async def save_status_postgresql(
    session: AsyncSession,
    sid: str,
    event: StatusEvent,
    *,
    duration: int | None,
    from_number: str,
    to_number: str,
) -> bool | None:
    """PostgreSQL: a status callback's whole work in one statement (`_status_postgresql`),
    final: run alone, it commits by itself. `event.status` is the status recorded
    (`service.event_status`), `event.received_at` now; `from_number`/`to_number` fill a
    call opened without its numbers.

    True: recorded and applied. False: a repeat of an event recorded before, nothing
    written. None: no call with this CallSid (to be opened in a transaction). Safe to run
    again should the connection fail under it: the event, recorded or not, tells.
    """
    terminal = event.status in TERMINAL_STATUSES
    params: dict[str, Any] = {
        "sid": sid,
        "event_status": event.status,
        "event_sequence": event.sequence,
        "event_at": event.at,
        "event_received_at": event.received_at,
        "terminal": terminal,
        "early": event.status in ("initiated", "ringing"),
        "duration": duration,
        "from_number": from_number[:64],
        "to_number": to_number[:64],
        "at": event.received_at,
        "result": "abandoned",
    }
    final_statement(session, rerun_safe=True)
    found = await run_core(session, _status_postgresql(terminal), params)
    located, recorded = found.rows[0]
    if not located:
        return None
    return bool(recorded)


async def insert_steps(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Append IVR path rows (`service.path_rows`) in one statement."""
    if not rows:
        return
    sqlite = is_sqlite(session)
    params = [
        (r["call_id"], r["seq"], r["step"], r["input"], to_db_time(r["at"], sqlite=sqlite))
        for r in rows
    ]
    await run(session, INSERT_STEPS, params, many=True)


def _state_values(values: dict[str, Any], version: int, *, sqlite: bool) -> list[Any]:
    """A state row's state, version, last_response, path_logged and updated_at, as stored."""
    return [
        json.dumps(values["state"]),
        version,
        values["last_response"],
        values["path_logged"],
        to_db_time(values["updated_at"], sqlite=sqlite),
    ]


async def insert_state(
    session: AsyncSession, call_id: int, values: dict[str, Any], *, version: int = 1
) -> None:
    """The first state row of a call."""
    state = _state_values(values, version, sqlite=is_sqlite(session))
    await run(session, INSERT_STATE, [call_id, *state])


async def save_state(
    session: AsyncSession, call_id: int, *, read_version: int, values: dict[str, Any]
) -> bool:
    """Write a new state if it is still at `read_version`; False when another request won."""
    state = _state_values(values, read_version + 1, sqlite=is_sqlite(session))
    found = await run(session, UPDATE_STATE, [*state, call_id, read_version])
    return found.rowcount == 1


async def save_with_state(
    session: AsyncSession,
    record: CallRecord,
    steps: list[dict[str, Any]],
    values: dict[str, Any],
    *,
    read_version: int | None,
) -> bool:
    """The call's changed columns, its new path rows (`service.path_rows`) and its state.

    The state is inserted (`read_version` None: the call's first) or written over the
    version read; False when another request saved a newer one (the caller rolls back).
    Three statements on SQLite; one on PostgreSQL, where each is a round trip: its
    data-modifying CTEs write all three with the same guarantees. A call not stored yet
    (a new call's first webhook) is inserted with them: on PostgreSQL in the same statement.
    """
    if not is_sqlite(session):
        return await _save_with_state_postgresql(session, record, steps, values, read_version)
    if not record.stored:
        await store(session, record)
        steps = [{**r, "call_id": record.call.id} for r in steps]  # made before it had an id
    call_id = record.call.id
    assert call_id is not None
    await save(session, record)
    await insert_steps(session, steps)
    if read_version is None:
        await insert_state(session, call_id, values)
        return True
    return await save_state(session, call_id, read_version=read_version, values=values)


@lru_cache(maxsize=256)
def _save_with_state_sql(
    changed: tuple[str, ...],
    steps: bool,
    first: bool,
    new: tuple[str, ...] = (),
    alone: bool = False,
) -> Sql:
    """PostgreSQL: one statement writing what `save_with_state` writes (by its shape).

    `new`: the columns of a call inserted by the same statement (its id comes back first).
    `alone`: the statement runs outside a transaction (`driver_sql.statements_alone`), so
    over a state it writes nothing unless the state's version still matches (in a
    transaction the caller rolls back instead), and it locks the call's row before the
    state's, the order a webhook's transaction takes them in (`CALL_AND_STATE`), so the
    two cannot deadlock.
    """
    count = 0

    def mark(cast_to: str = "") -> str:
        nonlocal count
        count += 1
        return f"${count}{cast_to}"

    parts = []
    if new:
        assert first and not changed, "a new call has its first state and nothing to update"
        inserted = ", ".join(mark() for _ in new)
        parts.append(
            f"call_row AS (INSERT INTO calls ({', '.join(new)}) VALUES ({inserted}) RETURNING id)"
        )
        call = "(SELECT id FROM call_row)"
    else:
        call = mark("::integer")
    guarded = alone and not first
    gate = " AND EXISTS (SELECT 1 FROM state)" if guarded else ""
    if guarded:
        parts.append(f"locked AS (SELECT id FROM calls WHERE id = {call} FOR UPDATE)")
    if changed:
        sets = ", ".join(f"{name} = {mark()}" for name in changed)
        parts.append(f"call_row AS (UPDATE calls SET {sets} WHERE id = {call}{gate})")
    if steps:
        columns = (mark("::integer[]"), mark("::varchar[]"), mark("::varchar[]"))
        at = mark("::timestamptz[]")
        parts.append(
            "path AS (INSERT INTO call_steps (call_id, seq, step, input, at) "
            f"SELECT {call}, s.seq, s.step, s.input, s.at "
            f"FROM unnest({', '.join(columns)}, {at}) AS s(seq, step, input, at)"
            f"{' WHERE EXISTS (SELECT 1 FROM state)' if guarded else ''})"
        )
    state, version, response, logged, updated = (
        mark("::json"),
        mark("::integer"),
        mark("::text"),
        mark("::integer"),
        mark("::timestamptz"),
    )
    if first:
        parts.append(
            "state AS (INSERT INTO call_states "
            "(call_id, state, version, last_response, path_logged, updated_at) "
            f"VALUES ({call}, {state}, {version}, {response}, {logged}, {updated}) RETURNING 1)"
        )
    else:
        of = "(SELECT id FROM locked)" if guarded else call
        parts.append(
            f"state AS (UPDATE call_states SET state = {state}, version = {version}, "
            f"last_response = {response}, path_logged = {logged}, updated_at = {updated} "
            f"WHERE call_id = {of} AND version = {mark('::integer')} RETURNING 1)"
        )
    if guarded:  # a WITH query sees only those before it: the state's goes first
        parts = [parts[0], parts[-1], *parts[1:-1]]
    written = "(SELECT id FROM call_row), count(*)" if new else "count(*)"
    return Sql("", f"WITH {', '.join(parts)} SELECT {written} FROM state")


async def _save_with_state_postgresql(
    session: AsyncSession,
    record: CallRecord,
    steps: list[dict[str, Any]],
    values: dict[str, Any],
    read_version: int | None,
) -> bool:
    call = record.call
    new: tuple[str, ...] = ()
    if call.id is None:  # inserted by the same statement
        current, changed = _new_values(call), ()
        new = tuple(name for name in _CALLS.columns if name != "id" and current[name] is not None)
        params: list[Any] = [_CALLS.stored(name, current[name], sqlite=False) for name in new]
    else:
        current, changed = _CALLS.changed(call, record.written)
        params = [call.id]
        params += [_CALLS.stored(name, current[name], sqlite=False) for name in changed]
    if steps:
        params += [
            [r["seq"] for r in steps],
            [r["step"] for r in steps],
            [r["input"] for r in steps],
            [to_db_time(r["at"], sqlite=False) for r in steps],
        ]
    version = 1 if read_version is None else read_version + 1
    params += _state_values(values, version, sqlite=False)
    if read_version is not None:
        params.append(read_version)
    alone = runs_alone(session.sync_session)
    sql = _save_with_state_sql(changed, bool(steps), read_version is None, new, alone)
    # Run alone, it commits by itself: nothing may follow it. Safe to run again when the
    # connection fails under it: the state's version, or the call's CallSid, tells the
    # next try whether it was written (a repeated webhook is answered as before).
    final_statement(session, rerun_safe=True)
    found = await run(session, sql, params)
    if new:
        call.id = current["id"] = found.rows[0][0]
    record.written = current
    return bool(found.rows[0][-1] == 1)


async def insert_attempts(session: AsyncSession, attempts: list[RingAttempt]) -> None:
    """INSERT new ringing attempts (`service.new_attempt`), one statement each, ids set."""
    for attempt in attempts:
        attempt.id = await _ATTEMPTS.insert(session, _ATTEMPTS.values(attempt))


# PostgreSQL: a batch's attempts inserted, and each reservation told the attempt holding
# it (`presence.attach_attempts`), in one statement: one round trip where there were four
# for a batch of two. The UPDATE sees the reservations made earlier in the transaction.
RING_ATTEMPTS = Sql(
    "",
    "WITH new AS (INSERT INTO call_attempts "
    "(call_id, specialist_id, team, batch, contact, rung_at, result) "
    "SELECT $1::integer, a.specialist_id, a.team, a.batch, a.contact, a.rung_at, a.result "
    "FROM unnest($2::integer[], $3::varchar[], $4::integer[], $5::varchar[], "
    "$6::timestamptz[], $7::varchar[]) "
    "AS a(specialist_id, team, batch, contact, rung_at, result) "
    "RETURNING id, specialist_id), "
    "held AS (UPDATE specialist_presence SET attempt_id = new.id FROM new "
    "WHERE specialist_presence.specialist_id = new.specialist_id "
    "AND specialist_presence.call_id = $1::integer) "
    "SELECT id, specialist_id FROM new",
)


async def ring_attempts(session: AsyncSession, call_id: int, attempts: list[RingAttempt]) -> None:
    """INSERT a ringing batch's attempts (ids set) and attach each to its specialist's
    reservation for the call (`presence.attach_attempts`): so only its end releases it.

    On PostgreSQL one statement, when each attempt rings a different specialist (as a
    batch does: the returned ids are matched by specialist); else one per attempt and one
    for the reservations.
    """
    people = [a.specialist_id for a in attempts]
    if is_sqlite(session) or None in people or len(set(people)) != len(people):
        await insert_attempts(session, attempts)
        held = [(a.specialist_id, a.id) for a in attempts if a.specialist_id is not None]
        await presence.attach_attempts(session, call_id, held)
        return
    if not attempts:
        return
    await flush_pending(session)  # as `presence.attach_attempts` does before its statement
    params = [
        call_id,
        people,
        [a.team for a in attempts],
        [a.batch for a in attempts],
        [a.contact for a in attempts],
        [to_db_time(a.rung_at, sqlite=False) for a in attempts],
        [a.result for a in attempts],
    ]
    found = await run(session, RING_ATTEMPTS, params)
    ids = {specialist_id: attempt_id for attempt_id, specialist_id in found.rows}
    for attempt in attempts:
        attempt.id = ids[attempt.specialist_id]


@dataclass
class AttemptRecord:
    """A ringing attempt as read by a leg callback, and the values last written for it."""

    attempt: RingAttempt
    written: dict[str, Any]


async def attempt_of_call(session: AsyncSession, attempt_id: int, sid: str) -> AttemptRecord | None:
    """A ringing attempt of the call with this CallSid (None unless it is that call's), as a
    `RingAttempt` not attached to the session: `save_attempt` writes what changed."""
    found = await run(session, ATTEMPT_OF_CALL, (attempt_id, sid))
    if not found.rows:
        return None
    attempt, values = _ATTEMPTS.detached(found.rows[0])
    return AttemptRecord(attempt, values)


async def save_attempt(session: AsyncSession, record: AttemptRecord) -> None:
    """Write the attempt's columns changed since it was read (one UPDATE, or none)."""
    record.written = await _ATTEMPTS.update(session, record.attempt, record.written)


async def save_ended_attempt(
    session: AsyncSession, record: AttemptRecord, *, now: datetime, talked: bool
) -> None:
    """The leg is over: write the attempt (as `save_attempt`) and free its specialist if it
    still holds them, with the `ring_ended` event (as `presence.release_attempt`). (SQLite:
    on PostgreSQL the whole callback is `leg_status_postgresql`.)"""
    attempt = record.attempt
    assert attempt.specialist_id is not None
    await save_attempt(session, record)
    await presence.release_attempt(
        session, attempt.specialist_id, attempt.id, now=now, talked=talked
    )


def _sql_list(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


# PostgreSQL: a leg's status callback decided and written in one statement, the decision
# `service.leg_status`'s (SQLite runs that on the attempt read first; the two are held to
# the same answers by tests/telephony/test_leg_status.py). Taken on the row as locked, so
# callbacks of one leg at once, or the whisper's answer beside them, cannot undo each
# other. Parameters: attempt, CallSid, the leg's CallSid ('' when none), whether the status
# is terminal, the result a terminal status gives a leg not yet final, whether it is
# answered (in-progress or answered), now. A terminal status also frees the specialist the
# attempt still holds, with the `ring_ended` event (`presence.release_attempt`). Its one
# row: the attempt's id (none: no such attempt of that call).
_LEG_SID = "CASE WHEN coalesce(a.leg_sid, '') = '' AND $3 <> '' THEN $3 ELSE a.leg_sid END"
_LEG_RESULT = (
    f"CASE WHEN $4 AND a.result NOT IN ({_sql_list(service.FINAL_ATTEMPT)}) THEN $5 "
    "WHEN $6 AND a.result = 'ringing' THEN 'whisper' ELSE a.result END"
)
_LEG_ENDED = (
    "CASE WHEN $4 AND a.result = 'accepted' THEN coalesce(a.ended_at, $7) "
    f"WHEN $4 AND a.result NOT IN ({_sql_list(service.FINAL_ATTEMPT)}) THEN $7 "
    "ELSE a.ended_at END"
)
LEG_STATUS_POSTGRESQL = Sql(
    "",
    "WITH found AS (SELECT a.id, a.specialist_id, a.result FROM call_attempts AS a "
    "JOIN calls ON calls.id = a.call_id WHERE a.id = $1::integer AND calls.sid = $2::varchar), "
    f"leg AS (UPDATE call_attempts AS a SET leg_sid = {_LEG_SID}, result = {_LEG_RESULT}, "
    f"ended_at = {_LEG_ENDED} FROM found WHERE a.id = found.id "
    f"AND ({_LEG_SID}, {_LEG_RESULT}, {_LEG_ENDED}) IS DISTINCT FROM "
    "(a.leg_sid, a.result, a.ended_at) RETURNING a.result), "
    "ended AS (SELECT found.specialist_id, "
    "coalesce((SELECT result FROM leg), found.result) = 'accepted' AS talked "
    "FROM found WHERE $4::boolean), "
    "freed AS (UPDATE specialist_presence AS p SET state = 'free', call_id = NULL, "
    "attempt_id = NULL, held_until = NULL, updated_at = $7::timestamptz, "
    "idle_since = CASE WHEN ended.talked THEN $7 ELSE p.idle_since END FROM ended "
    "WHERE p.specialist_id = ended.specialist_id AND p.attempt_id = $1 "
    "RETURNING p.specialist_id, ended.talked), "
    "events AS (INSERT INTO console_events (at, kind, specialist_id, data) "
    "SELECT $7, 'ring_ended', freed.specialist_id, "
    "json_build_object('talked', freed.talked, 'attempt_id', $1) FROM freed) "
    "SELECT found.id FROM found",
)


async def leg_status_postgresql(
    session: AsyncSession,
    attempt_id: int,
    sid: str,
    status: str,
    leg_sid: str | None,
    *,
    now: datetime,
) -> bool:
    """PostgreSQL: a leg's status callback in one statement (`LEG_STATUS_POSTGRESQL`);
    False when the call with this CallSid has no such attempt."""
    terminal = status in TERMINAL_STATUSES
    ends_as = "declined" if status == "completed" else status
    answered = status in ("in-progress", "answered")
    params = (attempt_id, sid, (leg_sid or "")[:64], terminal, ends_as, answered, now)
    found = await run(session, LEG_STATUS_POSTGRESQL, params)
    return bool(found.rows)
