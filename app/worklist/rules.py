"""Who may claim, release and complete a work item, and what each action writes.

Each rule looks at the item as read and returns the values to write, or None when the
item is already as asked (a repeated request is answered 200 and changes nothing). A
request that cannot be done raises a Conflict naming why (and who holds the item).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.core.errors import Conflict
from app.models.routing import WorkItem


@dataclass(frozen=True)
class Actor:
    """Who acts: an admin or scheduler (`specialist_id` None) or a specialist."""

    role: str
    specialist_id: int | None

    @property
    def supervises(self) -> bool:
        """Admins and schedulers act on any item, on behalf of anyone."""
        return self.role in ("admin", "scheduler")


def _holder(item: WorkItem, names: dict[int, str]) -> dict[str, Any] | None:
    if item.claimed_by_id is None:
        return None
    return {"id": item.claimed_by_id, "name": names.get(item.claimed_by_id)}


def _held_by_other(item: WorkItem, names: dict[int, str]) -> Conflict:
    holder = _holder(item, names)
    who = (
        "someone else"
        if holder is None
        else f"{holder['name'] or 'specialist'} (id {holder['id']})"
    )
    return Conflict(
        f"work item {item.id} is claimed by {who}", claimed_by=holder, item_status=item.status
    )


def _already_done(item: WorkItem, names: dict[int, str]) -> Conflict:
    return Conflict(
        f"work item {item.id} is already done (outcome {item.outcome})",
        claimed_by=_holder(item, names),
        outcome=item.outcome,
        item_status=item.status,
    )


def claim(
    item: WorkItem, claimant_id: int, names: dict[int, str], *, now: datetime
) -> dict[str, Any] | None:
    """Claim an open item for a specialist; claiming one's own claim again changes nothing."""
    if item.status == "done":
        raise _already_done(item, names)
    if item.status == "claimed":
        if item.claimed_by_id == claimant_id:
            return None
        raise _held_by_other(item, names)
    return {"status": "claimed", "claimed_by_id": claimant_id, "claimed_at": now, "updated_at": now}


def release(
    item: WorkItem, actor: Actor, names: dict[int, str], *, now: datetime
) -> dict[str, Any] | None:
    """Put a claimed item back on the list (its claimer, an admin or a scheduler)."""
    if item.status == "done":
        raise _already_done(item, names)
    if item.status == "open":
        return None
    if not actor.supervises and item.claimed_by_id != actor.specialist_id:
        raise _held_by_other(item, names)
    return {"status": "open", "claimed_by_id": None, "claimed_at": None, "updated_at": now}


def complete(
    item: WorkItem,
    actor: Actor,
    outcome: str,
    note: str | None,
    names: dict[int, str],
    *,
    now: datetime,
) -> dict[str, Any] | None:
    """Close an item with an outcome: its claimer or an admin; an open item is claimed too."""
    mine = actor.specialist_id is not None and item.claimed_by_id == actor.specialist_id
    if item.status == "done":
        if item.outcome != outcome:
            raise Conflict(
                f"work item {item.id} is already done with outcome {item.outcome}",
                claimed_by=_holder(item, names),
                outcome=item.outcome,
                item_status=item.status,
            )
        if note is not None and note != item.note:
            raise Conflict(
                f"work item {item.id} is already done with a different note",
                claimed_by=_holder(item, names),
                outcome=item.outcome,
                item_status=item.status,
            )
        if actor.supervises or mine:
            return None
        raise _already_done(item, names)
    values: dict[str, Any] = {
        "status": "done",
        "outcome": outcome,
        "note": note,
        "completed_at": now,
        "updated_at": now,
    }
    if item.status == "claimed" and not (mine or actor.supervises):
        raise _held_by_other(item, names)
    if item.status == "open" and actor.specialist_id is not None:
        values.update(claimed_by_id=actor.specialist_id, claimed_at=now)
    return values


# A callback that never reported back (a lost webhook) no longer blocks a new one after this.
DIAL_UNDER_WAY = ("dialing", "ringing_specialist", "calling_customer")
DIAL_STALE = timedelta(minutes=10)


def start_dial(
    item: WorkItem, actor: Actor, dialer_id: int, names: dict[int, str], *, now: datetime
) -> dict[str, Any]:
    """Start an outbound callback by a specialist: the claimer (an open item is claimed)."""
    if item.status == "done":
        raise _already_done(item, names)
    if item.status == "claimed" and item.claimed_by_id != dialer_id:
        raise _held_by_other(item, names)
    if (
        item.dial_status in DIAL_UNDER_WAY
        and item.last_dial_at is not None
        and now - item.last_dial_at < DIAL_STALE
    ):
        raise Conflict(
            f"a callback of work item {item.id} is already under way ({item.dial_status})",
            dial_status=item.dial_status,
        )
    values: dict[str, Any] = {
        "dial_status": "dialing",
        "dial_attempts": item.dial_attempts + 1,
        "last_dial_at": now,
        "last_dial_error": None,
        "updated_at": now,
    }
    if item.status == "open":
        values.update(status="claimed", claimed_by_id=dialer_id, claimed_at=now)
    return values
