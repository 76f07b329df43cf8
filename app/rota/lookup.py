"""Who is on shift now: the indexed lookup routing calls on every incoming call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, overload

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Executable,
    Row,
    Select,
    String,
    Subquery,
    Text,
    TextClause,
    and_,
    bindparam,
    cast,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import dialect_of
from app.core.driver_sql import Compiled, run_core
from app.models.rota import (
    LONG_SHIFT_POSTGRESQL,
    LONG_SHIFT_SQLITE,
    MaterialisedWindow,
    ShiftInstance,
    Specialist,
    Team,
)
from app.rota import materialise
from app.rota.calculator import on_shift_at
from app.rota.repository import load_snapshot, team_by_slug

# A shift running at X started after X - MAX_SHIFT, but scanning that many shift starts
# reads two weeks of shifts per lookup. Shifts are split at RECENT instead: those that
# started within it (a day of shift starts), and those that started earlier, which last
# longer than RECENT and are found through the partial index of the shifts over 12 hours
# (ix_shift_instances_team_long: the query repeats its predicate, so the planner uses it).
RECENT = timedelta(days=1)
LONG_SHIFT = {"sqlite": LONG_SHIFT_SQLITE, "postgresql": LONG_SHIFT_POSTGRESQL}


class OnShift(NamedTuple):
    """A specialist on shift at an instant, with the shift that puts them there."""

    specialist_id: int
    name: str
    contact: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    team: str
    starts_at: datetime
    ends_at: datetime
    local_date: date
    source_kind: str
    rotation_id: int | None
    override_id: int | None
    covering_for: int | None
    key: str


@lru_cache(maxsize=4096)
def tags(stored: str) -> tuple[str, ...]:
    """A stored JSON list of codes (languages, skills) as a tuple.

    Read as text and parsed here: most people share one of a few lists, so each is parsed
    once rather than on every row.
    """
    return tuple(json.loads(stored))


def tags_column(column: Any) -> ColumnElement[str]:
    """A JSON list column read as its text, for `tags`."""
    return cast(column, Text)


def instant_column(column: Any, dialect: str) -> ColumnElement[Any]:
    """A timestamp column read as the driver returns it, for `instant`.

    SQLite's text is parsed by `instant`, once per distinct value (people share shift
    times); PostgreSQL's driver already returns aware UTC datetimes.
    """
    if dialect == "sqlite":
        return type_coerce(column, String)
    return type_coerce(column, DateTime(timezone=True))


def day_column(column: Any, dialect: str) -> ColumnElement[Any]:
    """A date column read as the driver returns it, for `day`."""
    return type_coerce(column, String) if dialect == "sqlite" else column


@lru_cache(maxsize=4096)
def _stored_instant(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@lru_cache(maxsize=1024)
def _stored_day(text: str) -> date:
    return date.fromisoformat(text)


def instant(value: datetime | str) -> datetime:
    """An aware UTC datetime from `instant_column` (as app.models.base.UTCDateTime reads it)."""
    if isinstance(value, str):
        return _stored_instant(value)
    return value.astimezone(UTC) if value.tzinfo is not UTC else value


def day(value: date | str) -> date:
    """A date from `day_column`."""
    return _stored_day(value) if isinstance(value, str) else value


@overload
async def read(
    session: AsyncSession, statement: Compiled, params: dict[str, Any]
) -> list[Sequence[Any]]: ...


@overload
async def read(
    session: AsyncSession, statement: Executable, params: dict[str, Any]
) -> list[Row[*tuple[Any, ...]]]: ...


async def read(
    session: AsyncSession, statement: Executable | Compiled, params: dict[str, Any]
) -> list[Row[*tuple[Any, ...]]] | list[Sequence[Any]]:
    """The rows of a Core statement, skipping the ORM's work on each row; a statement
    compiled once (`driver_sql.Compiled`, the live shortlist) runs on the driver.

    Pending changes are flushed first, as `session.execute` would.
    """
    if session.autoflush and (session.new or session.dirty or session.deleted):
        await session.flush()
    if isinstance(statement, Compiled):
        return (await run_core(session, statement, params)).rows
    connection = await session.connection()
    return list((await connection.execute(statement, params)).all())


def when(at: datetime) -> dict[str, datetime]:
    """Parameters of the statements built on `running_shifts` and `window_covers`."""
    return {"at": at, "recent": at - RECENT, "since": at - materialise.MAX_SHIFT}


@lru_cache(maxsize=8)
def running_shifts(dialect: str, *, by_team: bool) -> Subquery:
    """Stored shifts running at :at (of the team with slug :team), as a subquery.

    Parameters from `when`. Only valid where the window covers :at (`window_covers`).
    Built once per database: building a statement costs more than running it.
    """
    long_shift = LONG_SHIFT.get(dialect)

    def started(
        after: str, until: str, *extra: ColumnElement[bool] | TextClause
    ) -> Select[*tuple[Any, ...]]:
        query: Select[*tuple[Any, ...]] = select(
            ShiftInstance.id,
            ShiftInstance.team_id,
            ShiftInstance.specialist_id,
            ShiftInstance.starts_at,
            ShiftInstance.ends_at,
            ShiftInstance.local_date,
            ShiftInstance.source_kind,
            ShiftInstance.rotation_id,
            ShiftInstance.override_id,
            ShiftInstance.covering_for,
            ShiftInstance.key,
        ).where(
            ShiftInstance.starts_at > bindparam(after),
            ShiftInstance.starts_at <= bindparam(until),
            ShiftInstance.ends_at > bindparam("at"),
            *extra,
        )
        if by_team:
            team_id = select(Team.id).where(Team.slug == bindparam("team")).scalar_subquery()
            return query.where(ShiftInstance.team_id == team_id)
        # Every shift has its team; naming them lets the (team_id, starts_at) index serve.
        return query.where(ShiftInstance.team_id.in_(select(Team.id)))

    if long_shift is None:  # another database: the plain two-week scan
        return started("since", "at").subquery("running")
    recent = started("recent", "at")
    earlier = started("since", "recent", text(long_shift))
    return union_all(recent, earlier).subquery("running")


def window_covers() -> ColumnElement[bool]:
    """SQL condition on the window row: lookups at :at can use the stored shifts."""
    return and_(
        MaterialisedWindow.starts_at <= bindparam("since"),
        MaterialisedWindow.ends_at > bindparam("at"),
    )


def _matches(on: OnShift, language: str | None, skill: str | None) -> bool:
    if language is not None and language not in on.languages:
        return False
    return skill is None or skill in on.skills


@lru_cache(maxsize=8)
def _stored_query(dialect: str, by_team: bool) -> Select[*tuple[Any, ...]]:
    running = running_shifts(dialect, by_team=by_team)
    return (
        select(
            window_covers().label("covers"),
            running.c.specialist_id,
            Specialist.name,
            Specialist.contact,
            tags_column(Specialist.languages),
            tags_column(Specialist.skills),
            Specialist.active,
            Team.slug,
            instant_column(running.c.starts_at, dialect),
            instant_column(running.c.ends_at, dialect),
            day_column(running.c.local_date, dialect),
            running.c.source_kind,
            running.c.rotation_id,
            running.c.override_id,
            running.c.covering_for,
            running.c.key,
        )
        .select_from(MaterialisedWindow)
        .outerjoin(running, window_covers())
        .outerjoin(Specialist, Specialist.id == running.c.specialist_id)
        .outerjoin(Team, Team.id == running.c.team_id)
        .where(MaterialisedWindow.id == materialise.WINDOW_ID)
    )


async def _stored(session: AsyncSession, at: datetime, team: str | None) -> list[OnShift] | None:
    """The stored shifts running at `at`, or None when the window does not cover it.

    One statement: the window row, left-joined to the running shifts when it covers `at`.
    """
    query = _stored_query(dialect_of(session), team is not None)
    params: dict[str, Any] = {**when(at), "team": team} if team is not None else when(at)
    rows = await read(session, query, params)
    if not rows or not rows[0][0]:
        return None
    out: list[OnShift] = []
    for row in rows:
        _, sid, name, contact, languages, skills, active, slug, starts, ends, local, *rest = row
        if sid is not None and active:
            when_ = (instant(starts), instant(ends), day(local))
            out.append(
                OnShift(sid, name, contact, tags(languages), tags(skills), slug, *when_, *rest)
            )
    return out


async def _calculated(session: AsyncSession, at: datetime, team: str | None) -> list[OnShift]:
    """Shifts running at `at` calculated from the rules (outside the materialised window)."""
    if team is not None and await team_by_slug(session, team) is None:
        return []
    snapshot = await load_snapshot(session, at - timedelta(days=1), at + timedelta(days=1))
    shifts = await asyncio.to_thread(on_shift_at, snapshot.rota, at, team=team)
    people = {
        row.id: row
        for row in await session.execute(
            select(
                Specialist.id,
                Specialist.name,
                Specialist.contact,
                tags_column(Specialist.languages).label("languages"),
                tags_column(Specialist.skills).label("skills"),
                Specialist.active,
            ).where(Specialist.id.in_({s.specialist_id for s in shifts}))
        )
    }
    out: list[OnShift] = []
    for shift in shifts:
        spec = people[shift.specialist_id]
        if spec.active:
            src = shift.source
            out.append(
                OnShift(
                    spec.id,
                    spec.name,
                    spec.contact,
                    tags(spec.languages),
                    tags(spec.skills),
                    shift.team,
                    shift.start,
                    shift.end,
                    shift.local_date,
                    src.kind,
                    src.rotation_id,
                    src.override_id,
                    src.covering_for,
                    shift.key,
                )
            )
    return out


async def on_shift(
    session: AsyncSession,
    at: datetime,
    *,
    team: str | None = None,
    language: str | None = None,
    skill: str | None = None,
) -> list[OnShift]:
    """Shifts running at `at` (optionally of one team, language, skill), by start then name."""
    found = await _stored(session, at, team)
    if found is None:
        found = await _calculated(session, at, team)
    out = [o for o in found if _matches(o, language, skill)]
    out.sort(key=lambda o: (o.starts_at, o.team, o.name, o.specialist_id))
    # One person is one line per team, even if overrides from before double bookings were
    # refused put them on two shifts at once: the earliest-starting shift stands for them.
    seen: set[tuple[int, str]] = set()
    unique = []
    for o in out:
        if (o.specialist_id, o.team) not in seen:
            seen.add((o.specialist_id, o.team))
            unique.append(o)
    return unique
