"""Query parameters shared by rota writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query

from app.auth.deps import RotaWriter
from app.auth.service import Principal
from app.core.db import Database
from app.core.deps import ClockDep, DbSession, get_database
from app.core.errors import Forbidden
from app.rota.writes import RotaWrite

IfMatch = Annotated[str | None, Header(alias="If-Match")]
AllowPast = Annotated[
    bool,
    Query(description="allow an edit that takes effect in the past (recording history)"),
]


async def rota_write_later(
    session: DbSession,
    db: Annotated[Database, Depends(get_database)],
    clock: ClockDep,
    principal: RotaWriter,
    dry_run: Annotated[
        bool, Query(description="return the change to the next 4 weeks without saving it")
    ] = False,
) -> RotaWrite:
    """A rota write in this request's transaction, previewed when dry_run is set; the
    endpoint calls `start()` (takes the lock) itself, after work that must not hold it."""
    return RotaWrite(session, principal, clock.now(), dry_run, db)


WriteLater = Annotated[RotaWrite, Depends(rota_write_later)]


async def rota_write(write: WriteLater) -> RotaWrite:
    """A rota write in this request's transaction, started (the lock taken)."""
    return await write.start()


Write = Annotated[RotaWrite, Depends(rota_write)]


def own_specialist(principal: Principal, specialist: int | None) -> int | None:
    """The specialist filter a key may use: a specialist key sees only its own rota data."""
    if principal.role != "specialist":
        return specialist
    if principal.specialist_id is None:
        raise Forbidden("this specialist key is not linked to a specialist")
    if specialist is not None and specialist != principal.specialist_id:
        raise Forbidden("a specialist key reads only its own schedule, overrides and days off")
    return principal.specialist_id


__all__ = ["AllowPast", "IfMatch", "Principal", "Write", "own_specialist"]
