"""The people on shift in a team as routing reads them, and the team itself.

Routing asks two things of the database: the team (its languages, whether its shifts are
stored for the instant, its queue line) and the people on shift in it, each with their
shift and presence row, in one statement. Statements are built once per shape: building
one costs more than running it.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    Subquery,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from app.core.db import dialect_of
from app.core.driver_sql import Compiled
from app.models.call import RingAttempt
from app.models.rota import MaterialisedWindow, Specialist, Team
from app.models.routing import QueueEntry, SpecialistPresence
from app.rota import materialise
from app.rota.lookup import (
    instant,
    instant_column,
    on_shift,
    read,
    running_shifts,
    tags,
    tags_column,
    when,
    window_covers,
)
from app.routing import presence
from app.routing.order import Strategy
from app.routing.queue import IN_LINE, Line, in_team_line, line_of


@dataclass(frozen=True)
class TeamView:
    """The team as routing reads it first: its languages, its queue, the stored shifts."""

    slug: str
    languages: tuple[str, ...]
    stored: bool  # the materialised window covers the instant: shifts can be read stored
    line: Line

    def serves(self, language: str) -> bool:
        """Whether the team takes calls in this language (a team without languages: all)."""
        return not self.languages or language in self.languages


class ShiftRow(NamedTuple):
    """A person on shift in the team, with their shift and their presence row."""

    specialist_id: int
    name: str
    contact: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    source_kind: str
    covering_for: int | None
    state: str | None  # presence; None: no presence row yet
    held_until: datetime | None
    call_id: int | None
    idle_since: datetime | None
    availability: str | None  # available, away, offline; None: no presence row (available)


ROW_WIDTH = len(ShiftRow._fields)


def row_of(values: Sequence[Any]) -> ShiftRow:
    """A `ShiftRow` from the first columns of `people_query`."""
    sid, name, contact, languages, skills, starts, ends, *rest = values[:ROW_WIDTH]
    shift = (instant(starts), instant(ends))
    return ShiftRow(sid, name, contact, tags(languages), tags(skills), *shift, *rest)


@lru_cache(maxsize=1)
def _team_query() -> Select[*tuple[Any, ...]]:
    query: Select[*tuple[Any, ...]] = (
        select(tags_column(Team.languages), window_covers().label("stored"))
        .select_from(Team)
        .outerjoin(MaterialisedWindow, MaterialisedWindow.id == materialise.WINDOW_ID)
        .where(Team.slug == bindparam("team"))
    )
    return query


async def read_team(
    session: AsyncSession, slug: str, *, now: datetime, call_id: int | None
) -> TeamView | None:
    """The team's languages and queue (with the call's own entry); None: no such team."""
    found = (await session.execute(_team_query(), {**when(now), "team": slug})).first()
    if found is None:
        return None
    languages, stored = found
    line = await read_line(session, slug, call_id=call_id)
    return TeamView(slug, tags(languages), bool(stored), line)


_QUEUE = typing.cast(Table, QueueEntry.__table__)
_ENTRY_FIELDS = tuple(column.key for column in _QUEUE.c)
_ENTRIES = QueueEntry.__mapper__.class_manager


@lru_cache(maxsize=2)
def _line_statement(first: bool = False) -> Compiled:
    """The call's own entry and the team's line, each with whom its call rang.

    Two SELECTs, not one over an OR: SQLite reads an OR of the two by scanning the table.
    An entry in both comes twice (`read_line` keeps it once). `first`: of the line only
    the first :first_n in line order (highest priority, then longest waiting).
    """

    def entries(rows: Any, where: ColumnElement[bool] | None) -> Select[*tuple[Any, ...]]:
        query: Select[*tuple[Any, ...]] = (
            select(*rows.c, RingAttempt.specialist_id)
            .select_from(rows)
            .outerjoin(RingAttempt, RingAttempt.call_id == rows.c.call_id)
        )
        return query if where is None else query.where(where)

    own = entries(_QUEUE, _QUEUE.c.call_id == bindparam("call_id"))
    if not first:
        return Compiled(union_all(own, entries(_QUEUE, in_team_line(bindparam("team")))))
    ahead = (
        select(_QUEUE)
        .where(in_team_line(bindparam("team")))
        .order_by(_QUEUE.c.priority.desc(), _QUEUE.c.enqueued_at, _QUEUE.c.id)
        .limit(bindparam("first_n", type_=Integer))
        .subquery("first_in_line")
    )
    return Compiled(union_all(own, entries(ahead, None)))


def _entry(session: AsyncSession, fields: dict[str, Any], *, own: bool) -> QueueEntry:
    """The entry as the session knows it; else the call's own entry made persistent from
    the row (routing changes it: `route_live`), another caller's a copy only read."""
    found = session.identity_map.get(identity_key(QueueEntry, fields["id"]))
    if found is not None:
        return found
    entry: QueueEntry = _ENTRIES.new_instance()
    entry.__dict__.update(fields)
    if own:
        make_transient_to_detached(entry)
        session.add(entry)
    return entry


async def read_line(
    session: AsyncSession, slug: str, *, call_id: int | None, first: int | None = None
) -> Line:
    """The team's queue (and the call's own entry), in one statement compiled once and run
    on the driver: no ORM load (the call's own entry joins the session as loaded).

    `first`: only the first that many callers in line (`Line.whole` says whether that was
    all of them): a routing decision needs no more than one caller ahead per free person.
    """
    params: dict[str, Any] = {"team": slug, "call_id": call_id or 0}
    if first is not None:
        params["first_n"] = first
    rows = await read(session, _line_statement(first is not None), params)
    width = len(_ENTRY_FIELDS)
    entries: dict[int, QueueEntry] = {}
    pairs: list[tuple[QueueEntry | None, int | None]] = []
    in_line = 0
    for values in rows:
        fields = dict(zip(_ENTRY_FIELDS, values[:width], strict=True))
        entry = entries.get(fields["id"])
        if entry is None:
            own = call_id is not None and fields["call_id"] == call_id
            entry = entries[fields["id"]] = _entry(session, fields, own=own)
            in_line += fields["team"] == slug and fields["state"] in IN_LINE
        pairs.append((entry, values[width]))
    line = line_of(call_id, pairs)
    if first is not None and in_line >= first:
        return replace(line, whole=False)  # perhaps more behind them
    return line


def _contains(dialect: str, column: Any, param: str) -> ColumnElement[bool]:
    """SQL: a JSON list of codes holds the code whose JSON text is :param.

    Codes are validated (letters, digits, - and _), so a list's JSON text holds '"code"'
    exactly when the list holds the code; rows read are checked again in Python.
    """
    text = cast(column, Text)
    position = func.strpos if dialect == "postgresql" else func.instr
    return position(text, bindparam(param)) > 0


def _with_people(dialect: str, running: Subquery) -> tuple[FromClause, FromClause, FromClause]:
    """The running shifts joined to their active specialists and presence rows (outer).

    Returns the join and the two joined tables. PostgreSQL would hash every specialist to
    join a few hundred shifts; looked up one by one (LATERAL, kept a subquery by OFFSET 0)
    they read only the rows needed, as SQLite does.
    """
    specialists: FromClause = Specialist.__table__
    rows: FromClause = SpecialistPresence.__table__
    of_shift = running.c.specialist_id
    if dialect != "postgresql":
        joined = running.join(
            specialists, and_(specialists.c.id == of_shift, specialists.c.active)
        ).outerjoin(rows, rows.c.specialist_id == of_shift)
        return joined, specialists, rows
    person = (
        select(specialists)
        .where(specialists.c.id == of_shift, specialists.c.active)
        .offset(0)
        .lateral("person")
    )
    state = select(rows).where(rows.c.specialist_id == of_shift).offset(0).lateral("state")
    joined = running.join(person, true()).outerjoin(state, true())
    return joined, person, state


@lru_cache(maxsize=64)
def people_query(
    dialect: str, *, shortlist: bool, skill: bool, strategy: Strategy
) -> Select[*tuple[Any, ...]]:
    """The people on shift in :team at :now with their presence (`ShiftRow` columns).

    A shortlist also reads what live routing needs of the team: its languages, whether
    the team serves :language, and whether its queue matters (the call has a queue entry,
    or callers wait for the team). It adds speaks, skilled and busy flags, and is ordered:
    those who can take the call (who speak its language where the team serves it, not
    already rung), free ones first in ringing order, then busy ones; then everyone else.
    Up to :limit rows; none when the stored shifts do not cover :now.
    """
    running = running_shifts(dialect, by_team=True)
    joined, person, state = _with_people(dialect, running)
    query = select(
        running.c.specialist_id,
        person.c.name,
        person.c.contact,
        tags_column(person.c.languages),
        tags_column(person.c.skills),
        instant_column(running.c.starts_at, dialect),
        instant_column(running.c.ends_at, dialect),
        running.c.source_kind,
        running.c.covering_for,
        state.c.state,
        state.c.held_until,
        state.c.call_id,
        state.c.idle_since,
        state.c.availability,
    ).select_from(joined)
    if not shortlist:
        return query
    # The team once, as a one-row table: a subquery repeated in each expression would be
    # planned again for each (PostgreSQL plans this statement on every call).
    team = (
        select(
            tags_column(Team.languages).label("languages"),
            or_(
                func.json_array_length(Team.languages) == 0,
                _contains(dialect, Team.languages, "language"),
            ).label("serves"),
            # Two EXISTS, not one over an OR: each is an index lookup in any plan.
            or_(
                select(QueueEntry.id).where(QueueEntry.call_id == bindparam("call_id")).exists(),
                select(QueueEntry.id).where(in_team_line(bindparam("team"))).exists(),
            ).label("queued"),
        )
        .where(Team.slug == bindparam("team"))
        .subquery("team")
    )
    serves = team.c.serves
    stored = select(MaterialisedWindow.id).where(
        MaterialisedWindow.id == materialise.WINDOW_ID, window_covers()
    )
    speaks = _contains(dialect, person.c.languages, "language")
    skilled = _contains(dialect, person.c.skills, "skill") if skill else false()
    busy = presence.busy_flag(state)
    rung = _among(dialect, running.c.specialist_id, "exclude")
    away = func.coalesce(state.c.availability, "available") != "available"
    keys: list[Any] = [
        case((or_(rung, and_(serves, ~speaks), away), 1), else_=0),
        busy,
        case((speaks, 0), else_=1),
    ]
    if skill:
        keys.append(case((skilled, 0), else_=1))
    if strategy == "longest_idle":
        keys += [state.c.idle_since.is_not(None), state.c.idle_since]
    elif strategy == "round_robin":
        last = (
            select(RingAttempt.specialist_id)
            .where(RingAttempt.team == bindparam("team"), RingAttempt.specialist_id.is_not(None))
            .order_by(RingAttempt.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        keys.append(case((running.c.specialist_id > last, 0), else_=1))
    # A person's shifts in the team, the one `everyone` keeps first (`shift_rank`).
    keys += [
        running.c.specialist_id,
        running.c.starts_at,
        running.c.ends_at.desc(),
        running.c.source_kind,
        func.coalesce(running.c.covering_for, 0),
    ]
    flags = (speaks.label("speaks"), skilled.label("skilled"), busy.label("busy"))
    return (
        query.add_columns(*flags, team.c.languages, team.c.serves, team.c.queued)
        .join(team, true())
        .where(stored.exists())
        .order_by(*keys)
        .limit(bindparam("limit"))
    )


def _among(dialect: str, column: Any, param: str) -> ColumnElement[bool]:
    """SQL: the column's value is one of :param, a list given as one parameter (`ids_param`):
    an array on PostgreSQL, JSON text on SQLite. One parameter, so the statement's text
    does not change with the list's length and it compiles once (`people_statement`)."""
    if dialect == "postgresql":
        among: ColumnElement[bool] = column == func.any(bindparam(param, type_=ARRAY(Integer)))
        return among
    ids = func.json_each(bindparam(param, type_=Text)).table_valued("value")
    among = column.in_(select(ids.c.value).scalar_subquery())
    return among


def ids_param(dialect: str, ids: Sequence[int]) -> Any:
    """The value of a list parameter of `_among`."""
    return list(ids) if dialect == "postgresql" else json.dumps(list(ids))


@lru_cache(maxsize=64)
def people_statement(dialect: str, *, skill: bool, strategy: Strategy) -> Compiled:
    """The shortlist's `people_query`, compiled once to run on the driver (`run_core`)."""
    return Compiled(people_query(dialect, shortlist=True, skill=skill, strategy=strategy))


async def everyone(session: AsyncSession, team: TeamView, now: datetime) -> list[ShiftRow]:
    """Everyone on shift in the team with their presence, each once (by `shift_rank`)."""
    if team.stored:
        query = people_query(
            dialect_of(session), shortlist=False, skill=False, strategy="fixed_order"
        )
        rows = [
            row_of(values)
            for values in await read(session, query, {**when(now), "team": team.slug})
        ]
    else:
        shifts = await on_shift(session, now, team=team.slug)
        found = {
            sid: row
            for sid, *row in await session.execute(
                select(
                    SpecialistPresence.specialist_id,
                    SpecialistPresence.state,
                    SpecialistPresence.held_until,
                    SpecialistPresence.call_id,
                    SpecialistPresence.idle_since,
                    SpecialistPresence.availability,
                ).where(SpecialistPresence.specialist_id.in_({s.specialist_id for s in shifts}))
            )
        }
        rows = [
            ShiftRow(
                s.specialist_id,
                s.name,
                s.contact,
                s.languages,
                s.skills,
                s.starts_at,
                s.ends_at,
                s.source_kind,
                s.covering_for,
                *found.get(s.specialist_id, (None, None, None, None, None)),
            )
            for s in shifts
        ]
    first: dict[int, ShiftRow] = {}
    for row in rows:
        seen = first.get(row.specialist_id)
        if seen is None or shift_rank(row) < shift_rank(seen):
            first[row.specialist_id] = row
    return list(first.values())


def shift_rank(row: ShiftRow) -> tuple[datetime, float, str, int]:
    """Sort key of a person's shifts in the team: routing shows the first.

    The earliest to start, then the longest, then by kind and the person covered, as
    `people_query` orders them: two shifts starting together always give one answer.
    """
    return (row.starts_at, -row.ends_at.timestamp(), row.source_kind, row.covering_for or 0)
