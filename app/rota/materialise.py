"""Materialised shift instances over a rolling horizon, so on-shift lookups are one index scan.

The final schedule between `now - LOOKBACK` and `now + HORIZON` is written to
`shift_instances` after every rota write (same transaction) and when the horizon runs low.
Lookups outside the window are calculated on the fly from the rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert
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


def covers(win: MaterialisedWindow | None, at: datetime) -> bool:
    """Whether lookups at this instant can use the materialised table."""
    return win is not None and win.starts_at + MAX_SHIFT <= at < win.ends_at


async def rematerialise(
    session: AsyncSession, now: datetime, *, teams: set[str] | None = None
) -> int:
    """Recompute the stored shifts of the window (of some teams, or all); returns the count."""
    win = await window(session)
    start, end = now - LOOKBACK, now + HORIZON
    if win is None or not covers(win, now):
        teams = None  # no usable window yet: build it whole
    elif teams is not None:
        # A partial refresh keeps the existing window so other teams stay consistent.
        assert win is not None
        start, end = win.starts_at, win.ends_at
    snapshot = await load_snapshot(session, start, end)
    if teams is None:
        shifts = final_schedule(snapshot.rota, start, end)
        await session.execute(delete(ShiftInstance))
    else:
        shifts = [
            shift
            for team in sorted(teams & set(snapshot.team_ids))
            for shift in final_schedule(snapshot.rota, start, end, team=team)
        ]
        team_ids = [snapshot.team_ids[t] for t in teams if t in snapshot.team_ids]
        await session.execute(delete(ShiftInstance).where(ShiftInstance.team_id.in_(team_ids)))
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


async def refresh_if_due(session: AsyncSession, now: datetime) -> bool:
    """Extend the window when less than REFRESH_WHEN_LEFT of it is ahead; True if it ran."""
    win = await window(session)
    if win is not None and win.ends_at - now >= REFRESH_WHEN_LEFT and win.starts_at <= now:
        return False
    await rematerialise(session, now)
    return True
