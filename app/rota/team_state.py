"""A team's rota state tag: changes whenever anything that shapes the team's schedule changes.

Creating an override has no ETag of its own (it is a new resource), yet a scheduler who
previewed a cover must learn that someone else changed the team before it is applied. The
tag covers the team's settings, members, rotations, and the overrides and days off of its
people; a page keeps it with the form and the write refuses with 412 when it moved.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import PreconditionFailed
from app.models.rota import (
    LieuAdjustmentRow,
    ManualDayOffRow,
    OverrideRow,
    Rotation,
    Specialist,
    Team,
    TeamMember,
)


async def team_state_tag(session: AsyncSession, team: Team) -> str:
    """A short digest of the versions of every row that shapes the team's schedule."""
    members = sorted(
        await session.scalars(select(TeamMember.specialist_id).where(TeamMember.team_id == team.id))
    )
    parts: list[object] = [("team", team.id, team.version), ("members", tuple(members))]
    rotations = await session.execute(
        select(Rotation.id, Rotation.version).where(Rotation.team_id == team.id)
    )
    parts += sorted(("rotation", *r) for r in rotations)
    if members:
        people = await session.execute(
            select(Specialist.id, Specialist.version).where(Specialist.id.in_(members))
        )
        parts += sorted(("specialist", *p) for p in people)
        overrides = await session.execute(
            select(OverrideRow.id, OverrideRow.version).where(
                or_(
                    OverrideRow.team_id == team.id,
                    OverrideRow.specialist_id.in_(members),
                    OverrideRow.substitute_id.in_(members),
                )
            )
        )
        parts += sorted(("override", *o) for o in overrides)
        manual = await session.execute(
            select(ManualDayOffRow.id, ManualDayOffRow.version).where(
                ManualDayOffRow.specialist_id.in_(members)
            )
        )
        parts += sorted(("manual", *m) for m in manual)
        moved = await session.execute(
            select(LieuAdjustmentRow.earning_key, LieuAdjustmentRow.version).where(
                LieuAdjustmentRow.specialist_id.in_(members)
            )
        )
        parts += sorted(("lieu", *a) for a in moved)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


async def check_team_state(session: AsyncSession, team: Team, presented: str | None) -> None:
    """412 when the team's state is no longer the one the form was shown with."""
    current = await team_state_tag(session, team)
    if presented != current:
        raise PreconditionFailed(
            f"someone else changed team {team.slug} since this form was shown",
            current_etag=current,
        )
