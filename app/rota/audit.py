"""The audit log of rota writes: who, when, what, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.models.rota import AuditEntry


async def record(
    session: AsyncSession,
    *,
    principal: Principal,
    at: datetime,
    action: str,
    resource_type: str,
    resource_id: str | int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    effective_from: datetime | None = None,
    note: str | None = None,
) -> None:
    """Append an audit entry in the current transaction."""
    session.add(
        AuditEntry(
            at=at,
            actor=principal.name,
            actor_key_id=principal.key_id,
            action=action,
            resource_type=resource_type,
            resource_id=str(resource_id),
            effective_from=effective_from,
            before=jsonable_encoder(before) if before is not None else None,
            after=jsonable_encoder(after) if after is not None else None,
            note=note,
        )
    )


async def page(
    session: AsyncSession,
    *,
    before_id: int | None,
    limit: int,
    resource_type: str | None,
    resource_id: str | None,
    actor: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[AuditEntry]:
    """Audit entries, newest first, filtered."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if resource_type:
        query = query.where(AuditEntry.resource_type == resource_type)
    if resource_id:
        query = query.where(AuditEntry.resource_id == resource_id)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if start:
        query = query.where(AuditEntry.at >= start)
    if end:
        query = query.where(AuditEntry.at < end)
    return list(await session.scalars(query))
