"""The alert loops of one app instance: scan the rules, deliver the outbox.

Both run beside the web server, never on a request's path. Several instances may run them
at once: the outbox's event keys and claims keep each alert to one delivery per channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from app.alerts import detectors, outbox, senders
from app.config import Settings
from app.core.clock import Clock
from app.core.db import Database

logger = logging.getLogger("switchboard.alerts")


async def scan_once(db: Database, settings: Settings, clock: Clock) -> int:
    """Check every rule once; returns how many deliveries were queued."""
    now = clock.now()
    gaps = await detectors.gaps_due(db, now)  # the CPU work, with nothing held
    async with db.transaction() as session:
        return await detectors.scan(session, settings.public_base_url, now, gaps)


async def deliver_due(db: Database, settings: Settings, clock: Clock) -> int:
    """Send every due delivery this instance can claim; returns how many it tried.

    With ALERTS_SEND off nothing is claimed: deliveries stay pending, nothing is sent.
    """
    if not settings.alerts_send:
        return 0
    claimed = await outbox.claim_due(db, clock.now())
    for item in claimed:
        if item.channel_kind == "slack":
            error = await senders.send_webhook(item.target, item.subject, item.body, item.link)
        else:
            error = await senders.send_email(
                settings, item.target, item.subject, item.body, item.link
            )
        if error is not None:
            logger.warning(
                "alert delivery %s failed (attempt %s): %s", item.id, item.attempts, error
            )
        await outbox.finish(
            db, item, error=error, now=clock.now(), max_attempts=settings.alerts_max_attempts
        )
    return len(claimed)


async def _every(seconds: float, what: str, step: Callable[[], Awaitable[int]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await step()
        except Exception:  # a failed round must not stop the loop
            logger.exception("alert %s failed; trying again in %s s", what, seconds)


@contextlib.asynccontextmanager
async def running(db: Database, settings: Settings, clock: Clock) -> AsyncIterator[None]:
    """Run the scan and delivery loops while the block runs."""
    tasks = [
        asyncio.create_task(
            _every(settings.alerts_scan_seconds, "scan", lambda: scan_once(db, settings, clock))
        ),
        asyncio.create_task(
            _every(
                settings.alerts_delivery_seconds,
                "delivery",
                lambda: deliver_due(db, settings, clock),
            )
        ),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
