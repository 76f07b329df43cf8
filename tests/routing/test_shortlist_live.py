"""Live routing's shortlist at work: reading further, giving up, and going past it.

It reads more rows when the first ones cannot take the call; it gives up (None) when it
cannot tell; and `route_live` goes past it when others took its people.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.rota import OverrideRow, Team
from app.models.routing import QueueEntry, SpecialistPresence
from app.rota.lookup import read
from app.rota.materialise import rematerialise
from app.routing import decide, dispatch, presence
from app.routing.decide import SHORTLIST_SPARE, Decision, RouteRequest, shortlist
from app.routing.dispatch import Choice, Nobody, Ring, Wait
from app.routing.queue import Line
from tests.conftest import ON_POSTGRES
from tests.routing.calls import add_call
from tests.routing.shortlists import (
    RING_TIMEOUT,
    desk_team,
    disagreements,
    free_desk,
    route_call,
    route_stored,
    whole,
)
from tests.telephony.rota_rows import Person, staff

# --- reading more rows when the first ones cannot take the call ----------------------------


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row limit of every statement the shortlist runs."""
    limits: list[int] = []

    async def counting(session: AsyncSession, statement: Any, params: dict[str, Any]) -> Any:
        limits.append(params["limit"])
        return await read(session, statement, params)

    monkeypatch.setattr(decide, "read", counting)
    return limits


async def _wait_ahead(
    session: AsyncSession, now: datetime, team: str, *, priority: int, waited: int
) -> int:
    call_id = await add_call(session, now, status="in-progress", age=timedelta(minutes=5))
    session.add(
        QueueEntry(
            call_id=call_id,
            team=team,
            language="en",
            priority=priority,
            enqueued_at=now - timedelta(seconds=waited),
            deadline=now + timedelta(minutes=5),
            state="waiting",
            updated_at=now,
        )
    )
    await session.flush()
    return call_id


async def test_free_people_kept_for_callers_ahead_make_the_shortlist_read_further(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    ids = await staff(db, now, {"desk": desk_team(25)})
    desk = [ids[f"Desk{i:02d}"] for i in range(1, 26)]
    request = RouteRequest("desk", "en", strategy="fixed_order", batch_size=2)
    async with db.transaction() as session:
        # Six callers wait ahead: each keeps one of the first free people (the paid one,
        # though the latest, first), more than one batch plus the spare rows.
        for waited in (100, 90, 80, 70, 60):
            await _wait_ahead(session, now, "desk", priority=0, waited=waited)
        await _wait_ahead(session, now, "desk", priority=1, waited=10)
        call_id = await add_call(session, now, status="in-progress", age=timedelta(seconds=5))
        limits = _count_reads(monkeypatch)
        short = await shortlist(session, request, now=now, call_id=call_id, exclude=())
        assert short is not None
        decision, _ = short
        assert limits == [2 + SHORTLIST_SPARE, 4 * (2 + SHORTLIST_SPARE)]
        assert not decision.complete
        full, line = await whole(session, request, now=now, call_id=call_id, exclude=())
        assert disagreements(request, short, full, line) == []
        assert [p.specialist_id for p in decision.candidates[:2]] == desk[6:8]
        status = {c.person.specialist_id: (c.status, c.reason) for c in decision.considered}
        since = f"{now - timedelta(seconds=10):%H:%M:%S}"
        assert status[desk[0]] == ("held", f"kept for a paid caller waiting since {since} UTC")
        since = f"{now - timedelta(seconds=100):%H:%M:%S}"
        assert status[desk[1]] == ("held", f"kept for a standard caller waiting since {since} UTC")
        assert [status[sid][0] for sid in desk[:6]] == ["held"] * 6

        choice = await route_stored(session, request, call_id, now)
        assert isinstance(choice, Ring)
        assert [p.specialist_id for p in choice.people] == desk[6:8]


@pytest.mark.parametrize("first", [2, decide.LINE_FIRST])
async def test_a_long_line_is_read_only_as_far_as_it_can_matter(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, first: int
) -> None:
    """Five callers wait ahead and two people are free: the first two callers keep them,
    so the rest of the line is not read; the new caller's place is counted."""
    monkeypatch.setattr(decide, "LINE_FIRST", first)
    now = clock.now()
    await staff(db, now, {"desk": desk_team(2)})
    request = RouteRequest("desk", "en", strategy="fixed_order", batch_size=1)
    async with db.transaction() as session:
        for waited in (100, 90, 80, 70, 60):
            await _wait_ahead(session, now, "desk", priority=0, waited=waited)
        call_id = await add_call(session, now, status="in-progress", age=timedelta(seconds=5))
    real = decide.read_line
    lines: list[Line] = []

    async def kept(session: AsyncSession, slug: str, **kwargs: Any) -> Line:
        lines.append(await real(session, slug, **kwargs))
        return lines[-1]

    monkeypatch.setattr(decide, "read_line", kept)
    choice = await route_call(db, request, call_id, now)
    assert isinstance(choice, Wait) and choice.position == 6
    assert [len(line.entries) for line in lines] == [min(first, 5)]
    assert lines[0].whole == (first > 5)
    async with db.transaction() as session:
        entry = (
            await session.scalars(select(QueueEntry).where(QueueEntry.call_id == call_id))
        ).one()
        assert entry.state == "waiting"


async def test_undialable_people_first_in_line_make_the_shortlist_read_until_it_finds_some(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    people = [*desk_team(24, contact="ext 12"), Person("Ann", "+14155550001", ["en"])]
    people += [Person("Bob", "sip:bob@example.com", ["en"]), Person("Cy", "client:cy", ["en"])]
    ids = await staff(db, now, {"desk": people})
    request = RouteRequest("desk", "en", strategy="fixed_order", batch_size=2)
    async with db.transaction() as session:
        limits = _count_reads(monkeypatch)
        short = await shortlist(session, request, now=now, call_id=None, exclude=())
        assert short is not None
        decision, _ = short
        first = 2 + SHORTLIST_SPARE
        assert limits == [first, 4 * first, 16 * first]
        assert decision.complete and len(decision.considered) == 27
        assert [p.name for p in decision.candidates] == ["Ann", "Bob", "Cy"]
        assert Counter(c.status for c in decision.considered) == {
            "no_contact": 24,
            "candidate": 3,
        }
        full, line = await whole(session, request, now=now, call_id=None, exclude=())
        assert disagreements(request, short, full, line) == []
        assert [p.specialist_id for p in full.candidates] == [ids["Ann"], ids["Bob"], ids["Cy"]]


# --- route_live when others take the shortlisted people meanwhile ------------------------


async def _presence(db: Database) -> dict[int, tuple[str, int | None]]:
    async with db.transaction() as session:
        rows = await session.scalars(select(SpecialistPresence))
        return {r.specialist_id: (r.state, r.call_id) for r in rows}


@pytest.mark.parametrize("meanwhile", ["same transaction", "another instance"])
@pytest.mark.parametrize(
    ("on_shift", "taken", "rung"),
    [
        (8, [0, 1, 2, 3, 4], [5, 6]),  # every shortlisted candidate taken
        (8, [0, 1, 2, 4], [3, 5]),  # all but one: it, then the first past the shortlist
        (5, [0, 1, 2, 3, 4], []),  # a full shortlist, all taken: nobody left, so wait
    ],
)
async def test_route_live_goes_past_the_shortlist_when_others_took_its_people(
    db: Database,
    clock: FixedClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    meanwhile: str,
    on_shift: int,
    taken: list[int],
    rung: list[int],
) -> None:
    now = clock.now()
    ids = await staff(db, now, {"desk": desk_team(on_shift)})
    desk = [ids[f"Desk{i:02d}"] for i in range(1, on_shift + 1)]
    async with db.transaction() as session:
        for sid in desk[1::2]:  # half have a presence row (free), half none yet
            session.add(SpecialistPresence(specialist_id=sid, state="free", updated_at=now))
        ours = await add_call(session, now, status="in-progress", age=timedelta(seconds=5))
        other = await add_call(session, now, status="in-progress", age=timedelta(seconds=5))
    request = RouteRequest("desk", "en", strategy="fixed_order", batch_size=2)
    real = decide.shortlist
    shortlisted: list[int] = []

    async def then_others_take_them(
        session: AsyncSession, request: RouteRequest, **kwargs: Any
    ) -> tuple[Decision, Line] | None:
        short = await real(session, request, **kwargs)
        assert short is not None and not short[0].complete
        shortlisted.extend(p.specialist_id for p in short[0].candidates)
        gone = [desk[i] for i in taken]
        if meanwhile == "same transaction":
            got = await _take(session, gone, other, now)
        else:
            elsewhere = Database.from_url(database_url)
            try:
                async with elsewhere.transaction() as theirs:
                    got = await _take(theirs, gone, other, now)
            finally:
                await elsewhere.dispose()
        assert got == gone
        return short

    monkeypatch.setattr(dispatch, "shortlist", then_others_take_them)
    choice = await route_call(db, request, ours, now)

    assert shortlisted == desk[: 2 + SHORTLIST_SPARE]
    held = await _presence(db)
    assert {sid for sid, (_, call) in held.items() if call == other} == {desk[i] for i in taken}
    if rung:
        assert isinstance(choice, Ring)
        assert [p.specialist_id for p in choice.people] == [desk[i] for i in rung]
        assert all(r.startswith("on shift in desk") for r in choice.reasons), choice.reasons
    else:
        assert isinstance(choice, Wait) and choice.position == 1
    assert {sid for sid, (_, call) in held.items() if call == ours} == {desk[i] for i in rung}
    assert all(held[desk[i]] == ("ringing", ours) for i in rung)


@pytest.mark.parametrize(
    ("taken", "rung", "marks"),
    [
        ([0, 1, 2, 3, 4], [5, 6], 2),  # every shortlisted candidate taken
        ([0, 1, 2, 4], [3, 5], 2),  # all but one: it, then the first past the shortlist
        ([0, 2], [1, 3], 1),  # some: the next shortlisted take their places
    ],
)
async def test_past_the_shortlist_everyone_with_a_row_in_a_statement_each(
    db: Database,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    taken: list[int],
    rung: list[int],
    marks: int,
) -> None:
    """Everyone has a presence row: the reservation takes the first still free in one
    statement however many others took (PostgreSQL; SQLite tries them a batch at a time),
    and past the shortlist it is read again without them, not the whole team."""
    now = clock.now()
    desk = await free_desk(db, now, 8)
    async with db.transaction() as session:
        ours = await add_call(session, now, status="in-progress", age=timedelta(seconds=5))
        other = await add_call(session, now, status="in-progress", age=timedelta(seconds=5))
    request = RouteRequest("desk", "en", strategy="fixed_order", batch_size=2)
    real_shortlist, real_mark = decide.shortlist, presence._mark
    reads: list[list[int]] = []
    reserving: list[list[int]] = []

    async def then_others_take_them(
        session: AsyncSession, request: RouteRequest, **kwargs: Any
    ) -> tuple[Decision, Line] | None:
        short = await real_shortlist(session, request, **kwargs)
        assert short is not None
        reads.append([p.specialist_id for p in short[0].candidates])
        if len(reads) == 1:
            assert await _take(session, [desk[i] for i in taken], other, now)
        return short

    async def counted(
        session: AsyncSession, batch: list[int], rowless: Any, params: dict[str, Any], *args: Any
    ) -> set[int]:
        if params["call"] == ours:
            reserving.append(batch)
        return await real_mark(session, batch, rowless, params, *args)

    async def whole_team(*_args: Any, **_kwargs: Any) -> Decision:
        raise AssertionError("the whole decision was read")

    monkeypatch.setattr(dispatch, "shortlist", then_others_take_them)
    monkeypatch.setattr(decide, "shortlist", then_others_take_them)
    monkeypatch.setattr(decide, "consider", whole_team)
    monkeypatch.setattr(presence, "_mark", counted)
    choice = await route_call(db, request, ours, now)

    assert isinstance(choice, Ring)
    assert [p.specialist_id for p in choice.people] == [desk[i] for i in rung]
    assert all(r.startswith("on shift in desk") for r in choice.reasons), choice.reasons
    held = await _presence(db)
    assert {sid for sid, (_, call) in held.items() if call == ours} == {desk[i] for i in rung}
    assert {sid for sid, (_, call) in held.items() if call == other} == {desk[i] for i in taken}
    assert reads[0] == desk[: 2 + SHORTLIST_SPARE]
    # Read again only when the shortlist ran short, those tried passed over.
    assert len(reads) == (2 if marks == 2 else 1)
    if len(reads) == 2:
        assert reads[1] == desk[2 + SHORTLIST_SPARE :]
    if ON_POSTGRES:
        assert len(reserving) == marks
        assert reserving[0] == desk[: 2 + SHORTLIST_SPARE]
    else:  # a batch at a time: as many as are still wanted
        assert all(len(batch) <= 2 for batch in reserving)


async def _take(session: AsyncSession, ids: list[int], call_id: int, now: datetime) -> list[int]:
    """Another call reserves these people (as a concurrent webhook would)."""
    return await presence.reserve(
        session, ids, want=len(ids), call_id=call_id, now=now, ring_timeout=RING_TIMEOUT
    )


# --- when the shortlist cannot tell -------------------------------------------------------


async def test_no_shortlist_for_a_missing_team_an_empty_one_or_outside_the_stored_shifts(
    db: Database, clock: FixedClock
) -> None:
    now = clock.now()
    ids = await staff(db, now, {"desk": desk_team(4), "empty": []})
    desk = [ids[f"Desk{i:02d}"] for i in range(1, 5)]
    async with db.transaction() as session:
        ours = await add_call(session, now, status="in-progress", age=timedelta(seconds=5))

    async def route(team: str, at: datetime) -> Choice:
        return await route_call(db, RouteRequest(team, "en", strategy="fixed_order"), ours, at)

    async def no_shortlist(team: str, at: datetime) -> None:
        async with db.transaction() as session:
            request = RouteRequest(team, "en", strategy="fixed_order")
            assert await shortlist(session, request, now=at, call_id=ours, exclude=()) is None

    await no_shortlist("nope", now)
    assert await route("nope", now) == Nobody(False, "there is no team nope")
    await no_shortlist("empty", now)
    assert await route("empty", now) == Nobody(False, "no one is on shift in empty")

    # Outside the stored shifts (months ahead, days back) they are calculated from the
    # rules: the first on shift is busy then, so the next two are rung.
    for at in (now + timedelta(weeks=12), now - timedelta(days=5)):
        async with db.transaction() as session:
            await session.execute(delete(SpecialistPresence))
            session.add(
                SpecialistPresence(
                    specialist_id=desk[0],
                    state="busy",
                    held_until=at + timedelta(hours=1),
                    updated_at=at,
                )
            )
        await no_shortlist("desk", at)
        choice = await route("desk", at)
        assert isinstance(choice, Ring)
        assert [p.specialist_id for p in choice.people] == desk[1:3]
        assert await _presence(db) == {
            desk[0]: ("busy", None),
            desk[1]: ("ringing", ours),
            desk[2]: ("ringing", ours),
        }


async def test_two_shifts_starting_together_show_the_same_shift_in_both_decisions(
    db: Database, clock: FixedClock
) -> None:
    """Someone on two shifts of the team that start together: the same one in both.

    Both keep a person's earliest shift; between two that start at the same instant
    neither orders them, so which one explains the ring depends on the database's plan.
    """
    now = clock.now()
    ids = await staff(db, now, {"desk": desk_team(12)})
    desk = [ids[f"Desk{i:02d}"] for i in range(1, 13)]
    async with db.transaction() as session:
        team_id = await session.scalar(select(Team.id).where(Team.slug == "desk"))
        # Desk01 covers Desk02 from 19:00 yesterday: her cover of Desk02's shift of today
        # starts at 00:00, as her own shift does.
        session.add(
            OverrideRow(
                kind="cover",
                specialist_id=desk[1],
                substitute_id=desk[0],
                team_id=team_id,
                starts_at=now - timedelta(hours=20),
                ends_at=now + timedelta(hours=2),
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        await rematerialise(session, now)
    request = RouteRequest("desk", "en", strategy="fixed_order", batch_size=1)
    async with db.transaction() as session:
        short = await shortlist(session, request, now=now, call_id=None, exclude=())
        full, line = await whole(session, request, now=now, call_id=None, exclude=())
    assert short is not None
    assert [p.specialist_id for p in short[0].candidates[:1]] == desk[:1]
    assert disagreements(request, short, full, line) == []
