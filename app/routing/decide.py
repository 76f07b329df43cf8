"""One routing decision: everyone on shift in a team, in ringing order, each with a status.

`consider` reads only; the webhook driver then reserves the first candidates atomically
(app.routing.presence), `switchboard simulate` and `/v1/routing/explain` print it.
`shortlist` is the same decision for live routing, cut short: the database filters and
orders the people on shift (app.routing.roster) and returns only the first few, enough
for one ringing batch, so its cost hardly grows with the number on shift.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import dialect_of
from app.core.phone import contact_kind
from app.models.call import RingAttempt
from app.models.routing import QueueEntry
from app.rota.lookup import read, tags, when
from app.routing import presence
from app.routing.order import Person, Strategy, order
from app.routing.queue import (
    Line,
    Place,
    active_entry,
    held_for_others,
    priority_of,
    waiting_ahead,
)
from app.routing.roster import (
    ROW_WIDTH,
    ShiftRow,
    TeamView,
    everyone,
    ids_param,
    people_statement,
    read_line,
    read_team,
    row_of,
)

Status = Literal[
    "candidate", "busy", "held", "already_rung", "lacks_language", "no_contact", "away"
]
# Rows a shortlist reads beyond one ringing batch (and the callers ahead, who may each
# keep one of them): duplicates, undialable contacts and a few callers ahead need no
# second read.
SHORTLIST_SPARE = 3
# Callers in line a shortlist reads first: each caller ahead keeps at most one free person,
# so once those read keep everyone free, the rest cannot change the decision; while someone
# is left free, it reads further (at least as many more as are free, doubling). A line
# shorter than this is read whole in one statement, as ever; behind 800 waiting callers a
# decision costs ~2.5 ms of CPU where reading the whole line cost ~25-29 ms.
LINE_FIRST = 64


@dataclass(frozen=True)
class RouteRequest:
    """What a route step asks for."""

    team: str
    language: str
    skill: str | None = None
    tier: str = "standard"
    strategy: Strategy = "longest_idle"
    batch_size: int = 2


@dataclass(frozen=True)
class Considered:
    """One person on shift in the team and whether they can be rung now."""

    person: Person
    status: Status
    reason: str


@dataclass(frozen=True)
class Decision:
    """Everyone on shift in the team: candidates first, in ringing order, then the rest.

    A shortlist (`complete` false) holds only the first of them in the database's order:
    candidates, then people who are busy, then those who cannot take the call.
    """

    request: RouteRequest
    team_exists: bool
    serves_language: bool
    considered: tuple[Considered, ...]
    complete: bool = True
    rowless: frozenset[int] = frozenset()  # of those considered: no presence row yet

    @property
    def candidates(self) -> list[Person]:
        """Who may be rung now, in order."""
        return [c.person for c in self.considered if c.status == "candidate"]

    @property
    def could_wait(self) -> bool:
        """Someone who could take the call is busy or kept for a caller ahead in line."""
        return any(c.status in ("busy", "held") for c in self.considered)


class _Statuses:
    """Python's view of each row, as `consider` judges every person on shift."""

    def __init__(
        self,
        request: RouteRequest,
        serves: bool,
        *,
        now: datetime,
        call_id: int | None,
        exclude: Collection[int],
    ) -> None:
        self.request, self.serves, self.now = request, serves, now
        self.call_id, self.exclude = call_id, exclude
        self._when: dict[tuple[datetime, datetime], str] = {}

    def busy(self, row: ShiftRow) -> bool:
        """The presence row is `taken` (by another call than this one)."""
        if presence.free_at(row.state, row.held_until, self.now):
            return False
        return self.call_id is None or row.call_id != self.call_id

    def person(self, row: ShiftRow) -> Person:
        """The row's person, with the shift that puts them on duty."""
        span = self._when.get((row.starts_at, row.ends_at))
        if span is None:
            span = f"{row.starts_at:%a %H:%M}-{row.ends_at:%a %H:%M} UTC"
            self._when[(row.starts_at, row.ends_at)] = span
        source = row.source_kind + (
            f" for specialist {row.covering_for}" if row.covering_for else ""
        )
        team = self.request.team
        return Person(
            specialist_id=row.specialist_id,
            name=row.name,
            contact=row.contact,
            team=team,
            languages=row.languages,
            skills=row.skills,
            idle_since=row.idle_since,
            shift=f"on shift in {team} {span} ({source})",
        )

    def status(self, row: ShiftRow, person: Person) -> tuple[Status, str]:
        """Whether the person can be rung now, and why not."""
        language = self.request.language
        if self.serves and language not in person.languages:
            return "lacks_language", f"does not speak {language}"
        if contact_kind(person.contact) is None:
            return "no_contact", f"contact {person.contact!r} cannot be dialled"
        if person.specialist_id in self.exclude:
            return "already_rung", "already rung for this call"
        if row.availability not in (None, "available"):
            return "away", f"set themselves {row.availability}"
        if self.busy(row):
            return "busy", "on a call" if row.state == "busy" else "being rung for another call"
        return "candidate", ""


def _decide(
    statuses: _Statuses,
    team: TeamView,
    place: Place,
    ranked: Sequence[tuple[Person, Status, str]],
    *,
    complete: bool,
    rowless: frozenset[int],
) -> Decision:
    """The decision from people in ringing order: hold some for callers ahead, explain."""
    request = statuses.request
    free = [(p.specialist_id, p.languages) for p, status, _ in ranked if status == "candidate"]
    held: dict[int, QueueEntry] = {}
    if free:
        ahead = waiting_ahead(team.line, request.team, place)
        held = held_for_others(team.line, ahead, free, serves_all_languages=not team.languages)
    considered: list[Considered] = []
    for person, status, reason in ranked:
        entry = held.get(person.specialist_id)
        if entry is not None:
            tier = "paid" if entry.priority > 0 else "standard"
            since = f"{entry.enqueued_at:%H:%M:%S}"
            status, reason = "held", f"kept for a {tier} caller waiting since {since} UTC"
        elif status == "candidate":
            reason = _why(person, request, statuses.serves)
        considered.append(Considered(person, status, reason))
    considered.sort(key=lambda c: c.status != "candidate")
    return Decision(request, True, statuses.serves, tuple(considered), complete, rowless)


async def _last_offered(session: AsyncSession, team: str) -> int | None:
    found: int | None = await session.scalar(
        select(RingAttempt.specialist_id)
        .where(RingAttempt.team == team, RingAttempt.specialist_id.is_not(None))
        .order_by(RingAttempt.id.desc())
        .limit(1)
    )
    return found


async def consider(
    session: AsyncSession,
    request: RouteRequest,
    *,
    now: datetime,
    call_id: int | None = None,
    exclude: Collection[int] = (),
    place: Place | None = None,
) -> Decision:
    """Who would be rung now for a call needing this route, and why the others would not."""
    team = await read_team(session, request.team, now=now, call_id=call_id)
    if team is None:
        return Decision(request, False, False, ())
    statuses = _Statuses(
        request, team.serves(request.language), now=now, call_id=call_id, exclude=exclude
    )
    rows = {row.specialist_id: row for row in await everyone(session, team, now)}
    people = [statuses.person(row) for row in rows.values()]
    last = await _last_offered(session, request.team) if request.strategy == "round_robin" else None
    ranked = order(
        people,
        language=request.language,
        skill=request.skill,
        strategy=request.strategy,
        last_offered=last,
    )
    judged = [(p, *statuses.status(rows[p.specialist_id], p)) for p in ranked]
    place = place or Place(call_id, priority_of(request.tier), now)
    rowless = frozenset(sid for sid, row in rows.items() if row.state is None)
    return _decide(statuses, team, place, judged, complete=True, rowless=rowless)


async def shortlist(
    session: AsyncSession,
    request: RouteRequest,
    *,
    now: datetime,
    call_id: int | None,
    exclude: Collection[int],
) -> tuple[Decision, Line] | None:
    """`consider` cut short for live routing: the first candidates, enough for a batch.

    Also returns the team's queue as `read_team` would (read only when it matters).
    None when it cannot tell: no such team, nobody on shift, an instant outside the stored
    shifts, or a row that reads differently in Python than in SQL: use `consider`.
    """
    dialect = dialect_of(session)
    query = people_statement(dialect, skill=request.skill is not None, strategy=request.strategy)
    params = {
        **when(now),
        "team": request.team,
        "language": json.dumps(request.language),
        "skill": json.dumps(request.skill),
        "exclude": ids_param(dialect, sorted(exclude)),
        "call_id": call_id or 0,
        "now": now,
    }
    limit = request.batch_size + SHORTLIST_SPARE
    found = await read(session, query, {**params, "limit": limit})
    if not found:
        return None
    *_, languages, serves, queued = found[0]
    team = TeamView(request.team, tags(languages), True, Line(None, (), frozenset()))
    if bool(serves) != team.serves(request.language):
        return None
    first = LINE_FIRST
    if queued:
        line = await read_line(session, request.team, call_id=call_id, first=first)
        team = replace(team, line=line)
    own = active_entry(team.line.own, request.team)
    place = Place(call_id, priority_of(request.tier), own.enqueued_at if own else now)
    statuses = _Statuses(request, bool(serves), now=now, call_id=call_id, exclude=exclude)
    while True:
        complete = len(found) < limit
        ranked: list[tuple[Person, Status, str]] = []
        seen: set[int] = set()
        rowless: set[int] = set()
        for values in found:
            row = row_of(values)
            speaks, skilled, busy = values[ROW_WIDTH : ROW_WIDTH + 3]
            person = statuses.person(row)
            # The order came from SQL's view of the row: if Python's differs, trust neither.
            if (
                bool(speaks) != (request.language in person.languages)
                or (request.skill is not None and bool(skilled) != (request.skill in person.skills))
                or bool(busy) != statuses.busy(row)
            ):
                return None
            if row.specialist_id not in seen:
                seen.add(row.specialist_id)
                ranked.append((person, *statuses.status(row, person)))
                if row.state is None:
                    rowless.add(row.specialist_id)
        while True:
            decision = _decide(
                statuses, team, place, ranked, complete=complete, rowless=frozenset(rowless)
            )
            if not decision.candidates or team.line.whole:
                break
            # More wait than were read, and someone is still free: a caller further back
            # may be kept them. Further down the line (enough callers for everyone free
            # read so far, and more), and these rows decided again.
            free = sum(1 for c in decision.considered if c.status in ("candidate", "held"))
            first = max(2 * first, free + LINE_FIRST)
            line = await read_line(session, request.team, call_id=call_id, first=first)
            team = replace(team, line=line)
        if complete or len(decision.candidates) >= request.batch_size:
            return decision, team.line
        ahead = len(waiting_ahead(team.line, request.team, place))
        limit = max(limit * 4, request.batch_size + ahead + SHORTLIST_SPARE)
        found = await read(session, query, {**params, "limit": limit})


async def past(
    session: AsyncSession,
    request: RouteRequest,
    *,
    now: datetime,
    call_id: int | None,
    exclude: Collection[int],
    tried: Collection[int],
    place: Place,
) -> Decision:
    """Who comes after those `tried` (shortlisted, then taken by others meanwhile): the
    shortlist read again with them passed over (one statement), else the whole decision.

    Those tried come out as already rung: the caller keeps their first judgement.
    """
    short = await shortlist(session, request, now=now, call_id=call_id, exclude={*exclude, *tried})
    if short is not None:
        return short[0]
    return await consider(session, request, now=now, call_id=call_id, exclude=exclude, place=place)


def _why(person: Person, request: RouteRequest, serves: bool) -> str:
    parts = [person.shift]
    if request.language in person.languages:
        parts.append(f"speaks {request.language}")
    elif not serves:
        parts.append(f"overflow: {person.team} does not serve {request.language}")
    if request.skill is not None and request.skill in person.skills:
        parts.append(f"skill {request.skill}")
    if request.strategy == "longest_idle":
        idle = person.idle_since
        parts.append(f"idle since {idle:%H:%M:%S} UTC" if idle else "no call yet")
    return ", ".join(parts)
