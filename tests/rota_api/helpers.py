"""Builders and checks shared by the rota API tests: a small client wrapper, DB snapshots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.main import create_app
from app.models.rota import (
    AuditEntry,
    LieuAdjustmentRow,
    ManualDayOffRow,
    MaterialisedWindow,
    OverrideRow,
    Rotation,
    RotationVersionRow,
    ShiftInstance,
    Specialist,
    Team,
    TeamMember,
)

PROBLEM = "application/problem+json"
ROTA_TABLES = (
    Team,
    Specialist,
    TeamMember,
    Rotation,
    RotationVersionRow,
    OverrideRow,
    LieuAdjustmentRow,
    ManualDayOffRow,
    AuditEntry,
    ShiftInstance,
    MaterialisedWindow,
)
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def iso(instant: datetime) -> str:
    """RFC 3339 with a Z."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def instant(text: str) -> datetime:
    """An API instant as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def span(shift: dict[str, Any]) -> tuple[datetime, datetime]:
    """A shift's (start, end) in UTC."""
    return instant(shift["start"]), instant(shift["end"])


def who(shifts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(local date, specialist name) of shifts, in order."""
    return [(s["local_date"], s["specialist_name"]) for s in shifts]


async def rota_state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every rota table (audit, materialised shifts included), for comparison."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    async with db.transaction() as session:
        for model in ROTA_TABLES:
            columns = list(model.__table__.columns)
            rows = (await session.execute(select(*columns))).all()
            state[model.__tablename__] = sorted((tuple(map(repr, r)) for r in rows), key=str)
    return state


async def audit_count(db: Database) -> int:
    """How many audit entries exist."""
    async with db.transaction() as session:
        return len(list(await session.scalars(select(AuditEntry.id))))


def assert_problem(
    response: httpx.Response, status: int, *, field: str | None = None
) -> dict[str, Any]:
    """A problem+json response with this status (and an error naming `field`, if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if field is not None:
        fields = [e["field"] for e in body.get("errors") or []]
        assert any(f == field or f.startswith(field) for f in fields), (field, body)
    return body


class Api:
    """A scheduler's view of the rota API with builders that assert success."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.h = headers

    def hdr(self, if_match: str | None = None) -> dict[str, str]:
        """Auth headers, plus If-Match when given."""
        return {**self.h, "If-Match": if_match} if if_match is not None else dict(self.h)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        """GET with the scheduler's key."""
        return await self.client.get(path, params=params, headers=self.h)

    async def etag(self, path: str) -> str:
        """The ETag a GET of the resource returns."""
        r = await self.get(path)
        assert r.status_code == 200, r.text
        return r.headers["etag"]

    async def team(
        self,
        slug: str = "t",
        tz: str = "UTC",
        *,
        coverage: list[dict[str, Any]] | None = None,
        languages: list[str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Create a team."""
        body = {
            "slug": slug,
            "name": f"Team {slug}",
            "time_zone": tz,
            "languages": languages or ["en"],
            "coverage": coverage or [],
            **extra,
        }
        r = await self.client.post("/v1/teams", json=body, headers=self.h)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def specialist(
        self,
        name: str,
        teams: list[str],
        *,
        tz: str = "UTC",
        languages: list[str] | None = None,
        skills: list[str] | None = None,
        **extra: Any,
    ) -> int:
        """Create a specialist; returns the id."""
        body = {
            "name": name,
            "contact": "+14155550100",
            "time_zone": tz,
            "languages": languages or ["en"],
            "skills": skills or [],
            "teams": teams,
            **extra,
        }
        r = await self.client.post("/v1/specialists", json=body, headers=self.h)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    async def people(self, team: str, *names: str, **kw: Any) -> list[int]:
        """Create several specialists in one team."""
        return [await self.specialist(n, [team], **kw) for n in names]

    async def rotation(
        self,
        team: str,
        members: list[int],
        *,
        name: str = "r",
        days: list[str] | None = None,
        start: str = "09:00",
        end: str = "17:00",
        effective_from: datetime | None = None,
        allow_past: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        """Create a rotation (by default effective from a past instant); returns json+etag."""
        body: dict[str, Any] = {
            "team": team,
            "name": name,
            "members": members,
            "days": days or WEEKDAYS,
            "start": start,
            "end": end,
            **extra,
        }
        if effective_from is not None:
            body["effective_from"] = iso(effective_from)
        params = {"allow_past": "true"} if allow_past else {}
        r = await self.client.post("/v1/rotations", json=body, params=params, headers=self.h)
        assert r.status_code == 201, r.text
        return {**r.json(), "etag": r.headers["etag"]}

    async def override(self, allow_past: bool = False, **body: Any) -> list[dict[str, Any]]:
        """Create an override (datetimes as ISO); returns the created rows."""
        payload = {k: iso(v) if isinstance(v, datetime) else v for k, v in body.items()}
        params = {"allow_past": "true"} if allow_past else {}
        r = await self.client.post("/v1/overrides", json=payload, params=params, headers=self.h)
        assert r.status_code == 201, r.text
        return list(r.json())

    async def schedule(self, start: datetime, end: datetime, **params: Any) -> list[dict[str, Any]]:
        """Shifts of the final schedule overlapping [start, end)."""
        r = await self.get("/v1/rota/schedule", start=iso(start), end=iso(end), **params)
        assert r.status_code == 200, r.text
        return list(r.json()["shifts"])

    async def days_off(self, start: datetime, end: datetime, **params: Any) -> list[dict[str, Any]]:
        """Days off in lieu between two instants."""
        r = await self.get("/v1/days-off", start=iso(start), end=iso(end), **params)
        assert r.status_code == 200, r.text
        return list(r.json())

    async def on_shift(self, at: datetime, **params: Any) -> list[dict[str, Any]]:
        """Who is on shift at an instant."""
        r = await self.get("/v1/rota/on-shift", at=iso(at), **params)
        assert r.status_code == 200, r.text
        return list(r.json()["on_shift"])

    async def names_on_shift(self, at: datetime, **params: Any) -> list[str]:
        """Sorted names of the people on shift at an instant."""
        return sorted(s["specialist_name"] for s in await self.on_shift(at, **params))

    async def audit(self, **params: Any) -> list[dict[str, Any]]:
        """The audit log, newest first."""
        r = await self.get("/v1/audit", limit=200, **params)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


@asynccontextmanager
async def second_client(settings: Settings, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    """A second app instance (own engine, own connections) on the same database.

    Start it before creating teams: at start-up the app checks the team names the shipped
    IVR flows use, which only happens once some team exists.
    """
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
