"""The caller's webhooks on PostgreSQL without a transaction where one statement is enough.

A menu digit reads the call and writes its versioned save: no BEGIN, no COMMIT. A webhook
that turns out to need more (a routing decision, the caller gone) is answered in a
transaction instead, nothing written twice, and the next webhook of its shape starts in one.
Whatever happens, the caller hears what they would have heard.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text

from app.calls import records
from app.core.clock import FixedClock
from app.core.db import Database
from app.core.driver_sql import Sql, run
from app.models.account import Account, AccountPhone
from app.models.closure import Closure
from app.models.rota import Team
from app.telephony import driver
from tests.telephony.rota_rows import Person, staff
from tests.telephony.twilio import SORRY, Caller, local_path, post, query_of, says, verbs

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def sent(app: FastAPI) -> list[str]:
    """Every query the app's pooled connections send from now on (asyncpg's query log:
    BEGIN and COMMIT, and the statements the call path runs on the driver)."""
    database: Database = app.state.db
    await database.engine.dispose()  # connections opened from now on log what they send
    log: list[str] = []

    @event.listens_for(database.engine.sync_engine, "connect")
    def _log(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.driver_connection.add_query_logger(
            lambda record: log.append(record.query.strip())
        )

    driver._NEEDS_TRANSACTION.clear()
    return log


# What asyncpg asks of a new connection about types before it first sends JSON.
_INTROSPECTION = ("typeinfo_tree", "current_setting('jit')", "set_config('jit'")


async def _then(log: list[str]) -> list[str]:
    """What was logged so far (the driver calls its loggers soon after a query), cleared;
    without asyncpg's own introspection of types."""
    await asyncio.sleep(0.02)
    seen = [q for q in log if not any(mark in q for mark in _INTROSPECTION)]
    log.clear()
    return seen


def _transactions(seen: list[str]) -> list[str]:
    """The BEGIN, COMMIT and ROLLBACK among the queries, in order."""
    words = (q.split()[0].rstrip(";").upper() for q in seen)
    return [w for w in words if w in ("BEGIN", "COMMIT", "ROLLBACK")]


async def _to_the_topic_menu(caller: Caller) -> None:
    """The caller dials in, picks English and lets the next two menus time out: the next
    digit chooses a topic (0 routes to support-en)."""
    await caller.dial_in()
    await caller.press("1")
    await caller.stay_silent()
    await caller.stay_silent()


def _reads_of_the_call(seen: list[str]) -> int:
    return sum(1 for q in seen if q.startswith("SELECT calls.id") and "call_states" in q)


async def test_menus_are_answered_without_a_transaction(
    client: httpx.AsyncClient, sent: list[str], admin: dict[str, str]
) -> None:
    caller = Caller(client, sid="CA" + "a1" * 16)
    await _then(sent)
    doc = await caller.dial_in()
    assert verbs(doc) == ["Gather", "Redirect"]
    seen = await _then(sent)
    # A new call reads nothing first: the INSERT of all (its CallSid not yet taken).
    assert _transactions(seen) == [] and len(seen) == 1
    doc = await caller.dial_in()  # Twilio repeats it: the INSERT finds the call, read next
    assert verbs(doc) == ["Gather", "Redirect"]
    seen = await _then(sent)
    assert _transactions(seen) == [] and _reads_of_the_call(seen) == 1 and len(seen) == 2
    doc = await caller.press("1")  # English
    seen = await _then(sent)
    assert _transactions(seen) == []
    assert verbs(doc) == ["Gather", "Redirect"]
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert call["language"] == "en"
    assert ("choose_language", "1") in [(s["step"], s["input"]) for s in call["path"]]


async def _accounts_read_with(db: Database, sid: str) -> Any:
    """The caller's accounts as the read of the call brings them (None: not read)."""
    async with db.transaction() as session:
        record, _ = await records.call_and_state(session, sid)
    assert record is not None
    return record.caller_accounts


async def test_the_caller_is_recognised_from_the_read_of_the_call(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    sent: list[str],
    admin: dict[str, str],
) -> None:
    now = clock.now()
    async with db.transaction() as session:
        owned = {}
        for number, name, e164 in (
            ("1000017", "Acme Payments", "+14155550199"),
            ("1000025", "Shared Two", "+14155550177"),
            ("1000033", "Shared One", "+14155550177"),
        ):
            account = Account(number=number, name=name, created_at=now, updated_at=now)
            account.phones = [AccountPhone(e164=e164, position=0)]
            session.add(account)
            await session.flush()
            owned[name] = account.id
    caller = Caller(client, sid="CA" + "e5" * 16, from_number="+14155550199")
    await caller.dial_in()
    await _then(sent)
    await caller.press("1")  # the language: caller ID looks the number up
    seen = await _then(sent)
    assert _transactions(seen) == [] and _reads_of_the_call(seen) == 1
    # The accounts came with the read of the call: no statement of their own.
    assert [q for q in seen if "account_phones" in q and "call_states" not in q] == []
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert call["account_id"] == owned["Acme Payments"]
    assert await _accounts_read_with(db, caller.sid) is None  # linked: not read again
    # A shared number: every account with it, in the order of their ids, as caller ID
    # reads them itself.
    shared = Caller(client, sid="CA" + "f6" * 16, from_number="+14155550177")
    await shared.dial_in()
    assert await _accounts_read_with(db, shared.sid) == [
        (owned["Shared Two"], "Shared Two", "standard", "1000025"),
        (owned["Shared One"], "Shared One", "standard", "1000033"),
    ]
    stranger = Caller(client, sid="CA" + "a7" * 16, from_number="+14155550123")
    await stranger.dial_in()
    assert await _accounts_read_with(db, stranger.sid) == []


async def test_a_webhook_that_routes_runs_in_a_transaction_and_is_remembered(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    sent: list[str],
    admin: dict[str, str],
) -> None:
    await staff(
        db,
        clock.now(),
        {"support-en": [Person(f"P{i}", f"+1415555010{i}", ["en"]) for i in range(1, 5)]},
    )
    rung: list[list[str]] = []
    for n, sid in enumerate(("CA" + "b2" * 16, "CA" + "c3" * 16)):
        caller = Caller(client, sid=sid, from_number=f"+1500555000{n}")
        await _to_the_topic_menu(caller)
        await _then(sent)
        doc = await caller.press("0")
        seen = await _then(sent)
        rung.append([number.text or "" for number in doc.iter("Number")])
        assert _transactions(seen) == ["BEGIN", "COMMIT"]
        # The first caller's webhook tried alone, met the reservation and began again in
        # a transaction (the call read twice); the second's began in one at once.
        assert _reads_of_the_call(seen) == (2 if n == 0 else 1)
        # The ringing attempts went in with the reservation: no statement of their own.
        inserts = [q for q in seen if "INSERT INTO call_attempts" in q]
        assert len(inserts) == 1 and "FOR UPDATE SKIP LOCKED" in inserts[0]
        call = (await client.get(f"/v1/calls/{sid}", headers=admin)).json()
        assert len(call["attempts"]) == 2  # written once, not once per try
    assert all(len(numbers) == 2 for numbers in rung)
    assert set(rung[0]).isdisjoint(rung[1])  # four people, two each: nobody rung twice


async def test_a_caller_gone_during_a_menu_is_recorded_in_a_transaction(
    client: httpx.AsyncClient, sent: list[str], admin: dict[str, str]
) -> None:
    caller = Caller(client, sid="CA" + "d4" * 16)
    await caller.dial_in()
    await _then(sent)
    doc = await caller._post(caller.gather.get("action", ""), Digits="1", CallStatus="completed")
    assert verbs(doc) == ["Hangup"]
    assert _transactions(await _then(sent)) == ["BEGIN", "COMMIT"]
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert call["outcome"] == "abandoned"


async def test_connections_dead_in_the_pool_go_unheard(
    app: FastAPI, client: httpx.AsyncClient, sent: list[str]
) -> None:
    first = Caller(client, sid="CA" + "e5" * 16)
    await first.dial_in()
    await first.press("1")
    database: Database = app.state.db
    other = Database.from_url(database.engine.url.render_as_string(hide_password=False))
    try:  # the server drops every connection the app keeps (a restart, a failover)
        async with other.transaction() as session:
            await session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await other.dispose()
    await asyncio.sleep(0.1)
    second = Caller(client, sid="CA" + "f6" * 16)
    doc = await second.dial_in()
    assert verbs(doc) == ["Gather", "Redirect"]
    assert not any(SORRY in said for said in says(doc))
    doc = await first.press("1")
    assert verbs(doc) == ["Gather", "Redirect"]
    assert not any(SORRY in said for said in first.heard)


async def test_a_new_calls_insert_on_a_connection_that_dies_is_answered_after_all(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], sent: list[str]
) -> None:
    """The connection dies under a new call's one write (it may or may not have been
    made): the answer runs again in a transaction, on a new connection, and the caller
    hears the menu; the call is stored once."""
    database: Database = app.state.db
    other = Database.from_url(database.engine.url.render_as_string(hide_password=False))
    real = driver.records.save_with_state

    async def dying(session: Any, *args: Any, **kwargs: Any) -> bool:
        driver.records.save_with_state = real  # once
        pid = (await run(session, Sql.of("SELECT pg_backend_pid()"))).rows[0][0]
        async with other.transaction() as killer:
            await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.sleep(0.1)
        return await real(session, *args, **kwargs)

    driver.records.save_with_state = dying
    try:
        caller = Caller(client, sid="CA" + "b8" * 16)
        doc = await caller.dial_in()
    finally:
        driver.records.save_with_state = real
        await other.dispose()
    assert verbs(doc) == ["Gather", "Redirect"]
    assert not any(SORRY in said for said in says(doc))
    assert _transactions(await _then(sent))[:1] == ["BEGIN"]  # the second try
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert call["sid"] == caller.sid
    doc = await caller.press("1")
    assert verbs(doc) == ["Gather", "Redirect"]


async def test_one_webhook_sent_twice_at_once_is_answered_the_same_and_saved_once(
    client: httpx.AsyncClient, admin: dict[str, str], sent: list[str]
) -> None:
    caller = Caller(client, sid="CA" + "a7" * 16)
    await caller.dial_in()
    action = caller.gather.get("action", "")
    twins = [Caller(client, sid=caller.sid) for _ in range(2)]
    for twin in twins:
        twin.doc = caller.doc
    docs = await asyncio.gather(*(twin.press("1") for twin in twins))
    assert [verbs(d) for d in docs] == [["Gather", "Redirect"]] * 2
    assert twins[0].raw == twins[1].raw
    assert query_of(action)["v"] == "1"
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    steps = [(s["step"], s["input"]) for s in call["path"]]
    assert steps.count(("choose_language", "1")) == 1  # the digit logged once
    assert [s["seq"] for s in call["path"]] == list(range(len(steps)))


async def test_a_status_callback_is_one_statement_without_a_transaction(
    client: httpx.AsyncClient, admin: dict[str, str], sent: list[str]
) -> None:
    """One statement records the event and saves the call: no BEGIN, no COMMIT. A repeat
    is the same statement, recording and changing nothing; copies sent at once record the
    event once."""
    caller = Caller(client, sid="CA" + "c9" * 16)
    await caller.dial_in()
    await _then(sent)
    form = caller.form(CallStatus="in-progress", SequenceNumber="1", CallDuration="")
    assert (await post(client, "/twilio/status", form)).status_code == 204
    seen = await _then(sent)
    assert _transactions(seen) == [] and len(seen) == 1
    assert "INSERT INTO call_status_events" in seen[0] and "UPDATE calls" in seen[0]
    assert "FOR UPDATE" in seen[0]  # the call locked first, as a transaction takes it
    assert (await post(client, "/twilio/status", form)).status_code == 204
    assert len(await _then(sent)) == 1  # the repeat: found recorded, nothing written
    ended = caller.form(CallStatus="completed", SequenceNumber="2", CallDuration="61")
    answers = await asyncio.gather(*(post(client, "/twilio/status", ended) for _ in range(3)))
    assert [a.status_code for a in answers] == [204] * 3
    seen = await _then(sent)
    assert _transactions(seen) == [] and len(seen) == 3
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    events = [(e["status"], e["sequence"]) for e in call["status_events"]]
    assert events == [("in-progress", 1), ("completed", 2)]
    assert call["status"] == "completed" and call["duration"] == 61
    assert call["outcome"] == "abandoned"  # nobody answered: the caller gave up


async def test_a_status_callback_waiting_for_the_call_decides_on_what_it_finds(
    client: httpx.AsyncClient, db: Database, admin: dict[str, str]
) -> None:
    """Another callback of the call holds it (answered, a later sequence number) while a
    late `ringing` waits for it: that one decides on the call as it finds it, and the
    status does not move back; both events are kept."""
    caller = Caller(client, sid="CA" + "d8" * 16)
    await caller.dial_in()
    earlier = caller.form(CallStatus="ringing", SequenceNumber="2", CallDuration="")
    async with db.transaction() as session:
        await session.execute(
            text("UPDATE calls SET status = 'in-progress', status_seq = 5 WHERE sid = :sid"),
            {"sid": caller.sid},
        )
        waiting = asyncio.create_task(post(client, "/twilio/status", earlier))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # it waits for the call the other transaction holds
    assert (await waiting).status_code == 204
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert [(e["status"], e["sequence"]) for e in call["status_events"]] == [("ringing", 2)]
    assert (call["status"], call["outcome"]) == ("in-progress", None)


async def _two_rung(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    sent: list[str],
    *,
    sid: str,
    number: int,
) -> tuple[Caller, list[ElementTree.Element]]:
    """Two people on shift in support-en, rung by a caller's topic digit: the caller and
    the <Number> of each leg (what was sent until then cleared)."""
    await staff(
        db,
        clock.now(),
        {"support-en": [Person(f"P{i}", f"+1415555{number:02d}0{i}", ["en"]) for i in range(1, 3)]},
    )
    caller = Caller(client, sid=sid, from_number=f"+150055500{number:02d}")
    await _to_the_topic_menu(caller)
    doc = await caller.press("0")
    legs = list(doc.iter("Number"))
    assert len(legs) == 2
    await _then(sent)
    return caller, legs


async def test_a_final_status_alone_frees_everyone_the_call_holds(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    sent: list[str],
    admin: dict[str, str],
) -> None:
    """The caller hangs up while specialists are rung: the final status callback, one
    statement without a transaction, frees them and records the call as abandoned."""
    caller, _ = await _two_rung(client, db, clock, sent, sid="CA" + "e9" * 16, number=2)
    gone = caller.form(CallStatus="completed", SequenceNumber="3", CallDuration="20")
    assert (await post(client, "/twilio/status", gone)).status_code == 204
    seen = await _then(sent)
    assert _transactions(seen) == [] and len(seen) == 1
    assert "specialist_presence" in seen[0] and "console_events" in seen[0]
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert call["status"] == "completed" and call["outcome"] == "abandoned"
    states = await _presence_states(db)
    assert list(states.values()) == ["free", "free"]


async def _presence_states(db: Database) -> dict[int, str]:
    async with db.transaction() as session:
        rows = await session.execute(text("SELECT specialist_id, state FROM specialist_presence"))
        return {int(r[0]): str(r[1]) for r in rows}


def _hours_read_alone(seen: list[str]) -> int:
    """The `hours` step's reads of teams and closures in a statement of their own."""
    return sum(1 for q in seen if "FROM closures" in q and "call_states" not in q)


async def test_the_hours_a_menu_leads_to_are_read_with_the_call(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, sent: list[str]
) -> None:
    now = clock.now()  # a Friday afternoon: both teams closed until Monday
    monday = {"days": ["mon"], "start": "09:00", "end": "17:00", "min_staff": 1}
    async with db.transaction() as session:
        for slug in ("support-en", "paid-support"):
            session.add(
                Team(
                    slug=slug,
                    name=slug,
                    tz="Europe/Dublin",
                    coverage=[monday],
                    calendar_token=f"token-{slug}",
                    created_at=now,
                    updated_at=now,
                )
            )
        for n, tier in enumerate(("standard", "standard", "paid", "standard", "paid", "paid")):
            account = Account(
                number=f"200000{n}", name=f"Caller {n}", tier=tier, created_at=now, updated_at=now
            )
            account.phones = [AccountPhone(e164=f"+1415555021{n}", position=0)]
            session.add(account)
    driver._HOURS_ASKED.clear()
    heard: list[list[str]] = []
    alone: list[int] = []
    for n in range(6):
        if n == 5:  # as the hours step reads them itself
            driver._HOURS_ASKED.clear()
        if n == 3:  # the line is closed for training from now on: heard at once
            async with db.transaction() as session:
                session.add(
                    Closure(
                        team="support-en",
                        reason="training",
                        starts_at=now - timedelta(hours=1),
                        ends_at=now + timedelta(days=1),
                        messages={"en": "We are closed for training today."},
                        created_at=now,
                        updated_at=now,
                    )
                )
        caller = Caller(client, sid=f"CA{n:02d}" + "e7" * 15, from_number=f"+1415555021{n}")
        await caller.dial_in()
        await _then(sent)
        doc = await caller.press("1")  # English, recognised by caller ID, then the hours
        seen = await _then(sent)
        assert _transactions(seen) == [] and _reads_of_the_call(seen) == 1
        alone.append(_hours_read_alone(seen))
        heard.append(says(doc))
    # The first caller's digit read the hours itself; the next of the same shape read them
    # with the call. A paid caller's line checks paid-support too: read once on its own,
    # then with the call for everyone.
    assert alone == [1, 0, 1, 0, 0, 1]
    assert any("closed right now" in s and "Monday" in s for s in heard[0])
    assert heard[1] == [s.replace("Caller 0", "Caller 1") for s in heard[0]]
    assert heard[2] == [s.replace("Caller 0", "Caller 2") for s in heard[0]]
    # A closure of support-en, added after the teams were first read: heard at once, by a
    # standard caller and by a paid one (whose line overflows to support-en), the same as
    # when the step reads the hours itself.
    assert "We are closed for training today." in heard[3]
    assert heard[4] == [s.replace("Caller 3", "Caller 4") for s in heard[3]]
    assert heard[5] == [s.replace("Caller 4", "Caller 5") for s in heard[4]]


async def test_a_legs_status_callbacks_are_a_statement_each(
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    sent: list[str],
    admin: dict[str, str],
) -> None:
    """Each status callback of a specialist's leg is one statement without a transaction,
    deciding on the attempt as it locks it; the final one frees the specialist, once."""
    caller, legs = await _two_rung(client, db, clock, sent, sid="CA" + "f1" * 16, number=3)
    url = local_path(legs[0].get("statusCallback", ""))
    leg = "CA" + "1f" * 16
    for status in ("initiated", "ringing", "completed", "completed", "ringing"):
        form = {"CallSid": leg, "ParentCallSid": caller.sid, "CallStatus": status}
        assert (await post(client, url, form)).status_code == 204
        seen = await _then(sent)
        assert _transactions(seen) == [] and len(seen) == 1
        assert "UPDATE call_attempts" in seen[0]
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    ended = [a for a in call["attempts"] if a["result"] != "ringing"]
    # Answered by nobody (a voicemail would have picked up: in-progress), ended by the
    # leg's `completed`; the `ringing` that came late changed nothing back.
    assert [a["result"] for a in ended] == ["declined"]
    assert sorted((await _presence_states(db)).values()) == ["free", "ringing"]
    async with db.transaction() as session:
        freed = await session.execute(
            text("SELECT count(*) FROM console_events WHERE kind = 'ring_ended'")
        )
        assert freed.scalar_one() == 1
