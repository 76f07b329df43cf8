"""Live routing's shortlist names the first candidates of the whole decision.

`shortlist` must name the same first candidates as `consider`, in the same order and for
the same reasons, over varied teams (tests/routing/test_shortlist_live.py: reading more
rows, giving up, and `route_live` going past it).
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
from app.models.call import RingAttempt
from app.models.rota import OverrideRow, Team
from app.models.routing import QueueEntry, SpecialistPresence
from app.rota.materialise import rematerialise
from app.routing import decide
from app.routing.decide import SHORTLIST_SPARE, RouteRequest, shortlist
from app.routing.order import Strategy
from app.routing.queue import Line
from tests.routing.calls import add_call
from tests.routing.shortlists import disagreements, whole
from tests.telephony.rota_rows import Person, staff

LANGUAGES = ("en", "ja", "de")
ASKED = (*LANGUAGES, "fr")  # nobody speaks fr: only an overflow team can take it
SKILLS = ("billing", "tech")
STRATEGIES: tuple[Strategy, ...] = ("fixed_order", "longest_idle", "round_robin")
UNDIALABLE = ("ext 12", "client:", "+12", "call me")
# Mostly available; away and offline people are never rung.
AVAILABILITY = ("available", "available", "available", "away", "offline")


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
                availability=rng.choice(AVAILABILITY),
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
                    full, line = await whole(
                        session, request, now=now, call_id=call_id, exclude=exclude
                    )
                    case = f"seed {seed} turn {turn} at {now:%H:%M} {request} call {call_id} "
                    case += f"exclude {exclude}"
                    failures += [f"{case}: {p}" for p in disagreements(request, short, full, line)]
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


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_reading_only_the_first_in_line_decides_as_the_whole_line(
    db: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """As above with the shortlist reading one caller of each line first (`LINE_FIRST`):
    whenever those behind could be kept someone, it reads further down the line."""
    monkeypatch.setattr(decide, "LINE_FIRST", 1)
    reads: Counter[str] = Counter()
    real = decide.read_line

    async def counted(session: AsyncSession, slug: str, **kwargs: Any) -> Line:
        line = await real(session, slug, **kwargs)
        further = kwargs.get("first", 0) > 1
        reads["further" if further else "first"] += 1
        reads["cut short"] += not line.whole
        reads["further, to its end"] += further and line.whole
        return line

    monkeypatch.setattr(decide, "read_line", counted)
    await test_the_shortlist_names_the_first_candidates_of_the_whole_decision(db, clock, seed)
    # Every way was taken: a line cut short that decided, reading further, to the end.
    assert reads["cut short"] > 0 and reads["further, to its end"] > 0, reads
