"""`GET /v1/wallboard` and `/v1/teams/{slug}/console-settings` (alert thresholds, swaps)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.auth.deps import ReportReader, RotaReader, RotaWriter
from app.core.deps import ClockDep, DbSession
from app.core.errors import NotFound, ValidationFailed
from app.core.types import JsonBool, JsonInt
from app.rota import console_settings
from app.rota.repository import team_by_slug
from app.routing import wallboard
from app.routing.wallboard import Thresholds, Tile

router = APIRouter(prefix="/v1", tags=["wallboard"])


class PersonOut(BaseModel):
    """Someone on shift and what they are doing now."""

    specialist_id: int
    name: str
    status: Literal["available", "ringing", "on_call", "away", "offline"]


class TodayOut(BaseModel):
    """Today's figures (since local midnight in the team's zone; UTC for all teams)."""

    offered: int
    answered: int
    abandoned: int
    service_level: float | None = Field(description="share answered within 60 s, 0-1")
    average_speed_of_answer_seconds: float | None


class SettingsOut(BaseModel):
    """A team's console settings."""

    wait_amber_seconds: int
    wait_red_seconds: int
    service_level_amber: int
    service_level_red: int
    swaps_need_approval: bool


class TileOut(BaseModel):
    """One team's tile; `team` null is all teams together."""

    team: str | None
    name: str
    waiting: int
    oldest_wait_seconds: int | None
    people: dict[str, int]
    on_shift: list[PersonOut]
    today: TodayOut
    level: Literal["ok", "amber", "red"]
    reasons: list[str]
    thresholds: SettingsOut


class WallboardOut(BaseModel):
    """Every team's tile at an instant."""

    at: datetime
    tiles: list[TileOut]


def _settings_out(t: Thresholds) -> SettingsOut:
    return SettingsOut(
        wait_amber_seconds=t.wait_amber_seconds,
        wait_red_seconds=t.wait_red_seconds,
        service_level_amber=t.service_level_amber,
        service_level_red=t.service_level_red,
        swaps_need_approval=t.swaps_need_approval,
    )


def tile_out(t: Tile) -> TileOut:
    """A tile as the API shows it."""
    return TileOut(
        team=t.slug,
        name=t.name,
        waiting=t.waiting,
        oldest_wait_seconds=t.oldest_wait_seconds,
        people=t.people,
        on_shift=[
            PersonOut(specialist_id=p.specialist_id, name=p.name, status=p.status)
            for p in t.on_shift
        ],
        today=TodayOut(
            offered=t.today.offered,
            answered=t.today.answered,
            abandoned=t.today.abandoned,
            service_level=t.today.service_level,
            average_speed_of_answer_seconds=t.today.average_speed_of_answer_seconds,
        ),
        level=t.level,
        reasons=t.reasons,
        thresholds=_settings_out(t.thresholds),
    )


@router.get("/wallboard", response_model=WallboardOut)
async def get_wallboard(
    session: DbSession,
    clock: ClockDep,
    _: ReportReader,
    team: str | None = Query(default=None, max_length=64),
) -> WallboardOut:
    """All teams together then each team (or one team): waiting, people, today, alerts."""
    if team is not None and await team_by_slug(session, team) is None:
        raise ValidationFailed(
            f"team {team!r} does not exist",
            errors=[{"field": "query.team", "message": "no such team"}],
        )
    now = clock.now()
    tiles = await wallboard.board(session, now, team=team)
    return WallboardOut(at=now, tiles=[tile_out(t) for t in tiles])


class SettingsIn(BaseModel):
    """New console settings for a team (every field; red beyond amber)."""

    model_config = ConfigDict(extra="forbid")

    wait_amber_seconds: JsonInt = Field(ge=1, le=86_400)
    wait_red_seconds: JsonInt = Field(ge=1, le=86_400)
    service_level_amber: JsonInt = Field(ge=0, le=100)
    service_level_red: JsonInt = Field(ge=0, le=100)
    swaps_need_approval: JsonBool

    @model_validator(mode="after")
    def _ordered(self) -> SettingsIn:
        if self.wait_red_seconds < self.wait_amber_seconds:
            raise ValueError("wait_red_seconds must be at least wait_amber_seconds")
        if self.service_level_red > self.service_level_amber:
            raise ValueError("service_level_red must be at most service_level_amber")
        return self


@router.get("/teams/{slug}/console-settings", response_model=SettingsOut)
async def get_console_settings(slug: str, session: DbSession, _: RotaReader) -> SettingsOut:
    """The team's wallboard thresholds and whether swaps need a scheduler's approval."""
    team = await team_by_slug(session, slug)
    if team is None:
        raise NotFound(f"team {slug!r} does not exist")
    return _settings_out(await wallboard.thresholds_of(session, team.id))


@router.put("/teams/{slug}/console-settings", response_model=SettingsOut)
async def put_console_settings(
    slug: str, body: SettingsIn, session: DbSession, clock: ClockDep, principal: RotaWriter
) -> SettingsOut:
    """Set the team's thresholds and swap approval (schedulers, admins; audited)."""
    team = await team_by_slug(session, slug)
    if team is None:
        raise NotFound(f"team {slug!r} does not exist")
    values = await console_settings.change(
        session, principal, team, body.model_dump(), now=clock.now()
    )
    return SettingsOut(**values)
