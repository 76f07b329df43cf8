"""Closed hours, public holidays and one-off closures, through real webhooks and the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.core.clock import FixedClock
from tests.conftest import Keys
from tests.telephony.twilio import Caller, says

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
# Friday 20 November 2026, 20:00 in Mexico City (UTC-6): after hours.
FRIDAY_EVENING = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
# Monday 16 November 2026, 10:00 in Mexico City: Día de la Revolución.
REVOLUTION_DAY = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)
# Friday 20 November 2026, 10:00 in Mexico City: open.
FRIDAY_MORNING = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


async def make_teams(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """support-es (Mexico City, weekdays 9-18, MX holidays) and support-en (London, 9-17)."""
    for slug, tz, country, language, end in (
        ("support-es", "America/Mexico_City", "MX", "es", "18:00"),
        ("support-en", "Europe/London", "GB", "en", "17:00"),
    ):
        body = {
            "slug": slug,
            "name": slug,
            "time_zone": tz,
            "languages": [language],
            "coverage": [{"days": WEEKDAYS, "start": "09:00", "end": end, "min_staff": 1}],
            "holidays": {"country": country},
        }
        answer = await client.post("/v1/teams", json=body, headers=admin)
        assert answer.status_code == 201, answer.text


async def spanish_caller(client: httpx.AsyncClient, sid: str) -> Caller:
    """An unknown caller who chose Spanish and gave up on the account number."""
    caller = Caller(client, sid=sid, from_number="+525512345678")
    await caller.dial_in()
    await caller.press("5")
    await caller.stay_silent()
    await caller.stay_silent()
    return caller


async def test_after_hours_the_caller_hears_when_the_line_opens_then_can_leave_a_message(
    client: httpx.AsyncClient, admin: dict[str, str], clock: FixedClock
) -> None:
    await make_teams(client, admin)
    clock.set(FRIDAY_EVENING)
    caller = await spanish_caller(client, "CA000000000000000000000000000000E1")
    assert caller.doc is not None
    assert says(caller.doc) == [
        "No se preocupe, continuaremos sin su número de cuenta.",
        # London's team, which Spanish callers overflow to, opens first: 9:00 GMT.
        "En este momento nuestra línea de soporte está cerrada. "
        "Volvemos a atenderle el lunes a las 3 de la madrugada.",
        "Si lo desea, deje su nombre y un breve mensaje después del tono, "
        "y le devolveremos la llamada.",
    ]
    assert caller.doc.find("Record") is not None
    doc = await caller.leave_voicemail("https://api.twilio.com/recordings/RE1")
    assert says(doc) == [
        "Gracias por su mensaje. Nos comunicaremos con usted lo antes posible. Hasta luego."
    ]
    call = (await client.get(f"/v1/calls/{caller.sid}", headers=admin)).json()
    assert call["outcome"] == "voicemail" and call["language"] == "es"
    assert ("check_hours", "closed, opens 2026-11-23T03:00:00-06:00") in [
        (p["step"], p["input"]) for p in call["path"]
    ]


async def test_a_public_holiday_has_its_own_message(
    client: httpx.AsyncClient, admin: dict[str, str], clock: FixedClock
) -> None:
    await make_teams(client, admin)
    clock.set(REVOLUTION_DAY)
    caller = Caller(client, sid="CA000000000000000000000000000000E2", from_number="+525512345678")
    await caller.dial_in()
    await caller.press("5")
    await caller.stay_silent()
    # London is open at 16:00 UTC on a Monday: the Spanish caller can still overflow there.
    doc = await caller.stay_silent()
    assert doc.find("Gather") is not None
    assert says(doc)[1].startswith("¿En qué podemos ayudarle?")
    clock.set(REVOLUTION_DAY + timedelta(hours=2))  # 18:00 in London: closed too
    caller = await spanish_caller(client, "CA000000000000000000000000000000E3")
    assert caller.doc is not None
    assert says(caller.doc)[1] == (
        "Hoy nuestra línea de soporte está cerrada por día festivo. "
        "Volvemos a atenderle mañana a las 3 de la madrugada."
    )


async def test_a_closure_is_announced_first_and_honoured_by_the_hours_check(
    client: httpx.AsyncClient, admin: dict[str, str], clock: FixedClock
) -> None:
    await make_teams(client, admin)
    clock.set(FRIDAY_MORNING)
    closure = {
        "reason": "Office move",
        "starts_at": "2026-11-20T00:00:00-06:00",
        "ends_at": "2026-11-20T13:00:00-06:00",
        "messages": {
            "en": "Our offices are closed this morning while we move.",
            "es": "Hoy por la mañana nuestras oficinas están cerradas por mudanza.",
        },
    }
    answer = await client.post("/v1/closures", json=closure, headers=admin)
    assert answer.status_code == 201, answer.text
    caller = await spanish_caller(client, "CA000000000000000000000000000000E4")
    assert caller.doc is not None
    assert says(caller.doc)[1:3] == [
        "Hoy por la mañana nuestras oficinas están cerradas por mudanza.",
        "En este momento nuestra línea de soporte está cerrada. "
        "Volvemos a atenderle hoy a la 1 de la tarde.",
    ]
    english = Caller(client, sid="CA000000000000000000000000000000E5")
    await english.dial_in()
    await english.press("1")
    await english.stay_silent()
    doc = await english.stay_silent()
    assert says(doc)[1] == "Our offices are closed this morning while we move."
    # London reopens at 13:00 Mexico City time, like Mexico City: 19:00 GMT is after 17:00.
    assert says(doc)[2] == "Our support line is closed right now. We open again on Monday at 9 AM."


async def closure_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "team": "support-es",
        "reason": "Team day",
        "starts_at": "2026-12-01T09:00:00-06:00",
        "ends_at": "2026-12-01T18:00:00-06:00",
        "messages": {"es": "Hoy celebramos nuestro día de equipo.", "en": "Team day today."},
    }
    body.update(changes)
    return body


async def test_closures_api_dry_run_etag_audit(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_teams(client, admin)
    dry = await client.post("/v1/closures?dry_run=true", json=await closure_body(), headers=admin)
    assert dry.status_code == 200, dry.text
    preview = dry.json()
    assert preview["dry_run"] is True and preview["action"] == "create"
    assert preview["teams"] == ["support-es"]
    assert preview["after"]["reason"] == "Team day"
    listed = await client.get("/v1/closures", headers=admin)
    assert listed.json()["items"] == []  # nothing saved

    created = await client.post("/v1/closures", json=await closure_body(), headers=admin)
    assert created.status_code == 201
    etag = created.headers["ETag"]
    closure_id = created.json()["id"]
    assert created.headers["Location"] == f"/v1/closures/{closure_id}"
    assert created.json()["starts_at"] == "2026-12-01T15:00:00Z"

    url = f"/v1/closures/{closure_id}"
    changed = await closure_body(team=None, reason="Company day")
    missing = await client.put(url, json=changed, headers=admin)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"
    stale = await client.put(url, json=changed, headers={**admin, "If-Match": 'W/"closure-1-v9"'})
    assert stale.status_code == 412
    dry_put = await client.put(
        url + "?dry_run=true", json=changed, headers={**admin, "If-Match": etag}
    )
    assert dry_put.status_code == 200
    assert dry_put.json()["teams"] == ["support-en", "support-es"]  # every team
    assert (await client.get(url, headers=admin)).json()["reason"] == "Team day"
    replaced = await client.put(url, json=changed, headers={**admin, "If-Match": etag})
    assert replaced.status_code == 200 and replaced.json()["team"] is None
    new_etag = replaced.headers["ETag"]
    assert new_etag != etag

    assert (
        await client.delete(url + "?dry_run=true", headers={**admin, "If-Match": new_etag})
    ).status_code == 200
    assert (await client.get(url, headers=admin)).status_code == 200
    gone = await client.delete(url, headers={**admin, "If-Match": new_etag})
    assert gone.status_code == 204
    assert (await client.get(url, headers=admin)).status_code == 404

    audit = await client.get("/v1/audit?resource_type=closure", headers=admin)
    assert [e["action"] for e in audit.json()["items"]] == ["delete", "update", "create"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at": "2026-12-01T08:00:00-06:00"}, "body"),
        ({"team": "support-xx"}, "body.team"),
        ({"messages": {"spanish": "Hola"}}, "body.messages"),
        ({"messages": {"es": "  "}}, "body.messages"),
        ({"starts_at": "2026-12-01T09:00:00"}, "body.starts_at"),
        ({"colour": "red"}, "body.colour"),
    ],
)
async def test_bad_closures_are_refused_with_a_problem(
    client: httpx.AsyncClient, admin: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    await make_teams(client, admin)
    answer = await client.post("/v1/closures", json=await closure_body(**changes), headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert (await client.get("/v1/closures", headers=admin)).json()["items"] == []


async def test_who_may_read_and_write_closures(
    client: httpx.AsyncClient, admin: dict[str, str], keys: Keys
) -> None:
    await make_teams(client, admin)
    scheduler = await keys.headers("scheduler")
    created = await client.post("/v1/closures", json=await closure_body(), headers=scheduler)
    assert created.status_code == 201
    for role in ("specialist", "viewer"):
        headers = await keys.headers(role)
        refused = await client.post("/v1/closures", json=await closure_body(), headers=headers)
        assert refused.status_code == 403
    specialist = await keys.headers("specialist")
    assert (await client.get("/v1/closures", headers=specialist)).status_code == 200
    viewer = await keys.headers("viewer")
    assert (await client.get("/v1/closures", headers=viewer)).status_code == 403
