"""`/v1/routing/explain` shows the whole order of the shipped flow's route step (issue 12.7).

A paid caller: the paid team, then the team of the caller's language, then the English
overflow, then voicemail; each team with who it would ring, or why nobody.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.rota import OverrideRow, Specialist, Team, TeamMember
from app.models.routing import SpecialistPresence
from app.rota.materialise import rematerialise
from tests.telephony.rota_rows import Person, staff

# Monday 23 November 2026, 10:00 in Berlin.
MONDAY_BERLIN_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AT = "2026-11-23T10:00:00+01:00"

PIA = Person("Pia", "+35315550001", ["en", "de"])
GRETA = Person("Greta", "+4930555000001", ["de"], ["payments"])
HANS = Person("Hans", "+4930555000002", ["de"])
INGE = Person("Inge", "+4930555000003", ["de"])
DIRK = Person("Dirk", "+4930555000004", ["de", "en"])
ANN = Person("Ann", "+14155550001", ["en"])


async def _member_off_shift(db: Database, now: datetime, team: str, name: str) -> int:
    """A member of the team who is in none of its rotations (so never on shift)."""
    async with db.transaction() as session:
        row = Specialist(
            name=name,
            contact="+14155550009",
            tz="UTC",
            languages=["en"],
            skills=[],
            active=True,
            calendar_token=secrets.token_urlsafe(16),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        found = await session.scalar(select(Team).where(Team.slug == team))
        assert found is not None
        session.add(TeamMember(team_id=found.id, specialist_id=row.id))
        return row.id


async def _arrange(db: Database, clock: FixedClock) -> dict[str, int]:
    """Pia (paid team) on leave; four German speakers in support-de, Dirk also in support-en,
    where Ann is a member off shift."""
    clock.set(MONDAY_BERLIN_10)
    now = clock.now()
    ids = await staff(
        db,
        now,
        {
            "paid-support": [PIA],
            "support-de": [GRETA, HANS, INGE, DIRK],
            "support-en": [DIRK],
        },
    )
    ids["Ann"] = await _member_off_shift(db, now, "support-en", "Ann")
    async with db.transaction() as session:
        session.add(
            OverrideRow(
                kind="leave",
                specialist_id=ids["Pia"],
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=1),
                reason="holiday",
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        await rematerialise(session, now)
    return ids


async def _explain(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> Any:
    answer = await client.get("/v1/routing/explain", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_paid_german_caller_on_monday_morning_gets_the_whole_order(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    ids = await _arrange(db, clock)
    body = await _explain(
        client, await keys.headers("scheduler"), language="de", tier="paid", at=AT
    )
    route = body["flow_route"]
    assert (route["flow"], route["step"], route["fallback"]) == ("support", "connect", "voicemail")
    assert (route["strategy"], route["batch_size"], route["max_attempts"]) == (
        "longest_idle",
        2,
        3,
    )
    teams = route["teams"]
    assert [(t["position"], t["team"], t["outcome"], t["reached"]) for t in teams] == [
        (1, "paid-support", "nobody", "now"),
        (2, "support-de", "ring", "now"),
        (3, "support-en", "nobody", "if_unanswered"),
    ]
    assert route["fallback_reached"] == "if_unanswered"
    paid, german, english = teams
    assert "tier paid" in paid["why"]
    assert german["why"] == "overflow 1: support-{language}"
    assert english["why"] == "overflow 2: support-en"
    # The paid team: nobody on shift, because Pia is on leave.
    assert paid["would_ring"] == [] and paid["first_batch"] == []
    assert [(e["name"], e["reason"]) for e in paid["excluded"]] == [("Pia", "on_leave")]
    assert "no one is on shift in paid-support" in paid["reason"]
    assert paid["reason"].endswith("on to support-de")
    # The language team: all four German speakers, the first batch of two rung first.
    assert sorted(r["name"] for r in german["would_ring"]) == ["Dirk", "Greta", "Hans", "Inge"]
    assert german["first_batch"] == [r["specialist_id"] for r in german["would_ring"][:2]]
    assert german["reason"].startswith("would ring ")
    assert german["reason"].endswith("then support-en if nobody answers")
    # English: Dirk was rung in support-de already, Ann is off shift: on to voicemail.
    assert english["would_ring"] == []
    assert {e["name"]: e["reason"] for e in english["excluded"]} == {
        "Dirk": "already_rung",
        "Ann": "off_shift",
    }
    assert english["reason"].endswith("on to the voicemail step")
    # Without `team`, the top level is the team the call would be rung in now.
    assert body["team"] == "support-de" and body["outcome"] == "ring"
    assert body["first_batch"] == german["first_batch"]
    assert ids["Pia"] not in body["first_batch"]


async def test_standard_and_english_callers_have_their_own_order(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    await _arrange(db, clock)
    headers = await keys.headers("scheduler")

    async def order(**params: str) -> list[str]:
        body = await _explain(client, headers, at=AT, **params)
        return [t["team"] for t in body["flow_route"]["teams"]]

    assert await order(language="de", tier="standard") == ["support-de", "support-en"]
    assert await order(language="de", tier="unknown") == ["support-de", "support-en"]
    # An English paid caller's language team is the English one: listed once.
    assert await order(language="en", tier="paid") == ["paid-support", "support-en"]
    assert await order(language="en") == ["support-en"]


async def test_with_a_team_the_top_level_is_unchanged_and_the_order_is_added(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    ids = await _arrange(db, clock)
    body = await _explain(
        client,
        await keys.headers("scheduler"),
        team="support-en",
        language="de",
        tier="paid",
        strategy="fixed_order",
        batch_size="1",
        at=AT,
    )
    assert (body["team"], body["strategy"], body["batch_size"]) == ("support-en", "fixed_order", 1)
    assert [r["name"] for r in body["would_ring"]] == ["Dirk"]  # nobody rung before here
    assert body["first_batch"] == [ids["Dirk"]]
    # The flow's order keeps the step's own strategy and batch size.
    route = body["flow_route"]
    assert (route["strategy"], route["batch_size"]) == ("longest_idle", 2)
    assert [t["team"] for t in route["teams"]] == ["paid-support", "support-de", "support-en"]


async def test_a_busy_paid_team_holds_the_caller_and_later_teams_are_never_reached(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    ids = await _arrange(db, clock)
    now = clock.now()
    async with db.transaction() as session:
        leave = await session.scalar(
            select(OverrideRow).where(OverrideRow.specialist_id == ids["Pia"])
        )
        assert leave is not None
        await session.delete(leave)
        session.add(
            SpecialistPresence(
                specialist_id=ids["Pia"],
                state="busy",
                held_until=now + timedelta(hours=1),
                updated_at=now,
            )
        )
        await session.flush()
        await rematerialise(session, now)
    body = await _explain(
        client, await keys.headers("scheduler"), language="de", tier="paid", at=AT
    )
    route = body["flow_route"]
    assert [(t["team"], t["outcome"], t["reached"]) for t in route["teams"]] == [
        ("paid-support", "queue", "now"),
        ("support-de", "ring", "never"),
        ("support-en", "ring", "never"),
    ]
    assert route["fallback_reached"] == "after_wait"
    assert "hold in the paid-support queue for up to 300 s" in route["teams"][0]["reason"]
    assert body["team"] == "paid-support" and body["outcome"] == "queue"


async def test_a_specialist_key_sees_absences_in_the_order_unexplained(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    ids = await _arrange(db, clock)
    params = {"language": "de", "tier": "paid", "at": AT}
    greta = await _explain(
        client, await keys.headers("specialist", specialist_id=ids["Greta"]), **params
    )
    assert greta["flow_route"]["teams"][0]["excluded"][0]["reason"] == "off_shift"
    pia = await _explain(
        client, await keys.headers("specialist", specialist_id=ids["Pia"]), **params
    )
    assert pia["flow_route"]["teams"][0]["excluded"][0]["reason"] == "on_leave"


async def test_unknown_flow_or_step_and_no_team_without_a_flow_are_422(
    app: FastAPI, client: httpx.AsyncClient, db: Database, clock: FixedClock, keys: Any
) -> None:
    await _arrange(db, clock)
    headers = await keys.headers("scheduler")
    cases = [
        ({"language": "de", "flow": "nope"}, "query.flow"),
        ({"language": "de", "step": "welcome"}, "query.step"),  # a say step, not a route step
        ({"language": "de", "step": "nope"}, "query.step"),
    ]
    for params, field in cases:
        answer = await client.get("/v1/routing/explain", params=params, headers=headers)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in answer.text
    named = await _explain(client, headers, language="de", flow="support", step="connect")
    assert named["flow_route"]["step"] == "connect"

    app.state.flows = {}  # no flow: the order cannot be known, so `team` is needed
    answer = await client.get("/v1/routing/explain", params={"language": "de"}, headers=headers)
    assert answer.status_code == 422 and "query.team" in answer.text
    body = await _explain(client, headers, team="support-de", language="de")
    assert body["flow_route"] is None and body["outcome"] == "ring"
