"""The alerts admin page over HTTP with a signed-in session: channels, rules, test send,
deliveries; a local webhook receiver stands in for Slack."""

from __future__ import annotations

import re

import httpx

from app.alerts.runner import deliver_due
from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from tests.alerts.conftest import Receiver
from tests.alerts.test_alerts import _team
from tests.console.conftest import browser  # noqa: F401 - the signed-in client
from tests.console.helpers import add_user, csrf_of, sign_in


async def _scheduler(http: httpx.AsyncClient, db: Database, clock: FixedClock) -> str:
    email = await add_user(db, clock, "scheduler")
    assert (await sign_in(http, email)).status_code == 303
    page = await http.get("/alerts?team=support-en")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def test_a_scheduler_adds_a_channel_sends_a_test_and_sees_it_delivered(
    browser: httpx.AsyncClient,  # noqa: F811
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    settings: Settings,
    admin: dict[str, str],
    receiver: Receiver,
) -> None:
    await _team(client, admin)
    csrf = await _scheduler(browser, db, clock)
    page = (await browser.get("/alerts?team=support-en")).text
    assert 'href="/alerts"' in page  # in the console's nav
    assert "No channels yet" in page

    added = await browser.post(
        "/alerts/channels",
        data={
            "csrf_token": csrf,
            "team": "support-en",
            "name": "ops",
            "kind": "slack",
            "target": receiver.url,
        },
    )
    assert added.status_code == 303, added.text
    page = (await browser.get(added.headers["location"])).text
    assert "Channel ops added." in page
    assert "http://127.0.0.1:" in page and "/services/T000" not in page  # the URL is a secret
    channel_id = int(re.search(r'data-channel="(\d+)"', page).group(1))  # type: ignore[union-attr]

    tested = await browser.post(
        f"/alerts/channels/{channel_id}/test", data={"csrf_token": csrf, "team": "support-en"}
    )
    assert tested.status_code == 303
    page = (await browser.get(tested.headers["location"])).text
    assert "Test alert queued" in page
    assert 'data-pending="yes"' in page and "status-pending" in page
    assert await deliver_due(db, settings, clock) == 1
    page = (await browser.get("/alerts?team=support-en")).text
    assert "status-sent" in page and 'data-pending="yes"' not in page
    assert len(receiver.texts()) == 1 and "Test alert" in receiver.texts()[0]

    # A receiver that refuses: the error shows on the delivery, with the next try.
    receiver.statuses.append(500)
    await browser.post(
        f"/alerts/channels/{channel_id}/test", data={"csrf_token": csrf, "team": "support-en"}
    )
    assert await deliver_due(db, settings, clock) == 1
    page = (await browser.get("/alerts?team=support-en")).text
    assert "delivery-error" in page and "500" in page and "next try" in page


async def test_rules_are_added_edited_and_deleted_and_bad_input_is_explained(
    browser: httpx.AsyncClient,  # noqa: F811
    client: httpx.AsyncClient,
    db: Database,
    clock: FixedClock,
    admin: dict[str, str],
) -> None:
    await _team(client, admin)
    csrf = await _scheduler(browser, db, clock)
    base = {"csrf_token": csrf, "team": "support-en"}
    bad = await browser.post(
        "/alerts/channels", data={**base, "name": "x", "kind": "email", "target": "nobody"}
    )
    assert bad.status_code == 422 and "e-mail addresses separated by commas" in bad.text
    assert 'value="nobody"' in bad.text  # what was typed is kept
    mail = await browser.post(
        "/alerts/channels",
        data={**base, "name": "leads", "kind": "email", "target": "lead@example.com"},
    )
    assert mail.status_code == 303

    too_low = await browser.post(
        "/alerts/rules", data={**base, "kind": "caller_waiting", "threshold": "5"}
    )
    assert too_low.status_code == 422 and "from 10 to 3600" in too_low.text
    made = await browser.post(
        "/alerts/rules", data={**base, "kind": "caller_waiting", "threshold": "180"}
    )
    assert made.status_code == 303
    [rule] = (await client.get("/v1/alert-rules?team=support-en", headers=admin)).json()
    assert (rule["kind"], rule["threshold"], rule["channel_id"]) == ("caller_waiting", 180, None)

    [channel] = (await client.get("/v1/alert-channels?team=support-en", headers=admin)).json()
    edited = await browser.post(
        f"/alerts/rules/{rule['id']}",
        data={**base, "threshold": "300", "channel_id": str(channel["id"])},
    )
    assert edited.status_code == 303
    rule = (await client.get(f"/v1/alert-rules/{rule['id']}", headers=admin)).json()
    assert (rule["threshold"], rule["channel_id"], rule["active"]) == (300, channel["id"], False)

    paused = await browser.post(
        f"/alerts/channels/{channel['id']}", data={**base, "name": "team leads", "target": ""}
    )
    assert paused.status_code == 303
    channel = (await client.get(f"/v1/alert-channels/{channel['id']}", headers=admin)).json()
    assert (channel["name"], channel["target"], channel["active"]) == (
        "team leads",
        "lead@example.com",
        False,
    )

    assert (await browser.post(f"/alerts/rules/{rule['id']}/delete", data=base)).status_code == 303
    gone = await browser.post(f"/alerts/channels/{channel['id']}/delete", data=base)
    assert gone.status_code == 303
    assert (await client.get("/v1/alert-channels?team=support-en", headers=admin)).json() == []
    missing = await browser.post(f"/alerts/rules/{rule['id']}/delete", data=base)
    assert missing.status_code == 404


async def test_specialists_and_viewers_cannot_open_the_alerts_page(
    browser: httpx.AsyncClient,  # noqa: F811
    db: Database,
    clock: FixedClock,
) -> None:
    email = await add_user(db, clock, "viewer")
    assert (await sign_in(browser, email)).status_code == 303
    assert (await browser.get("/alerts")).status_code == 403
