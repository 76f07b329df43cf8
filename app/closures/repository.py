"""Closure queries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.driver_sql import Sql, from_db_time, is_sqlite, marks, run, to_db_time


@dataclass(frozen=True)
class ClosureBrief:
    """What the `hours` step reads of a closure."""

    id: int
    team: str | None
    starts_at: datetime
    ends_at: datetime
    messages: Mapping[str, str]


@lru_cache(maxsize=32)
def _overlapping_sql(teams: int) -> Sql:
    return Sql.of(
        "SELECT id, team, starts_at, ends_at, messages FROM closures "
        f"WHERE ends_at > ? AND starts_at < ? AND (team IS NULL OR team IN ({marks(teams)})) "
        "ORDER BY starts_at, id"
    )


async def overlapping_briefly(
    session: AsyncSession, teams: list[str], start: datetime, end: datetime
) -> list[ClosureBrief]:
    """Closures of these teams (or of every team) that overlap [start, end), by start: one
    statement on the driver, no ORM objects (the call path's `hours` step reads them)."""
    sqlite = is_sqlite(session)
    found = await run(
        session,
        _overlapping_sql(len(teams)),
        (to_db_time(start, sqlite=sqlite), to_db_time(end, sqlite=sqlite), *teams),
    )
    out: list[ClosureBrief] = []
    for id_, team, starts_at, ends_at, messages in found.rows:
        starts, ends = from_db_time(starts_at), from_db_time(ends_at)
        assert starts is not None and ends is not None
        loaded = json.loads(messages) if isinstance(messages, str) else messages
        out.append(ClosureBrief(id_, team, starts, ends, loaded or {}))
    return out
