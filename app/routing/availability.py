"""A specialist's availability (available, away, offline): who may be rung at all.

Stored on the presence row beside the reservation state, so that reserving a person and
checking that they are available is one statement (app.routing.presence).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.core.db import dialect_of
from app.core.errors import Forbidden, NotFound
from app.core.phone import contact_kind
from app.events.publish import event_row, publish
from app.models.rota import Specialist
from app.models.routing import SpecialistPresence
from app.rota import audit


@dataclass(frozen=True)
class Availability:
    """What a specialist said about being rung, and what calls are doing with them."""

    specialist_id: int
    availability: str
    since: datetime | None
    state: str  # free, ringing, busy (as reserved by calls)


def may_set(principal: Principal, specialist_id: int) -> None:
    """The specialist themself, a scheduler or an admin; 403 for anyone else."""
    if principal.role in ("admin", "scheduler"):
        return
    if principal.role == "specialist" and principal.specialist_id == specialist_id:
        return
    raise Forbidden("only the specialist themself, a scheduler or an admin may do this")


async def read(session: AsyncSession, specialist_id: int) -> Availability:
    """The specialist's availability (no presence row yet: available)."""
    if await session.get(Specialist, specialist_id) is None:
        raise NotFound(f"specialist {specialist_id} does not exist")
    row = (
        await session.execute(
            select(
                SpecialistPresence.availability,
                SpecialistPresence.availability_at,
                SpecialistPresence.state,
            ).where(SpecialistPresence.specialist_id == specialist_id)
        )
    ).first()
    if row is None:
        return Availability(specialist_id, "available", None, "free")
    return Availability(specialist_id, row[0], row[1], row[2])


async def set_availability(
    session: AsyncSession,
    principal: Principal,
    specialist_id: int,
    availability: str,
    *,
    now: datetime,
) -> Availability:
    """Set it, audited; a change is pushed to the desk and the wallboards."""
    before = await read(session, specialist_id)
    if before.availability == availability:
        return before
    values = {
        "specialist_id": specialist_id,
        "state": "free",
        "updated_at": now,
        "availability": availability,
        "availability_at": now,
    }
    insert = pg_insert if dialect_of(session) == "postgresql" else sqlite_insert
    statement = insert(SpecialistPresence).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[SpecialistPresence.specialist_id],
            set_={"availability": availability, "availability_at": now},
        )
    )
    await audit.record(
        session,
        principal=principal,
        at=now,
        action="update",
        resource_type="availability",
        resource_id=specialist_id,
        before={"availability": before.availability},
        after={"availability": availability},
    )
    await publish(
        session,
        [
            event_row(
                "availability",
                at=now,
                specialist_id=specialist_id,
                data={"availability": availability},
            )
        ],
    )
    return Availability(specialist_id, availability, now, before.state)


async def signed_out(
    session: AsyncSession, principal: Principal, specialist_id: int, *, now: datetime
) -> None:
    """The person signed out (or closed the softphone): offline when calls ring the
    browser's softphone, which no longer answers; a phone number keeps ringing its phone."""
    contact = await session.scalar(select(Specialist.contact).where(Specialist.id == specialist_id))
    if contact is not None and contact_kind(contact) == "client":
        await set_availability(session, principal, specialist_id, "offline", now=now)
