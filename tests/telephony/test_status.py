"""Status callbacks: idempotent (repeats change nothing) and order-safe (never backwards)."""

from __future__ import annotations

from itertools import permutations
from typing import Any

import httpx

from app.core.clock import FixedClock
from app.core.db import Database
from tests.telephony.rota_rows import Person, staff
from tests.telephony.twilio import Caller, local_path, post

SID = "CA00000000000000000000000000000020"
STAMP = "Fri, 20 Nov 2026 15:0{}:00 +0000"


async def _status(caller: Caller, status: str, seq: int | None, minute: int, **extra: str) -> None:
    fields = {"CallStatus": status, "Timestamp": STAMP.format(minute), **extra}
    if seq is not None:
        fields["SequenceNumber"] = str(seq)
    answer = await post(caller.client, "/twilio/status", caller.form(**fields))
    assert answer.status_code == 204, answer.text


async def _call(client: httpx.AsyncClient, admin: dict[str, str], sid: str = SID) -> Any:
    answer = await client.get(f"/v1/calls/{sid}", headers=admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_same_event_twice_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    caller = Caller(client, sid=SID)
    await caller.dial_in()
    await _status(caller, "completed", 3, 4, CallDuration="240")
    first = await _call(client, admin)
    await _status(caller, "completed", 3, 4, CallDuration="240")
    await _status(caller, "completed", 3, 4, CallDuration="999")  # a retry is a retry
    again = await _call(client, admin)
    assert again == first
    assert [e["status"] for e in again["status_events"]] == ["completed"]
    assert again["duration"] == 240 and again["ended_at"] == "2026-11-20T15:04:00Z"


async def test_a_repeat_without_a_sequence_number_is_recorded_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    caller = Caller(client, sid=SID)
    await caller.dial_in()
    await _status(caller, "ringing", None, 1)
    await _status(caller, "ringing", None, 1)
    await _status(caller, "in-progress", 1, 2)
    await _status(caller, "ringing", 0, 1)  # numbered: another event than the unnumbered one
    events = (await _call(client, admin))["status_events"]
    assert [(e["status"], e["sequence"]) for e in events] == [
        ("ringing", None),
        ("in-progress", 1),
        ("ringing", 0),
    ]


async def test_events_out_of_order_never_move_the_status_back(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    caller = Caller(client, sid=SID)
    await _status(caller, "in-progress", 2, 1)  # before the voice webhook even
    await caller.dial_in()
    await _status(caller, "ringing", 1, 0)
    assert (await _call(client, admin))["status"] == "in-progress"
    await _status(caller, "completed", 3, 3, CallDuration="180")
    await _status(caller, "initiated", 0, 0)
    call = await _call(client, admin)
    assert call["status"] == "completed"
    assert call["started_at"] == "2026-11-20T15:00:00Z"
    assert call["duration"] == 180
    assert [(e["status"], e["sequence"]) for e in call["status_events"]] == [
        ("in-progress", 2),
        ("ringing", 1),
        ("completed", 3),
        ("initiated", 0),
    ]
    # The caller hung up in the IVR: nobody answered, no message.
    assert call["outcome"] == "abandoned"


async def test_a_late_ringing_after_completed_is_recorded_but_ignored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    caller = Caller(client, sid=SID)
    await caller.dial_in()
    await _status(caller, "completed", None, 2, CallDuration="60")
    await _status(caller, "ringing", None, 0)
    await _status(caller, "ringing", None, 0)
    call = await _call(client, admin)
    assert call["status"] == "completed" and call["ended_at"] == "2026-11-20T15:02:00Z"
    assert [e["status"] for e in call["status_events"]] == ["completed", "ringing"]


async def test_answered_arrives_as_in_progress_and_a_lower_sequence_loses(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    caller = Caller(client, sid=SID)
    await caller.dial_in()
    await _status(caller, "in-progress", 5, 1)
    await _status(caller, "in-progress", 4, 1)  # an older copy of the same status
    call = await _call(client, admin)
    assert call["status"] == "in-progress"
    assert len(call["status_events"]) == 2


async def test_the_outcome_follows_dial_call_status_not_the_parent_status(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, admin: dict[str, str]
) -> None:
    await staff(db, clock.now(), {"support-en": [Person("Ann", "+14155550001", ["en"])]})
    caller = Caller(client, sid=SID, from_number="+15005550006")
    await caller.dial_in()
    await caller.press("1")
    await caller.stay_silent()
    await caller.stay_silent()
    doc = await caller.press("0")
    leg = next(iter(doc.find("Dial") or []))
    # The parent leg is in-progress (it always is while the Dial runs); the dial failed.
    doc = await caller.dial_ends("failed", CallStatus="in-progress")
    assert doc.find("Record") is not None  # voicemail, not "answered"
    # The leg's own callbacks arrive late and out of order: the attempt stays failed.
    leg_form = {"CallSid": "CA_LEG", "ParentCallSid": SID}
    for status in ("failed", "ringing", "initiated", "failed"):
        answer = await post(
            client, local_path(leg.get("statusCallback", "")), {**leg_form, "CallStatus": status}
        )
        assert answer.status_code == 204
    call = await _call(client, admin)
    assert [a["result"] for a in call["attempts"]] == ["failed"]
    assert call["answered_by"] is None and call["outcome"] is None


async def test_every_arrival_order_ends_in_the_same_record(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    events = [("initiated", 0, 0), ("ringing", 1, 0), ("in-progress", 2, 1), ("completed", 3, 5)]
    results = []
    for index, order in enumerate(permutations(events)):
        caller = Caller(client, sid=f"CA{index:032d}")
        for status, seq, minute in (*order, order[0]):  # and one repeat
            extra = {"CallDuration": "300"} if status == "completed" else {}
            await _status(caller, status, seq, minute, **extra)
        call = await _call(client, admin, caller.sid)
        results.append(
            (call["status"], call["ended_at"], call["duration"], len(call["status_events"]))
        )
    assert set(results) == {("completed", "2026-11-20T15:05:00Z", 300, 4)}
