"""Accounts: create, update, delete, look up by phone, bulk upsert from a CRM, notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository
from app.accounts.numbers import new_account_number
from app.accounts.schemas import (
    AccountCreate,
    AccountOut,
    AccountUpdate,
    BulkResult,
    BulkRow,
    NoteCreate,
)
from app.auth.service import Principal
from app.core.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from app.core.phone import InvalidPhoneNumber, to_e164
from app.models.account import Account, AccountNote, AccountPhone


def to_out(account: Account) -> AccountOut:
    """The API view of an account (phones must be loaded)."""
    return AccountOut(
        id=account.id,
        number=account.number,
        name=account.name,
        tier=account.tier,
        preferred_language=account.preferred_language,
        external_ref=account.external_ref,
        phones=[p.e164 for p in account.phones],
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def etag(account: Account) -> str:
    """The account's ETag (changes on every update)."""
    return f'W/"account-{account.id}-v{account.version}"'


def normalise_phones(raw: list[str], region: str, field: str) -> list[str]:
    """E.164 forms of the given numbers, de-duplicated in order; 422 naming each bad one."""
    out: list[str] = []
    errors = []
    for i, number in enumerate(raw):
        try:
            e164 = to_e164(number, region)
        except InvalidPhoneNumber as exc:
            errors.append({"field": f"{field}[{i}]", "message": str(exc)})
            continue
        if e164 not in out:
            out.append(e164)
    if errors:
        raise ValidationFailed("invalid phone number(s)", errors=errors)
    return out


def _set_phones(account: Account, phones: list[str]) -> None:
    account.phones = [AccountPhone(e164=p, position=i) for i, p in enumerate(phones)]


async def _unique_number(session: AsyncSession) -> str:
    for _ in range(20):
        candidate = new_account_number()
        if not await repository.number_taken(session, candidate):
            return candidate
    raise Conflict("could not allocate a free account number; try again")


async def _flush(session: AsyncSession, what: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} conflicts with an existing account: {_constraint(exc)}") from None


def _constraint(exc: IntegrityError) -> str:
    text = str(exc.orig)
    if "external_ref" in text:
        return "external_ref is already used"
    if "number" in text:
        return "account number is already used"
    return "a unique value is already used"


async def create(
    session: AsyncSession, data: AccountCreate, *, now: datetime, region: str
) -> Account:
    """Create an account, generating a keypad account number unless one is given."""
    phones = normalise_phones(data.phones, region, "body.phones")
    number = data.number or await _unique_number(session)
    account = Account(
        number=number,
        name=data.name,
        tier=data.tier,
        preferred_language=data.preferred_language,
        external_ref=data.external_ref,
        created_at=now,
        updated_at=now,
        version=1,
    )
    _set_phones(account, phones)
    session.add(account)
    await _flush(session, "the account")
    return account


async def get(session: AsyncSession, account_id: int) -> Account:
    """An account or a 404 problem."""
    account = await repository.get(session, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    return account


def check_if_match(account: Account, if_match: str | None) -> None:
    """412 when If-Match is given and is not the account's current ETag."""
    if if_match is not None and if_match.strip() not in (etag(account), "*"):
        raise PreconditionFailed(
            "the account changed since you read it; fetch it again and retry",
            current_etag=etag(account),
        )


async def update(
    session: AsyncSession,
    account_id: int,
    data: AccountUpdate,
    *,
    now: datetime,
    region: str,
    if_match: str | None,
) -> Account:
    """Apply a partial update."""
    account = await get(session, account_id)
    check_if_match(account, if_match)
    fields = data.model_dump(exclude_unset=True)
    if "phones" in fields:
        _set_phones(account, normalise_phones(fields.pop("phones") or [], region, "body.phones"))
    for name in ("name", "tier"):
        if name in fields and fields[name] is None:
            raise ValidationFailed(
                f"{name} cannot be null", errors=[{"field": f"body.{name}", "message": "null"}]
            )
    for name, value in fields.items():
        setattr(account, name, value)
    account.updated_at = now  # the UPDATE bumps `version` only if nobody else did first
    await _flush(session, "the update")
    return account


async def delete(session: AsyncSession, account_id: int, *, if_match: str | None) -> None:
    """Delete an account with its phones and notes."""
    account = await get(session, account_id)
    check_if_match(account, if_match)
    await session.delete(account)
    await session.flush()


async def lookup(session: AsyncSession, phone: str, *, region: str) -> list[Account]:
    """Accounts with this phone number, however it is formatted."""
    try:
        e164 = to_e164(phone, region)
    except InvalidPhoneNumber as exc:
        raise ValidationFailed(
            "phone is not a valid phone number",
            errors=[{"field": "query.phone", "message": str(exc)}],
        ) from None
    return await repository.by_phone(session, e164)


async def bulk_upsert(
    session: AsyncSession, rows: list[dict[str, Any]], *, now: datetime, region: str
) -> BulkResult:
    """Create or update accounts by external_ref; every invalid row is reported, none written."""
    errors: list[dict[str, Any]] = []
    parsed: list[tuple[BulkRow, list[str]]] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(rows):
        try:
            row = BulkRow.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "row"
                msg = str(err["msg"]).removeprefix("Value error, ")
                errors.append({"field": f"body.accounts[{i}].{loc}", "message": msg})
            continue
        if row.external_ref in seen:
            errors.append(
                {
                    "field": f"body.accounts[{i}].external_ref",
                    "message": f"duplicates row {seen[row.external_ref]}",
                }
            )
            continue
        seen[row.external_ref] = i
        try:
            phones = normalise_phones(row.phones, region, f"body.accounts[{i}].phones")
        except ValidationFailed as exc:
            errors.extend(exc.errors or [])
            continue
        parsed.append((row, phones))
    if errors:
        raise ValidationFailed(
            f"{len({e['field'].split('.')[1] for e in errors})} invalid row(s); "
            "nothing was written",
            errors=errors,
        )

    existing = await repository.by_external_ref(session, [r.external_ref for r, _ in parsed])
    created = updated = unchanged = 0
    result: list[Account] = []
    for row, phones in parsed:
        account = existing.get(row.external_ref)
        if account is None:
            account = Account(
                number=await _unique_number(session),
                name=row.name,
                tier=row.tier,
                preferred_language=row.preferred_language,
                external_ref=row.external_ref,
                created_at=now,
                updated_at=now,
                version=1,
            )
            _set_phones(account, phones)
            session.add(account)
            created += 1
        else:
            same = (
                account.name == row.name
                and account.tier == row.tier
                and account.preferred_language == row.preferred_language
                and [p.e164 for p in account.phones] == phones
            )
            if same:
                unchanged += 1
            else:
                account.name = row.name
                account.tier = row.tier
                account.preferred_language = row.preferred_language
                _set_phones(account, phones)
                account.updated_at = now
                updated += 1
        result.append(account)
    await _flush(session, "the bulk upsert")
    return BulkResult(
        created=created,
        updated=updated,
        unchanged=unchanged,
        accounts=[to_out(a) for a in result],
    )


async def add_note(
    session: AsyncSession, account_id: int, data: NoteCreate, *, author: Principal, now: datetime
) -> AccountNote:
    """Add a note to an account's history."""
    await get(session, account_id)
    note = AccountNote(
        account_id=account_id,
        author=author.name,
        author_key_id=author.key_id,
        body=data.body,
        created_at=now,
    )
    session.add(note)
    await session.flush()
    return note
