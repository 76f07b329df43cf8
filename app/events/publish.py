"""Writing console events: one small insert in the transaction that made the change.

A webhook pays for one INSERT and nothing else: screen-pop data, wallboard figures and
delivery happen later, in the event hub of whichever app instance has a listener.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.driver_sql import Compiled, run_core_many
from app.models.console import ConsoleEvent

_TABLE = cast(Table, ConsoleEvent.__table__)
# Compiled once, run on the driver: a webhook's events cost it one statement, no more.
_INSERT = Compiled(
    insert(_TABLE).values(
        {c.name: bindparam(c.name, type_=c.type) for c in _TABLE.columns if c.name != "id"}
    )
)


def event_row(
    kind: str,
    *,
    at: datetime,
    specialist_id: int | None = None,
    team: str | None = None,
    call_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One event as a row for `publish`."""
    return {
        "kind": kind,
        "at": at,
        "specialist_id": specialist_id,
        "team": team,
        "call_id": call_id,
        "data": data,
    }


async def publish(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Append events in the current transaction (visible to listeners once it commits).

    However many there are, one call to the driver (on PostgreSQL one round trip).
    """
    await run_core_many(session, _INSERT, list(rows))
