"""Demo users of `switchboard seed`: one per role, with passwords the README documents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.models.rota import Specialist
from app.web.users import NewUser, by_email, create_user

# (email, display name, role, password, linked specialist's name)
DEMO_USERS = (
    ("admin@example.com", "Alex Admin", "admin", "demo-admin-password", None),
    ("scheduler@example.com", "Sam Scheduler", "scheduler", "demo-scheduler-password", None),
    ("maya@example.com", "Maya Patel", "specialist", "demo-specialist-password", "Maya Patel"),
    ("viewer@example.com", "Vic Viewer", "viewer", "demo-viewer-password", None),
)


async def seed_users(session: AsyncSession, clock: Clock) -> int:
    """Create the demo users that do not exist yet (by email); returns how many were new."""
    created = 0
    for email, name, role, password, specialist in DEMO_USERS:
        if await by_email(session, email) is not None:
            continue
        specialist_id = None
        if specialist is not None:
            specialist_id = await session.scalar(
                select(Specialist.id).where(Specialist.name == specialist).order_by(Specialist.id)
            )
        await create_user(
            session,
            NewUser(email, name, role, specialist_id=specialist_id, password=password),
            now=clock.now(),
        )
        created += 1
    return created
