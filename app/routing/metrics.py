"""Live-line gauges for Prometheus, read from the database in the background.

Calls, the queue and presence are shared by every app instance through the database, so
reading them there lets any instance's `/metrics` report the whole line, not only the
calls it happens to handle. A `LiveLineKeeper` reads a fresh `LiveLine` every few seconds
(`METRICS_REFRESH_SECONDS`) and a scrape serves the latest reading: scraping often, or by
many scrapers, costs the database nothing, and a team that is gone simply is not in the
next reading. `switchboard_live_metrics_age_seconds` says how old the reading is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.db import Database
from app.models.call import TERMINAL_STATUSES, Call
from app.models.rota import Team
from app.models.routing import QueueEntry
from app.rota.lookup import on_shift
from app.routing.presence import taken

# An unfinished call older than this is a stale record whose final status callback was
# lost (an instance crashed, Twilio gave up), not a call still going on.
STALE_AFTER = timedelta(hours=4)
# A scrape answers within Prometheus's default timeout even when the database hangs.
READ_TIMEOUT_SECONDS = 5.0

logger = logging.getLogger("switchboard.metrics")


@dataclass(frozen=True)
class TeamLine:
    """One team's live figures."""

    queue_length: int = 0
    oldest_wait_seconds: float = 0.0
    on_shift: int = 0
    busy: int = 0


_TEAM_GAUGES: tuple[tuple[str, str, Callable[[TeamLine], float]], ...] = (
    (
        "switchboard_queue_length",
        "Callers waiting in the team's queue (not those being offered to a specialist).",
        lambda t: t.queue_length,
    ),
    (
        "switchboard_queue_oldest_wait_seconds",
        "How long the longest-waiting caller in the team's queue has waited (0: nobody).",
        lambda t: t.oldest_wait_seconds,
    ),
    (
        "switchboard_specialists_on_shift",
        "Specialists on shift for the team now.",
        lambda t: t.on_shift,
    ),
    (
        "switchboard_specialists_busy",
        "Specialists on shift for the team who are being rung or are on a call.",
        lambda t: t.busy,
    ),
)


@dataclass(frozen=True)
class LiveLine:
    """One reading of the live line, exposed as Prometheus gauges (a collector)."""

    up: bool
    calls_in_progress: int = 0
    teams: Mapping[str, TeamLine] = field(default_factory=dict)

    def collect(self) -> Iterator[Metric]:
        """The gauges of this reading; only `switchboard_live_metrics_up` when it failed."""
        yield GaugeMetricFamily(
            "switchboard_live_metrics_up",
            "1 if the live-line gauges were read from the database on this scrape, else 0.",
            value=1 if self.up else 0,
        )
        if not self.up:
            return
        yield GaugeMetricFamily(
            "switchboard_calls_in_progress",
            "Calls not yet ended, leaving out stale records started over "
            f"{STALE_AFTER // timedelta(hours=1)} hours ago.",
            value=self.calls_in_progress,
        )
        for name, documentation, value in _TEAM_GAUGES:
            family = GaugeMetricFamily(name, documentation, labels=["team"])
            for slug, line in sorted(self.teams.items()):
                family.add_metric([slug], value(line))
            yield family


async def read_live_line(session: AsyncSession, now: datetime) -> LiveLine:
    """Calls in progress, and per team the queue, who is on shift and who is busy."""
    in_progress = await session.scalar(
        select(func.count())
        .select_from(Call)
        .where(
            Call.ended_at.is_(None),
            Call.status.not_in(TERMINAL_STATUSES),
            Call.started_at > now - STALE_AFTER,
        )
    )
    # Only `waiting` rows: a `ringing` caller is already being offered to a specialist.
    queues = {
        team: (count, oldest)
        for team, count, oldest in await session.execute(
            select(QueueEntry.team, func.count(), func.min(QueueEntry.enqueued_at))
            .where(QueueEntry.state == "waiting")
            .group_by(QueueEntry.team)
        )
    }
    rostered: dict[str, set[int]] = {}
    for shift in await on_shift(session, now):
        rostered.setdefault(shift.team, set()).add(shift.specialist_id)
    everyone = {sid for ids in rostered.values() for sid in ids}
    busy = set(await taken(session, everyone, now=now))
    # Every team, so dashboards show zeros; plus any slug still holding waiting callers.
    slugs = set(await session.scalars(select(Team.slug))) | queues.keys() | rostered.keys()
    teams: dict[str, TeamLine] = {}
    for slug in slugs:
        count, oldest = queues.get(slug, (0, None))
        people = rostered.get(slug, set())
        teams[slug] = TeamLine(
            queue_length=count,
            # Another instance's clock may run slightly ahead: never a negative wait.
            oldest_wait_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
            on_shift=len(people),
            busy=len(people & busy),
        )
    return LiveLine(up=True, calls_in_progress=in_progress or 0, teams=teams)


async def live_line(db: Database, clock: Clock) -> LiveLine:
    """Read the live line; a reading with `up=False` when the database fails or hangs."""
    try:
        async with asyncio.timeout(READ_TIMEOUT_SECONDS), db.transaction() as session:
            return await read_live_line(session, clock.now())
    except Exception as exc:  # a scrape must still answer with the process metrics
        logger.warning("live-line metrics unavailable: %s", type(exc).__name__)
        return LiveLine(up=False)


class LiveLineKeeper:
    """Keeps the latest live-line reading for scrapes; `run` refreshes it periodically."""

    def __init__(self, database: Callable[[], Database], clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self.reading = LiveLine(up=False)
        self._read_at: float | None = None

    async def refresh(self) -> LiveLine:
        """Read the live line now and keep it for the following scrapes."""
        self.reading = await live_line(self._database(), self._clock)
        self._read_at = time.monotonic()
        return self.reading

    async def run(self, interval: float) -> None:
        """Refresh every `interval` seconds until cancelled (the first reading is the caller's)."""
        while True:
            await asyncio.sleep(interval)
            await self.refresh()

    def collect(self) -> Iterator[Metric]:
        """The latest reading's gauges and its age."""
        yield from self.reading.collect()
        age = time.monotonic() - self._read_at if self._read_at is not None else -1.0
        yield GaugeMetricFamily(
            "switchboard_live_metrics_age_seconds",
            "Seconds since the live-line gauges were read from the database (-1: never).",
            value=round(age, 3),
        )
