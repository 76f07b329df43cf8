"""`/v1/api-keys`: admins create, list and revoke keys."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.auth import service
from app.auth.deps import Admin
from app.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from app.core.deps import ClockDep, DbSession
from app.core.pagination import Limit, Page, id_cursor, next_page
from app.core.types import DbId

router = APIRouter(prefix="/v1/api-keys", tags=["api-keys"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(
    body: ApiKeyCreate, session: DbSession, clock: ClockDep, _: Admin
) -> ApiKeyCreated:
    """Create a key; the secret is in this response only."""
    row, secret = await service.create_key(
        session, name=body.name, role=body.role, now=clock.now(), specialist_id=body.specialist_id
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=secret)


@router.get("", response_model=Page[ApiKeyOut])
async def list_api_keys(
    session: DbSession, _: Admin, cursor: str | None = None, limit: Limit = 50
) -> Page[ApiKeyOut]:
    """Keys by id, revoked ones included, without secrets; paginated."""
    rows = await service.list_keys(session, after_id=id_cursor(cursor, "after_id"), limit=limit + 1)
    keys, next_cursor = next_page(rows, limit, lambda k: {"after_id": k.id})
    return Page[ApiKeyOut](
        items=[ApiKeyOut.model_validate(k) for k in keys], next_cursor=next_cursor
    )


@router.delete("/{key_id}", response_model=ApiKeyOut)
async def revoke_api_key(key_id: DbId, session: DbSession, clock: ClockDep, _: Admin) -> ApiKeyOut:
    """Revoke a key; it stops working at once."""
    return ApiKeyOut.model_validate(await service.revoke_key(session, key_id, now=clock.now()))
