"""A durable local spool for the callbacks nobody hears: call status, recordings, transcriptions.

When the database does not answer within CALLBACK_DEADLINE_SECONDS, a signed callback is
written to a file in CALLBACK_SPOOL_DIR (written to a temporary name, flushed to disk, then
renamed, so a file is either whole or absent) and Twilio gets its 204: the event is not lost
with Twilio's single attempt. Every REPLAY_INTERVAL_SECONDS, once the database answers,
each spooled event is applied as if it had just arrived, at the instant it was received,
and its file removed. The callbacks are idempotent (status events by sequence number, the
voicemail and its work item by call), so an event that did reach the database before its
deadline passed is applied twice without harm. An event that fails while the database
answers is kept aside as `*.failed` for the operator, not retried forever.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from app.core.clock import FixedClock
from app.core.deadline import DeadlinePassed, within
from app.telephony.driver import Telephony

logger = logging.getLogger("switchboard.telephony")

CALLBACK_DEADLINE_SECONDS = 5.0  # well under the 15 s Twilio waits
REPLAY_INTERVAL_SECONDS = 5.0
PROBE_SECONDS = 2.0

DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    DeadlinePassed,  # no answer in time: frozen, overloaded, or the pool exhausted
    OSError,  # refused or reset connections
    OperationalError,  # the driver lost or could not open its connection
    InterfaceError,
    SQLAlchemyTimeoutError,  # no pooled connection came
)
"""Failures that mean "the database is not there now", after which an event is spooled.

Anything else (a bug, an event that cannot be applied) is not retried: it fails as before.
"""

Hook = Callable[[Telephony, Mapping[str, str], Mapping[str, str]], Awaitable[str | None]]


@dataclass(frozen=True)
class SpooledEvent:
    """One callback as it arrived: its path, query, signed form and when it came."""

    path: str
    query: dict[str, str]
    form: dict[str, str]
    received_at: datetime

    def to_json(self) -> str:
        """The event as one JSON document."""
        return json.dumps(
            {
                "path": self.path,
                "query": self.query,
                "form": self.form,
                "received_at": self.received_at.isoformat(),
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> SpooledEvent:
        """Read an event written by to_json (ValueError when it is not one)."""
        data: dict[str, Any] = json.loads(raw)
        received = datetime.fromisoformat(str(data["received_at"]))
        if received.tzinfo is None:
            raise ValueError("received_at has no offset")
        return cls(
            str(data["path"]),
            {str(k): str(v) for k, v in dict(data["query"]).items()},
            {str(k): str(v) for k, v in dict(data["form"]).items()},
            received,
        )


class CallbackSpool:
    """The spool folder: one JSON file per event, named so that they sort by arrival."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, event: SpooledEvent) -> Path:
        """Write an event durably (blocking: call it in a thread)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        partial = self.folder / f".{name}.partial"
        final = self.folder / f"{name}.json"
        with partial.open("w", encoding="utf-8") as out:
            out.write(event.to_json())
            out.flush()
            os.fsync(out.fileno())
        partial.rename(final)
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
        return final

    def pending(self) -> list[Path]:
        """Spooled events, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.json"))

    def count(self) -> int:
        """How many events wait to be replayed."""
        return len(self.pending())


async def spool_event(
    tel: Telephony, path: str, query: Mapping[str, str], form: Mapping[str, str]
) -> Path:
    """Keep a callback that could not be applied now; replayed when the database is back."""
    event = SpooledEvent(path, dict(query), dict(form), tel.clock.now())
    spool = CallbackSpool(tel.settings.callback_spool_dir)
    written = await asyncio.to_thread(spool.put, event)
    logger.warning(
        "the database did not take %s for call %s; spooled to %s for replay",
        path,
        form.get("CallSid", ""),
        written.name,
        extra={"call_sid": form.get("CallSid", ""), "path": path},
    )
    return written


async def _database_answers(tel: Telephony) -> bool:
    async def probe() -> None:
        async with tel.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await within(PROBE_SECONDS, probe(), what="the spool's database probe")
    except Exception:
        return False
    return True


async def replay(tel: Telephony, hooks: Mapping[str, Hook]) -> int:
    """Apply every spooled event while the database answers; how many were applied.

    Each file is claimed by renaming it first, so two replays (two instances sharing the
    folder, or the background loop and an operator's run) never apply one event at once.
    """
    spool = CallbackSpool(tel.settings.callback_spool_dir)
    files = await asyncio.to_thread(spool.pending)
    if not files or not await _database_answers(tel):
        return 0
    applied = 0
    for file in files:
        claimed = file.with_suffix(".replaying")
        try:
            await asyncio.to_thread(file.rename, claimed)
        except FileNotFoundError:
            continue  # another replay took it
        outcome = await _apply(tel, hooks, claimed)
        if outcome == "down":
            await asyncio.to_thread(claimed.rename, file)
            return applied  # the database is gone again: the rest waits for the next round
        if outcome == "failed":
            await asyncio.to_thread(claimed.rename, file.with_suffix(".failed"))
        else:
            await asyncio.to_thread(claimed.unlink)
            applied += 1
    return applied


async def _apply(tel: Telephony, hooks: Mapping[str, Hook], file: Path) -> str:
    """Apply one claimed event: "applied", "down" (try again later) or "failed" (kept aside)."""
    try:
        event = SpooledEvent.from_json(await asyncio.to_thread(file.read_text, "utf-8"))
        hook = hooks[event.path]
    except (OSError, ValueError, KeyError):
        logger.exception("spooled callback %s is unreadable; kept as .failed", file.name)
        return "failed"
    sid = event.form.get("CallSid", "")
    at_arrival = replace(tel, clock=FixedClock(event.received_at))
    try:
        await within(
            CALLBACK_DEADLINE_SECONDS,
            hook(at_arrival, event.query, event.form),
            what=f"replaying {event.path}",
        )
    except Exception:
        if not await _database_answers(tel):
            return "down"
        logger.exception("replaying spooled %s failed; kept as .failed", file.name)
        return "failed"
    logger.info(
        "replayed spooled %s for call %s",
        event.path,
        sid,
        extra={"call_sid": sid, "path": event.path},
    )
    return "applied"


def recover_claims(folder: Path) -> None:
    """Put back events whose replay was cut short (the process stopped mid-replay)."""
    if folder.is_dir():
        for claimed in folder.glob("*.replaying"):
            claimed.rename(claimed.with_suffix(".json"))


async def keep_replaying(
    telephony: Callable[[], Telephony],
    hooks: Mapping[str, Hook],
    interval: float = REPLAY_INTERVAL_SECONDS,
) -> None:
    """Replay the spool every `interval` seconds until cancelled."""
    await asyncio.to_thread(recover_claims, telephony().settings.callback_spool_dir)
    while True:
        try:
            await replay(telephony(), hooks)
        except Exception:  # the loop must outlive any one failure
            logger.exception("replaying the callback spool failed")
        await asyncio.sleep(interval)
