"""A voicemail left over the Twilio webhooks reaches the work list, and the account history
shows the call, its work item and the specialist's note; wait and talk times."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, get_args

import httpx

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call
from app.models.routing import WORK_OUTCOMES
from app.worklist.schemas import WorkOutcome
from tests.telephony.twilio import Caller, post, says
from tests.worklist.conftest import Staff, add_account, ok

RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE77"


def test_the_api_outcomes_are_the_stored_ones() -> None:
    assert get_args(WorkOutcome) == WORK_OUTCOMES


async def _leave_voicemail(client: httpx.AsyncClient, clock: FixedClock) -> Caller:
    """A known caller picks English; nobody is on shift, so the line is closed: voicemail."""
    caller = Caller(client, sid="CA00000000000000000000000000000077", from_number="+14155550177")
    await caller.dial_in()
    doc = await caller.press("1")
    assert says(doc)[:2] == [
        "Welcome back, Blue Whale Diving.",
        "Our support line is closed right now. We open again as soon as a specialist is on duty.",
    ]
    assert caller.doc is not None and caller.doc.find("Record") is not None
    await caller.leave_voicemail(RECORDING, "23")
    transcript = await post(
        client,
        "/twilio/transcription",
        caller.form(
            TranscriptionStatus="completed",
            TranscriptionText="Please call me about the dive booking.",
            RecordingUrl=RECORDING,
        ),
    )
    assert transcript.status_code == 204
    clock.advance(timedelta(seconds=40))
    ended = await post(
        client,
        "/twilio/status",
        caller.form(CallStatus="completed", CallDuration="40", SequenceNumber="3"),
    )
    assert ended.status_code == 204
    return caller


async def test_a_voicemail_is_worked_and_shows_in_the_account_history(
    client: httpx.AsyncClient, clock: FixedClock, staff: Staff
) -> None:
    created = await client.post(
        "/v1/accounts",
        json={"name": "Blue Whale Diving", "tier": "paid", "phones": ["+14155550177"]},
        headers=staff.admin,
    )
    account = ok(created, 201)
    caller = await _leave_voicemail(client, clock)

    listed = ok(await client.get("/v1/callbacks?kind=voicemail", headers=staff.as_ann))["items"]
    assert len(listed) == 1
    item = listed[0]
    assert item["status"] == "open" and item["language"] == "en"
    assert item["account"] == {"id": account["id"], "name": "Blue Whale Diving", "tier": "paid"}
    assert item["number"] == "+14155550177"
    assert item["call"]["sid"] == caller.sid and item["call"]["from_number"] == "+14155550177"
    assert item["call"]["voicemail"] == {
        "url": RECORDING,
        "duration": 23,
        "transcription": "Please call me about the dive booking.",
    }
    by_account = await client.get(f"/v1/callbacks?account_id={account['id']}", headers=staff.as_bob)
    assert [i["id"] for i in ok(by_account)["items"]] == [item["id"]]

    clock.advance(timedelta(minutes=10))
    ok(await client.post(f"/v1/callbacks/{item['id']}/claim", headers=staff.as_ann))
    clock.advance(timedelta(minutes=3))
    note = {"outcome": "resolved", "note": "Rebooked the dive for Saturday."}
    done = ok(
        await client.post(f"/v1/callbacks/{item['id']}/complete", json=note, headers=staff.as_ann)
    )
    assert done["status"] == "done"
    assert ok(await client.get("/v1/callbacks", headers=staff.as_ann))["items"] == []

    history = ok(await client.get(f"/v1/accounts/{account['id']}/history", headers=staff.as_ann))
    entries = history["entries"]
    assert [e["kind"] for e in entries] == ["note", "call"]  # newest first
    assert entries[0]["note"]["body"] == "Voicemail (resolved): Rebooked the dive for Saturday."
    assert entries[0]["note"]["author"] == "ann-key"
    call = entries[1]["call"]
    assert call["sid"] == caller.sid and call["outcome"] == "voicemail"
    assert call["handled_by"] is None and call["talk_seconds"] is None
    assert call["voicemail"]["transcription"] == "Please call me about the dive booking."
    assert call["work_items"] == [
        {
            "id": item["id"],
            "kind": "voicemail",
            "status": "done",
            "outcome": "resolved",
            "claimed_by": {"id": staff.ann, "name": "Ann Example"},
            "completed_at": "2026-11-20T15:13:40Z",
        }
    ]


async def _call(db: Database, clock: FixedClock, account_id: int, **fields: Any) -> None:
    now = clock.now()
    async with db.transaction() as session:
        session.add(
            Call(
                sid=f"CA{now:%Y%m%d%H%M%S}",
                from_number="+14155550142",
                to_number="+18005550100",
                account_id=account_id,
                status="completed",
                started_at=now,
                created_at=now,
                updated_at=now,
                **fields,
            )
        )


async def test_wait_and_talk_times(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, staff: Staff
) -> None:
    account_id = await add_account(db, clock.now(), "Acme")
    start = clock.now()
    # Never routed (the flow hung up): no wait, no talk.
    await _call(db, clock, account_id, outcome="ended", ended_at=start + timedelta(seconds=30))
    clock.advance(timedelta(hours=1))
    # Answered after 25 s in the queue, talked 4 min.
    routed = clock.now() + timedelta(seconds=50)
    await _call(
        db,
        clock,
        account_id,
        outcome="answered",
        answered_by_id=staff.bob,
        routed_at=routed,
        answered_at=routed + timedelta(seconds=25),
        ended_at=routed + timedelta(seconds=25 + 240),
    )
    clock.advance(timedelta(hours=1))
    # Routed, nobody answered, the caller hung up after 70 s.
    routed = clock.now() + timedelta(seconds=40)
    await _call(
        db,
        clock,
        account_id,
        outcome="abandoned",
        routed_at=routed,
        ended_at=routed + timedelta(seconds=70),
    )
    history = ok(await client.get(f"/v1/accounts/{account_id}/history", headers=staff.admin))
    calls = [e["call"] for e in history["entries"]]
    assert [c["outcome"] for c in calls] == ["abandoned", "answered", "ended"]
    assert [(c["wait_seconds"], c["talk_seconds"]) for c in calls] == [
        (70, None),
        (25, 240),
        (None, None),
    ]
    assert calls[1]["handled_by"] == {"specialist_id": staff.bob, "name": "Bob Example"}
    assert all(c["work_items"] == [] for c in calls)
