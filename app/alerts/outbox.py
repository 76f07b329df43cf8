"""The alert outbox: rows written with the event, claimed and delivered after commit.

Enqueueing is `INSERT ... ON CONFLICT (channel_id, event_key) DO NOTHING`, so an event that
several app instances notice at once is one row per channel. A delivery is claimed by one
instance (PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`; SQLite: a conditional UPDATE
that only one writer can win) with a lease: a claim whose instance died before finishing
is claimed again when the lease ends. Failures are retried with exponential back-off up to
ALERTS_MAX_ATTEMPTS, then the row stays `failed` with its last error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database, dialect_of
from app.models.alerts import AlertChannel, AlertDelivery

LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class Alert:
    """What to tell a team: a short subject, a body of a line or two, a console link."""

    kind: str
    event_key: str
    subject: str
    body: str
    link: str


async def enqueue(
    session: AsyncSession,
    *,
    team_id: int,
    channel_ids: Sequence[int],
    rule_id: int | None,
    alert: Alert,
    now: datetime,
) -> int:
    """Add the alert for each channel once (a repeat of the same event adds nothing)."""
    if not channel_ids:
        return 0
    rows = [
        {
            "channel_id": channel_id,
            "rule_id": rule_id,
            "team_id": team_id,
            "event_key": alert.event_key[:200],
            "kind": alert.kind,
            "subject": alert.subject[:200],
            "body": alert.body,
            "link": alert.link[:500],
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for channel_id in channel_ids
    ]
    insert = pg_insert if dialect_of(session) == "postgresql" else sqlite_insert
    statement = (
        insert(AlertDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["channel_id", "event_key"])
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def _due(now: datetime) -> object:
    return or_(
        and_(AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now),
        and_(AlertDelivery.status == "sending", AlertDelivery.lease_until < now),
    )


@dataclass(frozen=True)
class Claimed:
    """A delivery this instance holds: the message and where it goes."""

    id: int
    attempts: int
    channel_kind: str
    target: str
    subject: str
    body: str
    link: str


async def claim_due(db: Database, now: datetime, *, limit: int = 20) -> list[Claimed]:
    """Claim up to `limit` due deliveries for this instance (committed before sending)."""
    async with db.transaction() as session:
        query = (
            select(AlertDelivery.id)
            .where(_due(now))  # type: ignore[arg-type]
            .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
            .limit(limit)
        )
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = list(await session.scalars(query))
        won: list[int] = []
        for delivery_id in ids:
            # On SQLite two instances may read the same ids: only one UPDATE matches.
            result = await session.execute(
                update(AlertDelivery)
                .where(AlertDelivery.id == delivery_id, _due(now))  # type: ignore[arg-type]
                .values(
                    status="sending",
                    lease_until=now + LEASE,
                    attempts=AlertDelivery.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) == 1:
                won.append(delivery_id)
        if not won:
            return []
        rows = await session.execute(
            select(AlertDelivery, AlertChannel)
            .join(AlertChannel, AlertChannel.id == AlertDelivery.channel_id)
            .where(AlertDelivery.id.in_(won))
            .order_by(AlertDelivery.id)
            .execution_options(populate_existing=True)
        )
        return [
            Claimed(d.id, d.attempts, c.kind, c.target, d.subject, d.body, d.link) for d, c in rows
        ]


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the n-th failed attempt: 30 s, 1 min, 2 min, ... at most an hour."""
    delay: timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 16))
    return min(delay, LONGEST_RETRY)


async def finish(
    db: Database,
    claimed: Claimed,
    *,
    error: str | None,
    now: datetime,
    max_attempts: int,
) -> None:
    """Record a delivery's outcome: sent, retried later, or failed for good."""
    if error is None:
        values: dict[str, object] = {"status": "sent", "sent_at": now, "last_error": None}
    elif claimed.attempts >= max_attempts:
        values = {"status": "failed", "last_error": error[:2000]}
    else:
        values = {
            "status": "pending",
            "next_attempt_at": now + retry_delay(claimed.attempts),
            "last_error": error[:2000],
        }
    async with db.transaction() as session:
        await session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == claimed.id, AlertDelivery.status == "sending")
            .values(lease_until=None, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
