"""Server-Sent Events for one listener: which events they see, and how each is written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from app.core.clock import Clock
from app.core.db import Database
from app.events.hub import Event, EventHub
from app.events.screenpop import screen_pop

SUPERVISORS = ("admin", "scheduler", "viewer")
KEEP_ALIVE_SECONDS = 15.0
OWN_KINDS = ("ring", "ring_ended", "answered", "availability")


def names_for(role: str, specialist_id: int | None, event: Event) -> list[str]:
    """The SSE event names a listener gets for an event (none: not theirs to see).

    A specialist sees their own rings, their ends and availability changes; supervisors
    see that something changed for the wallboard (which then reads the figures).
    """
    names = []
    own = specialist_id is not None and event.specialist_id == specialist_id
    if own and event.kind in OWN_KINDS:
        names.append(event.kind)
    if role in SUPERVISORS:
        names.append("wallboard")
    return names


def sse(name: str, event_id: int | None, data: dict[str, Any]) -> str:
    """One event in the text/event-stream format."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _payload(db: Database, clock: Clock, name: str, event: Event) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": event.kind,
        "at": event.at.isoformat(),
        "specialist_id": event.specialist_id,
        "team": event.team,
        "call_id": event.call_id,
        **event.data,
    }
    if name == "ring" and event.call_id is not None:
        async with db.transaction() as session:
            base["pop"] = await screen_pop(session, event.call_id, now=clock.now())
    return base


async def listen(
    hub: EventHub,
    db: Database,
    clock: Clock,
    *,
    role: str,
    specialist_id: int | None,
    last_event_id: int | None,
) -> AsyncIterator[str]:
    """The listener's stream: missed events after Last-Event-ID, then live ones."""
    yield "retry: 2000\n\n"
    async with hub.subscribe() as subscription:
        sent: set[int] = set()
        backlog = await hub.since(last_event_id) if last_event_id is not None else []
        yield sse("ready", None, {"role": role, "specialist_id": specialist_id})
        for missed in backlog:
            sent.add(missed.id)
            for name in names_for(role, specialist_id, missed):
                yield sse(name, missed.id, await _payload(db, clock, name, missed))
        while not subscription.dropped:
            event = await subscription.next(KEEP_ALIVE_SECONDS)
            if event is None:
                yield ": keep-alive\n\n"
                continue
            if event.id in sent:
                continue
            for name in names_for(role, specialist_id, event):
                yield sse(name, event.id, await _payload(db, clock, name, event))
