"""References (c), (d) and (e): the floor cost of the persistence a correct IVR webhook needs.

Like reference (b) (form parsed, X-Twilio-Signature checked with twilio's RequestValidator,
403 when wrong, a `<Gather>` answer whose action walks the call on), but plain ASGI like
reference (a) with the TwiML from a string template, plus the least database work an IVR
must do before it answers, in ONE transaction per request, on Switchboard's own tables:

- `/twilio/voice`: INSERT the `calls` row (ON CONFLICT (sid) DO NOTHING: a repeated first
  webhook replays the stored answer) and its `call_states` row (version 1);
- `/twilio/gather` (every further IVR webhook): SELECT the call and its state by CallSid
  (one join), UPDATE `call_states` to version + 1 guarded by the version read (optimistic
  concurrency: no row lock), INSERT one `call_steps` row; a webhook whose `v` is not the
  stored version is a Twilio retry and gets the stored answer again;
- `/twilio/status`: the same three statements for a status callback: SELECT the call,
  UPDATE its status, INSERT one `call_status_events` row (ON CONFLICT DO NOTHING).

Nothing else: no account lookup, no flow, no routing, no audit. FLOOR_DRIVER chooses how
to talk to the database:

- `core` (reference c): an AsyncEngine made by app.core.db.create_engine (Switchboard's pool
  and SQLite pragmas), statements built once with SQLAlchemy Core on the models' tables,
  run on an AsyncConnection (`engine.begin()`), no ORM session;
- `raw` (reference d): the driver itself with hand-written SQL: one aiosqlite connection
  (transactions queued on an asyncio lock, as the app's one-connection pool queues them)
  or an asyncpg pool of FLOOR_POOL connections (default: Switchboard's DB_POOL_SIZE default).

`sync` (reference e, SQLite only) calls sqlite3 right on the event loop, without
aiosqlite's thread: the cheapest way to SQLite from Python (and a correct design here, as
long as no other process holds the write lock for long). `none` answers the same without
any database: what the signature check, the form and the template cost alone, so the
floor's database share shows by difference.

FLOOR_POOL (default: Switchboard's DB_POOL_SIZE default, `app.core.db.POOL_SIZE`) is also
the engine's pool_size for `core` (with as many again of overflow, as create_engine sets
it); SQLite always has one connection.

    DATABASE_URL=sqlite+aiosqlite:///switchboard.db FLOOR_DRIVER=raw \\
    PUBLIC_BASE_URL=http://127.0.0.1:8003 TWILIO_AUTH_TOKEN=... \\
        uvicorn bench.refs.floor:app --port 8003 --loop uvloop --http httptools
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, Protocol, cast
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from app.core.db import POOL_SIZE
from app.models.call import CALL_STATUSES, TERMINAL_STATUSES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
STATUSES = frozenset(CALL_STATUSES)
TERMINAL = frozenset(TERMINAL_STATUSES)
# The walk: the step a call is at -> the step its next digit leads to.
NEXT_STEP = {"choose_language": "choose_topic", "choose_topic": "route", "route": "route"}
PROMPT = "Thank you for calling support. For English, press 1."
TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="{action}" method="POST" numDigits="1" timeout="5">'
    f'<Say voice="Polly.Joanna">{PROMPT}</Say></Gather>'
    '<Redirect method="POST">{action}</Redirect></Response>'
)
GONE = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>'


def twiml(version: int, step: str) -> str:
    """The `<Gather>` answer for a call now at `version`, waiting at `step` (a known name)."""
    return TWIML.format(action=f"{BASE_URL}/twilio/gather?v={version}&amp;step={step}")


def sqlite_time(at: datetime) -> str:
    """A timestamp as SQLAlchemy stores UTCDateTime on SQLite (naive UTC text)."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class Store(Protocol):
    """One transaction per webhook; each returns the TwiML to answer (None: unknown call)."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def voice(self, sid: str, form: dict[str, str], now: datetime) -> str: ...

    async def gather(
        self, sid: str, version: int | None, digits: str, now: datetime
    ) -> str | None: ...

    async def status(self, sid: str, form: dict[str, str], now: datetime) -> bool: ...


def _call_values(sid: str, form: dict[str, str], now: datetime) -> dict[str, Any]:
    status = form.get("CallStatus", "ringing")
    return {
        "sid": sid[:64],
        "from_number": form.get("From", "")[:64],
        "to_number": form.get("To", "")[:64],
        "flow": "default",
        "status": status if status in STATUSES else "ringing",
        "started_at": now,
        "created_at": now,
        "updated_at": now,
    }


def _first_state() -> tuple[dict[str, Any], str]:
    return {"step": "choose_language", "inputs": {}}, twiml(1, "choose_language")


def _advance(state: dict[str, Any], version: int, digits: str) -> tuple[dict[str, Any], str]:
    """The IVR's whole logic here: record the digit heard at `state["step"]`, move on."""
    step = str(state.get("step", "choose_language"))
    following = NEXT_STEP.get(step, "route")
    inputs = dict(state.get("inputs") or {})
    inputs[step] = digits[:20]
    return {"step": following, "heard": step, "inputs": inputs}, twiml(version + 1, following)


def _status_values(form: dict[str, str]) -> tuple[str, int | None, int | None]:
    status = form.get("CallStatus", "")
    seq = form.get("SequenceNumber", "")
    duration = form.get("CallDuration", "")
    return (
        status,
        int(seq) if seq.isdigit() and len(seq) < 9 else None,
        int(duration) if duration.isdigit() and len(duration) < 9 else None,
    )


# --- (c) SQLAlchemy Core on an AsyncEngine ------------------------------------------------------


class CoreStore:
    """Prebuilt Core statements run on an AsyncConnection of Switchboard's engine."""

    def __init__(self, url: str, pool_size: int) -> None:
        self.url = url
        self.pool_size = pool_size

    async def start(self) -> None:
        from sqlalchemy import Table, bindparam, select, update
        from sqlalchemy.dialects import postgresql, sqlite

        from app.core.db import create_engine
        from app.models.call import Call, CallStateRow, CallStatusEvent, CallStep

        self.engine = create_engine(self.url, pool_size=self.pool_size)
        # ON CONFLICT is dialect-specific; both dialects' insert() build the same statements.
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        calls = cast(Table, Call.__table__)
        states = cast(Table, CallStateRow.__table__)
        steps = cast(Table, CallStep.__table__)
        events = cast(Table, CallStatusEvent.__table__)
        self.insert_call = (
            insert(calls).on_conflict_do_nothing(index_elements=["sid"]).returning(calls.c.id)
        )
        self.insert_state = insert(states)
        self.find = (
            select(
                calls.c.id,
                states.c.version,
                states.c.path_logged,
                states.c.state,
                states.c.last_response,
            )
            .join(states, states.c.call_id == calls.c.id)
            .where(calls.c.sid == bindparam("sid"))
        )
        self.find_call = select(calls.c.id, calls.c.status, calls.c.status_seq).where(
            calls.c.sid == bindparam("sid")
        )
        self.save_state = (
            update(states)
            .where(
                states.c.call_id == bindparam("b_call_id"),
                states.c.version == bindparam("b_version"),
            )
            .values(
                version=bindparam("new_version"),
                state=bindparam("new_state"),
                last_response=bindparam("new_response"),
                path_logged=bindparam("new_logged"),
                updated_at=bindparam("now"),
            )
        )
        self.insert_step = insert(steps)
        self.set_status = (
            update(calls)
            .where(calls.c.id == bindparam("b_id"))
            .values(
                status=bindparam("new_status"),
                status_seq=bindparam("new_seq"),
                ended_at=bindparam("new_ended"),
                duration=bindparam("new_duration"),
                updated_at=bindparam("now"),
            )
        )
        self.insert_event = insert(events).on_conflict_do_nothing(
            index_elements=["call_id", "status", "sequence"]
        )

    async def close(self) -> None:
        await self.engine.dispose()

    async def voice(self, sid: str, form: dict[str, str], now: datetime) -> str:
        state, xml = _first_state()
        async with self.engine.begin() as conn:
            call_id = (await conn.execute(self.insert_call, _call_values(sid, form, now))).scalar()
            if call_id is None:  # a repeated first webhook: its answer again
                row = (await conn.execute(self.find, {"sid": sid})).first()
                return row.last_response if row is not None and row.last_response else xml
            await conn.execute(
                self.insert_state,
                {
                    "call_id": call_id,
                    "state": state,
                    "version": 1,
                    "last_response": xml,
                    "path_logged": 0,
                    "updated_at": now,
                },
            )
        return xml

    async def gather(self, sid: str, version: int | None, digits: str, now: datetime) -> str | None:
        async with self.engine.begin() as conn:
            row = (await conn.execute(self.find, {"sid": sid})).first()
            if row is None:
                return None
            if version is not None and version != row.version:
                return str(row.last_response)  # Twilio repeated a webhook already answered
            state, xml = _advance(row.state, row.version, digits)
            saved = await conn.execute(
                self.save_state,
                {
                    "b_call_id": row.id,
                    "b_version": row.version,
                    "new_version": row.version + 1,
                    "new_state": state,
                    "new_response": xml,
                    "new_logged": row.path_logged + 1,
                    "now": now,
                },
            )
            if saved.rowcount != 1:
                raise RuntimeError(f"call {sid}: state changed under this webhook")
            await conn.execute(
                self.insert_step,
                {
                    "call_id": row.id,
                    "seq": row.path_logged,
                    "step": state["heard"],
                    "input": digits[:500],
                    "at": now,
                },
            )
        return xml

    async def status(self, sid: str, form: dict[str, str], now: datetime) -> bool:
        status, seq, duration = _status_values(form)
        if status not in STATUSES:
            return True
        async with self.engine.begin() as conn:
            row = (await conn.execute(self.find_call, {"sid": sid})).first()
            if row is None:
                return False
            if row.status not in TERMINAL:
                await conn.execute(
                    self.set_status,
                    {
                        "b_id": row.id,
                        "new_status": status,
                        "new_seq": seq,
                        "new_ended": now if status in TERMINAL else None,
                        "new_duration": duration,
                        "now": now,
                    },
                )
            await conn.execute(
                self.insert_event,
                {
                    "call_id": row.id,
                    "status": status,
                    "sequence": seq,
                    "at": now,
                    "received_at": now,
                },
            )
        return True


# --- (d) the driver itself, hand-written SQL -----------------------------------------------------

CALL_COLUMNS = "sid, from_number, to_number, flow, status, started_at, created_at, updated_at"
STATE_COLUMNS = "call_id, state, version, last_response, path_logged, updated_at"
SQL = {
    "insert_call": f"INSERT INTO calls ({CALL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (sid) DO NOTHING RETURNING id",
    "insert_state": f"INSERT INTO call_states ({STATE_COLUMNS}) VALUES (?, ?, 1, ?, 0, ?)",
    "find": "SELECT c.id, s.version, s.path_logged, s.state, s.last_response FROM calls c "
    "JOIN call_states s ON s.call_id = c.id WHERE c.sid = ?",
    "save_state": "UPDATE call_states SET version = ?, state = ?, last_response = ?, "
    "path_logged = ?, updated_at = ? WHERE call_id = ? AND version = ?",
    "insert_step": "INSERT INTO call_steps (call_id, seq, step, input, at) VALUES (?, ?, ?, ?, ?)",
    "find_call": "SELECT id, status FROM calls WHERE sid = ?",
    "set_status": "UPDATE calls SET status = ?, status_seq = ?, ended_at = ?, duration = ?, "
    "updated_at = ? WHERE id = ?",
    "insert_event": "INSERT INTO call_status_events (call_id, status, sequence, at, received_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (call_id, status, sequence) DO NOTHING",
}


def numbered(sql: str) -> str:
    """qmark placeholders (?) as PostgreSQL's $1, $2, ..."""
    parts = sql.split("?")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], start=1)) + parts[-1]


class SqliteRawStore:
    """One aiosqlite connection (like the app's one-connection pool), explicit transactions."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        import aiosqlite

        from app.core.db import SQLITE_BUSY_SECONDS

        self.db = await aiosqlite.connect(
            self.path, timeout=SQLITE_BUSY_SECONDS, isolation_level=None
        )
        for pragma in (
            "PRAGMA foreign_keys=ON",
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}",
        ):
            await self.db.execute(pragma)

    async def close(self) -> None:
        await self.db.close()

    async def _rollback(self) -> None:
        if self.db.in_transaction:
            await self.db.execute("ROLLBACK")

    async def voice(self, sid: str, form: dict[str, str], now: datetime) -> str:
        state, xml = _first_state()
        v = _call_values(sid, form, now)
        at = sqlite_time(now)
        db = self.db
        async with self.lock:
            try:
                await db.execute("BEGIN")
                values = (v["sid"], v["from_number"], v["to_number"], v["flow"], v["status"])
                found = list(await db.execute_fetchall(SQL["insert_call"], (*values, at, at, at)))
                if not found:  # a repeated first webhook: its answer again
                    rows = list(await db.execute_fetchall(SQL["find"], (sid,)))
                    await db.execute("COMMIT")
                    return rows[0][4] if rows and rows[0][4] else xml
                await db.execute(SQL["insert_state"], (found[0][0], json.dumps(state), xml, at))
                await db.execute("COMMIT")
            finally:
                await self._rollback()
        return xml

    async def gather(self, sid: str, version: int | None, digits: str, now: datetime) -> str | None:
        db = self.db
        async with self.lock:
            try:
                await db.execute("BEGIN")
                rows = list(await db.execute_fetchall(SQL["find"], (sid,)))
                if not rows:
                    await db.execute("COMMIT")
                    return None
                call_id, read, logged, raw_state, last = rows[0]
                if version is not None and version != read:
                    await db.execute("COMMIT")
                    return str(last)
                state, xml = _advance(json.loads(raw_state), read, digits)
                at = sqlite_time(now)
                saved = await db.execute(
                    SQL["save_state"],
                    (read + 1, json.dumps(state), xml, logged + 1, at, call_id, read),
                )
                if saved.rowcount != 1:
                    raise RuntimeError(f"call {sid}: state changed under this webhook")
                await db.execute(
                    SQL["insert_step"], (call_id, logged, state["heard"], digits[:500], at)
                )
                await db.execute("COMMIT")
            finally:
                await self._rollback()
        return xml

    async def status(self, sid: str, form: dict[str, str], now: datetime) -> bool:
        status, seq, duration = _status_values(form)
        if status not in STATUSES:
            return True
        at = sqlite_time(now)
        db = self.db
        async with self.lock:
            try:
                await db.execute("BEGIN")
                rows = list(await db.execute_fetchall(SQL["find_call"], (sid,)))
                if not rows:
                    await db.execute("COMMIT")
                    return False
                call_id, current = rows[0]
                if current not in TERMINAL:
                    ended = at if status in TERMINAL else None
                    await db.execute(SQL["set_status"], (status, seq, ended, duration, at, call_id))
                await db.execute(SQL["insert_event"], (call_id, status, seq, at, at))
                await db.execute("COMMIT")
            finally:
                await self._rollback()
        return True


class SqliteSyncStore:
    """sqlite3 called right on the event loop (FLOOR_DRIVER=sync, SQLite only): no thread hop.

    Each transaction runs start to end without yielding, so none interleave. The price: a
    write lock held by another process blocks the whole server (up to the busy timeout).
    """

    def __init__(self, path: str) -> None:
        self.path = path

    async def start(self) -> None:
        import sqlite3

        from app.core.db import SQLITE_BUSY_SECONDS

        self.db = sqlite3.connect(
            self.path, timeout=SQLITE_BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        for pragma in (
            "PRAGMA foreign_keys=ON",
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}",
        ):
            self.db.execute(pragma)

    async def close(self) -> None:
        self.db.close()

    def _rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    async def voice(self, sid: str, form: dict[str, str], now: datetime) -> str:
        state, xml = _first_state()
        v = _call_values(sid, form, now)
        at = sqlite_time(now)
        db = self.db
        try:
            db.execute("BEGIN")
            values = (v["sid"], v["from_number"], v["to_number"], v["flow"], v["status"])
            found = db.execute(SQL["insert_call"], (*values, at, at, at)).fetchone()
            if found is None:  # a repeated first webhook: its answer again
                row = db.execute(SQL["find"], (sid,)).fetchone()
                db.execute("COMMIT")
                return row[4] if row is not None and row[4] else xml
            db.execute(SQL["insert_state"], (found[0], json.dumps(state), xml, at))
            db.execute("COMMIT")
        finally:
            self._rollback()
        return xml

    async def gather(self, sid: str, version: int | None, digits: str, now: datetime) -> str | None:
        db = self.db
        try:
            db.execute("BEGIN")
            row = db.execute(SQL["find"], (sid,)).fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            call_id, read, logged, raw_state, last = row
            if version is not None and version != read:
                db.execute("COMMIT")
                return str(last)
            state, xml = _advance(json.loads(raw_state), read, digits)
            at = sqlite_time(now)
            saved = db.execute(
                SQL["save_state"], (read + 1, json.dumps(state), xml, logged + 1, at, call_id, read)
            )
            if saved.rowcount != 1:
                raise RuntimeError(f"call {sid}: state changed under this webhook")
            db.execute(SQL["insert_step"], (call_id, logged, state["heard"], digits[:500], at))
            db.execute("COMMIT")
        finally:
            self._rollback()
        return xml

    async def status(self, sid: str, form: dict[str, str], now: datetime) -> bool:
        status, seq, duration = _status_values(form)
        if status not in STATUSES:
            return True
        at = sqlite_time(now)
        db = self.db
        try:
            db.execute("BEGIN")
            row = db.execute(SQL["find_call"], (sid,)).fetchone()
            if row is None:
                db.execute("COMMIT")
                return False
            call_id, current = row
            if current not in TERMINAL:
                ended = at if status in TERMINAL else None
                db.execute(SQL["set_status"], (status, seq, ended, duration, at, call_id))
            db.execute(SQL["insert_event"], (call_id, status, seq, at, at))
            db.execute("COMMIT")
        finally:
            self._rollback()
        return True


async def _keep_session(_conn: Any) -> None:
    """Pool release without asyncpg's reset query (no session state is ever changed here)."""


class PostgresRawStore:
    """A fixed asyncpg pool of FLOOR_POOL connections, one transaction per webhook."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self.size = size
        self.sql = {name: numbered(sql) for name, sql in SQL.items()}

    async def start(self) -> None:
        import asyncpg
        from sqlalchemy.engine import make_url

        parsed = make_url(self.url)
        self.pool = await asyncpg.create_pool(
            user=parsed.username or "postgres",
            password=parsed.password,
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            database=parsed.database,
            min_size=self.size,
            max_size=self.size,
            reset=_keep_session,
        )

    async def close(self) -> None:
        await self.pool.close()

    async def voice(self, sid: str, form: dict[str, str], now: datetime) -> str:
        state, xml = _first_state()
        v = _call_values(sid, form, now)
        sql = self.sql
        async with self.pool.acquire() as conn, conn.transaction():
            call_id = await conn.fetchval(
                sql["insert_call"],
                v["sid"],
                v["from_number"],
                v["to_number"],
                v["flow"],
                v["status"],
                now,
                now,
                now,
            )
            if call_id is None:  # a repeated first webhook: its answer again
                row = await conn.fetchrow(sql["find"], sid)
                return row[4] if row is not None and row[4] else xml
            await conn.execute(sql["insert_state"], call_id, json.dumps(state), xml, now)
        return xml

    async def gather(self, sid: str, version: int | None, digits: str, now: datetime) -> str | None:
        sql = self.sql
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(sql["find"], sid)
            if row is None:
                return None
            call_id, read, logged, raw_state, last = row
            if version is not None and version != read:
                return str(last)
            state, xml = _advance(json.loads(raw_state), read, digits)
            saved = await conn.execute(
                sql["save_state"], read + 1, json.dumps(state), xml, logged + 1, now, call_id, read
            )
            if saved != "UPDATE 1":
                raise RuntimeError(f"call {sid}: state changed under this webhook")
            await conn.execute(
                sql["insert_step"], call_id, logged, state["heard"], digits[:500], now
            )
        return xml

    async def status(self, sid: str, form: dict[str, str], now: datetime) -> bool:
        status, seq, duration = _status_values(form)
        if status not in STATUSES:
            return True
        sql = self.sql
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(sql["find_call"], sid)
            if row is None:
                return False
            call_id, current = row
            if current not in TERMINAL:
                ended = now if status in TERMINAL else None
                await conn.execute(sql["set_status"], status, seq, ended, duration, now, call_id)
            await conn.execute(sql["insert_event"], call_id, status, seq, now, now)
        return True


class NoStore:
    """No database at all (FLOOR_DRIVER=none): what signature, form and template cost alone."""

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def voice(self, sid: str, form: dict[str, str], now: datetime) -> str:
        return _first_state()[1]

    async def gather(self, sid: str, version: int | None, digits: str, now: datetime) -> str | None:
        return _advance({"step": "choose_language"}, version or 1, digits)[1]

    async def status(self, sid: str, form: dict[str, str], now: datetime) -> bool:
        return True


def make_store(url: str, driver: str, pool: int = 10) -> Store:
    """The store for a database URL (SQLAlchemy form, as DATABASE_URL) and a driver."""
    if driver == "none":
        return NoStore()
    if driver == "core":
        return CoreStore(url, pool)
    if driver not in ("raw", "sync"):
        raise ValueError(f"FLOOR_DRIVER must be core, raw, sync or none, not {driver!r}")
    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        path = make_url(url).database or ":memory:"
        return SqliteSyncStore(path) if driver == "sync" else SqliteRawStore(path)
    if driver == "sync":
        raise ValueError("FLOOR_DRIVER=sync is for SQLite only")
    return PostgresRawStore(url, pool)


# --- the ASGI app ------------------------------------------------------------------------------

validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN", ""))
store = make_store(
    os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///switchboard.db"),
    os.environ.get("FLOOR_DRIVER", "core"),
    int(os.environ.get("FLOOR_POOL", str(POOL_SIZE))),
)


def _head(status: int, body: bytes, kind: bytes = b"text/xml; charset=utf-8") -> Message:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", kind))
    return {"type": "http.response.start", "status": status, "headers": headers}


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(_head(status, body))
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await store.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await store.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Check the signature, do the webhook's transaction, answer its TwiML."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    path: str = scope["path"]
    if scope["method"] != "POST" or not path.startswith("/twilio/"):
        await _answer(send, 404, b"")
        return
    form = dict(parse_qsl(b"".join(chunks).decode(), keep_blank_values=True))
    query = scope["query_string"].decode("latin-1")
    signature = ""
    for name, value in scope["headers"]:
        if name == b"x-twilio-signature":
            signature = value.decode("latin-1")
            break
    url = BASE_URL + path + (f"?{query}" if query else "")
    if not validator.validate(url, form, signature):
        await _answer(send, 403, b"invalid signature")
        return
    sid = form.get("CallSid", "")
    now = datetime.now(UTC)
    hook = path[len("/twilio/") :]
    if hook == "voice":
        xml: str | None = await store.voice(sid, form, now)
    elif hook == "status":
        await store.status(sid, form, now)
        await _answer(send, 204, b"")
        return
    else:
        v = dict(parse_qsl(query)).get("v", "")
        version = int(v) if v.isdigit() and len(v) < 9 else None
        xml = await store.gather(sid, version, form.get("Digits", ""), now)
    await _answer(send, 200, (xml or GONE).encode())
