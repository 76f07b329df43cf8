"""`/v1/accounts`: customer accounts, phone lookup, CRM bulk sync, notes, history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.accounts import repository, service
from app.accounts.history import account_history
from app.accounts.schemas import (
    AccountCreate,
    AccountHistory,
    AccountOut,
    AccountUpdate,
    BulkResult,
    BulkUpsert,
    NoteCreate,
    NoteOut,
)
from app.auth.deps import AccountReader, AccountWriter, NoteWriter
from app.core.deps import ClockDep, DbSession
from app.core.errors import ValidationFailed
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, id_cursor, next_page
from app.core.phone import InvalidPhoneNumber, to_e164
from app.core.types import DbId

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

IfMatch = Annotated[str | None, Header(alias="If-Match")]


def _region(request: Request) -> str:
    region: str = request.app.state.settings.default_region
    return region


@router.get("/lookup", response_model=list[AccountOut])
async def lookup_accounts(
    request: Request,
    session: DbSession,
    _: AccountReader,
    phone: Annotated[str, Query(min_length=1, max_length=40)],
) -> list[AccountOut]:
    """Accounts with this phone number, however formatted (zero, one or several)."""
    found = await service.lookup(session, phone, region=_region(request))
    return [service.to_out(a) for a in found]


@router.get("", response_model=Page[AccountOut])
async def list_accounts(
    request: Request,
    session: DbSession,
    _: AccountReader,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    tier: Literal["standard", "paid"] | None = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
    external_ref: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200, description="name contains")] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[AccountOut]:
    """Accounts ordered by id, filtered, one page at a time."""
    after = id_cursor(cursor, "after_id")
    e164 = None
    if phone:
        try:
            e164 = to_e164(phone, _region(request))
        except InvalidPhoneNumber as exc:
            raise ValidationFailed(
                "phone is not valid", errors=[{"field": "query.phone", "message": str(exc)}]
            ) from None
    rows = await repository.page(
        session,
        after_id=after,
        limit=limit + 1,
        tier=tier,
        language=language,
        external_ref=external_ref,
        name_contains=q,
        phone=e164,
    )
    rows, next_cursor = next_page(rows, limit, lambda a: {"after_id": a.id})
    return Page[AccountOut](items=[service.to_out(a) for a in rows], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AccountOut)
async def create_account(
    body: AccountCreate,
    request: Request,
    response: Response,
    session: DbSession,
    clock: ClockDep,
    _: AccountWriter,
) -> AccountOut:
    """Create an account."""
    account = await service.create(session, body, now=clock.now(), region=_region(request))
    response.headers["ETag"] = service.etag(account)
    response.headers["Location"] = f"/v1/accounts/{account.id}"
    return service.to_out(account)


@router.get("/{account_id}", response_model=AccountOut)
async def get_account(
    account_id: DbId, response: Response, session: DbSession, _: AccountReader
) -> AccountOut:
    """One account."""
    account = await service.get(session, account_id)
    response.headers["ETag"] = service.etag(account)
    return service.to_out(account)


@router.patch("/{account_id}", response_model=AccountOut)
async def update_account(
    account_id: DbId,
    body: AccountUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    clock: ClockDep,
    _: AccountWriter,
    if_match: IfMatch = None,
) -> AccountOut:
    """Change some fields of an account (If-Match optional, honoured when sent)."""
    account = await service.update(
        session, account_id, body, now=clock.now(), region=_region(request), if_match=if_match
    )
    response.headers["ETag"] = service.etag(account)
    return service.to_out(account)


@router.delete("/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_account(
    account_id: DbId, session: DbSession, _: AccountWriter, if_match: IfMatch = None
) -> Response:
    """Delete an account, its phones and notes."""
    await service.delete(session, account_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{account_id}/notes", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
async def add_note(
    account_id: DbId,
    body: NoteCreate,
    session: DbSession,
    clock: ClockDep,
    principal: NoteWriter,
) -> NoteOut:
    """Add a note to an account's history."""
    note = await service.add_note(session, account_id, body, author=principal, now=clock.now())
    return NoteOut.model_validate(note)


@router.get("/{account_id}/history", response_model=AccountHistory)
async def get_history(account_id: DbId, session: DbSession, _: AccountReader) -> AccountHistory:
    """The account's calls and notes, newest first."""
    return await account_history(session, account_id)


bulk_router = APIRouter(tags=["accounts"])


@bulk_router.put("/v1/accounts:bulk", response_model=BulkResult)
async def bulk_upsert_accounts(
    body: BulkUpsert,
    request: Request,
    session: DbSession,
    clock: ClockDep,
    _: AccountWriter,
) -> BulkResult:
    """Create or update accounts by external_ref; all or nothing, every bad row reported."""
    return await service.bulk_upsert(
        session, body.accounts, now=clock.now(), region=_region(request)
    )
