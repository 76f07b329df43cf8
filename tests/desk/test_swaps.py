"""Shift swap requests: ask, offer, accept, decline, approval, no double booking."""

from __future__ import annotations

from typing import Any

import httpx

from tests.desk.swap_team import MONDAY, TUESDAY, as_specialist, swap_team
from tests.rota_api.helpers import iso


async def test_an_accepted_swap_becomes_a_cover_and_nobody_is_double_booked(
    client: httpx.AsyncClient, keys: Any
) -> None:
    api, ids = await swap_team(client, keys)
    ann, bob, cy = [await as_specialist(keys, ids, n) for n in ("Ann", "Bob", "Cy")]
    monday = {"team": "t", "start": iso(MONDAY[0]), "end": iso(MONDAY[1])}

    asked = await client.post(
        "/v1/swaps", json={"kind": "ask", "teammate_id": ids["Bob"], **monday}, headers=ann
    )
    assert asked.status_code == 201, asked.text
    swap = asked.json()
    assert (swap["state"], swap["teammate"]["name"]) == ("pending", "Bob")
    assert (await client.post(f"/v1/swaps/{swap['id']}/accept", headers=cy)).status_code == 403
    double = await client.post(f"/v1/swaps/{swap['id']}/accept", headers=bob)
    assert double.status_code == 409
    assert "no double booking" in double.json()["detail"]
    declined = await client.post(f"/v1/swaps/{swap['id']}/decline", headers=bob)
    assert declined.json()["state"] == "declined"

    offered = await client.post("/v1/swaps", json={"kind": "offer", **monday}, headers=ann)
    assert offered.status_code == 201, offered.text
    offer = offered.json()
    seen_by_cy = await client.get("/v1/swaps", params={"state": "pending"}, headers=cy)
    assert [s["id"] for s in seen_by_cy.json()] == [offer["id"]]
    taken = await client.post(f"/v1/swaps/{offer['id']}/accept", headers=cy)
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "accepted" and taken.json()["override_id"] is not None
    shifts = await api.schedule(*MONDAY, team="t")
    names = {(s["specialist_name"], s["start"]) for s in shifts}
    assert ("Cy", iso(MONDAY[0])) in names
    assert all(s["specialist_name"] != "Ann" for s in shifts)
    again = await client.post(f"/v1/swaps/{offer['id']}/cancel", headers=ann)
    assert again.status_code == 409

    not_mine = await client.post(
        "/v1/swaps",
        json={"kind": "offer", "team": "t", "start": iso(TUESDAY[0]), "end": iso(TUESDAY[1])},
        headers=cy,
    )
    assert not_mine.status_code == 409  # Cy has no shift then


async def test_a_team_can_ask_for_a_schedulers_approval(
    client: httpx.AsyncClient, keys: Any
) -> None:
    api, ids = await swap_team(client, keys)
    put = await client.put(
        "/v1/teams/t/console-settings",
        json={
            "wait_amber_seconds": 60,
            "wait_red_seconds": 180,
            "service_level_amber": 80,
            "service_level_red": 60,
            "swaps_need_approval": True,
        },
        headers=api.h,
    )
    assert put.status_code == 200, put.text
    ann = await as_specialist(keys, ids, "Ann")
    cy = await as_specialist(keys, ids, "Cy")
    tuesday = {"team": "t", "start": iso(TUESDAY[0]), "end": iso(TUESDAY[1])}
    offer = (
        await client.post(
            "/v1/swaps", json={"kind": "ask", "teammate_id": ids["Cy"], **tuesday}, headers=ann
        )
    ).json()
    assert offer["needs_approval"] is True
    accepted = (await client.post(f"/v1/swaps/{offer['id']}/accept", headers=cy)).json()
    assert (accepted["state"], accepted["override_id"]) == ("accepted", None)
    assert {s["specialist_name"] for s in await api.schedule(*TUESDAY, team="t")} >= {"Ann"}
    refused = await client.post(f"/v1/swaps/{offer['id']}/approve", headers=cy)
    assert refused.status_code == 403
    approved = await client.post(f"/v1/swaps/{offer['id']}/approve", headers=api.h)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved" and approved.json()["decided_by"]
    on_tuesday = {s["specialist_name"] for s in await api.schedule(*TUESDAY, team="t")}
    assert "Cy" in on_tuesday and "Ann" not in on_tuesday


async def test_nobody_takes_a_shift_on_their_day_off_or_during_their_leave(
    client: httpx.AsyncClient, keys: Any
) -> None:
    """A day off removes every shift that starts on it, covers too; leave likewise: a swap
    onto either would leave the shift uncovered, so it is refused with the reason."""
    api, ids = await swap_team(client, keys)
    ann, cy = await as_specialist(keys, ids, "Ann"), await as_specialist(keys, ids, "Cy")
    tuesday = {"team": "t", "start": iso(TUESDAY[0]), "end": iso(TUESDAY[1])}
    monday = {"team": "t", "start": iso(MONDAY[0]), "end": iso(MONDAY[1])}
    off = await client.post(
        "/v1/days-off", json={"specialist_id": ids["Cy"], "day": "2026-11-24"}, headers=api.h
    )
    assert off.status_code == 201, off.text
    await api.override(
        kind="leave",
        specialist_id=ids["Cy"],
        start=iso(MONDAY[0]),
        end=iso(MONDAY[1]),
        reason="dentist",
    )
    for window, reason in ((tuesday, "has a day off on Tue 24 Nov"), (monday, "on leave")):
        asked = await client.post(
            "/v1/swaps", json={"kind": "ask", "teammate_id": ids["Cy"], **window}, headers=ann
        )
        assert asked.status_code == 201, asked.text
        refused = await client.post(f"/v1/swaps/{asked.json()['id']}/accept", headers=cy)
        assert refused.status_code == 409, refused.text
        assert reason in refused.json()["detail"]
        # Nothing changed: Ann still works it.
        names = {s["specialist_name"] for s in await api.schedule(*TUESDAY, team="t")}
        assert "Ann" in names
