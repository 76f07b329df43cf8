"""The daily retention job: once a day per database, however many app instances run.

Each instance wakes every hour; the first to insert today's row in `daily_job_runs`
(primary key: job and UTC day) does the work, the others see the row and sleep again.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import IntegrityError

from app.core.clock import Clock
from app.core.db import Database
from app.models.jobs import DailyJobRun
from app.privacy.service import purge_old_details

logger = logging.getLogger("switchboard.privacy")
RETENTION_JOB = "call-detail-retention"
BATCH = 1000
WAKE_SECONDS = 3600


async def purge(db: Database, clock: Clock, retention_days: int) -> int:
    """Scrub every call older than the retention, in short transactions; how many."""
    now = clock.now()
    total = 0
    while True:
        async with db.transaction() as session:
            done = await purge_old_details(session, retention_days, now, limit=BATCH)
        total += done
        if done < BATCH:
            return total


async def run_daily(db: Database, clock: Clock, retention_days: int) -> int | None:
    """Today's retention run, or None when another instance (or an earlier wake) had it."""
    now = clock.now()
    try:
        async with db.transaction() as session:
            session.add(DailyJobRun(job=RETENTION_JOB, day=now.date(), started_at=now))
    except IntegrityError:
        return None
    total = await purge(db, clock, retention_days)
    async with db.transaction() as session:
        row = await session.get(DailyJobRun, (RETENTION_JOB, now.date()))
        if row is not None:
            row.finished_at = clock.now()
            row.affected = total
    logger.info(
        "retention: scrubbed the details of %d call(s) older than %d day(s)",
        total,
        retention_days,
        extra={"calls_scrubbed": total},
    )
    return total


async def keep_retention(db: Database, clock: Clock, retention_days: int) -> None:
    """Run the retention job once a day, for as long as the service runs."""
    while True:
        try:
            await run_daily(db, clock, retention_days)
        except Exception:
            logger.exception("the retention job failed; it runs again tomorrow")
        await asyncio.sleep(WAKE_SECONDS)
