"""Demo data for the desk: the dispositions list, and a softphone user (a `client:` contact)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.models.console import Disposition
from app.models.rota import Specialist
from app.web.users import NewUser, by_email, create_user

DEMO_DISPOSITIONS = (
    ("resolved", "Resolved on the call"),
    ("follow-up", "Needs a follow-up"),
    ("escalated", "Escalated to engineering"),
    ("wrong-number", "Wrong number"),
    ("spam", "Spam or silent call"),
)
# Rung on the softphone in the desk page (his contact is client:chris.okafor).
SOFTPHONE_USER = ("chris@example.com", "Chris Okafor", "demo-specialist-password")


async def seed_desk(session: AsyncSession, clock: Clock) -> int:
    """Add the demo dispositions and the softphone user that are missing; how many were new."""
    now = clock.now()
    created = 0
    known = set(await session.scalars(select(Disposition.code)))
    for position, (code, label) in enumerate(DEMO_DISPOSITIONS):
        if code not in known:
            session.add(
                Disposition(
                    code=code,
                    label=label,
                    active=True,
                    position=position,
                    created_at=now,
                    updated_at=now,
                )
            )
            created += 1
    email, name, password = SOFTPHONE_USER
    if await by_email(session, email) is None:
        specialist = await session.scalar(
            select(Specialist.id).where(Specialist.name == name).order_by(Specialist.id)
        )
        if specialist is not None:
            await create_user(
                session,
                NewUser(email, name, "specialist", specialist_id=specialist, password=password),
                now=now,
            )
            created += 1
    await session.flush()
    return created
