"""Creating, changing and deleting closures: validated, audited, previewed on a dry run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.closures.schemas import ClosureIn, ClosureOut, ClosurePreview
from app.core.errors import DryRunOutcome, NotFound, ValidationFailed
from app.models.closure import Closure
from app.models.rota import Team
from app.rota import audit
from app.rota.repository import team_by_slug
from app.rota.writes import etag

_PREVIEW_ACTIONS: dict[str, Literal["create", "replace", "delete"]] = {
    "create": "create",
    "update": "replace",
    "delete": "delete",
}


def closure_etag(closure: Closure) -> str:
    """The ETag of a closure version."""
    return etag("closure", closure.id, closure.version)


def closure_out(closure: Closure) -> ClosureOut:
    """A closure as the API shows it."""
    return ClosureOut(
        id=closure.id,
        team=closure.team,
        reason=closure.reason,
        starts_at=closure.starts_at.astimezone(UTC),
        ends_at=closure.ends_at.astimezone(UTC),
        messages=dict(closure.messages),
        created_at=closure.created_at,
        updated_at=closure.updated_at,
    )


async def get(session: AsyncSession, closure_id: int) -> Closure:
    """A closure, or 404."""
    closure = await session.get(Closure, closure_id)
    if closure is None:
        raise NotFound(f"there is no closure {closure_id}")
    return closure


async def _check_team(session: AsyncSession, body: ClosureIn) -> None:
    if body.team is not None and await team_by_slug(session, body.team) is None:
        raise ValidationFailed(
            f"there is no team {body.team!r}",
            errors=[{"field": "body.team", "message": "unknown team"}],
        )


async def _teams(session: AsyncSession, *closures: Closure | None) -> list[str]:
    named = {c.team for c in closures if c is not None}
    if None in named:
        return list(await session.scalars(select(Team.slug).order_by(Team.slug)))
    return sorted(t for t in named if t is not None)


def _dump(closure: Closure | None) -> dict[str, Any] | None:
    return closure_out(closure).model_dump(mode="json") if closure is not None else None


async def _finish(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    *,
    action: str,
    closure: Closure,
    before: dict[str, Any] | None,
    after: Closure | None,
    dry_run: bool,
) -> None:
    await session.flush()
    await audit.record(
        session,
        principal=principal,
        at=now,
        action=action,
        resource_type="closure",
        resource_id=closure.id,
        before=before,
        after=_dump(after),
    )
    if dry_run:
        preview = ClosurePreview(
            action="create"
            if action == "create"
            else "replace"
            if action == "update"
            else "delete",
            before=ClosureOut.model_validate(before) if before else None,
            after=closure_out(after) if after is not None else None,
            teams=await _teams(session, closure),
        )
        raise DryRunOutcome(preview)


async def create(
    session: AsyncSession, body: ClosureIn, principal: Principal, now: datetime, dry_run: bool
) -> Closure:
    """Add a closure (a dry run raises DryRunOutcome with the preview)."""
    await _check_team(session, body)
    closure = Closure(
        team=body.team,
        reason=body.reason,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        messages=body.messages,
        created_at=now,
        updated_at=now,
    )
    session.add(closure)
    await _finish(
        session,
        principal,
        now,
        action="create",
        closure=closure,
        before=None,
        after=closure,
        dry_run=dry_run,
    )
    return closure


async def replace(
    session: AsyncSession,
    closure: Closure,
    body: ClosureIn,
    principal: Principal,
    now: datetime,
    dry_run: bool,
) -> Closure:
    """Replace a closure's window, team, reason and messages."""
    await _check_team(session, body)
    before = _dump(closure)
    closure.team = body.team
    closure.reason = body.reason
    closure.starts_at = body.starts_at
    closure.ends_at = body.ends_at
    closure.messages = body.messages
    closure.updated_at = now
    await _finish(
        session,
        principal,
        now,
        action="update",
        closure=closure,
        before=before,
        after=closure,
        dry_run=dry_run,
    )
    return closure


async def delete(
    session: AsyncSession, closure: Closure, principal: Principal, now: datetime, dry_run: bool
) -> None:
    """Remove a closure (callers hear the usual hours again)."""
    before = _dump(closure)
    if dry_run:
        await _finish(
            session,
            principal,
            now,
            action="delete",
            closure=closure,
            before=before,
            after=None,
            dry_run=True,
        )
    await session.delete(closure)
    await _finish(
        session,
        principal,
        now,
        action="delete",
        closure=closure,
        before=before,
        after=None,
        dry_run=False,
    )
