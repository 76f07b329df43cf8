"""Closure queries."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

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
    return briefs_of(found.rows)


Briefs = tuple[dict[str, TeamBrief], list[ClosureBrief]]


def briefs_of(rows: Sequence[Sequence[Any]]) -> Briefs:
    """The teams by slug and their closures by start, from the rows `_hours_sql` reads
    (or `hours_column`'s, the same values as JSON: its instants ISO text)."""
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
    ) in rows:
        if part == 0:
            rules = json.loads(coverage) if isinstance(coverage, str) else coverage
            briefs[slug] = TeamBrief(slug, tz, rules or [], country, subdivision)
            continue
        starts, ends = from_db_time(starts_at), from_db_time(ends_at)
        assert starts is not None and ends is not None
        loaded = json.loads(messages) if isinstance(messages, str) else messages
        closures.append(ClosureBrief(id_, slug, starts, ends, loaded or {}))
    return briefs, closures if briefs else []


@dataclass
class HoursAhead:
    """The `hours` step's read, made ahead with the call's (PostgreSQL, `hours_column`):
    one round trip fewer for a webhook whose flow checks the hours before the caller
    hears anything. `teams`: what webhooks of its shape asked for before, over
    [start, end); `briefs`: what the read found (None: not read); `asked`: the teams the
    step asked for this time (None: it asked for none), for the next webhook to read.
    The step uses `briefs` only for teams among those and for the window they were read
    for (`briefs_for`)."""

    teams: tuple[str, ...]
    start: datetime
    end: datetime
    briefs: Briefs | None = None
    asked: tuple[str, ...] | None = None

    def params(self) -> tuple[Any, ...]:
        """`hours_column`'s parameters, in its placeholders' order."""
        start, end = to_db_time(self.start, sqlite=False), to_db_time(self.end, sqlite=False)
        return (*self.teams, start, end, *self.teams)

    def read(self, found: Any) -> None:
        """Keep what `hours_column` found (its JSON, as text or decoded)."""
        rows = json.loads(found) if isinstance(found, str) else found
        self.briefs = briefs_of(rows or [])

    def briefs_for(self, teams: Sequence[str], start: datetime, end: datetime) -> Briefs | None:
        """What `hours_briefs` would read for these teams over [start, end), if what was
        read ahead holds it: read for this window and for these teams, among others."""
        if self.briefs is None or start != self.start or end != self.end:
            return None
        if not set(teams) <= set(self.teams):
            return None
        read, closures = self.briefs
        briefs = {slug: read[slug] for slug in teams if slug in read}
        if not briefs:
            return {}, []
        return briefs, [c for c in closures if c.team is None or c.team in teams]


@lru_cache(maxsize=32)
def hours_column(teams: int) -> str:
    """PostgreSQL: what `_hours_sql` reads, as one JSON column of another statement
    (`[[part, slug, ...], ...]` in its order; `?` placeholders: `HoursAhead.params`)."""
    inner = (
        _hours_sql(teams)
        .sqlite.replace(
            "SELECT 0, slug, tz, coverage, holiday_country, holiday_subdivision, "
            "NULL, NULL, NULL, NULL ",
            "SELECT 0 AS part, slug, tz, coverage, holiday_country AS country, "
            "holiday_subdivision AS subdivision, NULL AS id, NULL AS starts_at, "
            "NULL AS ends_at, NULL AS messages ",
            1,
        )
        .replace(" ORDER BY 1, 8, 7", "")
    )
    return (
        "(SELECT coalesce(json_agg(json_build_array(h.part, h.slug, h.tz, h.coverage, "
        "h.country, h.subdivision, h.id, h.starts_at, h.ends_at, h.messages) "
        f"ORDER BY h.part, h.starts_at, h.id), '[]'::json) FROM ({inner}) AS h)"
    )
