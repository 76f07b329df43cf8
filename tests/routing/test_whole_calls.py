"""Routing over webhooks, as Twilio drives it: batches, voicemail legs, the queue, leases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.routing import QueueEntry, SpecialistPresence
from tests.routing.line import dialled, leg_post, leg_urls, line_client
from tests.telephony.rota_rows import Person, staff
from tests.telephony.twilio import Caller, parse_twiml, post, says, verbs

ANN = Person("Ann", "+14155550001", ["en"], [])
BOB = Person("Bob", "+14155550002", ["en"], [])
CY = Person("Cy", "+14155550003", ["en"], [])


async def _account(
    client: httpx.AsyncClient, admin: dict[str, str], name: str, phone: str, tier: str
) -> int:
    answer = await client.post(
        "/v1/accounts",
        json={"name": name, "tier": tier, "phones": [phone], "preferred_language": "en"},
        headers=admin,
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def _call(client: httpx.AsyncClient, admin: dict[str, str], sid: str) -> Any:
    answer = await client.get(f"/v1/calls/{sid}", headers=admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _presence(db: Database) -> dict[int, str]:
    async with db.transaction() as session:
        rows = await session.scalars(select(SpecialistPresence))
        return {r.specialist_id: r.state for r in rows}


async def _queue(db: Database) -> list[tuple[int, str, str | None]]:
    async with db.transaction() as session:
        rows = await session.scalars(select(QueueEntry).order_by(QueueEntry.id))
        return [(r.call_id, r.state, r.result) for r in rows]


async def _accept(client: httpx.AsyncClient, caller: Caller, whisper_url: str, leg: str) -> None:
    whisper = parse_twiml(await leg_post(client, caller.sid, whisper_url, leg))
    gather = whisper.find("Gather")
    assert gather is not None
    accepted = await leg_post(client, caller.sid, gather.get("action", ""), leg, Digits="1")
    assert verbs(parse_twiml(accepted)) == []


async def _hang_up(client: httpx.AsyncClient, caller: Caller, seq: str = "9") -> None:
    answer = await post(
        client, "/twilio/status", caller.form(CallStatus="completed", SequenceNumber=seq)
    )
    assert answer.status_code == 204


async def _talking_and_waiting(
    client: httpx.AsyncClient, admin: dict[str, str], *, accept: bool = True
) -> tuple[Caller, Caller]:
    """Ann (the only specialist) takes a first call; a second caller then queues."""
    await _account(client, admin, "Busy", "+14155550100", "standard")
    await _account(client, admin, "Waiting", "+14155550101", "standard")
    talking = Caller(client, sid="CA" + "0" * 32, from_number="+14155550100")
    waiting = Caller(client, sid="CA" + "1" * 32, from_number="+14155550101")
    doc = await talking.dial_in()
    if accept:
        ((whisper, _),) = leg_urls(doc)
        await _accept(client, talking, whisper, "CA_ANN_0")
    doc = await waiting.dial_in()
    assert "Dial" not in verbs(doc)
    return talking, waiting


async def test_a_voicemail_picking_up_a_leg_never_takes_the_call(
    settings: Settings, clock: FixedClock, db: Database, admin: dict[str, str], tmp_path: Path
) -> None:
    ids = await staff(db, clock.now(), {"line": [ANN, BOB, CY]})
    async with line_client(settings, clock, tmp_path / "flows", batch_size=2) as (_, client):
        await _account(client, admin, "Acme", "+14155550100", "standard")
        caller = Caller(client, from_number="+14155550100")
        doc = await caller.dial_in()
        assert "Please hold while we connect you." in says(doc)
        assert dialled(doc) == [ANN.contact, BOB.contact]  # nobody has had a call: id order
        (ann_whisper, ann_status), (_, bob_status) = leg_urls(doc)

        # Ann's phone voicemail answers: it hears the whisper and presses nothing.
        whisper = parse_twiml(await leg_post(client, caller.sid, ann_whisper, "CA_ANN"))
        assert verbs(whisper) == ["Gather", "Say", "Hangup"]
        done = await leg_post(client, caller.sid, ann_status, "CA_ANN", CallStatus="completed")
        assert done.status_code == 204
        assert (await _presence(db))[ids["Ann"]] == "free"
        await leg_post(client, caller.sid, bob_status, "CA_BOB", CallStatus="no-answer")

        clock.advance(timedelta(seconds=21))
        doc = await caller.dial_ends("no-answer")
        assert dialled(doc) == [CY.contact]  # the call goes on with the next batch
        call = await _call(client, admin, caller.sid)
        results = {(a["specialist_id"], a["result"]) for a in call["attempts"]}
        assert results == {
            (ids["Ann"], "declined"),
            (ids["Bob"], "no-answer"),
            (ids["Cy"], "ringing"),
        }
        assert call["outcome"] is None
        states = await _presence(db)
        assert states[ids["Ann"]] == "free" and states[ids["Bob"]] == "free"
        assert states[ids["Cy"]] == "ringing"


async def test_two_calls_one_free_specialist_the_second_waits_then_is_connected(
    settings: Settings, clock: FixedClock, db: Database, admin: dict[str, str], tmp_path: Path
) -> None:
    ids = await staff(db, clock.now(), {"line": [ANN]})
    async with line_client(settings, clock, tmp_path / "flows") as (_, client):
        await _account(client, admin, "First", "+14155550101", "standard")
        await _account(client, admin, "Second", "+14155550102", "standard")
        first = Caller(client, sid="CA" + "1" * 32, from_number="+14155550101")
        second = Caller(client, sid="CA" + "2" * 32, from_number="+14155550102")

        doc = await first.dial_in()
        assert dialled(doc) == [ANN.contact]
        ((ann_whisper, ann_status),) = leg_urls(doc)

        doc = await second.dial_in()  # Ann is being rung for the first call
        assert "Dial" not in verbs(doc)
        assert verbs(doc) == ["Gather", "Redirect"]
        gather = doc.find("Gather")
        assert gather is not None and gather.get("numDigits") == "1"
        heard = says(doc)
        assert "All our specialists are busy. You are number 1 in the queue." in heard
        assert "Press 1 at any time to be called back instead." in heard
        assert "Please hold while we connect you." not in heard
        assert doc.find("Gather/Pause") is not None  # no hold music set: silence

        # The first caller is connected to Ann.
        await _accept(client, first, ann_whisper, "CA_ANN_1")
        assert (await _presence(db))[ids["Ann"]] == "busy"

        clock.advance(timedelta(seconds=15))
        doc = await second.stay_silent()  # still busy: wait on, no announcement yet
        assert verbs(doc) == ["Gather", "Redirect"] and says(doc) == []

        clock.advance(timedelta(seconds=50))
        doc = await second.stay_silent()  # about a minute on: the position again
        assert "All our specialists are busy. You are number 1 in the queue." in says(doc)

        clock.advance(timedelta(seconds=30))
        await first.dial_ends("completed", DialCallSid="CA_ANN_1", DialCallDuration="95")
        await leg_post(client, first.sid, ann_status, "CA_ANN_1", CallStatus="completed")
        assert (await _presence(db))[ids["Ann"]] == "free"

        doc = await second.stay_silent()  # Ann is free: she rings for the waiting caller
        assert dialled(doc) == [ANN.contact]
        ((ann_whisper_2, _),) = leg_urls(doc)
        await _accept(client, second, ann_whisper_2, "CA_ANN_2")
        clock.advance(timedelta(minutes=3))
        await second.dial_ends("completed", DialCallSid="CA_ANN_2", DialCallDuration="180")

        call = await _call(client, admin, second.sid)
        assert call["outcome"] == "answered" and call["answered_by"] == ids["Ann"]
        assert call["routed_at"] == "2026-11-20T15:00:00Z"
        assert call["queue"]["result"] == "connected" and call["queue"]["team"] == "line"
        assert call["queue"]["wait_seconds"] == 95.0  # 15 + 50 + 30 s on hold
        queue = await _queue(db)
        assert [(state, result) for _, state, result in queue] == [("left", "connected")]


async def test_a_paid_caller_arriving_later_is_offered_first(
    settings: Settings, clock: FixedClock, db: Database, admin: dict[str, str], tmp_path: Path
) -> None:
    ids = await staff(db, clock.now(), {"line": [ANN]})
    async with line_client(settings, clock, tmp_path / "flows") as (_, client):
        await _account(client, admin, "Busy", "+14155550100", "standard")
        await _account(client, admin, "Standard", "+14155550101", "standard")
        await _account(client, admin, "Paid", "+14155550102", "paid")
        talking = Caller(client, sid="CA" + "0" * 32, from_number="+14155550100")
        standard = Caller(client, sid="CA" + "1" * 32, from_number="+14155550101")
        paid = Caller(client, sid="CA" + "2" * 32, from_number="+14155550102")

        doc = await talking.dial_in()
        ((whisper, _),) = leg_urls(doc)
        await _accept(client, talking, whisper, "CA_ANN_0")

        doc = await standard.dial_in()
        assert "You are number 1 in the queue." in " ".join(says(doc))
        clock.advance(timedelta(seconds=20))
        doc = await paid.dial_in()
        assert "You are number 1 in the queue." in " ".join(says(doc))  # ahead of standard
        doc = await standard.stay_silent()
        clock.advance(timedelta(seconds=61))
        doc = await standard.stay_silent()
        assert "You are number 2 in the queue." in " ".join(says(doc))

        await talking.dial_ends("completed", DialCallSid="CA_ANN_0", DialCallDuration="60")
        assert (await _presence(db))[ids["Ann"]] == "free"

        # The standard caller's hold loop comes round first, but Ann is kept for the
        # paid caller ahead of them.
        doc = await standard.stay_silent()
        assert "Dial" not in verbs(doc)
        doc = await paid.stay_silent()
        assert dialled(doc) == [ANN.contact]

        async with db.transaction() as session:
            entries = {
                e.call_id: (e.priority, e.state) for e in await session.scalars(select(QueueEntry))
            }
        assert sorted(entries.values()) == [(0, "waiting"), (1, "ringing")]


async def test_the_maximum_wait_leads_to_voicemail(
    settings: Settings, clock: FixedClock, db: Database, admin: dict[str, str], tmp_path: Path
) -> None:
    await staff(db, clock.now(), {"line": [ANN]})
    async with line_client(settings, clock, tmp_path / "flows") as (_, client):
        _, waiting = await _talking_and_waiting(client, admin)
        clock.advance(timedelta(seconds=119))
        doc = await waiting.stay_silent()
        assert verbs(doc) == ["Gather", "Redirect"]
        clock.advance(timedelta(seconds=1))
        doc = await waiting.stay_silent()
        assert "Record" in verbs(doc)
        assert "Nobody is free. Please leave a message after the tone." in says(doc)
        doc = await waiting.leave_voicemail("https://api.twilio.com/rec/RE1", "9")
        call = await _call(client, admin, waiting.sid)
        assert call["outcome"] == "voicemail"
        assert [(state, result) for _, state, result in await _queue(db)] == [("left", "timeout")]


async def test_the_caller_can_ask_for_a_callback_instead_of_waiting(
    settings: Settings, clock: FixedClock, db: Database, admin: dict[str, str], tmp_path: Path
) -> None:
    await staff(db, clock.now(), {"line": [ANN]})
    async with line_client(settings, clock, tmp_path / "flows") as (_, client):
        _, waiting = await _talking_and_waiting(client, admin, accept=False)
        doc = await waiting.press("7")  # not the callback key: keep waiting
        assert verbs(doc) == ["Gather", "Redirect"]
        doc = await waiting.press("1")
        assert "To be called back on 1 4 1 5 5 5 5 0 1 0 1, press 1." in says(doc)
        doc = await waiting.press("1")
        assert "We will call you back." in says(doc)
        call = await _call(client, admin, waiting.sid)
        assert call["outcome"] == "callback" and call["callback_number"] == "+14155550101"
        assert [(state, result) for _, state, result in await _queue(db)] == [("left", "callback")]


async def test_a_crashed_leg_releases_its_reservation(
    settings: Settings, clock: FixedClock, db: Database, admin: dict[str, str], tmp_path: Path
) -> None:
    ids = await staff(db, clock.now(), {"line": [ANN]})
    async with line_client(settings, clock, tmp_path / "flows") as (_, client):
        await _account(client, admin, "One", "+14155550100", "standard")
        await _account(client, admin, "Two", "+14155550101", "standard")
        await _account(client, admin, "Three", "+14155550102", "standard")
        one = Caller(client, sid="CA" + "1" * 32, from_number="+14155550100")
        doc = await one.dial_in()
        ((_, status_url),) = leg_urls(doc)
        # Ann's leg fails (her phone is unreachable): Twilio reports it, she is free.
        await leg_post(client, one.sid, status_url, "CA_ANN_1", CallStatus="failed")
        assert (await _presence(db))[ids["Ann"]] == "free"

        # A leg whose callbacks never come (the instance handling it crashed, the
        # callback was lost): the reservation's lease runs out by itself.
        two = Caller(client, sid="CA" + "2" * 32, from_number="+14155550101")
        doc = await two.dial_in()
        assert dialled(doc) == [ANN.contact]
        three = Caller(client, sid="CA" + "3" * 32, from_number="+14155550102")
        doc = await three.dial_in()
        assert "Dial" not in verbs(doc)  # Ann is held by call two's ring
        clock.advance(timedelta(seconds=20 + 90))
        doc = await three.stay_silent()
        assert dialled(doc) == [ANN.contact]


async def test_a_caller_hanging_up_in_the_queue_is_abandoned_and_frees_nothing_else(
    settings: Settings, clock: FixedClock, db: Database, admin: dict[str, str], tmp_path: Path
) -> None:
    ids = await staff(db, clock.now(), {"line": [ANN]})
    async with line_client(settings, clock, tmp_path / "flows") as (_, client):
        talking, waiting = await _talking_and_waiting(client, admin)
        await _hang_up(client, waiting)
        call = await _call(client, admin, waiting.sid)
        assert call["outcome"] == "abandoned"
        assert [(state, result) for _, state, result in await _queue(db)] == [("left", "abandoned")]
        assert (await _presence(db))[ids["Ann"]] == "busy"  # still talking to the first
        await _hang_up(client, talking)
        assert (await _presence(db))[ids["Ann"]] == "free"
