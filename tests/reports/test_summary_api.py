"""`GET /v1/reports/summary` against the hand-computed example in tests/reports/example.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from app.reports.figures import CallFacts, summarise
from app.reports.schemas import summary_csv, summary_out
from tests.conftest import Keys
from tests.reports.example import (
    DAY,
    NO_TEAM,
    SUPPORT_DE,
    SUPPORT_EN,
    TOTAL,
    Seeded,
    figures,
    seed_example,
)

PATH = "/v1/reports/summary"
PROBLEM = "application/problem+json"
RANGE = {"start": DAY, "end": "2026-11-20"}


@pytest.fixture
async def seeded(db: Database, clock: FixedClock) -> Seeded:
    """The example's calls."""
    return await seed_example(db, clock)


async def report(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    """The JSON report for the example day with extra query parameters."""
    answer = await client.get(PATH, params={**RANGE, **params}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    body: dict[str, Any] = answer.json()
    return body


def keyed(body: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    """The groups as (key, figures) pairs in the order the report lists them."""
    rows = []
    for group in body["groups"]:
        row = dict(group)
        rows.append((row.pop("group"), row))
    return rows


async def test_total_without_grouping(
    client: httpx.AsyncClient, admin: dict[str, str], seeded: Seeded
) -> None:
    body = await report(client, admin)
    assert body == {
        "start": "2026-11-19T00:00:00Z",
        "end": "2026-11-20T00:00:00Z",
        "tz": "UTC",
        "threshold_seconds": 60,
        "group_by": None,
        "groups": [],
        "total": TOTAL,
    }


async def test_by_team(client: httpx.AsyncClient, admin: dict[str, str], seeded: Seeded) -> None:
    body = await report(client, admin, group_by="team")
    assert keyed(body) == [("support-de", SUPPORT_DE), ("support-en", SUPPORT_EN), (None, NO_TEAM)]
    assert body["total"] == TOTAL


async def test_by_language_and_topic(
    client: httpx.AsyncClient, admin: dict[str, str], seeded: Seeded
) -> None:
    by_language = await report(client, admin, group_by="language")
    assert keyed(by_language) == [("de", SUPPORT_DE), ("en", SUPPORT_EN), (None, NO_TEAM)]
    by_topic = await report(client, admin, group_by="topic")
    assert keyed(by_topic) == [
        # c1 c2 c6 c7: waits 20 and 95, handles 300 and 480, a voicemail and a callback.
        (
            "billing",
            figures(
                offered=4,
                answered=2,
                routed=4,
                answered_within_threshold=1,
                service_level=0.25,
                average_speed_of_answer_seconds=57.5,
                average_handle_time_seconds=390.0,
                voicemails=1,
                callbacks=1,
            ),
        ),
        # c3 c5 c8: abandoned in the queue, waits 30 and 60, c8 still going on.
        (
            "tech",
            figures(
                offered=3,
                answered=2,
                abandoned=1,
                abandoned_in_queue=1,
                in_progress=1,
                routed=3,
                answered_within_threshold=2,
                service_level=0.6667,
                average_speed_of_answer_seconds=45.0,
                average_handle_time_seconds=601.0,
            ),
        ),
        # c4 c9: both hung up in the IVR.
        (None, figures(offered=2, abandoned=2, abandoned_in_ivr=2)),
    ]


async def test_by_specialist_with_names(
    client: httpx.AsyncClient, admin: dict[str, str], seeded: Seeded
) -> None:
    body = await report(client, admin, group_by="specialist")
    assert body["groups"] == [
        {
            "group": seeded.ann,
            "name": "Ann",
            **figures(
                offered=2,
                answered=2,
                routed=2,
                answered_within_threshold=1,
                service_level=0.5,
                average_speed_of_answer_seconds=57.5,
                average_handle_time_seconds=390.0,
            ),
        },
        {
            "group": seeded.bo,
            "name": "Bo",
            **figures(
                offered=2,
                answered=2,
                in_progress=1,
                routed=2,
                answered_within_threshold=2,
                service_level=1.0,
                average_speed_of_answer_seconds=45.0,
                average_handle_time_seconds=601.0,
            ),
        },
        {
            "group": None,
            "name": None,
            # c3 c4 c6 c7 c9: nobody answered; c3 c6 c7 were routed.
            **figures(
                offered=5,
                abandoned=3,
                abandoned_in_ivr=2,
                abandoned_in_queue=1,
                routed=3,
                service_level=0.0,
                voicemails=1,
                callbacks=1,
            ),
        },
    ]
    assert body["total"] == TOTAL


async def test_by_hour_in_tokyo(
    client: httpx.AsyncClient, admin: dict[str, str], seeded: Seeded
) -> None:
    body = await report(client, admin, group_by="hour", tz="Asia/Tokyo")
    assert body["tz"] == "Asia/Tokyo"
    assert keyed(body) == [
        # c1 c2 c3 (09:xx UTC)
        (
            "2026-11-19T18:00:00+09:00",
            figures(
                offered=3,
                answered=2,
                abandoned=1,
                abandoned_in_queue=1,
                routed=3,
                answered_within_threshold=1,
                service_level=0.3333,
                average_speed_of_answer_seconds=57.5,
                average_handle_time_seconds=390.0,
            ),
        ),
        # c4 c5 c6 (10:xx UTC)
        (
            "2026-11-19T19:00:00+09:00",
            figures(
                offered=3,
                answered=1,
                abandoned=1,
                abandoned_in_ivr=1,
                routed=2,
                answered_within_threshold=1,
                service_level=0.5,
                average_speed_of_answer_seconds=30.0,
                average_handle_time_seconds=601.0,
                voicemails=1,
            ),
        ),
        ("2026-11-19T21:00:00+09:00", NO_TEAM),  # c9 (12:00 UTC)
        # c7 c8 (23:xx UTC, the next morning in Tokyo)
        (
            "2026-11-20T08:00:00+09:00",
            figures(
                offered=2,
                answered=1,
                in_progress=1,
                routed=2,
                answered_within_threshold=1,
                service_level=0.5,
                average_speed_of_answer_seconds=60.0,
                callbacks=1,
            ),
        ),
    ]
    assert body["total"] == TOTAL


async def test_by_day_local_and_utc(
    client: httpx.AsyncClient, admin: dict[str, str], seeded: Seeded
) -> None:
    tokyo = await report(client, admin, group_by="day", tz="Asia/Tokyo")
    days = [(key, row["offered"], row["answered"], row["callbacks"]) for key, row in keyed(tokyo)]
    assert days == [("2026-11-19", 7, 3, 0), ("2026-11-20", 2, 1, 1)]
    utc = await report(client, admin, group_by="day")
    assert keyed(utc) == [("2026-11-19", TOTAL)]


async def test_csv_by_team(
    client: httpx.AsyncClient, admin: dict[str, str], seeded: Seeded
) -> None:
    answer = await client.get(
        PATH, params={**RANGE, "group_by": "team"}, headers={**admin, "Accept": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.text.splitlines() == [
        "group,offered,answered,abandoned,abandoned_in_ivr,abandoned_in_queue,in_progress,"
        "routed,answered_within_threshold,service_level,average_speed_of_answer_seconds,"
        "average_handle_time_seconds,voicemails,callbacks",
        "support-de,4,2,0,0,0,1,4,2,0.5,45.0,601.0,1,1",
        "support-en,4,2,2,1,1,0,3,1,0.3333,57.5,390.0,0,0",
        ",1,0,1,1,0,0,0,0,,,,0,0",
        "total,9,4,3,2,1,1,7,3,0.4286,51.3,460.3,1,1",
    ]


async def test_csv_by_specialist_and_ungrouped(
    client: httpx.AsyncClient, admin: dict[str, str], seeded: Seeded
) -> None:
    csv_headers = {**admin, "Accept": "text/csv, application/json;q=0.5"}
    answer = await client.get(PATH, params={**RANGE, "group_by": "specialist"}, headers=csv_headers)
    lines = answer.text.splitlines()
    assert lines[0].startswith("group,name,offered,answered,")
    assert lines[1:] == [
        f"{seeded.ann},Ann,2,2,0,0,0,0,2,1,0.5,57.5,390.0,0,0",
        f"{seeded.bo},Bo,2,2,0,0,0,1,2,2,1.0,45.0,601.0,0,0",
        ",,5,0,3,2,1,0,3,0,0.0,,,1,1",
        "total,,9,4,3,2,1,1,7,3,0.4286,51.3,460.3,1,1",
    ]
    plain = await client.get(PATH, params=RANGE, headers={**admin, "Accept": "text/csv"})
    assert plain.text.splitlines()[1:] == ["total,9,4,3,2,1,1,7,3,0.4286,51.3,460.3,1,1"]
    # JSON when it is preferred or nothing says otherwise.
    for accept in ("application/json", "*/*", "application/json, text/csv;q=0.5"):
        negotiated = await client.get(PATH, params=RANGE, headers={**admin, "Accept": accept})
        assert negotiated.headers["content-type"] == "application/json", accept


async def test_filters_threshold_and_offsets(
    client: httpx.AsyncClient, admin: dict[str, str], seeded: Seeded
) -> None:
    assert (await report(client, admin, team="support-de"))["total"] == SUPPORT_DE
    assert (await report(client, admin, language="en"))["total"] == SUPPORT_EN
    assert (await report(client, admin, team="support-en", language="de"))["total"] == figures()
    # A 95 s threshold admits c2 as well: 4 of 7 routed calls.
    wider = (await report(client, admin, threshold=95))["total"]
    assert (wider["answered_within_threshold"], wider["service_level"]) == (4, 0.5714)
    assert (await report(client, admin, threshold=95))["threshold_seconds"] == 95
    # 18:30 in Tokyo is 09:30 UTC (c3 counts, start is inclusive); c5 at 10:20 is the end.
    narrow = await report(
        client, admin, start="2026-11-19T18:30:00+09:00", end="2026-11-19T10:20:00Z"
    )
    assert narrow["start"] == "2026-11-19T09:30:00Z"
    assert narrow["total"] == figures(
        offered=2,
        abandoned=2,
        abandoned_in_ivr=1,
        abandoned_in_queue=1,
        routed=1,
        service_level=0.0,
    )


async def test_roles(client: httpx.AsyncClient, keys: Keys, seeded: Seeded) -> None:
    for role in ("admin", "scheduler", "viewer"):
        body = await report(client, await keys.headers(role))
        assert body["total"] == TOTAL, role
    refused = await client.get(PATH, params=RANGE, headers=await keys.headers("specialist"))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    anonymous = await client.get(PATH, params=RANGE)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2026-11-20"}, "query.start"),
        ({"start": "2026-11-19"}, "query.end"),
        ({**RANGE, "start": "2026-11-19T10:00:00"}, "query.start"),  # no offset
        ({**RANGE, "end": "yesterday"}, "query.end"),
        ({**RANGE, "end": "2026-02-30"}, "query.end"),
        ({"start": "2026-11-20", "end": "2026-11-20"}, "query.end"),
        ({"start": "2026-11-20T00:00:00Z", "end": "2026-11-20T08:00:00+09:00"}, "query.end"),
        ({"start": "2025-01-01", "end": "2026-01-03"}, "query.end"),  # 367 days
        ({**RANGE, "tz": "Mars/Olympus"}, "query.tz"),
        ({**RANGE, "tz": "../etc/passwd"}, "query.tz"),
        ({**RANGE, "threshold": 0}, "query.threshold"),
        ({**RANGE, "threshold": 3601}, "query.threshold"),
        ({**RANGE, "group_by": "week"}, "query.group_by"),
    ],
)
async def test_bad_input_is_a_problem(
    client: httpx.AsyncClient, admin: dict[str, str], params: dict[str, Any], field: str
) -> None:
    answer = await client.get(PATH, params=params, headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_a_leap_year_of_366_days_is_allowed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    answer = await client.get(
        PATH, params={"start": "2024-01-01", "end": "2025-01-01"}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"] == figures()


def test_csv_text_cells_never_start_a_formula() -> None:
    started = datetime(2026, 11, 1, tzinfo=UTC)
    call = CallFacts(started, None, None, None, None, has_voicemail=False, has_callback=False)
    one = summarise([call], threshold=timedelta(seconds=60), group_by="specialist")
    out = summary_out(
        one,
        start=started,
        end=datetime(2026, 11, 2, tzinfo=UTC),
        zone=ZoneInfo("UTC"),
        threshold_seconds=60,
        group_by="specialist",
        names={},
    )
    out.groups[0] = out.groups[0].model_copy(update={"group": 7, "name": "=HYPERLINK(1)"})
    assert summary_csv(out).splitlines()[1].startswith("7,'=HYPERLINK(1),1,0,")
