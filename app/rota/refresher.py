"""Keeps the materialised shift window ahead of the clock while the service runs."""

from __future__ import annotations

import asyncio
import logging

from app.core.clock import Clock
from app.core.db import Database
from app.rota.materialise import refresh_if_due

logger = logging.getLogger("switchboard.rota")
REFRESH_INTERVAL_SECONDS = 600.0


async def refresh_once(db: Database, clock: Clock) -> bool:
    """Extend the window if it is running low; True when this instance rebuilt it."""
    ran = await refresh_if_due(db, clock.now())
    if ran:
        logger.info("materialised shift window rebuilt")
    return ran


async def refresh_at_start(db: Database, clock: Clock) -> None:
    """The start-up refresh: a failure is logged, never fatal (lookups fall back to the rules)."""
    try:
        await refresh_once(db, clock)
    except Exception:
        logger.exception("refreshing the materialised shift window at start-up failed")


async def keep_horizon(
    db: Database, clock: Clock, interval: float = REFRESH_INTERVAL_SECONDS
) -> None:
    """Check the window every `interval` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await refresh_once(db, clock)
        except Exception:  # a failed refresh must not stop the loop; lookups fall back
            logger.exception("refreshing the materialised shift window failed")
