"""Calendar feeds: a scheduler builds a rota through the API, a calendar app subscribes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar, Event

from tests.conftest import NOW, Keys

# NOW is Friday 2026-11-20 15:00Z; a feed covers two weeks back to six months ahead.
FEED_START = NOW - timedelta(weeks=2)
FEED_END = NOW + timedelta(days=184)
MON_FRI = ["mon", "tue", "wed", "thu", "fri"]


async def _post(client: httpx.AsyncClient, h: dict[str, str], path: str, **kw: Any) -> Any:
    r = await client.post(path, headers=h, **kw)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def _rota(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, Any]:
    """support-en (Los Angeles) with Ada and Grace on weekdays 09-17 and Linus spare."""
    team = await _post(
        client,
        h,
        "/v1/teams",
        json={
            "slug": "support-en",
            "name": "English support",
            "time_zone": "America/Los_Angeles",
            "languages": ["en"],
            "holidays": {"country": "US", "subdivision": "CA"},
        },
    )
    people = {}
    for name in ("Ada", "Grace", "Linus"):
        people[name] = await _post(
            client,
            h,
            "/v1/specialists",
            json={
                "name": name,
                "contact": "+14155550100",
                "time_zone": "America/Los_Angeles",
                "languages": ["en"],
                "teams": ["support-en"],
            },
        )
    rotation = await _post(
        client,
        h,
        "/v1/rotations",
        params={"allow_past": "true"},
        json={
            "team": "support-en",
            "name": "weekdays",
            "members": [people["Ada"]["id"], people["Grace"]["id"]],
            "days": MON_FRI,
            "start": "09:00",
            "end": "17:00",
            "effective_from": "2026-11-01T00:00:00-07:00",
        },
    )
    return {"team": team, "rotation": rotation, **people}


async def _feed(client: httpx.AsyncClient, url: str) -> Calendar:
    r = await client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(r.content)


def _events(cal: Calendar) -> dict[str, Event]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def _shift_events(cal: Calendar) -> dict[str, Event]:
    return {uid: e for uid, e in _events(cal).items() if not uid.startswith("dayoff-")}


def _day_off_events(cal: Calendar) -> dict[str, Event]:
    return {uid: e for uid, e in _events(cal).items() if uid.startswith("dayoff-")}


def _starting_on(events: dict[str, Event], day: date, tz: str = "America/Los_Angeles") -> list[Any]:
    return [e for e in events.values() if e.start.astimezone(ZoneInfo(tz)).date() == day]


async def _schedule(
    client: httpx.AsyncClient, h: dict[str, str], **filters: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The final schedule over the feed's window (the API answers 92 days at a time)."""
    shifts: dict[str, Any] = {}
    days: dict[str, Any] = {}
    start = FEED_START
    while start < FEED_END:
        end = min(start + timedelta(days=90), FEED_END)
        r = await client.get(
            "/v1/rota/schedule",
            params={"start": start.isoformat(), "end": end.isoformat(), **filters},
            headers=h,
        )
        assert r.status_code == 200, r.text
        shifts |= {s["key"]: s for s in r.json()["shifts"]}
        days |= {d["id"]: d for d in r.json()["days_off"]}
        start = end
    return shifts, days


async def test_specialist_feed_is_the_final_schedule(client: httpx.AsyncClient, keys: Keys) -> None:
    h = await keys.headers("scheduler")
    rota = await _rota(client, h)
    ada = rota["Ada"]
    cal = await _feed(client, ada["calendar_url"])
    assert str(cal["version"]) == "2.0"
    assert "Switchboard" in str(cal["prodid"])
    assert str(cal["x-wr-calname"]) == "Switchboard rota: Ada"
    assert str(cal["x-wr-timezone"]) == "America/Los_Angeles"
    assert cal["refresh-interval"].dt == timedelta(hours=1)
    assert cal["refresh-interval"].params["VALUE"] == "DURATION"
    assert str(cal["x-published-ttl"]) == "PT1H"

    shifts, _ = await _schedule(client, h, specialist=ada["id"])
    events = _shift_events(cal)
    assert len(shifts) > 100
    assert set(events) == {f"{key}@switchboard" for key in shifts}
    for key, shift in shifts.items():
        event = events[f"{key}@switchboard"]
        assert event.start == datetime.fromisoformat(shift["start"])
        assert event.end == datetime.fromisoformat(shift["end"])
        assert event.start.utcoffset() == timedelta(0)
        assert str(event["summary"]) == "On shift: support-en (weekdays)"
        assert "Rotation: weekdays" in str(event["description"])
        assert isinstance(event["dtstamp"].dt, datetime)
    # Monday 23 November, 09:00-17:00 in Los Angeles, written in UTC.
    raw = (await client.get(ada["calendar_url"])).text
    assert "DTSTART:20261123T170000Z" in raw
    assert "DTEND:20261124T010000Z" in raw
    # Thanksgiving and the day after are on the team's US-CA holiday calendar.
    assert _starting_on(events, date(2026, 11, 26)) == []


async def test_team_feed_lists_everyone(client: httpx.AsyncClient, keys: Keys) -> None:
    h = await keys.headers("scheduler")
    rota = await _rota(client, h)
    cal = await _feed(client, rota["team"]["calendar_url"])
    assert str(cal["x-wr-calname"]) == "Switchboard rota: English support"
    assert str(cal["x-wr-timezone"]) == "America/Los_Angeles"
    shifts, _ = await _schedule(client, h, team="support-en")
    events = _shift_events(cal)
    assert set(events) == {f"{key}@switchboard" for key in shifts}
    monday = _starting_on(events, date(2026, 11, 23))
    assert sorted(str(e["summary"]) for e in monday) == [
        "Ada — support-en",
        "Grace — support-en",
    ]


async def test_cover_shows_on_the_substitutes_feed_only(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    h = await keys.headers("scheduler")
    rota = await _rota(client, h)
    ada, linus = rota["Ada"], rota["Linus"]
    monday = date(2026, 11, 23)
    assert len(_starting_on(_shift_events(await _feed(client, ada["calendar_url"])), monday)) == 1
    assert _starting_on(_shift_events(await _feed(client, linus["calendar_url"])), monday) == []
    await _post(
        client,
        h,
        "/v1/overrides",
        json={
            "kind": "cover",
            "specialist_id": ada["id"],
            "substitute_id": linus["id"],
            "team": "support-en",
            "start": "2026-11-23T00:00:00-08:00",
            "end": "2026-11-24T00:00:00-08:00",
        },
    )
    assert _starting_on(_shift_events(await _feed(client, ada["calendar_url"])), monday) == []
    covered = _starting_on(_shift_events(await _feed(client, linus["calendar_url"])), monday)
    assert len(covered) == 1
    assert str(covered[0]["summary"]) == "On shift: support-en (covering for Ada)"
    assert "Covering for Ada" in str(covered[0]["description"])
    assert covered[0].start == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    # Linus's other days are untouched: the cover is his only shift.
    assert len(_shift_events(await _feed(client, linus["calendar_url"]))) == 1


async def test_leave_removes_events(client: httpx.AsyncClient, keys: Keys) -> None:
    h = await keys.headers("scheduler")
    rota = await _rota(client, h)
    ada, grace = rota["Ada"], rota["Grace"]
    week = [date(2026, 11, 30) + timedelta(days=i) for i in range(5)]
    before = _shift_events(await _feed(client, ada["calendar_url"]))
    assert all(len(_starting_on(before, d)) == 1 for d in week)
    await _post(
        client,
        h,
        "/v1/overrides",
        json={
            "kind": "leave",
            "specialist_id": ada["id"],
            "start": "2026-11-30T00:00:00-08:00",
            "end": "2026-12-05T00:00:00-08:00",
            "reason": "holiday",
        },
    )
    after = _shift_events(await _feed(client, ada["calendar_url"]))
    assert all(_starting_on(after, d) == [] for d in week)
    assert len(after) == len(before) - len(week)
    assert set(after) < set(before)
    graces = _shift_events(await _feed(client, grace["calendar_url"]))
    assert all(len(_starting_on(graces, d)) == 1 for d in week)


async def test_day_off_in_lieu_is_an_all_day_event(client: httpx.AsyncClient, keys: Keys) -> None:
    h = await keys.headers("scheduler")
    rota = await _rota(client, h)
    ada = rota["Ada"]
    await _post(
        client,
        h,
        "/v1/rotations",
        params={"allow_past": "true"},
        json={
            "team": "support-en",
            "name": "weekend",
            "members": [ada["id"]],
            "days": ["sat", "sun"],
            "start": "10:00",
            "end": "14:00",
            "assignment": "turns",
            "earns_lieu": True,
            "lieu_rule": "wed",
            "effective_from": "2026-11-01T00:00:00-07:00",
        },
    )
    cal = await _feed(client, ada["calendar_url"])
    offs = _day_off_events(cal)
    _, expected = await _schedule(client, h, specialist=ada["id"])
    assert set(offs) == {f"dayoff-{ident}@switchboard" for ident in expected}
    # The weekend of 21/22 November earns Wednesday 25th (and the next free weekday).
    wednesday = [e for e in offs.values() if e.start == date(2026, 11, 25)]
    assert len(wednesday) == 1
    event = wednesday[0]
    assert not isinstance(event.start, datetime)
    assert event.end == date(2026, 11, 26)
    assert str(event["summary"]) == "Day off in lieu"
    assert str(event["transp"]) == "TRANSPARENT"
    assert "VALUE=DATE:20261125" in (await client.get(ada["calendar_url"])).text
    # The day off removes Ada's weekday shift; Grace still works that day.
    assert _starting_on(_shift_events(cal), date(2026, 11, 25)) == []
    team = await _feed(client, rota["team"]["calendar_url"])
    assert [str(e["summary"]) for e in _starting_on(_shift_events(team), date(2026, 11, 25))] == [
        "Grace — support-en"
    ]
    team_offs = [e for e in _day_off_events(team).values() if e.start == date(2026, 11, 25)]
    assert [str(e["summary"]) for e in team_offs] == ["Day off in lieu — Ada"]


async def test_manual_day_off_uid(client: httpx.AsyncClient, keys: Keys) -> None:
    h = await keys.headers("scheduler")
    rota = await _rota(client, h)
    ada = rota["Ada"]
    added = await _post(
        client, h, "/v1/days-off", json={"specialist_id": ada["id"], "day": "2026-12-01"}
    )
    offs = _day_off_events(await _feed(client, ada["calendar_url"]))
    assert list(offs) == [f"dayoff-{added['id']}@switchboard"]
    assert offs[f"dayoff-{added['id']}@switchboard"].start == date(2026, 12, 1)


async def test_uids_survive_unrelated_edits(client: httpx.AsyncClient, keys: Keys) -> None:
    h = await keys.headers("scheduler")
    rota = await _rota(client, h)
    ada, grace, linus = rota["Ada"], rota["Grace"], rota["Linus"]

    def content(cal: Calendar) -> dict[str, tuple[Any, ...]]:
        return {
            uid: (e.start, e.end, str(e["summary"]), str(e["description"]))
            for uid, e in _events(cal).items()
        }

    before = content(await _feed(client, ada["calendar_url"]))
    team_before = set(_events(await _feed(client, rota["team"]["calendar_url"])))
    await _post(
        client,
        h,
        "/v1/rotations",
        json={
            "team": "support-en",
            "name": "saturdays",
            "members": [linus["id"]],
            "days": ["sat"],
            "start": "09:00",
            "end": "13:00",
        },
    )
    await _post(
        client,
        h,
        "/v1/overrides",
        json={
            "kind": "leave",
            "specialist_id": grace["id"],
            "start": "2026-12-07T00:00:00-08:00",
            "end": "2026-12-12T00:00:00-08:00",
        },
    )
    await _post(
        client,
        h,
        "/v1/overrides",
        json={
            "kind": "cover",
            "specialist_id": grace["id"],
            "substitute_id": linus["id"],
            "start": "2026-12-14T00:00:00-08:00",
            "end": "2026-12-15T00:00:00-08:00",
        },
    )
    # A new version of Ada's own rotation (Linus joins from now) keeps her shifts' UIDs too.
    path = f"/v1/rotations/{rota['rotation']['id']}"
    etag = (await client.get(path, headers=h)).headers["etag"]
    r = await client.put(
        path,
        json={
            "members": [ada["id"], grace["id"], linus["id"]],
            "days": MON_FRI,
            "start": "09:00",
            "end": "17:00",
        },
        headers={**h, "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    assert content(await _feed(client, ada["calendar_url"])) == before
    team_after = set(_events(await _feed(client, rota["team"]["calendar_url"])))
    grace_leave = team_before - team_after
    assert grace_leave, "Grace's leave removed events"
    # Only Grace's shifts went: her leave (7-11 December) and the day Linus covers (14th).
    # Keys read rot-<rotation>-<local date>-<specialist>-<UTC start>.
    assert {tuple(uid.split("-")[2:4]) for uid in grace_leave} == {
        (day, str(grace["id"]))
        for day in ("20261207", "20261208", "20261209", "20261210", "20261211", "20261214")
    }
    assert team_before - grace_leave <= team_after


async def test_rotated_token_replaces_the_link(client: httpx.AsyncClient, keys: Keys) -> None:
    h = await keys.headers("scheduler")
    rota = await _rota(client, h)
    ada = rota["Ada"]
    old_link = ada["calendar_url"]
    assert (await client.get(old_link)).status_code == 200
    renewed = await _post(client, h, f"/v1/specialists/{ada['id']}/calendar-token")
    assert renewed["calendar_url"] != old_link
    assert (await client.get(old_link)).status_code == 404
    assert (await client.get(renewed["calendar_url"])).status_code == 200

    old_team_link = rota["team"]["calendar_url"]
    team = await _post(client, h, "/v1/teams/support-en/calendar-token")
    assert (await client.get(old_team_link)).status_code == 404
    assert (await client.get(team["calendar_url"])).status_code == 200


async def test_wrong_links_are_indistinguishable(client: httpx.AsyncClient, keys: Keys) -> None:
    h = await keys.headers("scheduler")
    rota = await _rota(client, h)
    ada = rota["Ada"]
    ada_token = ada["calendar_url"].split("token=")[1]
    team_token = rota["team"]["calendar_url"].split("token=")[1]
    wrong = [
        f"/calendars/specialists/{ada['id']}.ics?token=wrong",
        f"/calendars/specialists/{ada['id']}.ics?token=",
        f"/calendars/specialists/{ada['id']}.ics?token=ünïcode",
        f"/calendars/specialists/{ada['id']}.ics",
        f"/calendars/specialists/{rota['Grace']['id']}.ics?token={ada_token}",
        f"/calendars/specialists/999.ics?token={ada_token}",
        f"/calendars/specialists/99999999999999.ics?token={ada_token}",
        f"/calendars/specialists/abc.ics?token={ada_token}",
        f"/calendars/teams/support-en.ics?token={ada_token}",
        f"/calendars/teams/support-xx.ics?token={team_token}",
        "/calendars/teams/support-en.ics",
    ]
    bodies = set()
    for url in wrong:
        r = await client.get(url)
        assert r.status_code == 404, url
        assert r.headers["content-type"] == "application/problem+json", url
        body = r.json()
        body.pop("instance", None)
        bodies.add(tuple(sorted(body.items())))
    assert len(bodies) == 1
    # No API key is needed: the token in the link is the credential.
    assert (await client.get(f"/calendars/teams/support-en.ics?token={team_token}")).is_success


async def test_weekly_chicago_shift_keeps_wall_clock_across_dst(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    h = await keys.headers("scheduler")
    await _post(
        client,
        h,
        "/v1/teams",
        json={"slug": "ops", "name": "Ops", "time_zone": "America/Chicago", "languages": ["en"]},
    )
    people = {}
    for name in ("Pat", "Sam"):
        people[name] = await _post(
            client,
            h,
            "/v1/specialists",
            json={
                "name": name,
                "contact": "client:" + name.lower(),
                "time_zone": "America/Chicago",
                "languages": ["en"],
                "teams": ["ops"],
            },
        )
    rules: dict[str, dict[str, Any]] = {
        "Pat": {"days": ["tue"], "start": "09:00", "end": "17:00"},
        # A weekly on-call shift handing over on Tuesdays at midnight.
        "Sam": {"days": ["tue"], "start": "00:00", "end": "00:00", "length_days": 7},
    }
    for name, rule in rules.items():
        await _post(
            client,
            h,
            "/v1/rotations",
            params={"allow_past": "true"},
            json={
                "team": "ops",
                "name": f"{name} weekly",
                "members": [people[name]["id"]],
                "effective_from": "2026-11-01T00:00:00-05:00",
                **rule,
            },
        )
    pat = {
        e.start: e.end
        for e in _shift_events(await _feed(client, people["Pat"]["calendar_url"])).values()
    }
    # 09:00-17:00 Chicago: CST (UTC-6) in winter, CDT (UTC-5) from 14 March 2027.
    assert pat[datetime(2026, 11, 10, 15, 0, tzinfo=UTC)] == datetime(2026, 11, 10, 23, tzinfo=UTC)
    assert pat[datetime(2027, 3, 9, 15, 0, tzinfo=UTC)] == datetime(2027, 3, 9, 23, tzinfo=UTC)
    assert pat[datetime(2027, 3, 16, 14, 0, tzinfo=UTC)] == datetime(2027, 3, 16, 22, tzinfo=UTC)
    sam = {
        e.start: e.end
        for e in _shift_events(await _feed(client, people["Sam"]["calendar_url"])).values()
    }
    assert sam[datetime(2026, 11, 10, 6, tzinfo=UTC)] - datetime(
        2026, 11, 10, 6, tzinfo=UTC
    ) == timedelta(hours=168)
    # The week the clocks go forward lasts 167 hours.
    spring = datetime(2027, 3, 9, 6, tzinfo=UTC)
    assert sam[spring] == datetime(2027, 3, 16, 5, tzinfo=UTC)
    assert sam[spring] - spring == timedelta(hours=167)
    assert datetime(2027, 3, 16, 5, tzinfo=UTC) in sam
