"""Queries on the work list: pages, one item, the rows an item shows, conditional writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.account import Account
from app.models.call import Call
from app.models.rota import Specialist
from app.models.routing import WorkItem
from app.rota.repository import specialist_names


@dataclass(frozen=True)
class WorkFilter:
    """What the list is narrowed to (None: any)."""

    statuses: tuple[str, ...] = ("open",)
    team: str | None = None
    language: str | None = None
    kind: str | None = None
    account_id: int | None = None
    claimed_by_id: int | None = None


@dataclass
class Related:
    """The accounts, calls and specialist names that a set of items refers to."""

    accounts: dict[int, Account] = field(default_factory=dict)
    calls: dict[int, Call] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)


async def get(session: AsyncSession, item_id: int) -> WorkItem | None:
    """One item as it is committed now (never a stale copy from this session)."""
    return await session.scalar(
        select(WorkItem).where(WorkItem.id == item_id).execution_options(populate_existing=True)
    )


# Paid customers' items first (rank 0), then everyone else's; oldest first within each.
PAID_FIRST: ColumnElement[int] = case((Account.tier == "paid", 0), else_=1)


async def page(
    session: AsyncSession,
    where: WorkFilter,
    *,
    after: tuple[int, datetime, int] | None,
    limit: int,
) -> list[tuple[WorkItem, int]]:
    """A keyset page of (item, rank): paid customers' items first, then oldest first."""
    query = (
        select(WorkItem, PAID_FIRST)
        .outerjoin(Account, Account.id == WorkItem.account_id)
        .where(WorkItem.status.in_(where.statuses))
        .order_by(PAID_FIRST, WorkItem.created_at, WorkItem.id)
        .limit(limit)
    )
    if after is not None:
        rank, at, item_id = after
        paid = Account.tier == "paid"
        not_paid = or_(Account.tier.is_(None), Account.tier != "paid")
        same_rank = paid if rank == 0 else not_paid
        later = [not_paid] if rank == 0 else []
        query = query.where(
            or_(
                *later,
                and_(same_rank, WorkItem.created_at > at),
                and_(same_rank, WorkItem.created_at == at, WorkItem.id > item_id),
            )
        )
    if where.team is not None:
        query = query.where(WorkItem.team == where.team)
    if where.language is not None:
        query = query.where(WorkItem.language == where.language)
    if where.kind is not None:
        query = query.where(WorkItem.kind == where.kind)
    if where.account_id is not None:
        query = query.where(WorkItem.account_id == where.account_id)
    if where.claimed_by_id is not None:
        query = query.where(WorkItem.claimed_by_id == where.claimed_by_id)
    return [(item, int(rank)) for item, rank in (await session.execute(query)).all()]


async def related(session: AsyncSession, items: Iterable[WorkItem]) -> Related:
    """Load what the items show: their accounts, calls and claimers' names."""
    items = list(items)
    found = Related()
    account_ids = {i.account_id for i in items if i.account_id is not None}
    call_ids = {i.call_id for i in items}
    if account_ids:
        rows = await session.scalars(select(Account).where(Account.id.in_(account_ids)))
        found.accounts = {a.id: a for a in rows}
    if call_ids:
        calls = await session.scalars(select(Call).where(Call.id.in_(call_ids)))
        found.calls = {c.id: c for c in calls}
    found.names = await specialist_names(
        session, {i.claimed_by_id for i in items if i.claimed_by_id is not None}
    )
    return found


async def specialist(session: AsyncSession, specialist_id: int) -> Specialist | None:
    """A specialist by id."""
    return await session.get(Specialist, specialist_id)


async def write_if_unchanged(
    session: AsyncSession, item_id: int, read_version: int, values: dict[str, Any]
) -> bool:
    """Write values to an item if it is still at the version read; False otherwise.

    `UPDATE ... WHERE id = :id AND version = :read`: when two requests act on one item at
    once, the database lets exactly one of them through (on PostgreSQL the second waits for
    the first to commit, then finds a newer version and updates nothing).
    """
    result = await session.execute(
        update(WorkItem)
        .where(WorkItem.id == item_id, WorkItem.version == read_version)
        .values(version=read_version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
