"""Each app instance's event hub: polls `console_events` and fans out to its listeners.

Events are rows, written in the transaction that made the change, so every instance sees
every event whichever instance handled the webhook. One poll per instance (not per
listener), only while someone listens: `id > last seen`, and, because on PostgreSQL a
transaction that took a lower id can commit after a higher one, also the last few seconds
of events again, skipping those already delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select

from app.core.clock import Clock
from app.core.db import Database
from app.models.console import ConsoleEvent

logger = logging.getLogger("switchboard.events")

# A transaction commits its events within this long of writing them (webhooks have a
# deadline of a few seconds); events are read again for this long.
LATE_COMMIT = timedelta(seconds=15)
# Events are kept this long, then deleted by the hub (a reconnecting page asks for the
# ones it missed with Last-Event-ID).
KEEP = timedelta(hours=6)
QUEUE_SIZE = 1000
BATCH = 500


@dataclass(frozen=True)
class Event:
    """One console event as read back."""

    id: int
    kind: str
    at: datetime
    specialist_id: int | None
    team: str | None
    call_id: int | None
    data: dict[str, Any]


def _event(row: ConsoleEvent) -> Event:
    return Event(row.id, row.kind, row.at, row.specialist_id, row.team, row.call_id, row.data or {})


class Subscription:
    """One listener's queue of events (closed when the listener falls too far behind)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = False  # fell behind: the stream ends, the page reconnects

    def offer(self, event: Event) -> bool:
        """Queue an event; False when the listener has fallen too far behind."""
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            return False
        return True

    async def next(self, wait_seconds: float) -> Event | None:
        """The next event, or None after `wait_seconds` without one."""
        try:
            async with asyncio.timeout(wait_seconds):
                return await self.queue.get()
        except TimeoutError:
            return None


class EventHub:
    """Reads new console events for this app instance's listeners."""

    def __init__(self, db: Database, clock: Clock, *, poll_seconds: float) -> None:
        self._db, self._clock, self._poll = db, clock, poll_seconds
        self._listeners: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._last = 0
        self._seen: dict[int, datetime] = {}
        self._pruned_at: datetime | None = None

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        """Listen from now on (the hub starts polling with its first listener)."""
        subscription = Subscription()
        if self._task is None or self._task.done():
            await self._start()
        # Added before the new task first runs (no await in between): it sees a listener.
        self._listeners.add(subscription)
        try:
            yield subscription
        finally:
            self._listeners.discard(subscription)

    async def _start(self) -> None:
        # Events already committed count as seen: listeners get only what comes next.
        now = self._clock.now()
        async with self._db.transaction() as session:
            self._last = await session.scalar(select(func.max(ConsoleEvent.id))) or 0
            recent = await session.execute(
                select(ConsoleEvent.id, ConsoleEvent.at).where(
                    ConsoleEvent.at >= now - LATE_COMMIT, ConsoleEvent.id <= self._last
                )
            )
            self._seen = {event_id: at for event_id, at in recent.all()}
        self._task = asyncio.create_task(self._run(), name="console-events")

    async def since(self, last_id: int, *, limit: int = BATCH) -> list[Event]:
        """Events after `last_id` (a page reconnecting with Last-Event-ID)."""
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(ConsoleEvent)
                .where(ConsoleEvent.id > last_id)
                .order_by(ConsoleEvent.id)
                .limit(limit)
            )
            return [_event(row) for row in rows]

    async def poll_once(self) -> list[Event]:
        """New events since the last poll (and late commits), delivered to every listener."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(ConsoleEvent)
                .where(or_(ConsoleEvent.id > self._last, ConsoleEvent.at >= now - LATE_COMMIT))
                .order_by(ConsoleEvent.id)
                .limit(BATCH)
            )
            found = [_event(row) for row in rows if row.id not in self._seen]
            if self._pruned_at is None or now - self._pruned_at > timedelta(minutes=10):
                self._pruned_at = now
                await session.execute(delete(ConsoleEvent).where(ConsoleEvent.at < now - KEEP))
        for event in found:
            self._seen[event.id] = event.at
            self._last = max(self._last, event.id)
        self._seen = {k: at for k, at in self._seen.items() if at >= now - 2 * LATE_COMMIT}
        for listener in list(self._listeners):
            if not all(listener.offer(event) for event in found):
                self._listeners.discard(listener)
        return found

    async def _run(self) -> None:
        while self._listeners:
            try:
                await self.poll_once()
            except Exception:
                logger.exception("reading console events failed; trying again")
            await asyncio.sleep(self._poll)
        self._task = None

    async def close(self) -> None:
        """Stop polling (app shutdown)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
