"""Closure queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.closure import Closure


async def overlapping(
    session: AsyncSession, teams: Iterable[str], start: datetime, end: datetime
) -> list[Closure]:
    """Closures of these teams (or of every team) that overlap [start, end), by start."""
    query = (
        select(Closure)
        .where(
            Closure.ends_at > start,
            Closure.starts_at < end,
            or_(Closure.team.is_(None), Closure.team.in_(list(teams))),
        )
        .order_by(Closure.starts_at, Closure.id)
    )
    return list(await session.scalars(query))
