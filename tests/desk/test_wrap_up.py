"""Dispositions: the admin's list; the wrap-up after a call in the log, history and reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call
from tests.routing.calls import add_call
from tests.telephony.rota_rows import Person, staff

ANN = Person("Ann", "+14155550001", ["en"])
BOB = Person("Bob", "+14155550002", ["en"])


async def _dispositions(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for position, (code, label) in enumerate(
        (("resolved", "Resolved"), ("follow-up", "Needs follow-up"), ("spam", "Spam"))
    ):
        answer = await client.post(
            "/v1/dispositions",
            json={"code": code, "label": label, "position": position},
            headers=admin,
        )
        assert answer.status_code == 201, answer.text


async def test_the_admin_edits_the_list(
    client: httpx.AsyncClient, admin: dict[str, str], keys: Any
) -> None:
    await _dispositions(client, admin)
    again = await client.post(
        "/v1/dispositions", json={"code": "spam", "label": "Spam"}, headers=admin
    )
    assert again.status_code == 409
    bad = await client.post(
        "/v1/dispositions", json={"code": "Not OK!", "label": "x"}, headers=admin
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.code"
    specialist = await keys.headers("specialist")
    refused = await client.post(
        "/v1/dispositions", json={"code": "x", "label": "x"}, headers=specialist
    )
    assert refused.status_code == 403
    retired = await client.patch("/v1/dispositions/spam", json={"active": False}, headers=admin)
    assert retired.status_code == 200 and retired.json()["active"] is False
    listed = await client.get("/v1/dispositions", headers=specialist)
    assert [d["code"] for d in listed.json()] == ["resolved", "follow-up"]
    every = await client.get("/v1/dispositions", params={"include_inactive": "true"}, headers=admin)
    assert [d["code"] for d in every.json()] == ["resolved", "follow-up", "spam"]
    missing = await client.patch("/v1/dispositions/nope", json={"label": "x"}, headers=admin)
    assert missing.status_code == 404


async def test_a_wrap_up_shows_in_the_log_the_history_and_the_report(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
    keys: Any,
    make_account: Any,
) -> None:
    await _dispositions(client, admin)
    account = await make_account("Acme Robotics", ["+14155550142"])
    now = clock.now()
    ids = await staff(db, now, {"support-en": [ANN, BOB]})
    async with db.transaction() as session:
        first = await add_call(session, now, status="completed", age=timedelta(minutes=30))
        second = await add_call(session, now, status="completed", age=timedelta(minutes=10))
        await session.execute(
            update(Call)
            .where(Call.id.in_([first, second]))
            .values(account_id=account["id"], answered_by_id=ids["Ann"], outcome="answered")
        )
        sids = {
            call_id: sid
            for call_id, sid in (
                await session.execute(Call.__table__.select().with_only_columns(Call.id, Call.sid))
            ).all()
        }
    ann = await keys.headers("specialist", name="Ann", specialist_id=ids["Ann"])
    bob = await keys.headers("specialist", name="Bob", specialist_id=ids["Bob"])
    url = f"/v1/calls/{sids[first]}/wrap-up"
    assert (await client.put(url, json={"disposition": "resolved"}, headers=bob)).status_code == 403
    answer = await client.put(
        url, json={"disposition": "follow-up", "note": "Sending a new charger."}, headers=ann
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["disposition"] == "follow-up" and answer.json()["author"] == "Ann"
    answer = await client.put(
        f"/v1/calls/{sids[second]}/wrap-up", json={"disposition": "resolved"}, headers=ann
    )
    assert answer.status_code == 200, answer.text
    unknown = await client.put(url, json={"disposition": "nope"}, headers=ann)
    assert unknown.status_code == 404

    detail = await client.get(f"/v1/calls/{sids[first]}", headers=admin)
    assert detail.json()["disposition"] == "follow-up"
    listed = await client.get("/v1/calls", params={"disposition": "resolved"}, headers=admin)
    assert [c["sid"] for c in listed.json()["items"]] == [sids[second]]
    history = await client.get(f"/v1/accounts/{account['id']}/history", headers=admin)
    entries = history.json()["entries"]
    assert [(e["kind"], (e["call"] or {}).get("disposition")) for e in entries] == [
        ("note", None),
        ("call", "resolved"),
        ("call", "follow-up"),
    ]
    assert entries[0]["note"]["body"] == "Sending a new charger."
    report = await client.get(
        "/v1/reports/summary",
        params={"start": "2026-11-20", "end": "2026-11-21", "group_by": "disposition"},
        headers=admin,
    )
    assert report.status_code == 200, report.text
    groups = {g["group"]: g["offered"] for g in report.json()["groups"]}
    assert groups == {"follow-up": 1, "resolved": 1}
