"""Call back, transfer and the alerts page in the machine's Chromium against a real server,
with the fake Twilio REST API on loopback (it records the calls the server places; the test
plays Twilio's side with signed webhooks) and a local webhook receiver for alerts.

Screenshots of each (1280 px and phone width) go to $SCREENSHOTS_DIR when it is set (the
ones in docs/img/ were made with SCREENSHOTS_DIR=docs/img), else to a temporary folder."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.core.db import Database
from app.models.call import Call as CallRow
from app.models.rota import Specialist
from app.models.routing import WorkItem
from tests.alerts.conftest import Receiver
from tests.alerts.conftest import receiver as receiver_fixture
from tests.browser.conftest import ROOT, Server, _in_thread, serve, sign_in
from tests.browser.test_desk import TOKEN, Call, _only_maya_on_shift
from tests.telephony.fake_twilio import FakeTwilio, running_fake

IMG = (
    ROOT / os.environ["SCREENSHOTS_DIR"]
    if os.environ.get("SCREENSHOTS_DIR")
    else Path(tempfile.mkdtemp(prefix="switchboard-shots-"))
)
PHONE = {"width": 390, "height": 844}
CALLER_ID = "+18005550100"
receiver = receiver_fixture


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with running_fake() as running:
        yield running


@pytest.fixture(scope="module")
def server(
    template_database: str, tmp_path_factory: pytest.TempPathFactory, fake: FakeTwilio
) -> Iterator[Server]:
    """The demo server, its REST client pointed at the fake Twilio."""
    env = {"TWILIO_API_BASE_URL": fake.base_url, "TWILIO_CALLER_ID": CALLER_ID}
    with serve(template_database, tmp_path_factory, env) as running:
        yield running


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with server.api() as client:
        yield client


def _shoot(page: Page, name: str, locator: str | None = None) -> None:
    """A screenshot at the current size and at phone width."""
    IMG.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1280, "height": 900}
    page.screenshot(path=str(IMG / f"{name}-1280.png"), full_page=locator is None)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(IMG / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(size)


def _signed_post(http: httpx.Client, url: str, form: dict[str, str]) -> ElementTree.Element:
    """POST a webhook URL the server gave Twilio, signed as Twilio signs it."""
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    answer = http.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code in (200, 204), answer.text
    return ElementTree.fromstring(answer.content) if answer.content else ElementTree.Element("x")


class Placed:
    """Twilio's side of a call the server placed through the fake."""

    def __init__(self, http: httpx.Client, fake: FakeTwilio) -> None:
        with fake.lock:
            self.sid, self.params = list(fake.calls.items())[-1]
        self.http = http
        self.seq = 0

    def form(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "a1" * 16,
            "From": self.params["From"],
            "To": self.params["To"],
            "Direction": "outbound-api",
            **extra,
        }

    def status(self, status: str) -> None:
        self.seq += 1
        form = self.form(CallStatus=status, SequenceNumber=str(self.seq))
        _signed_post(self.http, self.params["StatusCallback"], form)

    def answers_and_presses_1(self) -> ElementTree.Element:
        for status in ("initiated", "ringing", "answered"):
            self.status(status)
        whisper = _signed_post(self.http, self.params["Url"], self.form(CallStatus="in-progress"))
        gather = whisper.find("Gather")
        assert gather is not None, ElementTree.tostring(whisper)
        return _signed_post(
            self.http, gather.get("action", ""), self.form(Digits="1", CallStatus="in-progress")
        )


def _callback_item(server: Server) -> int:
    """An open callback request from Corner Coffee on support-en's work list."""

    async def add() -> int:
        db = Database.from_url(server.database_url)
        now = datetime.now(UTC)
        try:
            async with db.transaction() as session:
                call = CallRow(
                    sid="CA" + secrets.token_hex(16),
                    from_number="+14155550123",
                    to_number=CALLER_ID,
                    team="support-en",
                    language="en",
                    topic="payments",
                    status="completed",
                    outcome="callback",
                    callback_number="+14155550123",
                    started_at=now,
                    ended_at=now,
                    created_at=now,
                    updated_at=now,
                )
                session.add(call)
                await session.flush()
                item = WorkItem(
                    kind="callback",
                    call_id=call.id,
                    team="support-en",
                    language="en",
                    number="+14155550123",
                    status="open",
                    created_at=now,
                    updated_at=now,
                )
                session.add(item)
                await session.flush()
                return item.id
        finally:
            await db.dispose()

    return _in_thread(add)


def test_call_back_from_the_work_list_shows_the_outbound_call_outcome(
    page: Page, server: Server, fake: FakeTwilio, http: httpx.Client
) -> None:
    item_id = _callback_item(server)
    sign_in(page, server, "maya")
    page.goto(f"{server.url}/desk")
    item = page.locator(".work li", has=page.locator(f'form[data-item="{item_id}"]'))
    before = len(fake.placed())
    item.get_by_role("button", name="Call back").click()
    state = page.locator(f"#dial-{item_id}")
    expect(state).to_contain_text("Ringing you")
    assert len(fake.placed()) == before + 1
    placed = Placed(http, fake)
    assert placed.params["To"] == "+14155550101"  # Maya first
    dial = placed.answers_and_presses_1().find("Dial")
    assert dial is not None
    expect(state).to_contain_text("Calling the customer")  # the page follows the item
    _signed_post(http, dial.get("action", ""), placed.form(DialCallStatus="no-answer"))
    expect(state).to_contain_text("No answer from the customer")
    expect(state).to_contain_text("Call back again")
    expect(state).to_have_attribute("data-status", "no_answer")
    item.scroll_into_view_if_needed()
    _shoot(page, "desk-call-back")
    # The retry: a new call is placed.
    item.get_by_role("button", name="Call back").click()
    expect(state).to_contain_text("attempt 2")
    assert len(fake.placed()) == before + 2


def test_transfer_from_the_desk_to_a_named_specialist(
    page: Page, server: Server, fake: FakeTwilio, http: httpx.Client, api: httpx.Client
) -> None:
    _only_maya_on_shift(api)
    sign_in(page, server, "maya")
    page.goto(f"{server.url}/desk")
    expect(page.locator("#desk")).to_have_attribute("data-live", "yes")
    transfer = page.locator("#transfer")
    expect(transfer).to_be_hidden()
    call = Call(server, http)
    call.to_the_route()
    call.accept_leg()  # Maya takes it: the transfer control appears for this call
    # Twilio reports the caller's call in progress (its status callback).
    _signed_post(
        http,
        f"{server.url}/twilio/status",
        call.form(CallStatus="in-progress", SequenceNumber="1"),
    )
    expect(transfer).to_be_visible()
    expect(page.locator("#transfer-call")).to_have_value(call.sid)
    page.locator("#transfer-target").select_option(label="Camille Laurent")
    page.get_by_label("Cold (the caller goes straight over)").check()
    before = len(fake.placed())
    page.locator("#transfer-go").click()
    state = page.locator("#transfer-state")
    expect(state).to_have_text("Ringing Camille Laurent…")
    assert len(fake.placed()) == before + 1
    target = Placed(http, fake)
    assert target.params["To"] == "client:camille.laurent"
    target.answers_and_presses_1()
    expect(state).to_have_text("Transferred to Camille Laurent.")
    _shoot(page, "desk-transfer")


def _specialist_id(server: Server, name: str) -> int:
    async def find() -> int:
        db = Database.from_url(server.database_url)
        try:
            async with db.transaction() as session:
                found = await session.scalar(select(Specialist.id).where(Specialist.name == name))
                assert found is not None
                return found
        finally:
            await db.dispose()

    return _in_thread(find)


def test_alerts_page_create_a_channel_send_a_test_and_see_it_delivered(
    page: Page, server: Server, receiver: Receiver
) -> None:
    sign_in(page, server, "admin")
    page.goto(f"{server.url}/")
    page.get_by_role("link", name="Alerts").click()
    page.locator("#f-team-pick").select_option("support-en")
    page.get_by_role("button", name="Show").click()
    form = page.locator("#add-channel")
    form.get_by_label("Channel name").fill("ops room")
    form.get_by_label("Kind").select_option("slack")
    form.get_by_label("Webhook URL or e-mail addresses").fill(receiver.url)
    form.get_by_role("button", name="Add channel").click()
    expect(page.locator(".flash-ok")).to_have_text("Channel ops room added.")
    rule = page.locator("#add-rule")
    rule.get_by_label("When").select_option("caller_waiting")
    rule.get_by_label("Threshold").fill("180")
    rule.get_by_role("button", name="Add rule").click()
    expect(page.locator("#rules")).to_contain_text("A caller waits longer than")
    row = page.locator("#channels tr", has_text="ops room")
    row.get_by_role("button", name="Send test").click()
    expect(page.locator(".flash-ok")).to_contain_text("Test alert queued")
    # Delivered by the server's outbox within seconds; the page shows it without a reload.
    delivered = page.locator("#deliveries tr", has_text="Test alert").first
    expect(delivered.locator(".delivery-status")).to_have_text("sent", timeout=30_000)
    assert any("Test alert" in text for text in receiver.texts())
    _shoot(page, "alerts-page")
