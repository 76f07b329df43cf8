"""Materialised shift instances over a rolling horizon, so on-shift lookups are one index scan.

The final schedule between `now - LOOKBACK` and `now + HORIZON` is kept in
`shift_instances`. Lookups outside the window are calculated on the fly from the rules.

Nothing a webhook waits for is held while shifts are calculated (seconds at 1,000
specialists): a refresh reads the rules and the stored shifts in one short transaction,
calculates with no connection held, then writes only the difference in a second short
transaction, and only if neither the rules nor the stored shifts changed in between
(`rota_version`, `shifts_version` on the window row); otherwise it starts again. A rota
write refreshes only the connected part of the rota it touched (`app.rota.component`).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.calc_pool import calculate
from app.core.db import Database, dialect_of
from app.models.rota import MaterialisedWindow, ShiftInstance
from app.rota.calculator import final_schedule
from app.rota.component import connected_part
from app.rota.repository import Snapshot, load_snapshot
from app.rota.schemas import MAX_SHIFT_DAYS
from app.rota.snapshot_work import run_in_worker_session, shared_url

logger = logging.getLogger("switchboard.rota")

# No shift is longer than this, so a shift running at X started after X - MAX_SHIFT.
MAX_SHIFT = timedelta(days=MAX_SHIFT_DAYS + 1)
LOOKBACK = timedelta(days=2) + MAX_SHIFT
HORIZON = timedelta(weeks=10)
REFRESH_WHEN_LEFT = timedelta(weeks=8)
WINDOW_ID = 1
EMPTY = datetime(1970, 1, 1, tzinfo=UTC)
# How long an instance's claim on a whole rebuild keeps the others from starting one.
CLAIM = timedelta(minutes=10)
# Attempts at calculating outside the lock before one last attempt under it.
OPTIMISTIC_ATTEMPTS = 4

_COLUMNS = (
    "team_id",
    "specialist_id",
    "starts_at",
    "ends_at",
    "local_date",
    "source_kind",
    "rotation_id",
    "override_id",
    "covering_for",
    "key",
)


async def ensure_window(session: AsyncSession) -> None:
    """Create the window row if it is missing (the migration creates it; tests may not)."""
    values = {
        "id": WINDOW_ID,
        "starts_at": EMPTY,
        "ends_at": EMPTY,
        "rota_version": 0,
        "refreshed_at": EMPTY,
        "shifts_version": 0,
        "materialised_version": 0,
    }
    dialect = dialect_of(session)
    if dialect == "postgresql":
        await session.execute(pg_insert(MaterialisedWindow).values(values).on_conflict_do_nothing())
    else:
        await session.execute(
            sqlite_insert(MaterialisedWindow).values(values).on_conflict_do_nothing()
        )


async def window(session: AsyncSession) -> MaterialisedWindow | None:
    """The current materialised window, if any."""
    return await session.get(MaterialisedWindow, WINDOW_ID)


async def lock_window(session: AsyncSession) -> None:
    """Take the rota's write lock (the window row) and mark the rules as changed.

    An UPDATE rather than SELECT ... FOR UPDATE, so that it takes SQLite's write lock too;
    whatever the transaction reads afterwards includes what the previous writer committed.
    It bumps `rota_version`, so a calculation that read the rules before this write
    commits knows it has to start again.
    """
    await ensure_window(session)
    await session.execute(
        update(MaterialisedWindow)
        .where(MaterialisedWindow.id == WINDOW_ID)
        .values(rota_version=MaterialisedWindow.rota_version + 1)
        .execution_options(synchronize_session=False)
    )


async def rota_version(session: AsyncSession) -> int | None:
    """The committed (or this transaction's) `rota_version`; None without a window row."""
    return await session.scalar(
        select(MaterialisedWindow.rota_version).where(MaterialisedWindow.id == WINDOW_ID)
    )


async def rota_unchanged_since(session: AsyncSession, seen: int) -> bool:
    """Under the lock: whether no rota write committed since `seen` was read (this
    transaction's own `lock_window` counts one)."""
    return await rota_version(session) == seen + 1


def covers(win: MaterialisedWindow | None, at: datetime) -> bool:
    """Whether lookups at this instant can use the materialised table."""
    return win is not None and win.starts_at + MAX_SHIFT <= at < win.ends_at


def is_due(win: MaterialisedWindow | None, now: datetime) -> bool:
    """Whether the whole window needs rebuilding (running low, or behind the rules)."""
    return (
        win is None
        or win.ends_at - now < REFRESH_WHEN_LEFT
        or win.starts_at > now
        or win.materialised_version != win.rota_version
    )


@dataclass(frozen=True)
class _Read:
    """What one refresh read: versions, the range, the rules, the stored rows it replaces."""

    rota_version: int
    shifts_version: int
    start: datetime
    end: datetime
    whole: bool
    snapshot: Snapshot | None  # None once planned (the worker sends back only the rest)
    stored: list[tuple[Any, ...]]  # (id, *_COLUMNS) of the rows in scope


@dataclass(frozen=True)
class _Plan:
    """The difference to write: stored row ids to delete and rows to insert."""

    delete_ids: list[int]
    insert_rows: list[dict[str, Any]]


async def _read(
    session: AsyncSession,
    now: datetime,
    teams: set[str] | None,
    specialists: set[int],
) -> tuple[_Read, frozenset[int] | None]:
    # populate_existing: the row may be in this session's identity map from an earlier read.
    win = await session.get(MaterialisedWindow, WINDOW_ID, populate_existing=True)
    if win is None:
        # Only where the row is missing: the INSERT takes SQLite's write lock, which a read
        # in the (idle-priority) calculation worker must never hold while webhooks wait.
        await ensure_window(session)
        win = await session.get(MaterialisedWindow, WINDOW_ID, populate_existing=True)
    assert win is not None
    whole = teams is None or not covers(win, now)
    start, end = (now - LOOKBACK, now + HORIZON) if whole else (win.starts_at, win.ends_at)
    snapshot = await load_snapshot(session, start, end)
    team_ids: frozenset[int] | None = None
    if not whole:
        assert teams is not None
        part = connected_part(snapshot.rota, teams, specialists)
        team_ids = frozenset(snapshot.team_ids[t] for t in part.teams if t in snapshot.team_ids)
        # Teams deleted by the edit are gone from the snapshot; their rows went with them.
    query = select(ShiftInstance.id, *(getattr(ShiftInstance, c) for c in _COLUMNS))
    if team_ids is not None:
        query = query.where(ShiftInstance.team_id.in_(team_ids))
    stored = [tuple(r) for r in await session.execute(query)]
    read = _Read(win.rota_version, win.shifts_version, start, end, whole, snapshot, stored)
    return read, team_ids


def _plan(
    read: _Read, teams: set[str] | None, specialists: set[int], team_ids: frozenset[int] | None
) -> _Plan:
    """Calculate the shifts in scope and the difference to what is stored (CPU only)."""
    snapshot = read.snapshot
    assert snapshot is not None
    rota = snapshot.rota
    if team_ids is not None:
        assert teams is not None
        rota = connected_part(rota, teams, specialists).rota
    shifts = final_schedule(rota, read.start, read.end)
    wanted_rows = [
        {
            "team_id": snapshot.team_ids[s.team],
            "specialist_id": s.specialist_id,
            "starts_at": s.start,
            "ends_at": s.end,
            "local_date": s.local_date,
            "source_kind": s.source.kind,
            "rotation_id": s.source.rotation_id,
            "override_id": s.source.override_id,
            "covering_for": s.source.covering_for,
            "key": s.key,
        }
        for s in shifts
        if s.team in snapshot.team_ids
        and (team_ids is None or snapshot.team_ids[s.team] in team_ids)
    ]
    wanted: Counter[tuple[Any, ...]] = Counter(tuple(r[c] for c in _COLUMNS) for r in wanted_rows)
    delete_ids: list[int] = []
    for row in read.stored:
        values = tuple(row[1:])
        if wanted[values] > 0:
            wanted[values] -= 1
        else:
            delete_ids.append(row[0])
    insert_rows: list[dict[str, Any]] = []
    for values, count in wanted.items():
        insert_rows.extend(dict(zip(_COLUMNS, values, strict=True)) for _ in range(count))
    return _Plan(delete_ids, insert_rows)


def _read_and_plan(
    url: str, now: datetime, teams: set[str] | None, people: set[int]
) -> tuple[_Read, _Plan]:
    """In the calculation worker: read (own connection) and plan; the read without its rows."""

    async def read_in(session: AsyncSession) -> tuple[_Read, frozenset[int] | None]:
        return await _read(session, now, teams, people)

    read, team_ids = run_in_worker_session(url, read_in)
    plan = _plan(read, teams, people, team_ids)
    return replace(read, snapshot=None, stored=[]), plan


async def _write(
    session: AsyncSession, read: _Read, plan: _Plan, now: datetime, *, checked: bool
) -> bool:
    """Apply the difference if nothing changed since `read`; False when something did."""
    values: dict[str, Any] = {"shifts_version": MaterialisedWindow.shifts_version + 1}
    if read.whole:
        values.update(
            starts_at=read.start,
            ends_at=read.end,
            refreshed_at=now,
            claimed_until=None,
            materialised_version=read.rota_version,
        )
    else:
        # A part brings the stored shifts up to date only when its own write was the one
        # outstanding; with more (another instance's write, one that died before its
        # refresh) they stay behind, and the next periodic check rebuilds the whole window.
        values["materialised_version"] = case(
            (
                MaterialisedWindow.materialised_version == read.rota_version - 1,
                read.rota_version,
            ),
            else_=MaterialisedWindow.materialised_version,
        )
    statement = update(MaterialisedWindow).where(MaterialisedWindow.id == WINDOW_ID)
    if checked:
        statement = statement.where(
            MaterialisedWindow.rota_version == read.rota_version,
            MaterialisedWindow.shifts_version == read.shifts_version,
        )
    result = await session.execute(
        statement.values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    for i in range(0, len(plan.delete_ids), 1000):
        chunk = plan.delete_ids[i : i + 1000]
        await session.execute(delete(ShiftInstance).where(ShiftInstance.id.in_(chunk)))
    for i in range(0, len(plan.insert_rows), 1000):
        await session.execute(insert(ShiftInstance), plan.insert_rows[i : i + 1000])
    return True


async def rematerialise(
    session: AsyncSession,
    now: datetime,
    *,
    teams: set[str] | None = None,
    specialists: set[int] | None = None,
) -> int:
    """Refresh stored shifts inside one transaction (CLI seeding); returns rows changed.

    Holds the lock while it calculates: for work that runs alone, never behind a request.
    """
    await lock_window(session)
    read, team_ids = await _read(session, now, teams, specialists or set())
    plan = _plan(read, teams, specialists or set(), team_ids)
    await _write(session, read, plan, now, checked=False)
    return len(plan.delete_ids) + len(plan.insert_rows)


async def refresh(
    db: Database,
    now: datetime,
    *,
    teams: set[str] | None = None,
    specialists: set[int] | None = None,
) -> int:
    """Refresh stored shifts (of the part of the rota linked to teams/people, or all).

    Reads, calculates with no connection held, then writes the difference briefly; starts
    again when a rota write or another refresh came in between. Returns rows changed.
    """
    people = specialists or set()
    for _ in range(OPTIMISTIC_ATTEMPTS):
        url = shared_url(db.engine)
        if url is not None:
            # The worker reads the rules and the stored rows over its own connection too.
            read, plan = await calculate(_read_and_plan, url, now, teams, people)
        else:
            async with db.transaction() as session:
                read, team_ids = await _read(session, now, teams, people)
            plan = await calculate(_plan, read, teams, people, team_ids)
        async with db.transaction() as session:
            if await _write(session, read, plan, now, checked=True):
                return len(plan.delete_ids) + len(plan.insert_rows)
    # Rules kept changing under us: one last time under the lock, which always succeeds.
    logger.warning("shift refresh raced with rota writes; refreshing under the lock")
    async with db.transaction() as session:
        return await rematerialise(session, now, teams=teams, specialists=people)


async def claim_refresh(db: Database, now: datetime) -> bool:
    """Under the lock: whether a whole rebuild is due and unclaimed; if so, claim it."""
    async with db.transaction() as session:
        await ensure_window(session)
        # The UPDATE takes the row lock (SQLite: the write lock) before "due" is decided, so
        # of N instances checking at once exactly one sees it due and claims it.
        await session.execute(
            update(MaterialisedWindow)
            .where(MaterialisedWindow.id == WINDOW_ID)
            .values(shifts_version=MaterialisedWindow.shifts_version)
            .execution_options(synchronize_session=False)
        )
        win = await session.get(MaterialisedWindow, WINDOW_ID, populate_existing=True)
        assert win is not None
        if not is_due(win, now):
            return False
        if win.claimed_until is not None and win.claimed_until > now:
            return False  # another instance is rebuilding it
        win.claimed_until = now + CLAIM
    return True


async def release_claim(db: Database) -> None:
    """Give up a claim after a failed rebuild, so another instance may try."""
    async with db.transaction() as session:
        await session.execute(
            update(MaterialisedWindow)
            .where(MaterialisedWindow.id == WINDOW_ID)
            .values(claimed_until=None)
            .execution_options(synchronize_session=False)
        )


async def refresh_if_due(db: Database, now: datetime) -> bool:
    """Rebuild the whole window when it runs low or lags the rules; True if this call did."""
    async with db.transaction() as session:
        win = await window(session)
    if win is not None and not is_due(win, now):
        return False  # the common case, without taking any lock
    if not await claim_refresh(db, now):
        return False
    try:
        await refresh(db, now)
    except Exception:
        await release_claim(db)
        raise
    return True
