"""Nobody works two shifts at once: such overrides are refused, old ones counted once (12.6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.rota import OverrideRow, Team
from tests.conftest import Keys
from tests.rota_api.helpers import Api, assert_problem, iso, rota_state, utc

DAILY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    """A scheduler's API."""
    return Api(client, await keys.headers("scheduler"))


@pytest.fixture
async def rota(api: Api) -> dict[str, Any]:
    """Team t (UTC): Maya works days 08-17 every day, Ben nights 20-08; Cleo stands by."""
    await api.team("t")
    maya, ben, cleo = await api.people("t", "Maya Patel", "Ben", "Cleo")
    since = utc(2026, 11, 1)
    days = await api.rotation(
        "t", [maya], name="days", days=DAILY, start="08:00", end="17:00", effective_from=since
    )
    await api.rotation(
        "t", [ben], name="nights", days=DAILY, start="20:00", end="08:00", effective_from=since
    )
    return {"Maya": maya, "Ben": ben, "Cleo": cleo, "days": days["id"]}


async def _post(api: Api, body: dict[str, Any], **params: str) -> httpx.Response:
    payload = {k: iso(v) if not isinstance(v, str | int) else v for k, v in body.items()}
    return await api.client.post("/v1/overrides", json=payload, params=params, headers=api.h)


async def test_an_extra_shift_for_someone_on_shift_is_refused(
    api: Api, rota: dict[str, Any], db: Database
) -> None:
    extra = {
        "kind": "extra",
        "specialist_id": rota["Maya"],
        "team": "t",
        "start": utc(2026, 11, 23, 12),
        "end": utc(2026, 11, 23, 21),
    }
    before = await rota_state(db)
    for params in ({"dry_run": "true"}, {}):
        answer = await _post(api, extra, **params)
        body = assert_problem(answer, 409)
        assert "Maya Patel is already on shift" in body["detail"]
        assert body["overlapping_shift"]["rotation_id"] == rota["days"]
        assert body["overlapping_shift"]["start"].startswith("2026-11-23T08:00")
    assert await rota_state(db) == before


async def test_a_cover_by_someone_already_working_is_refused(
    api: Api, rota: dict[str, Any]
) -> None:
    # Ben covers Maya's day shift, though he works until 08:00 and from 20:00: no overlap.
    fine = await _post(
        api,
        {
            "kind": "cover",
            "specialist_id": rota["Maya"],
            "substitute_id": rota["Ben"],
            "start": utc(2026, 11, 24, 8),
            "end": utc(2026, 11, 24, 17),
        },
    )
    assert fine.status_code == 201, fine.text
    # Cleo covers Ben's night, then is given Maya's evening as well: the second overlaps.
    night = await _post(
        api,
        {
            "kind": "cover",
            "specialist_id": rota["Ben"],
            "substitute_id": rota["Cleo"],
            "start": utc(2026, 11, 25, 20),
            "end": utc(2026, 11, 26, 8),
        },
    )
    assert night.status_code == 201, night.text
    clash = await _post(
        api,
        {
            "kind": "extra",
            "specialist_id": rota["Cleo"],
            "team": "t",
            "start": utc(2026, 11, 25, 18),
            "end": utc(2026, 11, 25, 22),
        },
    )
    body = assert_problem(clash, 409)
    assert body["overlapping_shift"]["override_id"] == night.json()[0]["id"]
    # Stretching an accepted extra of Cleo's into her cover of the night is refused too.
    extra = await _post(
        api,
        {
            "kind": "extra",
            "specialist_id": rota["Cleo"],
            "team": "t",
            "start": utc(2026, 11, 25, 12),
            "end": utc(2026, 11, 25, 16),
        },
    )
    assert extra.status_code == 201, extra.text
    (accepted,) = extra.json()
    etag = await api.etag(f"/v1/overrides/{accepted['id']}")
    stretched = await api.client.patch(
        f"/v1/overrides/{accepted['id']}",
        json={"end": iso(utc(2026, 11, 25, 21))},
        headers=api.hdr(etag),
    )
    assert_problem(stretched, 409)


async def test_an_old_double_booking_is_listed_and_counted_once(
    api: Api, rota: dict[str, Any], db: Database, clock: FixedClock
) -> None:
    # An extra stored before such overrides were refused: Maya on two shifts 12:00-17:00.
    async with db.transaction() as session:
        team = (await session.execute(Team.__table__.select())).first()
        assert team is not None
        session.add(
            OverrideRow(
                kind="extra",
                specialist_id=rota["Maya"],
                team_id=team.id,
                starts_at=utc(2026, 11, 23, 12),
                ends_at=utc(2026, 11, 23, 21),
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    names = await api.names_on_shift(utc(2026, 11, 23, 13))
    assert names == ["Maya Patel"]
    answer = await api.get(
        "/v1/rota/fairness", start=iso(utc(2026, 11, 23)), end=iso(utc(2026, 11, 24))
    )
    assert answer.status_code == 200, answer.text
    maya = next(r for r in answer.json() if r["specialist_id"] == rota["Maya"])
    assert maya["hours"] == 13  # 08:00-21:00 once, not 9 + 9
