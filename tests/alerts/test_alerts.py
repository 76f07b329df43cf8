"""Alerts: channels and rules through the API, the outbox, delivery with retries."""

from __future__ import annotations

import asyncio
import itertools
import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select

from app.alerts import detectors, outbox
from app.alerts.runner import deliver_due, scan_once
from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.alerts import AlertDelivery
from app.models.call import Call, RingAttempt
from app.models.routing import QueueEntry
from tests.alerts.conftest import Collector, Mailbox, Receiver, free_port
from tests.conftest import PUBLIC_BASE_URL
from tests.rota_api.helpers import Api
from tests.worklist.conftest import add_item, ok, problem

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


async def _team(client: httpx.AsyncClient, admin: dict[str, str], **extra: Any) -> None:
    await Api(client, admin).team("support-en", **extra)


async def _channel(
    client: httpx.AsyncClient, admin: dict[str, str], kind: str, target: str, name: str = "ops"
) -> int:
    body = {"team": "support-en", "name": name, "kind": kind, "target": target}
    return int(ok(await client.post("/v1/alert-channels", json=body, headers=admin), 201)["id"])


async def _rule(client: httpx.AsyncClient, admin: dict[str, str], kind: str, **extra: Any) -> int:
    body = {"team": "support-en", "kind": kind, **extra}
    return int(ok(await client.post("/v1/alert-rules", json=body, headers=admin), 201)["id"])


async def _deliveries(db: Database) -> list[AlertDelivery]:
    async with db.transaction() as session:
        return list(await session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


async def test_channels_and_rules_api(
    client: httpx.AsyncClient, admin: dict[str, str], keys: Any, receiver: Receiver
) -> None:
    await _team(client, admin)
    scheduler = await keys.headers("scheduler")
    created = ok(
        await client.post(
            "/v1/alert-channels",
            json={"team": "support-en", "name": "ops", "kind": "slack", "target": receiver.url},
            headers=scheduler,
        ),
        201,
    )
    assert created["target"].endswith("/…") and "secret" not in created["target"]
    for role in ("viewer", "specialist"):
        assert problem(
            await client.get("/v1/alert-channels", headers=await keys.headers(role)), 403
        )
    bad = problem(
        await client.post(
            "/v1/alert-channels",
            json={"team": "support-en", "name": "m", "kind": "email", "target": "not an address"},
            headers=admin,
        ),
        422,
    )
    assert bad["errors"][0]["field"] == "body.target"
    unknown = problem(
        await client.post(
            "/v1/alert-channels",
            json={"team": "nope", "name": "m", "kind": "slack", "target": receiver.url},
            headers=admin,
        ),
        422,
    )
    assert unknown["errors"][0]["field"] == "body.team"
    assert problem(
        await client.post(
            "/v1/alert-channels",
            json={"team": "support-en", "name": "ops", "kind": "slack", "target": receiver.url},
            headers=admin,
        ),
        409,
    )
    # Thresholds are checked per kind.
    for kind, threshold in (("caller_waiting", None), ("caller_waiting", 5), ("new_work", 30)):
        body = {"team": "support-en", "kind": kind, "threshold": threshold}
        answer = problem(await client.post("/v1/alert-rules", json=body, headers=admin), 422)
        assert answer["errors"][0]["field"] == "body.threshold"
    rule = await _rule(client, admin, "caller_waiting", threshold=120, channel_id=created["id"])
    changed = ok(
        await client.patch(f"/v1/alert-rules/{rule}", json={"threshold": 300}, headers=scheduler)
    )
    assert changed["threshold"] == 300 and changed["channel_id"] == created["id"]
    listed = ok(await client.get("/v1/alert-rules?team=support-en", headers=admin))
    assert [r["id"] for r in listed] == [rule]
    paused = ok(
        await client.patch(
            f"/v1/alert-channels/{created['id']}", json={"active": False}, headers=admin
        )
    )
    assert paused["active"] is False
    assert (
        await client.delete(f"/v1/alert-channels/{created['id']}", headers=admin)
    ).status_code == 204
    # The rule went with its channel.
    assert problem(await client.get(f"/v1/alert-rules/{rule}", headers=admin), 404)


async def test_test_send_reaches_the_webhook_and_the_mailbox(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    app: FastAPI,
    db: Database,
    clock: FixedClock,
    settings: Settings,
    receiver: Receiver,
    mailbox: Mailbox,
) -> None:
    await _team(client, admin)
    hook = await _channel(client, admin, "slack", receiver.url)
    mail = await _channel(client, admin, "email", "lead@example.com, ops@example.com", "mail")
    for channel in (hook, mail):
        queued = ok(await client.post(f"/v1/alert-channels/{channel}/test", headers=admin), 202)
        assert queued["status"] == "pending"
    assert await deliver_due(db, settings, clock) == 2
    [text] = receiver.texts()
    assert text.startswith("*Test alert for Team support-en*")
    assert f"<{PUBLIC_BASE_URL}/rota/support-en|Open in Switchboard>" in text
    [message] = mailbox.messages
    assert message["Subject"] == "[Switchboard] Test alert for Team support-en"
    assert mailbox.recipients == [["lead@example.com", "ops@example.com"]]
    assert mailbox.tls == [True]  # STARTTLS before the message
    shown = ok(await client.get("/v1/alert-deliveries?status=sent", headers=admin))
    assert {d["channel_id"] for d in shown} == {hook, mail}
    assert all(d["sent_at"] and d["attempts"] == 1 for d in shown)


async def test_with_alerts_send_off_alerts_are_queued_but_never_sent(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: Database,
    clock: FixedClock,
    settings: Settings,
    receiver: Receiver,
) -> None:
    await _team(client, admin)
    hook = await _channel(client, admin, "slack", receiver.url)
    ok(await client.post(f"/v1/alert-channels/{hook}/test", headers=admin), 202)
    off = settings.model_copy(update={"alerts_send": False})
    assert await deliver_due(db, off, clock) == 0
    assert receiver.texts() == []
    [pending] = ok(await client.get("/v1/alert-deliveries", headers=admin))
    assert (pending["status"], pending["attempts"]) == ("pending", 0)
    # Turned back on, what is pending goes out.
    assert await deliver_due(db, settings, clock) == 1
    assert len(receiver.texts()) == 1


async def test_new_work_is_alerted_once_per_channel(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: Database,
    clock: FixedClock,
    settings: Settings,
    receiver: Receiver,
    mailbox: Mailbox,
) -> None:
    await _team(client, admin)
    await _channel(client, admin, "slack", receiver.url)
    await _channel(client, admin, "email", "lead@example.com", "mail")
    await _rule(client, admin, "new_work")
    clock.advance(timedelta(seconds=5))
    item = await add_item(db, clock.now(), kind="voicemail")
    await add_item(db, clock.now(), kind="callback", team="support-ja")  # another team
    assert await scan_once(db, settings, clock) == 2
    assert await scan_once(db, settings, clock) == 0  # the same event is not queued again
    await deliver_due(db, settings, clock)
    [text] = receiver.texts()
    assert "New voicemail for Team support-en" in text
    assert f"{PUBLIC_BASE_URL}/desk?item={item}" in text
    [message] = mailbox.messages
    assert "New voicemail" in str(message["Subject"])
    assert f"/desk?item={item}" in message.get_payload()  # type: ignore[operator]


async def test_failed_delivery_is_retried_with_back_off_then_given_up(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: Database,
    clock: FixedClock,
    settings: Settings,
    receiver: Receiver,
) -> None:
    await _team(client, admin)
    hook = await _channel(client, admin, "slack", receiver.url)
    receiver.statuses = [500, 500]
    ok(await client.post(f"/v1/alert-channels/{hook}/test", headers=admin), 202)
    await deliver_due(db, settings, clock)
    [row] = await _deliveries(db)
    assert row.status == "pending" and row.attempts == 1
    assert row.last_error is not None and "500" in row.last_error
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert await deliver_due(db, settings, clock) == 0  # not due yet
    clock.advance(timedelta(seconds=31))
    await deliver_due(db, settings, clock)
    [row] = await _deliveries(db)
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + timedelta(minutes=1)
    clock.advance(timedelta(minutes=2))
    await deliver_due(db, settings, clock)
    [row] = await _deliveries(db)
    assert row.status == "sent" and row.last_error is None and len(receiver.texts()) == 1

    # A webhook that keeps failing is given up after ALERTS_MAX_ATTEMPTS (3 here).
    receiver.statuses = [404, 404, 404]
    ok(await client.post(f"/v1/alert-channels/{hook}/test", headers=admin), 202)
    for _ in range(3):
        await deliver_due(db, settings, clock)
        clock.advance(timedelta(hours=1))
    failed = ok(await client.get("/v1/alert-deliveries?status=failed", headers=admin))
    assert len(failed) == 1 and failed[0]["attempts"] == 3
    assert "404" in failed[0]["last_error"]
    assert await deliver_due(db, settings, clock) == 0


async def test_several_instances_deliver_each_alert_once(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    database_url: str,
    clock: FixedClock,
    settings: Settings,
    receiver: Receiver,
) -> None:
    await _team(client, admin)
    hook = await _channel(client, admin, "slack", receiver.url)
    for _ in range(12):
        ok(await client.post(f"/v1/alert-channels/{hook}/test", headers=admin), 202)
    instances = [Database.from_url(database_url) for _ in range(3)]
    try:
        tried = await asyncio.gather(*(deliver_due(i, settings, clock) for i in instances))
        assert sum(tried) == 12
    finally:
        for instance in instances:
            await instance.dispose()
    assert len(receiver.texts()) == 12


async def test_a_claim_left_by_a_dead_instance_is_delivered_after_its_lease(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: Database,
    clock: FixedClock,
    settings: Settings,
    receiver: Receiver,
) -> None:
    await _team(client, admin)
    hook = await _channel(client, admin, "slack", receiver.url)
    ok(await client.post(f"/v1/alert-channels/{hook}/test", headers=admin), 202)
    [claimed] = await outbox.claim_due(db, clock.now())  # ...and the instance dies here
    assert await deliver_due(db, settings, clock) == 0
    clock.advance(outbox.LEASE + timedelta(seconds=1))
    assert await deliver_due(db, settings, clock) == 1
    [row] = await _deliveries(db)
    assert row.status == "sent" and row.attempts == 2 and row.id == claimed.id


_sids = itertools.count(1)


async def _call(db: Database, clock: FixedClock, **fields: Any) -> int:
    now = clock.now()
    values: dict[str, Any] = {
        "sid": f"CA{next(_sids):032d}",
        "from_number": "+14155550142",
        "to_number": "+18005550100",
        "team": "support-en",
        "language": "en",
        "status": "in-progress",
        "started_at": now - timedelta(minutes=20),
        "created_at": now,
        "updated_at": now,
    }
    async with db.transaction() as session:
        call = Call(**{**values, **fields})
        session.add(call)
        await session.flush()
        return call.id


async def test_waiting_service_level_and_unanswered_rings(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: Database,
    clock: FixedClock,
    settings: Settings,
    receiver: Receiver,
) -> None:
    await _team(client, admin)
    await _channel(client, admin, "slack", receiver.url)
    await _rule(client, admin, "caller_waiting", threshold=300)
    await _rule(client, admin, "service_level", threshold=80)
    await _rule(client, admin, "ring_unanswered")
    clock.advance(timedelta(minutes=15))  # what happens after the rules were made
    now = clock.now()
    # A caller queued 6 minutes ago, another 1 minute ago.
    for waited in (6, 1):
        call_id = await _call(db, clock, routed_at=now - timedelta(minutes=waited))
        async with db.transaction() as session:
            session.add(
                QueueEntry(
                    call_id=call_id,
                    team="support-en",
                    language="en",
                    priority=1,
                    enqueued_at=now - timedelta(minutes=waited),
                    deadline=now + timedelta(minutes=10),
                    state="waiting",
                    updated_at=now,
                )
            )
    # Two of the last hour's calls answered after 3 minutes: with the waiting ones, 0 of 3
    # answered within 60 s.
    for minutes in (30, 40):
        routed = now - timedelta(minutes=minutes)
        await _call(
            db,
            clock,
            routed_at=routed,
            answered_at=routed + timedelta(minutes=3),
            status="completed",
        )
    # A call rung to two specialists, neither accepting, gone to voicemail.
    missed = await _call(
        db,
        clock,
        routed_at=now - timedelta(minutes=10),
        ended_at=now - timedelta(minutes=8),
        status="completed",
        outcome="voicemail",
    )
    async with db.transaction() as session:
        for result in ("no-answer", "declined"):
            session.add(
                RingAttempt(
                    call_id=missed,
                    team="support-en",
                    batch=1,
                    contact="+14155550100",
                    rung_at=now - timedelta(minutes=10),
                    result=result,
                )
            )
    await scan_once(db, settings, clock)
    await deliver_due(db, settings, clock)
    texts = receiver.texts()
    waiting = [t for t in texts if "has waited" in t]
    assert len(waiting) == 1 and "6 min 00 s" in waiting[0] and "paid-tier" in waiting[0]
    level = [t for t in texts if "service level" in t]
    assert len(level) == 1 and "service level 0% (target 80%)" in level[0]
    unanswered = [t for t in texts if "not answered by anyone" in t]
    assert len(unanswered) == 1 and "/calls/" in unanswered[0]
    # Nothing new: nothing more is sent.
    await scan_once(db, settings, clock)
    assert await deliver_due(db, settings, clock) == 0


async def test_coverage_gaps_are_checked_daily_and_after_a_rota_edit(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: Database,
    clock: FixedClock,
    settings: Settings,
    receiver: Receiver,
) -> None:
    api = Api(client, admin)
    coverage = [{"days": WEEKDAYS, "start": "09:00", "end": "17:00", "min_staff": 1}]
    await api.team("support-en", coverage=coverage)
    await _channel(client, admin, "slack", receiver.url)
    await _rule(client, admin, "coverage_gap", threshold=2)
    await scan_once(db, settings, clock)
    await deliver_due(db, settings, clock)
    first = receiver.texts()
    # NOW is Friday 2026-11-20 15:00 UTC: the gaps of the next 2 days are Friday 15-17 only.
    assert len(first) == 1 and "Coverage gap for Team support-en" in first[0]
    assert "0 of 1 people" in first[0] and f"{PUBLIC_BASE_URL}/rota/support-en" in first[0]
    # Nothing changed and a day has not passed: not checked again.
    assert await scan_once(db, settings, clock) == 0
    # A rota edit (Saturdays are covered from now on) is checked at once: a new gap.
    team = ok(await client.get("/v1/teams/support-en", headers=admin))
    weekend = [*coverage, {"days": ["sat"], "start": "09:00", "end": "17:00", "min_staff": 1}]
    body = {
        "slug": "support-en",
        "name": team["name"],
        "time_zone": "UTC",
        "languages": ["en"],
        "coverage": weekend,
    }
    edited = await client.put(
        "/v1/teams/support-en",
        json=body,
        headers=api.hdr(await api.etag("/v1/teams/support-en")),
    )
    assert edited.status_code == 200, edited.text
    assert await scan_once(db, settings, clock) == 1
    await deliver_due(db, settings, clock)
    assert "2026-11-21 09:00 UTC" in receiver.texts()[-1]
    # A day later the daily check finds Monday's gap.
    clock.advance(timedelta(days=1))
    assert await scan_once(db, settings, clock) == 1


async def test_email_over_implicit_tls_and_email_not_configured(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: Database,
    clock: FixedClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    await _team(client, admin)
    mail = await _channel(client, admin, "email", "lead@example.com")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "smtps-ca.pem"))
    box = Mailbox(port=free_port())
    controller = Controller(
        Collector(box), hostname="127.0.0.1", port=box.port, ssl_context=context
    )
    controller.start()
    try:
        ok(await client.post(f"/v1/alert-channels/{mail}/test", headers=admin), 202)
        implicit = settings.model_copy(
            update={
                "smtp_tls": "ssl",
                "smtp_port": box.port,
                "smtp_ca_file": tmp_path / "smtps-ca.pem",
            }
        )
        assert await deliver_due(db, implicit, clock) == 1
    finally:
        controller.stop()
    assert [m["To"] for m in box.messages] == ["lead@example.com"]
    # Without a mail server the delivery waits for one, saying why.
    ok(await client.post(f"/v1/alert-channels/{mail}/test", headers=admin), 202)
    await deliver_due(db, settings.model_copy(update={"smtp_host": ""}), clock)
    pending = ok(await client.get("/v1/alert-deliveries?status=pending", headers=admin))
    assert [d["last_error"] for d in pending] == [
        "e-mail is not configured: set SMTP_HOST and SMTP_FROM"
    ]


async def test_coverage_gaps_are_calculated_with_no_connection_held(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: Database,
    clock: FixedClock,
    settings: Settings,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scan writes (check times, the outbox); its gap calculation must not run inside
    that transaction, or a webhook's write waits for it (SQLite has one connection)."""
    held: list[int] = []
    real = detectors.coverage_gaps

    def watched(*args: Any, **kwargs: Any) -> Any:
        held.append(db.engine.pool.checkedout())  # type: ignore[attr-defined]
        return real(*args, **kwargs)

    monkeypatch.setattr(detectors, "coverage_gaps", watched)
    coverage = [{"days": WEEKDAYS, "start": "09:00", "end": "17:00", "min_staff": 1}]
    await Api(client, admin).team("support-en", coverage=coverage)
    await _channel(client, admin, "slack", receiver.url)
    await _rule(client, admin, "coverage_gap", threshold=2)
    assert await scan_once(db, settings, clock) == 1
    assert held == [0]
