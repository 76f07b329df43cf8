"""The supervisor's wallboard: per team, who waits and for how long, what the people on
shift are doing, today's figures, and an alert colour with its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.console import TeamConsoleSettings
from app.models.rota import Team
from app.models.routing import QueueEntry
from app.reports.figures import Figures
from app.reports.service import summary
from app.rota import console_settings
from app.routing import presence
from app.routing.roster import ShiftRow, everyone, read_team

PEOPLE_STATES = ("available", "ringing", "on_call", "away", "offline")
SERVICE_LEVEL_SECONDS = 60


@dataclass(frozen=True)
class Thresholds:
    """When a team's tile turns amber or red."""

    wait_amber_seconds: int = 60
    wait_red_seconds: int = 180
    service_level_amber: int = 80  # percent answered within 60 s
    service_level_red: int = 60
    swaps_need_approval: bool = False


@dataclass(frozen=True)
class PersonNow:
    """Someone on shift and what they are doing."""

    specialist_id: int
    name: str
    status: str  # one of PEOPLE_STATES


@dataclass(frozen=True)
class Tile:
    """One team's tile (or all teams together: slug None)."""

    slug: str | None
    name: str
    waiting: int
    oldest_wait_seconds: int | None
    people: dict[str, int]
    on_shift: list[PersonNow]
    today: Figures
    level: str  # ok, amber, red
    reasons: list[str] = field(default_factory=list)
    thresholds: Thresholds = field(default_factory=Thresholds)


def status_of(row: ShiftRow, now: datetime) -> str:
    """What a person on shift is doing: a call first, then what they said."""
    if not presence.free_at(row.state, row.held_until, now):
        return "on_call" if row.state == "busy" else "ringing"
    if row.availability in ("away", "offline"):
        return row.availability
    return "available"


def _clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def alert(
    thresholds: Thresholds,
    *,
    waiting: int,
    oldest: int | None,
    available: int,
    service_level: float | None,
) -> tuple[str, list[str]]:
    """The tile's colour and why (the reasons are shown, never the colour alone)."""
    red: list[str] = []
    amber: list[str] = []
    if oldest is not None:
        if oldest >= thresholds.wait_red_seconds:
            red.append(
                f"a caller has waited {_clock(oldest)} "
                f"(red from {_clock(thresholds.wait_red_seconds)})"
            )
        elif oldest >= thresholds.wait_amber_seconds:
            amber.append(
                f"a caller has waited {_clock(oldest)} "
                f"(amber from {_clock(thresholds.wait_amber_seconds)})"
            )
    if waiting and not available:
        amber.append(f"{waiting} waiting and nobody available")
    if service_level is not None:
        percent = round(service_level * 100)
        if percent < thresholds.service_level_red:
            red.append(f"service level {percent}% (red below {thresholds.service_level_red}%)")
        elif percent < thresholds.service_level_amber:
            amber.append(
                f"service level {percent}% (amber below {thresholds.service_level_amber}%)"
            )
    if red:
        return "red", red + amber
    if amber:
        return "amber", amber
    return "ok", []


async def thresholds_of(session: AsyncSession, team_id: int) -> Thresholds:
    """The team's console settings (defaults when never set)."""
    return Thresholds(**console_settings.values_of(await session.get(TeamConsoleSettings, team_id)))


async def _queue(session: AsyncSession, slug: str | None) -> tuple[int, datetime | None]:
    query = select(func.count(), func.min(QueueEntry.enqueued_at)).where(
        QueueEntry.state.in_(("waiting", "ringing"))
    )
    if slug is not None:
        query = query.where(QueueEntry.team == slug)
    count, oldest = (await session.execute(query)).one()
    return int(count), oldest


def _midnight(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def tile(session: AsyncSession, team: Team, now: datetime) -> Tile:
    """One team's tile at `now` (today: since local midnight in the team's zone)."""
    thresholds = await thresholds_of(session, team.id)
    view = await read_team(session, team.slug, now=now, call_id=None)
    rows = await everyone(session, view, now) if view is not None else []
    people = sorted(
        (PersonNow(r.specialist_id, r.name, status_of(r, now)) for r in rows),
        key=lambda p: (PEOPLE_STATES.index(p.status), p.name),
    )
    counts = {state: sum(p.status == state for p in people) for state in PEOPLE_STATES}
    waiting, since = await _queue(session, team.slug)
    oldest = max(0, round((now - since).total_seconds())) if since is not None else None
    zone = ZoneInfo(team.tz)
    today = await summary(
        session,
        start=_midnight(now, zone),
        end=now + timedelta(microseconds=1),
        threshold=timedelta(seconds=SERVICE_LEVEL_SECONDS),
        zone=zone,
        team=team.slug,
    )
    level, reasons = alert(
        thresholds,
        waiting=waiting,
        oldest=oldest,
        available=counts["available"],
        service_level=today.total.service_level,
    )
    return Tile(
        team.slug,
        team.name,
        waiting,
        oldest,
        counts,
        people,
        today.total,
        level,
        reasons,
        thresholds,
    )


async def board(session: AsyncSession, now: datetime, *, team: str | None) -> list[Tile]:
    """Tiles of every team (or one), then all teams together."""
    query = select(Team).order_by(Team.name)
    if team is not None:
        query = query.where(Team.slug == team)
    teams = list(await session.scalars(query))
    tiles = [await tile(session, t, now) for t in teams]
    if team is not None:
        return tiles
    waiting, since = await _queue(session, None)
    oldest = max(0, round((now - since).total_seconds())) if since is not None else None
    seen: dict[int, PersonNow] = {}
    for t in tiles:
        for person in t.on_shift:
            seen.setdefault(person.specialist_id, person)
    counts = {s: sum(p.status == s for p in seen.values()) for s in PEOPLE_STATES}
    utc = ZoneInfo("UTC")
    today = await summary(
        session,
        start=_midnight(now, utc),
        end=now + timedelta(microseconds=1),
        threshold=timedelta(seconds=SERVICE_LEVEL_SECONDS),
        zone=utc,
    )
    level, reasons = alert(
        Thresholds(),
        waiting=waiting,
        oldest=oldest,
        available=counts["available"],
        service_level=today.total.service_level,
    )
    everyone_tile = Tile(
        None,
        "All teams",
        waiting,
        oldest,
        counts,
        sorted(seen.values(), key=lambda p: (PEOPLE_STATES.index(p.status), p.name)),
        today.total,
        level,
        reasons,
    )
    return [everyone_tile, *tiles]
