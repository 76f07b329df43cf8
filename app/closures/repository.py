"""Closure queries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.driver_sql import Sql, from_db_time, is_sqlite, marks, run, to_db_time
from app.rota.repository import TeamBrief


@dataclass(frozen=True)
class ClosureBrief:
    """What the `hours` step reads of a closure."""

    id: int
    team: str | None
    starts_at: datetime
    ends_at: datetime
    messages: Mapping[str, str]


@lru_cache(maxsize=32)
def _hours_sql(teams: int) -> Sql:
    # One statement for both: the teams' rows (part 0) and the closures that concern them
    # (part 1), padded to the same columns. UNION ALL: the JSON columns need no equality.
    return Sql.of(
        "SELECT 0, slug, tz, coverage, holiday_country, holiday_subdivision, "
        "NULL, NULL, NULL, NULL "
        f"FROM teams WHERE slug IN ({marks(teams)}) "
        "UNION ALL "
        "SELECT 1, team, NULL, NULL, NULL, NULL, id, starts_at, ends_at, messages "
        "FROM closures WHERE ends_at > ? AND starts_at < ? "
        f"AND (team IS NULL OR team IN ({marks(teams)})) "
        "ORDER BY 1, 8, 7"
    )


async def hours_briefs(
    session: AsyncSession, teams: list[str], start: datetime, end: datetime
) -> tuple[dict[str, TeamBrief], list[ClosureBrief]]:
    """What the `hours` step reads, in one statement on the driver, no ORM objects: the
    teams with these slugs (those that exist) by slug, and the closures of these teams (or
    of every team) that overlap [start, end), by start (none when no team exists)."""
    if not teams:
        return {}, []
    sqlite = is_sqlite(session)
    params = (*teams, to_db_time(start, sqlite=sqlite), to_db_time(end, sqlite=sqlite), *teams)
    found = await run(session, _hours_sql(len(teams)), params)
    briefs: dict[str, TeamBrief] = {}
    closures: list[ClosureBrief] = []
    for (
        part,
        slug,
        tz,
        coverage,
        country,
        subdivision,
        id_,
        starts_at,
        ends_at,
        messages,
    ) in found.rows:
        if part == 0:
            rules = json.loads(coverage) if isinstance(coverage, str) else coverage
            briefs[slug] = TeamBrief(slug, tz, rules or [], country, subdivision)
            continue
        starts, ends = from_db_time(starts_at), from_db_time(ends_at)
        assert starts is not None and ends is not None
        loaded = json.loads(messages) if isinstance(messages, str) else messages
        closures.append(ClosureBrief(id_, slug, starts, ends, loaded or {}))
    return briefs, closures if briefs else []
