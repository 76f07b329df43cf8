"""A database that accepts connections but never answers (PostgreSQL frozen): every answer
keeps its deadline, and no callback is lost (issue 12.4)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import NoReturn, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from app.calls import records
from app.core.db import Database
from app.telephony import driver, spool
from app.telephony.endpoints import CALLBACKS, telephony_of
from tests.telephony.twilio import SORRY, Caller, post, says

T = TypeVar("T")
# Only a guard against a hung test: the assertions are on answers, never on time.
HANG_GUARD_SECONDS = 60


async def answered(request: Awaitable[T]) -> T:
    """The request's answer; fails the test instead of hanging when there is none."""
    return await asyncio.wait_for(request, HANG_GUARD_SECONDS)


@pytest.fixture
async def frozen_database() -> AsyncIterator[str]:
    """A URL of a server that accepts connections, reads, and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(4096):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"postgresql+asyncpg://switchboard@127.0.0.1:{port}/switchboard"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.fixture
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deadlines of a fraction of a second, so that the tests run quickly."""
    monkeypatch.setattr(driver, "VOICE_DEADLINE_SECONDS", 0.5)
    monkeypatch.setattr(spool, "CALLBACK_DEADLINE_SECONDS", 0.5)
    monkeypatch.setattr(spool, "PROBE_SECONDS", 0.5)


async def _freeze(app: FastAPI, url: str) -> Database:
    healthy: Database = app.state.db
    app.state.db = Database.from_url(url)
    return healthy


async def _thaw(app: FastAPI, healthy: Database) -> None:
    frozen: Database = app.state.db
    app.state.db = healthy
    # The frozen engine's connections never finished opening; nothing to wait for.
    await asyncio.wait({asyncio.ensure_future(frozen.dispose())}, timeout=1)


async def test_readyz_answers_503_when_the_database_does_not_answer(
    app: FastAPI, client: httpx.AsyncClient, frozen_database: str
) -> None:
    assert (await client.get("/readyz")).status_code == 200
    healthy = await _freeze(app, frozen_database)
    try:
        answer = await answered(client.get("/readyz"))
    finally:
        await _thaw(app, healthy)
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"].startswith("no answer within")


@pytest.mark.usefixtures("short_deadlines")
async def test_a_voicemail_left_during_an_outage_reaches_the_call_log_and_work_list(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    frozen_database: str,
) -> None:
    caller = Caller(client, sid="CA0000000000000000000000000000D0A1")
    healthy = await _freeze(app, frozen_database)
    try:
        # The caller hears the apology and leaves a voicemail on the fallback <Record>.
        doc = await answered(caller.dial_in())
        assert says(doc)[0].startswith(SORRY)
        record = doc.find("Record")
        assert record is not None
        url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/REd0a1"
        recording = await answered(
            post(
                client,
                "/twilio/recording",
                caller.form(
                    CallStatus="completed",
                    RecordingUrl=url,
                    RecordingStatus="completed",
                    RecordingDuration="17",
                ),
            )
        )
        status = await answered(
            post(
                client,
                "/twilio/status",
                caller.form(CallStatus="completed", SequenceNumber="3", CallDuration="40"),
            )
        )
        assert [recording.status_code, status.status_code] == [204, 204]
        tel = telephony_of(app.state)
        assert spool.CallbackSpool(tel.settings.callback_spool_dir).count() == 2
        # Still down: a replay applies nothing and keeps both events.
        assert await answered(spool.replay(tel, CALLBACKS)) == 0
        assert spool.CallbackSpool(tel.settings.callback_spool_dir).count() == 2
    finally:
        await _thaw(app, healthy)

    # The database is back: the replay brings the voicemail into the log and the work list.
    assert await spool.replay(telephony_of(app.state), CALLBACKS) == 2
    assert spool.CallbackSpool(app.state.settings.callback_spool_dir).count() == 0
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert call["outcome"] == "voicemail"
    assert call["status"] == "completed"
    assert call["voicemail"]["url"] == url
    items = (await client.get("/v1/callbacks", headers=admin)).json()["items"]
    assert [(i["kind"], i["call"]["sid"]) for i in items] == [("voicemail", caller.sid)]
    assert items[0]["call"]["voicemail"]["url"] == url


@pytest.mark.usefixtures("short_deadlines")
async def test_the_voice_deadline_holds_when_giving_up_on_the_database_hangs(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting for a connection, then a rollback that hangs: the caller still hears the
    apology at the deadline, not once the database lets go."""
    let_go = asyncio.Event()

    async def stuck(*_: object, **__: object) -> NoReturn:
        try:
            await asyncio.Event().wait()  # a pool connection that never comes
        except asyncio.CancelledError:
            await let_go.wait()  # unwinding hangs too (a rollback on a frozen server)
            raise
        raise AssertionError("unreachable")

    monkeypatch.setattr(records, "save_with_state", stuck)  # a new call's one write
    caller = Caller(client, sid="CA0000000000000000000000000000D0A2")
    try:
        doc = await answered(caller.dial_in())
    finally:
        let_go.set()
    assert says(doc)[0].startswith(SORRY)
