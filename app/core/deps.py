"""Request-scoped dependencies: the unit-of-work session and the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.db import Database, drop_after_commit, run_after_commit


async def get_database(request: Request) -> Database:
    """The app instance's database."""
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: committed before the response, rolled back on any error.

    A handler may end the transaction early (`app.core.db.end_transaction`) to hand the
    connection back before CPU work; a later query starts a new, short one.
    """
    db: Database = request.app.state.db
    async with db.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            drop_after_commit(session)
            await session.rollback()
            raise
        await session.commit()
        await run_after_commit(session, db)


async def get_clock(request: Request) -> Clock:
    """The app's clock (a FixedClock in tests)."""
    clock: Clock = request.app.state.clock
    return clock


# scope="function": the commit happens before the response is sent, so a failed commit
# becomes an error response instead of a lost write behind a 200.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
