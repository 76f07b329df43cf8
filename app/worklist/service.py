"""Work items: opened by the call path (one per call and kind); claimed, released, completed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as accounts
from app.accounts.schemas import NoteCreate
from app.auth.service import Principal
from app.calls.schemas import voicemail_of
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models.call import Call
from app.models.rota import Specialist
from app.models.routing import WorkItem
from app.rota.repository import specialist_names
from app.worklist import repository, rules
from app.worklist.rules import Actor
from app.worklist.schemas import (
    AccountRef,
    DialState,
    SpecialistRef,
    WorkCall,
    WorkItemOut,
    WorkKind,
    WorkOutcome,
    WorkStatus,
)


async def open_item(
    session: AsyncSession, call: Call, kind: WorkKind, *, now: datetime
) -> WorkItem:
    """The call's open item of this kind, created when it has none (a repeat is harmless)."""
    if call.id is None:
        await session.flush()
    found = await session.scalar(
        select(WorkItem).where(WorkItem.call_id == call.id, WorkItem.kind == kind)
    )
    number = (call.callback_number if kind == "callback" else None) or call.from_number or None
    if found is not None:
        if kind == "callback" and number and found.status == "open":
            found.number = number[:64]
        found.account_id = found.account_id or call.account_id
        return found
    item = WorkItem(
        kind=kind,
        call_id=call.id,
        account_id=call.account_id,
        team=call.team,
        language=call.language,
        number=number[:64] if number else None,
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    return item


# --- The work list API: read, claim, release, complete --------------------------------------

# How often an action re-reads an item that another request changed under it before giving
# up with a 409 (each retry means someone else wrote the item in between).
WRITE_ATTEMPTS = 5
_KIND_LABELS = {"voicemail": "Voicemail", "callback": "Callback request"}


def etag(item: WorkItem) -> str:
    """The item's ETag (changes on every write)."""
    return f'W/"work-item-{item.id}-v{item.version}"'


def to_out(item: WorkItem, found: repository.Related) -> WorkItemOut:
    """The API view of an item, with its account, call and claimer."""
    account = found.accounts.get(item.account_id) if item.account_id is not None else None
    call = found.calls.get(item.call_id)
    return WorkItemOut(
        id=item.id,
        kind=cast(WorkKind, item.kind),
        status=cast(WorkStatus, item.status),
        team=item.team,
        language=item.language,
        number=item.number,
        account=None
        if account is None
        else AccountRef(id=account.id, name=account.name, tier=account.tier),
        call=None
        if call is None
        else WorkCall(
            sid=call.sid,
            started_at=call.started_at,
            from_number=call.from_number,
            topic=call.topic,
            voicemail=voicemail_of(call),
        ),
        claimed_by=None
        if item.claimed_by_id is None
        else SpecialistRef(id=item.claimed_by_id, name=found.names.get(item.claimed_by_id)),
        claimed_at=item.claimed_at,
        completed_at=item.completed_at,
        outcome=cast(WorkOutcome | None, item.outcome),
        note=item.note,
        dial=None
        if item.dial_status is None
        else DialState(
            status=item.dial_status,
            attempts=item.dial_attempts,
            last_at=item.last_dial_at,
            error=item.last_dial_error,
        ),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


async def view(session: AsyncSession, item: WorkItem) -> WorkItemOut:
    """The API view of one item (loading what it refers to)."""
    return to_out(item, await repository.related(session, [item]))


async def get(session: AsyncSession, item_id: int) -> WorkItem:
    """An item or a 404 problem."""
    item = await repository.get(session, item_id)
    if item is None:
        raise NotFound(f"work item {item_id} does not exist")
    return item


def actor_of(principal: Principal) -> Actor:
    """The actor behind an API key; a specialist key must be linked to a specialist."""
    if principal.role == "specialist" and principal.specialist_id is None:
        raise Forbidden("this specialist key is not linked to a specialist")
    specialist_id = principal.specialist_id if principal.role == "specialist" else None
    return Actor(principal.role, specialist_id)


async def _claimant(session: AsyncSession, actor: Actor, requested: int | None) -> int:
    """Whom a claim is for: a specialist key itself; admin and scheduler must name someone."""
    if actor.specialist_id is not None:
        if requested is not None and requested != actor.specialist_id:
            raise Forbidden("a specialist key claims work items for itself only")
        return actor.specialist_id
    if requested is None:
        raise ValidationFailed(
            "say whom the item is claimed for",
            errors=[
                {"field": "body.specialist_id", "message": "required for admin and scheduler keys"}
            ],
        )
    found = await repository.specialist(session, requested)
    if found is None or not found.active:
        message = "no such specialist" if found is None else "the specialist is not active"
        raise ValidationFailed(
            f"cannot claim for specialist {requested}: {message}",
            errors=[{"field": "body.specialist_id", "message": message}],
        )
    return requested


Rule = Callable[[WorkItem, dict[int, str]], dict[str, Any] | None]


async def _apply(session: AsyncSession, item_id: int, rule: Rule) -> tuple[WorkItem, bool]:
    """Apply a rule to the item as committed now; (item, whether it was written)."""
    for _ in range(WRITE_ATTEMPTS):
        item = await get(session, item_id)
        read_version = item.version
        holder = [item.claimed_by_id] if item.claimed_by_id is not None else []
        values = rule(item, await specialist_names(session, holder))
        if values is None:
            return item, False
        if await repository.write_if_unchanged(session, item_id, read_version, values):
            return await get(session, item_id), True
    raise Conflict(f"work item {item_id} keeps changing under this request; try again")


async def claim(
    session: AsyncSession,
    item_id: int,
    principal: Principal,
    *,
    specialist_id: int | None,
    now: datetime,
) -> WorkItem:
    """Claim an item for one specialist; exactly one of several concurrent claims wins."""
    actor = actor_of(principal)
    await get(session, item_id)
    claimant = await _claimant(session, actor, specialist_id)
    item, _ = await _apply(
        session, item_id, lambda it, names: rules.claim(it, claimant, names, now=now)
    )
    return item


async def release(
    session: AsyncSession, item_id: int, principal: Principal, *, now: datetime
) -> WorkItem:
    """Put a claimed item back on the open list."""
    actor = actor_of(principal)
    item, _ = await _apply(
        session, item_id, lambda it, names: rules.release(it, actor, names, now=now)
    )
    return item


async def complete(
    session: AsyncSession,
    item_id: int,
    principal: Principal,
    *,
    outcome: str,
    note: str | None,
    now: datetime,
) -> WorkItem:
    """Close an item with an outcome; its note is added to the account's history too."""
    actor = actor_of(principal)
    item, written = await _apply(
        session,
        item_id,
        lambda it, names: rules.complete(it, actor, outcome, note, names, now=now),
    )
    if written and note and item.account_id is not None:
        label = f"{_KIND_LABELS.get(item.kind, item.kind)} ({outcome.replace('_', ' ')})"
        await accounts.add_note(
            session,
            item.account_id,
            NoteCreate(body=f"{label}: {note}"),
            author=principal,
            now=now,
        )
    return item


async def start_dial(
    session: AsyncSession,
    item_id: int,
    principal: Principal,
    *,
    specialist_id: int | None,
    now: datetime,
) -> tuple[WorkItem, Specialist]:
    """Mark an item as being called back by a specialist: the claimer, or whom a scheduler
    or an admin names (an open item is claimed for them)."""
    actor = actor_of(principal)
    item = await get(session, item_id)
    if actor.specialist_id is not None:
        if specialist_id is not None and specialist_id != actor.specialist_id:
            raise Forbidden("a specialist key calls customers back itself only")
        dialer = actor.specialist_id
    elif specialist_id is not None:
        dialer = specialist_id
    elif item.claimed_by_id is not None:
        dialer = item.claimed_by_id
    else:
        raise ValidationFailed(
            "say which specialist calls the customer back",
            errors=[
                {"field": "body.specialist_id", "message": "required: the item is not claimed"}
            ],
        )
    if not item.number:
        raise Conflict(f"work item {item_id} has no number to call back")
    found = await repository.specialist(session, dialer)
    if found is None or not found.active:
        message = "no such specialist" if found is None else "the specialist is not active"
        raise ValidationFailed(
            f"specialist {dialer} cannot call back: {message}",
            errors=[{"field": "body.specialist_id", "message": message}],
        )
    item, _ = await _apply(
        session, item_id, lambda it, names: rules.start_dial(it, actor, dialer, names, now=now)
    )
    return item, found


async def record_dial(
    session: AsyncSession,
    item_id: int,
    dial_status: str,
    *,
    error: str | None = None,
    now: datetime,
) -> None:
    """Record where an outbound callback of the item got to (a failure keeps its reason)."""

    def rule(item: WorkItem, _: dict[int, str]) -> dict[str, Any] | None:
        if item.dial_status == dial_status and item.last_dial_error == error:
            return None
        return {"dial_status": dial_status, "last_dial_error": error, "updated_at": now}

    await _apply(session, item_id, rule)


async def fail_stuck_dial(
    session: AsyncSession, item_id: int, *, dialled_at: datetime, error: str, now: datetime
) -> None:
    """Fail the item's dial that never reached Twilio, unless a newer dial has started or
    it got further since (the item then says what that one did)."""

    def rule(item: WorkItem, _: dict[int, str]) -> dict[str, Any] | None:
        if item.dial_status != "dialing":
            return None
        if item.last_dial_at is not None and item.last_dial_at > dialled_at:
            return None
        return {"dial_status": "failed", "last_dial_error": error, "updated_at": now}

    if await repository.get(session, item_id) is not None:
        await _apply(session, item_id, rule)
