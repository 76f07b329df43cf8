"""`/v1/specialists/{id}/availability`: whether routing may ring a specialist."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from app.auth.deps import CurrentPrincipal
from app.core.deps import ClockDep, DbSession
from app.core.types import DbId
from app.routing import availability

router = APIRouter(prefix="/v1", tags=["desk"])


class AvailabilityIn(BaseModel):
    """Whether routing may ring the specialist."""

    availability: Literal["available", "away", "offline"]


class AvailabilityOut(BaseModel):
    """A specialist's availability and what calls are doing with them."""

    specialist_id: int
    availability: Literal["available", "away", "offline"]
    since: datetime | None
    state: Literal["free", "ringing", "busy"]


def _out(found: availability.Availability) -> AvailabilityOut:
    return AvailabilityOut.model_validate(found, from_attributes=True)


@router.get("/specialists/{specialist_id}/availability", response_model=AvailabilityOut)
async def get_availability(
    specialist_id: DbId, session: DbSession, principal: CurrentPrincipal
) -> AvailabilityOut:
    """The specialist's availability (themself, a scheduler, an admin)."""
    availability.may_set(principal, specialist_id)
    return _out(await availability.read(session, specialist_id))


@router.put("/specialists/{specialist_id}/availability", response_model=AvailabilityOut)
async def put_availability(
    specialist_id: DbId,
    body: AvailabilityIn,
    session: DbSession,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> AvailabilityOut:
    """Set available, away or offline; routing rings only the available. Audited."""
    availability.may_set(principal, specialist_id)
    found = await availability.set_availability(
        session, principal, specialist_id, body.availability, now=clock.now()
    )
    return _out(found)
