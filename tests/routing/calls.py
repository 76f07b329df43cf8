"""Calls for routing tests: a row in `calls` without going through the webhooks."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.call import Call

_SIDS = count(1)


async def add_call(
    session: AsyncSession,
    now: datetime,
    *,
    status: str,
    age: timedelta,
    ended: bool = False,
) -> int:
    """Insert a call started `age` before now; returns its id."""
    started = now - age
    call = Call(
        sid=f"CA{next(_SIDS):032d}",
        from_number="+14155550142",
        to_number="+18005550100",
        status=status,
        started_at=started,
        ended_at=now if ended else None,
        created_at=started,
        updated_at=now,
    )
    session.add(call)
    await session.flush()
    return call.id
