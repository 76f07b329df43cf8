"""Live routing's shortlist: the first candidates of the whole decision, read cut short.

`shortlist` must name the same first candidates as `consider`, in the same order and for
the same reasons; it reads more rows when the first ones cannot take the call; it gives
up (None) when it cannot tell; and `route_live` goes past it when others took its people.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call, RingAttempt
from app.models.rota import OverrideRow, Team
from app.models.routing import QueueEntry, SpecialistPresence
from app.rota.lookup import read
from app.rota.materialise import rematerialise
from app.routing import decide, dispatch, presence
from app.routing.decide import SHORTLIST_SPARE, Decision, RouteRequest, consider, shortlist
from app.routing.dispatch import Choice, Nobody, Ring, Wait, route_live
from app.routing.order import Strategy
from app.routing.queue import IN_LINE, Line, Place, active_entry, priority_of
from app.routing.roster import read_team
from tests.routing.test_metrics import add_call
from tests.telephony.rota_rows import Person, staff

LANGUAGES = ("en", "ja", "de")
ASKED = (*LANGUAGES, "fr")  # nobody speaks fr: only an overflow team can take it
SKILLS = ("billing", "tech")
STRATEGIES: tuple[Strategy, ...] = ("fixed_order", "longest_idle", "round_robin")
UNDIALABLE = ("ext 12", "client:", "+12", "call me")
RING_TIMEOUT = 20


# --- the equivalence of shortlist and consider over varied teams ---------------------------


@dataclass(frozen=True)
class World:
    """Teams on shift around the clock, their members, and everyone's specialist id."""

    members: dict[str, list[int]]
    everyone: list[int]


def _people(rng: random.Random, count: int) -> list[Person]:
    people = []
    for n in range(count):
        languages = rng.sample(LANGUAGES, rng.choice((1, 1, 2, 3)))
        skills = rng.sample(SKILLS, rng.randint(0, 2))
        dialable = (f"+1415555{n:04d}", f"client:agent{n}", f"sip:agent{n}@example.com")
        contact = rng.choice(UNDIALABLE if rng.random() < 0.15 else dialable)
        people.append(Person(f"P{n:02d}", contact, languages, skills))
    return people


async def _world(db: Database, rng: random.Random, now: datetime) -> World:
    """Random teams (some without languages or serving few), covers, extras and leave."""
    people = _people(rng, 30)
    teams: dict[str, Sequence[Person]] = {
        f"team-{t}": rng.sample(people, rng.randint(0, 14)) for t in range(7)
    }
    ids = await staff(db, now, teams)
    members = {slug: [ids[p.name] for p in group] for slug, group in teams.items()}
    everyone = sorted(ids.values())
    async with db.transaction() as session:
        team_ids = {slug: tid for slug, tid in await session.execute(select(Team.slug, Team.id))}
        for slug, group in members.items():
            languages = rng.choice((None, [], [rng.choice(LANGUAGES)]))
            if languages is not None:  # None: the languages its people speak (staff's)
                await session.execute(
                    update(Team).where(Team.slug == slug).values(languages=languages)
                )
            for _ in range(rng.randint(0, 3) if group else 0):
                kind = rng.choice(("extra", "extra", "cover", "leave"))
                # An extra for a member is a second shift in the team (often the earlier).
                who = rng.choice(group if kind != "extra" or rng.random() < 0.7 else everyone)
                session.add(
                    OverrideRow(
                        kind=kind,
                        specialist_id=who,
                        substitute_id=rng.choice(everyone) if kind == "cover" else None,
                        team_id=team_ids[slug] if kind != "leave" else None,
                        starts_at=now - timedelta(hours=rng.randint(1, 20)),
                        ends_at=now + timedelta(hours=rng.randint(1, 12)),
                        created_at=now,
                        updated_at=now,
                    )
                )
        await session.flush()
        await rematerialise(session, now)  # as every rota write does
    return World(members, everyone)


async def _live_state(
    session: AsyncSession, rng: random.Random, world: World, now: datetime
) -> tuple[list[int], dict[str, list[int]]]:
    """Fresh presence rows, queue and ringing attempts; returns the calls and queued calls."""
    for table in (SpecialistPresence, QueueEntry, RingAttempt):
        await session.execute(delete(table))
    calls = [
        await add_call(session, now, status="in-progress", age=timedelta(minutes=5))
        for _ in range(40)
    ]
    free_calls = list(calls)
    rng.shuffle(free_calls)
    idle = (None, now - timedelta(hours=1), now - timedelta(hours=2), now - timedelta(minutes=3))
    lease = (
        now - timedelta(minutes=1),
        now,  # a lease ending now has run out
        now + timedelta(seconds=1),
        now + timedelta(minutes=10),
        None,
    )
    for sid in world.everyone:
        if rng.random() < 0.3:
            continue  # no presence row yet
        state = rng.choice(("free", "free", "busy", "ringing"))
        session.add(
            SpecialistPresence(
                specialist_id=sid,
                state=state,
                call_id=None if state == "free" else rng.choice((None, *calls)),
                held_until=None if state == "free" else rng.choice(lease),
                idle_since=rng.choice(idle),
                updated_at=now,
            )
        )
    queued: dict[str, list[int]] = {}
    for slug, group in world.members.items():
        for _ in range(rng.randint(0, 4)):
            call_id = free_calls.pop()
            queued.setdefault(slug, []).append(call_id)
            session.add(
                QueueEntry(
                    call_id=call_id,
                    team=slug,
                    language=rng.choice(ASKED),
                    skill=rng.choice((None, *SKILLS)),
                    priority=rng.choice((0, 0, 1)),
                    enqueued_at=now - timedelta(seconds=rng.choice((0, 30, 60, 90, 300))),
                    deadline=now + timedelta(minutes=5),
                    state=rng.choice(("waiting", "waiting", "waiting", "ringing", "left")),
                    updated_at=now,
                )
            )
            # Some were rung to members already: those members are not kept for them.
            for sid in rng.sample(group, min(len(group), rng.randint(0, 2))):
                session.add(_attempt(call_id, sid, slug, now))
        if group and rng.random() < 0.6:  # the team's last offered call (round robin)
            session.add(_attempt(rng.choice(calls), rng.choice(group), slug, now))
    await session.flush()
    return calls, queued


def _attempt(call_id: int, specialist_id: int, team: str, now: datetime) -> RingAttempt:
    return RingAttempt(
        call_id=call_id,
        specialist_id=specialist_id,
        team=team,
        batch=1,
        contact="+14155550000",
        rung_at=now - timedelta(minutes=1),
        ended_at=now - timedelta(seconds=40),
        result="no-answer",
    )


async def _whole(
    session: AsyncSession,
    request: RouteRequest,
    *,
    now: datetime,
    call_id: int | None,
    exclude: Sequence[int],
) -> tuple[Decision, Line]:
    """`consider` as `route_live` asks it (the call's place from its own queue entry)."""
    team = await read_team(session, request.team, now=now, call_id=call_id)
    line = team.line if team is not None else Line(None, (), frozenset())
    entry = active_entry(line.own, request.team)
    place = Place(call_id, priority_of(request.tier), entry.enqueued_at if entry else now)
    full = await consider(session, request, now=now, call_id=call_id, exclude=exclude, place=place)
    return full, line


def _disagreements(
    request: RouteRequest,
    short: tuple[Decision, Line] | None,
    full: Decision,
    full_line: Line,
) -> list[str]:
    """How the shortlist differs from the whole decision (nothing: they agree)."""
    if short is None:
        return ["gave up though people are on shift"] if full.considered else []
    decision, line = short
    problems = []
    got = [p.specialist_id for p in decision.candidates]
    want = [p.specialist_id for p in full.candidates]
    if got != want[: len(got)]:
        problems.append(f"candidates {got}, consider's {want}")
    if not decision.complete and len(got) < request.batch_size:
        problems.append(
            f"incomplete with {len(got)} candidates for a batch of {request.batch_size}"
        )
    listed = [c.person.specialist_id for c in decision.considered]
    if len(set(listed)) != len(listed):
        problems.append(f"lists someone twice: {listed}")
    if decision.complete and sorted(listed) != sorted(
        c.person.specialist_id for c in full.considered
    ):
        problems.append(f"complete but lists {sorted(listed)}, consider {len(full.considered)}")
    whole = {c.person.specialist_id: c for c in full.considered}
    for c in decision.considered:
        other = whole.get(c.person.specialist_id)
        if other is None:
            problems.append(f"lists {c.person.specialist_id}, who is not on shift")
        elif (c.status, c.reason, c.person) != (other.status, other.reason, other.person):
            problems.append(f"{c} but consider: {other}")
    if decision.rowless != full.rowless & set(listed):
        problems.append(f"rowless {set(decision.rowless)}, consider {set(full.rowless)}")
    if (decision.team_exists, decision.serves_language) != (True, full.serves_language):
        problems.append(f"team exists/serves {decision.team_exists}/{decision.serves_language}")
    own = (line.own.id if line.own else None, full_line.own.id if full_line.own else None)
    in_line = [
        {e.id for e in ln.entries if e.team == request.team and e.state in IN_LINE}
        for ln in (line, full_line)
    ]
    if own[0] != own[1] or in_line[0] != in_line[1] or line.rung != full_line.rung:
        problems.append(f"queue line differs: own {own}, entries {in_line}")
    return problems


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_shortlist_names_the_first_candidates_of_the_whole_decision(
    db: Database, clock: FixedClock, seed: int
) -> None:
    rng = random.Random(seed)
    world = await _world(db, rng, clock.now())
    seen: Counter[str] = Counter()
    failures: list[str] = []
    for turn in range(5):
        now = clock.now() + timedelta(minutes=rng.randint(-600, 600))
        async with db.transaction() as session:
            calls, queued = await _live_state(session, rng, world, now)
            for slug, group in world.members.items():
                for _ in range(8):
                    request = RouteRequest(
                        team=slug,
                        language=rng.choice(ASKED),
                        skill=rng.choice((None, *SKILLS)),
                        tier=rng.choice(("standard", "paid")),
                        strategy=rng.choice(STRATEGIES),
                        batch_size=rng.randint(1, 3),
                    )
                    # Often a call already waiting in this team's line (its place counts).
                    own = queued.get(slug) if rng.random() < 0.4 else None
                    call_id = rng.choice(own) if own else rng.choice((None, *calls))
                    exclude = rng.sample(group, min(len(group), rng.randint(0, 3)))
                    short = await shortlist(
                        session, request, now=now, call_id=call_id, exclude=exclude
                    )
                    full, line = await _whole(
                        session, request, now=now, call_id=call_id, exclude=exclude
                    )
                    case = f"seed {seed} turn {turn} at {now:%H:%M} {request} call {call_id} "
                    case += f"exclude {exclude}"
                    failures += [f"{case}: {p}" for p in _disagreements(request, short, full, line)]
                    if short is not None:
                        decision = short[0]
                        seen.update(c.status for c in decision.considered)
                        seen["incomplete"] += not decision.complete
                        seen["overflow"] += not decision.serves_language
                        seen["read past one batch"] += (
                            len(decision.considered) > request.batch_size + SHORTLIST_SPARE
                        )
    assert not failures, f"{len(failures)} disagreements, first:\n" + "\n".join(failures[:8])
    # The cases above exercised every path (the generator is seeded: this cannot flake).
    for what in (
        "candidate",
        "busy",
        "held",
        "already_rung",
        "lacks_language",
        "no_contact",
        "incomplete",
        "overflow",
        "read past one batch",
    ):
        assert seen[what] > 0, (what, seen)


# --- reading more rows when the first ones cannot take the call ----------------------------


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row limit of every statement the shortlist runs."""
    limits: list[int] = []

    async def counting(session: AsyncSession, statement: Any, params: dict[str, Any]) -> Any:
        limits.append(params["limit"])
        return await read(session, statement, params)

    monkeypatch.setattr(decide, "read", counting)
    return limits


def _line_of(n: int, **fields: str) -> list[Person]:
    return [
        Person(f"Desk{i:02d}", fields.get("contact", f"+1415555{i:04d}"), ["en"])
        for i in range(1, n + 1)
    ]


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
    ids = await staff(db, now, {"desk": _line_of(25)})
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
        full, line = await _whole(session, request, now=now, call_id=call_id, exclude=())
        assert _disagreements(request, short, full, line) == []
        assert [p.specialist_id for p in decision.candidates[:2]] == desk[6:8]
        status = {c.person.specialist_id: (c.status, c.reason) for c in decision.considered}
        since = f"{now - timedelta(seconds=10):%H:%M:%S}"
        assert status[desk[0]] == ("held", f"kept for a paid caller waiting since {since} UTC")
        since = f"{now - timedelta(seconds=100):%H:%M:%S}"
        assert status[desk[1]] == ("held", f"kept for a standard caller waiting since {since} UTC")
        assert [status[sid][0] for sid in desk[:6]] == ["held"] * 6

        call = await session.get(Call, call_id)
        assert call is not None
        choice = await route_live(
            session,
            request,
            call=call,
            now=now,
            exclude=(),
            ring_timeout=RING_TIMEOUT,
            max_wait=120,
        )
        assert isinstance(choice, Ring)
        assert [p.specialist_id for p in choice.people] == desk[6:8]


async def test_undialable_people_first_in_line_make_the_shortlist_read_until_it_finds_some(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    people = [*_line_of(24, contact="ext 12"), Person("Ann", "+14155550001", ["en"])]
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
        full, line = await _whole(session, request, now=now, call_id=None, exclude=())
        assert _disagreements(request, short, full, line) == []
        assert [p.specialist_id for p in full.candidates] == [ids["Ann"], ids["Bob"], ids["Cy"]]


# --- route_live when others take the shortlisted people meanwhile ------------------------


async def _presence(db: Database) -> dict[int, tuple[str, int | None]]:
    async with db.transaction() as session:
        rows = await session.scalars(select(SpecialistPresence))
        return {r.specialist_id: (r.state, r.call_id) for r in rows}


async def _route(db: Database, request: RouteRequest, call_id: int, now: datetime) -> Choice:
    async with db.transaction() as session:
        call = await session.get(Call, call_id)
        assert call is not None
        return await route_live(
            session,
            request,
            call=call,
            now=now,
            exclude=(),
            ring_timeout=RING_TIMEOUT,
            max_wait=120,
        )


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
    ids = await staff(db, now, {"desk": _line_of(on_shift)})
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
    choice = await _route(db, request, ours, now)

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
    ids = await staff(db, now, {"desk": _line_of(4), "empty": []})
    desk = [ids[f"Desk{i:02d}"] for i in range(1, 5)]
    async with db.transaction() as session:
        ours = await add_call(session, now, status="in-progress", age=timedelta(seconds=5))

    async def route(team: str, at: datetime) -> Choice:
        return await _route(db, RouteRequest(team, "en", strategy="fixed_order"), ours, at)

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
    ids = await staff(db, now, {"desk": _line_of(12)})
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
        full, line = await _whole(session, request, now=now, call_id=None, exclude=())
    assert short is not None
    assert [p.specialist_id for p in short[0].candidates[:1]] == desk[:1]
    assert _disagreements(request, short, full, line) == []
