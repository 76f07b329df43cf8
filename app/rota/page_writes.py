"""Rota edits from the console: the API's dry run as a preview (with gaps), then the write.

Each edit runs in a transaction of its own, so that a refused edit (422, 412) rolls back
completely and the page can still answer with the form as it was typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.core.calc_pool import calculate
from app.core.db import Database
from app.core.errors import DryRunOutcome
from app.rota.calculator import Gap, coverage_gaps
from app.rota.repository import load_snapshot
from app.rota.schemas import ScheduleChange
from app.rota.writes import PREVIEW, RotaWrite

Action = Callable[[AsyncSession, RotaWrite], Awaitable[Any]]
Check = Callable[[AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class Preview:
    """What an edit would change in the next four weeks: shifts, days off and the team's gaps."""

    change: ScheduleChange
    gaps_opened: list[Gap]
    gaps_closed: list[Gap]


class _Previewed(Exception):
    def __init__(self, preview: Preview) -> None:
        super().__init__("previewed")
        self.preview = preview


async def _gaps(session: AsyncSession, team: str, start: datetime, end: datetime) -> list[Gap]:
    snapshot = await load_snapshot(session, start, end)
    if team not in snapshot.rota.teams:
        return []
    return await calculate(coverage_gaps, snapshot.rota, team, start, end)


def _key(g: Gap) -> tuple[object, ...]:
    return (g.start, g.end, g.rule_index, g.staffed)


async def preview_edit(
    db: Database,
    principal: Principal,
    now: datetime,
    team: str,
    action: Action,
    check: Check | None = None,
) -> Preview:
    """Run the edit as a dry run (as `?dry_run=true` does) and roll it back."""
    try:
        async with db.transaction() as session:
            write = await RotaWrite(session, principal, now, dry_run=True).start()
            if check is not None:
                await check(session)
            before = await _gaps(session, team, now, now + PREVIEW)
            try:
                await action(session, write)
            except DryRunOutcome as outcome:
                after = await _gaps(session, team, now, now + PREVIEW)
                old, new = {_key(g) for g in before}, {_key(g) for g in after}
                raise _Previewed(
                    Preview(
                        change=outcome.result,
                        gaps_opened=[g for g in after if _key(g) not in old],
                        gaps_closed=[g for g in before if _key(g) not in new],
                    )
                ) from None
    except _Previewed as done:
        return done.preview
    raise RuntimeError("the edit finished its dry run without a result")


async def apply_edit(
    db: Database, principal: Principal, now: datetime, action: Action, check: Check | None = None
) -> Any:
    """Make the edit for real (after the stale-state check); returns what the service returned."""
    async with db.transaction() as session:
        write = await RotaWrite(
            session, principal, now, dry_run=False, refresh_after_commit=True
        ).start()
        if check is not None:
            await check(session)
        return await action(session, write)
