"""Materialised shift instances over a rolling horizon, so on-shift lookups are one index scan.

The final schedule between `now - LOOKBACK` and `now + HORIZON` is written to
`shift_instances` after every rota write (same transaction) and when the horizon runs low.
Lookups outside the window are calculated on the fly from the rules.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.rota import MaterialisedWindow, ShiftInstance
from app.rota.calculator import final_schedule
from app.rota.repository import load_snapshot
from app.rota.schemas import MAX_SHIFT_DAYS

# No shift is longer than this, so a shift running at X started after X - MAX_SHIFT.
MAX_SHIFT = timedelta(days=MAX_SHIFT_DAYS + 1)
LOOKBACK = timedelta(days=2) + MAX_SHIFT
HORIZON = timedelta(weeks=10)
REFRESH_WHEN_LEFT = timedelta(weeks=8)
WINDOW_ID = 1


async def window(session: AsyncSession) -> MaterialisedWindow | None:
    """The current materialised window, if any."""
    return await session.get(MaterialisedWindow, WINDOW_ID)


async def lock_window(session: AsyncSession) -> None:
    """Take the rota's write lock (the window row): rota writes and refreshes take turns.

    An UPDATE rather than SELECT ... FOR UPDATE, so that it takes SQLite's write lock too;
    whatever the transaction reads afterwards includes what the previous writer committed,
    so two writers never store shifts computed from each other's stale view.
    """
    await session.execute(
        update(MaterialisedWindow)
        .where(MaterialisedWindow.id == WINDOW_ID)
        .values(rota_version=MaterialisedWindow.rota_version)
        .execution_options(synchronize_session=False)
    )


def covers(win: MaterialisedWindow | None, at: datetime) -> bool:
    """Whether lookups at this instant can use the materialised table."""
    return win is not None and win.starts_at + MAX_SHIFT <= at < win.ends_at


async def rematerialise(
    session: AsyncSession, now: datetime, *, teams: set[str] | None = None
) -> int:
    """Recompute the stored shifts of the window (of some teams, or all); returns the count."""
    await lock_window(session)
    win = await session.get(MaterialisedWindow, WINDOW_ID, populate_existing=True)
    start, end = now - LOOKBACK, now + HORIZON
    if win is None or not covers(win, now):
        teams = None  # no usable window yet: build it whole
    elif teams is not None:
        # A partial refresh keeps the existing window so other teams stay consistent.
        assert win is not None
        start, end = win.starts_at, win.ends_at
    snapshot = await load_snapshot(session, start, end)
    # CPU-bound: a worker thread keeps the event loop (and other calls) responsive.
    shifts = await asyncio.to_thread(final_schedule, snapshot.rota, start, end)
    rows = [
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
    ]
    if teams is None:
        await session.execute(delete(ShiftInstance))
    else:
        # A day off in lieu earned in one team takes the person's shifts off in all their
        # teams: rewrite every team whose stored shifts differ, not only the teams named.
        rewrite = {snapshot.team_ids[t] for t in teams if t in snapshot.team_ids}
        rewrite |= await _stale_teams(session, rows)
        rows = [r for r in rows if r["team_id"] in rewrite]
        await session.execute(delete(ShiftInstance).where(ShiftInstance.team_id.in_(rewrite)))
    for i in range(0, len(rows), 1000):
        await session.execute(insert(ShiftInstance), rows[i : i + 1000])
    if win is None:
        session.add(
            MaterialisedWindow(
                id=WINDOW_ID, starts_at=start, ends_at=end, rota_version=1, refreshed_at=now
            )
        )
    else:
        win.starts_at, win.ends_at = start, end
        win.rota_version += 1
        win.refreshed_at = now
    await session.flush()
    return len(rows)


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


async def _stale_teams(session: AsyncSession, rows: list[dict[str, Any]]) -> set[int]:
    """Ids of teams whose stored shifts are not exactly `rows` (the calculated ones)."""
    wanted: defaultdict[int, Counter[tuple[Any, ...]]] = defaultdict(Counter)
    for row in rows:
        wanted[row["team_id"]][tuple(row[c] for c in _COLUMNS)] += 1
    stored: defaultdict[int, Counter[tuple[Any, ...]]] = defaultdict(Counter)
    columns = [getattr(ShiftInstance, c) for c in _COLUMNS]
    for found in await session.execute(select(*columns)):
        stored[found[0]][tuple(found)] += 1
    return {tid for tid in wanted.keys() | stored.keys() if wanted[tid] != stored[tid]}


async def refresh_if_due(session: AsyncSession, now: datetime) -> bool:
    """Extend the window when less than REFRESH_WHEN_LEFT of it is ahead; True if it ran."""
    win = await window(session)
    if win is not None and win.ends_at - now >= REFRESH_WHEN_LEFT and win.starts_at <= now:
        return False
    await rematerialise(session, now)
    return True
