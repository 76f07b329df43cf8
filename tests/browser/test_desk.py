"""The desk, the wallboard and swaps in the machine's Chromium against a real server.

Calls are signed webhooks posted as Twilio posts them (the server checks signatures); the
Voice SDK's own connection to Twilio is the only thing stubbed (there is no network)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
import jwt
import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.core.db import Database
from app.models.rota import Specialist
from app.web.users import NewUser, by_email, create_user
from tests.browser.conftest import Server, _in_thread, sign_in

TOKEN = "browser-test-token-0123456789"
CORNER_COFFEE = "+14155550123"  # a standard demo account: routed to support-en
_SIDS = count(1)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Call:
    """One caller's leg, driven as Twilio drives it: signed posts following the TwiML."""

    def __init__(
        self, server: Server, http: httpx.Client, from_number: str = CORNER_COFFEE
    ) -> None:
        self.server = server
        self.sid = f"CA{next(_SIDS):08d}{'b' * 24}"
        self.from_number = from_number
        self.doc: ElementTree.Element | None = None
        self.http = http

    def form(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.from_number,
            "To": "+18005550100",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            **extra,
        }

    def post(self, url: str, form: dict[str, str], *, leg: bool = False) -> ElementTree.Element:
        full = url if url.startswith("http") else self.server.url + url
        signature = RequestValidator(TOKEN).compute_signature(full, form)
        parts = urlsplit(full)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        answer = self.http.post(path, data=form, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200, answer.text
        doc = ElementTree.fromstring(answer.content)
        if not leg:  # the specialist's leg has TwiML of its own
            self.doc = doc
        return doc

    def dial_in(self) -> None:
        self.post("/twilio/voice", self.form(CallStatus="ringing"))

    def press(self, digits: str) -> None:
        assert self.doc is not None
        gather = self.doc.find("Gather")
        assert gather is not None, ElementTree.tostring(self.doc)
        self.post(gather.get("action", ""), self.form(Digits=digits))

    def to_the_route(self) -> None:
        """English, then payments: rung or queued in support-en."""
        self.dial_in()
        self.press("1")
        self.press("1")

    def dial(self) -> ElementTree.Element:
        assert self.doc is not None
        dial = self.doc.find("Dial")
        assert dial is not None, ElementTree.tostring(self.doc)
        return dial

    def dial_ends(self, status: str) -> None:
        self.post(self.dial().get("action", ""), self.form(DialCallStatus=status))

    def hold_check(self) -> None:
        """The queue's hold loop comes back (its <Redirect>)."""
        assert self.doc is not None
        redirect = self.doc.find("Redirect")
        assert redirect is not None, ElementTree.tostring(self.doc)
        self.post(redirect.text or "", self.form())

    def accept_leg(self) -> None:
        """The specialist picks up the first leg, hears the whisper and presses 1."""
        leg = next(iter(self.dial()))
        leg_sid = f"CL{self.sid[2:]}"
        form = {
            "CallSid": leg_sid,
            "ParentCallSid": self.sid,
            "From": self.from_number,
            "To": leg.text or "",
            "CallStatus": "in-progress",
            "Direction": "outbound-dial",
        }
        whisper = self.post(leg.get("url", ""), form, leg=True)
        gather = whisper.find("Gather")
        assert gather is not None
        self.post(gather.get("action", ""), {**form, "Digits": "1"}, leg=True)


@pytest.fixture
def browser_user(server: Server) -> Callable[[str], str]:
    """Makes a specialist user (password demo-specialist-password) for a seeded person."""

    def make(name: str) -> str:
        async def create() -> str:
            db = Database.from_url(server.database_url)
            try:
                async with db.transaction() as session:
                    sid = await session.scalar(select(Specialist.id).where(Specialist.name == name))
                    assert sid is not None, name
                    email = f"specialist{sid}@example.com"
                    if await by_email(session, email) is None:
                        await create_user(
                            session,
                            NewUser(email, name, "specialist", sid, "demo-specialist-password"),
                            now=datetime.now(UTC),
                        )
            finally:
                await db.dispose()
            return email

        return _in_thread(create)

    return make


@pytest.fixture
def caller(server: Server) -> Iterator[Callable[[], Call]]:
    """Starts callers (their webhooks share one HTTP client, closed after the test)."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield lambda: Call(server, http)


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with server.api() as client:
        yield client


def _specialist(api: httpx.Client, name: str) -> dict[str, Any]:
    found = api.get("/v1/specialists", params={"limit": 200})
    assert found.status_code == 200, found.text
    (person,) = [p for p in found.json()["items"] if p["name"] == name]
    return dict(person)


ALL_DAY = {
    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "start": "00:00",
    "end": "00:00",  # the same time: 24 hours
    "min_staff": 1,
}


def _support_en_open(api: httpx.Client) -> None:
    """The line open whatever the time of day the tests run at: support-en covered around
    the clock (the demo covers it on weekdays only, so a call on Saturday hears "closed")."""
    got = api.get("/v1/teams/support-en")
    assert got.status_code == 200, got.text
    team = got.json()
    if ALL_DAY in team["coverage"]:
        return
    read_only = ("id", "members", "calendar_url")
    body = {k: v for k, v in team.items() if k not in read_only}
    body["coverage"] = [*team["coverage"], ALL_DAY]
    put = api.put("/v1/teams/support-en", json=body, headers={"If-Match": got.headers["etag"]})
    assert put.status_code == 200, put.text


def _only_maya_on_shift(api: httpx.Client) -> int:
    """Everyone else on shift in support-en away, Maya working an extra shift from now."""
    _support_en_open(api)
    maya = _specialist(api, "Maya Patel")["id"]
    now = datetime.now(UTC)
    on_shift = api.get("/v1/rota/on-shift", params={"at": _iso(now), "team": "support-en"})
    assert on_shift.status_code == 200, on_shift.text
    if maya not in {shift["specialist_id"] for shift in on_shift.json()["on_shift"]}:
        # An extra shift only when she is not on shift already (a double booking is a 409).
        # It starts now (a shift that ended a minute ago must not overlap it) and ends in
        # two hours, or when her next shift starts if that is sooner.
        body = {
            "kind": "extra",
            "specialist_id": maya,
            "team": "support-en",
            "start": _iso(now),
            "end": _iso(now + timedelta(hours=2)),
            "reason": "browser test",
        }
        extra = api.post("/v1/overrides", params={"allow_past": "true"}, json=body)
        if extra.status_code == 409:
            body["end"] = extra.json()["overlapping_shift"]["start"]
            extra = api.post("/v1/overrides", params={"allow_past": "true"}, json=body)
        assert extra.status_code == 201, extra.text
        on_shift = api.get("/v1/rota/on-shift", params={"at": _iso(now), "team": "support-en"})
        assert on_shift.status_code == 200, on_shift.text
    assert maya in {shift["specialist_id"] for shift in on_shift.json()["on_shift"]}
    for shift in on_shift.json()["on_shift"]:
        sid = shift["specialist_id"]
        wanted = "available" if sid == maya else "away"
        put = api.put(f"/v1/specialists/{sid}/availability", json={"availability": wanted})
        assert put.status_code == 200, put.text
    return int(maya)


def _explain_for(api: httpx.Client, name: str, at: datetime) -> str:
    """What /v1/routing/explain says about someone at an instant: rung, or the reason."""
    answer = api.get(
        "/v1/routing/explain",
        params={"team": "support-en", "language": "en", "at": _iso(at)},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    if any(r["name"] == name for r in body["would_ring"]):
        return "rung"
    return str(next(e["reason"] for e in body["excluded"] if e["name"] == name))


def _when_on_shift(api: httpx.Client, name: str) -> datetime:
    """An instant of the coming week when the person is on shift in support-en."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for hour in range(0, 24 * 8, 3):
        at = start + timedelta(hours=hour)
        people = api.get("/v1/rota/on-shift", params={"at": _iso(at), "team": "support-en"})
        if any(s["specialist_name"] == name for s in people.json()["on_shift"]):
            return at
    raise AssertionError(f"{name} is not on shift in the coming week")


def test_availability_set_on_the_desk_changes_what_routing_explains(
    page: Page, server: Server, api: httpx.Client
) -> None:
    at = _when_on_shift(api, "Maya Patel")
    sign_in(page, server, "maya")
    page.goto(f"{server.url}/desk")
    page.get_by_label("Away").check()
    page.get_by_role("button", name="Set").click()
    expect(page.locator("#availability-now")).to_have_text("away")
    assert _explain_for(api, "Maya Patel", at) == "away"
    page.get_by_label("Available").check()
    page.get_by_role("button", name="Set").click()
    expect(page.locator("#availability-now")).to_have_text("available")
    assert _explain_for(api, "Maya Patel", at) != "away"


def test_a_ring_pops_the_screen_and_clears_when_the_leg_ends(
    page: Page, server: Server, api: httpx.Client, caller: Callable[[], Call]
) -> None:
    _only_maya_on_shift(api)
    sign_in(page, server, "maya")
    page.goto(f"{server.url}/desk")
    expect(page.locator("#pop-empty")).to_be_visible()
    # The desk listens before the call comes in.
    expect(page.locator("#desk")).to_have_attribute("data-live", "yes")
    call = caller()
    call.to_the_route()
    assert [leg.text for leg in call.dial()] == ["+14155550101"]
    pop = page.locator("#pop")
    expect(pop).to_be_visible()
    expect(pop.locator("#pop-title")).to_have_text("Corner Coffee")
    expect(pop).to_contain_text("+14155550123")
    expect(pop).to_contain_text("payments")
    call.dial_ends("no-answer")
    expect(pop).to_be_hidden()
    expect(page.locator("#pop-empty")).to_be_visible()


def _waiting(page: Page) -> Any:
    return page.locator('.tile[data-team="support-en"] [data-figure="waiting"]')


def test_the_wallboard_counts_a_queued_caller_until_answered(
    page: Page, server: Server, api: httpx.Client, caller: Callable[[], Call]
) -> None:
    _only_maya_on_shift(api)
    sign_in(page, server, "viewer")
    page.goto(f"{server.url}/wallboard")
    expect(page.locator("#tiles")).to_have_attribute("data-live", "yes")
    expect(_waiting(page)).to_have_text("0")
    first = caller()
    first.to_the_route()  # rings Maya: she is taken
    second = caller()
    second.to_the_route()  # nobody free: waits in the queue
    assert second.doc is not None and second.doc.find("Dial") is None
    expect(_waiting(page)).to_have_text("1")
    first.dial_ends("no-answer")  # Maya is free again
    second.hold_check()  # the hold loop rings her
    second.accept_leg()  # she takes it: the wait is over
    expect(_waiting(page)).to_have_text("0")
    second.dial_ends("completed")


def test_the_softphone_loads_the_sdk_from_the_app_and_asks_for_a_token(
    page: Page, server: Server, api: httpx.Client
) -> None:
    sdk: list[str] = []
    twilio: list[str] = []

    def stub_twilio(route: Route) -> None:
        twilio.append(route.request.url)
        route.abort()

    page.on("request", lambda r: sdk.append(r.url) if "twilio-voice-sdk" in r.url else None)
    page.route(re.compile(r"^(https|wss)://[^/]*twilio\.com/.*"), stub_twilio)
    tokens: list[tuple[int, dict[str, Any]]] = []

    def record_token(route: Route) -> None:
        # Passed through to the app; its answer is kept for the checks below.
        answer = route.fetch()
        tokens.append((answer.status, answer.json()))
        route.fulfill(response=answer)

    page.route("**/desk/voice-token", record_token)
    sign_in(page, server, "chris", "demo-specialist-password")
    page.clock.install()  # the page's timers run on a clock the test moves
    page.goto(f"{server.url}/desk")
    expect(page.locator("#phone-state")).not_to_have_text(re.compile("Getting a token|Loading"))
    assert [(status, body["identity"]) for status, body in tokens][:1] == [(200, "chris.okafor")]
    # The token the page got lets this identity take calls and call out through the app.
    claims = jwt.decode(
        tokens[0][1]["token"], "c3" * 16, algorithms=["HS256"], options={"verify_nbf": False}
    )
    assert claims["iss"] == "SK" + "b2" * 16 and claims["sub"] == "AC" + "a1" * 16
    assert claims["grants"] == {
        "identity": "chris.okafor",
        "voice": {"incoming": {"allow": True}, "outgoing": {"application_sid": "AP" + "d4" * 16}},
    }
    assert 0 < claims["exp"] - claims["nbf"] <= 3600
    # A minute before the token's lifetime ends, the page fetches a new one (Twilio's
    # signalling, which would also say so, is out of reach here).
    ttl = tokens[0][1]["ttl_seconds"]
    assert ttl == claims["exp"] - claims["nbf"]
    fetched = len(tokens)  # signing in lands on the desk too: one or two so far
    page.clock.run_for((ttl - 70) * 1000)
    assert len(tokens) == fetched
    with page.expect_response("**/desk/voice-token") as renewed:
        page.clock.run_for(15_000)
    assert renewed.value.status == 200
    assert len(tokens) == fetched + 1 and tokens[-1][1]["identity"] == "chris.okafor"
    assert sdk and all(url.startswith(server.url + "/static/vendor/") for url in sdk)
    assert page.evaluate("typeof window.Twilio.Device") == "function"


def _free_teammate(api: httpx.Client, start: str, end: str) -> str | None:
    """A support-en member of the seed with no shift overlapping [start, end), if any."""
    team = api.get("/v1/teams/support-en").json()
    schedule = api.get("/v1/rota/schedule", params={"start": start, "end": end}).json()
    busy = {s["specialist_id"] for s in schedule["shifts"]}
    busy |= {d["specialist_id"] for d in schedule["days_off"]}  # a day off drops a cover
    people = api.get("/v1/specialists", params={"limit": 200}).json()["items"]
    names = {p["id"]: p["name"] for p in people}
    free = [names[m] for m in team["members"] if m not in busy and names.get(m) != "Maya Patel"]
    return free[0] if free else None


def _signed_in_context(page: Page, server: Server, email: str, password: str) -> Any:
    """A second browser (its own cookies) signed in as someone else."""
    other = page.context.browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[union-attr]
    second = other.new_page()
    second.goto(f"{server.url}/login")
    second.get_by_label("Email").fill(email)
    second.get_by_label("Password").fill(password)
    second.get_by_role("button", name="Sign in").click()
    expect(second).not_to_have_url(re.compile("/login"))
    return other, second


def _maya_asks_a_free_teammate(
    page: Page, server: Server, api: httpx.Client, browser_user: Any, *, skip: int
) -> tuple[str, str, str]:
    """Maya asks a free teammate to take one of her shifts on her desk; they accept.

    The shift is the first after `skip` of those listed that a support-en teammate is free
    for. Returns the team, the shift's start and the teammate's name."""
    sign_in(page, server, "maya")
    page.goto(f"{server.url}/desk")
    shift = page.locator('select[name="shift"]')
    options = shift.locator("option")
    for index in range(skip, options.count()):
        team, start, end = (options.nth(index).get_attribute("value") or "").split("|")
        teammate = _free_teammate(api, start, end)
        if teammate is not None:
            break
    else:
        raise AssertionError("no shift of Maya's has a free teammate")
    shift.select_option(index=index)
    page.locator('select[name="teammate_id"]').select_option(label=teammate)
    page.locator('select[name="kind"]').select_option("ask")
    page.get_by_role("button", name="Send request").click()
    mine = page.locator(".swaps li", has_text=f"to {teammate}").last
    expect(mine.locator(".state")).to_have_text("pending")

    other, mate = _signed_in_context(
        page, server, browser_user(teammate), "demo-specialist-password"
    )
    mate.goto(f"{server.url}/desk")
    mate.locator(".swaps li", has_text="Maya Patel").filter(
        has=mate.get_by_role("button", name="Accept")
    ).first.get_by_role("button", name="Accept").click()
    expect(mate.locator(".swaps .state", has_text="accepted").first).to_be_visible()
    other.close()
    return team, start, teammate


def test_an_accepted_swap_shows_on_the_calendar(
    page: Page, server: Server, api: httpx.Client, browser_user: Any
) -> None:
    team, start, _ = _maya_asks_a_free_teammate(page, server, api, browser_user, skip=0)
    sign_in(page, server, "scheduler")
    day = datetime.fromisoformat(start).date().isoformat()
    page.goto(f"{server.url}/rota/{team}?start={day}")
    expect(page.locator(".shift.cover", has_text="covers Maya Patel").first).to_be_visible()


def test_a_swap_waits_for_a_schedulers_approval_then_shows_on_the_calendar(
    page: Page, server: Server, api: httpx.Client, browser_user: Any
) -> None:
    sign_in(page, server, "scheduler")
    page.goto(f"{server.url}/swaps")
    rule = page.locator('#approval-rules tr[data-team="support-en"]')
    rule.get_by_role("button", name="Require approval").click()
    expect(page.locator(".flash-ok")).to_contain_text("swaps now need a scheduler's approval")
    expect(rule).to_contain_text("wait for a scheduler's approval")
    try:
        team, start, teammate = _maya_asks_a_free_teammate(page, server, api, browser_user, skip=1)
        mine = page.locator(".swaps li", has_text=f"to {teammate}").last
        page.goto(f"{server.url}/desk")
        expect(mine.locator(".state")).to_contain_text("waiting for a scheduler")

        sign_in(page, server, "scheduler")
        page.goto(f"{server.url}/swaps")
        card = page.locator("#awaiting .swap-card", has_text=f"{teammate} takes Maya Patel")
        expect(card).to_be_visible()
        card.get_by_role("button", name="Approve").click()
        expect(page.locator(".flash-ok")).to_contain_text(f"Approved: {teammate} covers Maya")
        expect(page.locator("#none-awaiting")).to_be_visible()
        day = datetime.fromisoformat(start).date().isoformat()
        page.goto(f"{server.url}/rota/{team}?start={day}")
        row = page.locator("tr", has=page.get_by_role("rowheader", name=teammate))
        expect(row.locator(".shift.cover", has_text="covers Maya Patel").first).to_be_visible()
    finally:
        settings = api.get("/v1/teams/support-en/console-settings").json()
        api.put(
            "/v1/teams/support-en/console-settings", json={**settings, "swaps_need_approval": False}
        )


def test_availability_set_on_the_desk_shows_live_on_the_calendar(
    page: Page, server: Server, api: httpx.Client
) -> None:
    maya = _only_maya_on_shift(api)
    sign_in(page, server, "scheduler")
    page.goto(f"{server.url}/rota/support-en")
    expect(page.locator("#on-now")).to_have_attribute("data-live", "yes")
    status = page.locator(f'#on-now [data-specialist="{maya}"] .presence')
    expect(status).to_have_text("available")

    other, desk = _signed_in_context(page, server, "maya@example.com", "demo-specialist-password")
    desk.goto(f"{server.url}/desk")
    desk.get_by_label("Away").check()
    desk.get_by_role("button", name="Set").click()
    expect(desk.locator("#availability-now")).to_have_text("away")
    expect(status).to_have_text("away")  # no reload: the wallboard's events refresh it
    desk.get_by_label("Available").check()
    desk.get_by_role("button", name="Set").click()
    expect(status).to_have_text("available")
    other.close()
