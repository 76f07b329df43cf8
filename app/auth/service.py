"""API keys: create, list, revoke, authenticate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.keys import display_prefix, hash_key, new_key
from app.core.errors import NotFound, ValidationFailed
from app.models.api_key import ROLES, ApiKey
from app.models.rota import Specialist

# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: the key's id, name, role and linked specialist."""

    key_id: int
    name: str
    role: str
    specialist_id: int | None


async def create_key(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    now: datetime,
    specialist_id: int | None = None,
) -> tuple[ApiKey, str]:
    """Store a new key's hash; return the row and the secret (shown once)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if specialist_id is not None and await session.get(Specialist, specialist_id) is None:
        raise ValidationFailed(
            f"specialist {specialist_id} does not exist",
            errors=[{"field": "body.specialist_id", "message": "no such specialist"}],
        )
    secret = new_key()
    row = ApiKey(
        name=name,
        role=role,
        prefix=display_prefix(secret),
        key_hash=hash_key(secret),
        specialist_id=specialist_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row, secret


async def list_keys(
    session: AsyncSession,
    *,
    include_revoked: bool = True,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[ApiKey]:
    """Keys oldest first (after a key id, up to a limit)."""
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    if after_id is not None:
        query = query.where(ApiKey.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())


async def revoke_key(session: AsyncSession, key_id: int, *, now: datetime) -> ApiKey:
    """Revoke a key; revoking twice keeps the first revocation time."""
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = now
    await session.flush()
    return row


async def authenticate(session: AsyncSession, secret: str, *, now: datetime) -> Principal | None:
    """The principal for a presented key, or None if unknown or revoked."""
    row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret)))
    if row is None or row.revoked_at is not None:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        await session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
    return Principal(row.id, row.name, row.role, row.specialist_id)
