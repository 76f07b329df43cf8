"""`/v1/overrides`, `/v1/days-off`, `/v1/audit`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import and_, or_, select

from app.auth.deps import RotaReader, RotaWriter
from app.core.deps import DbSession
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Limit,
    Page,
    decode_cursor,
    id_cursor,
    next_page,
)
from app.core.types import DbId, Instant
from app.models.rota import OverrideRow, Team
from app.rota import audit, override_service
from app.rota.calculator import days_off
from app.rota.deps import AllowPast, IfMatch, Write, WriteLater, own_specialist
from app.rota.repository import Snapshot
from app.rota.schemas import (
    AuditOut,
    DayOffIn,
    DayOffMove,
    DayOffOut,
    OverrideIn,
    OverrideOut,
    OverridePatch,
)
from app.rota.snapshot_work import calculate_on_snapshot
from app.rota.writes import check_if_match, day_off_out, etag, require_aware_query

router = APIRouter(prefix="/v1", tags=["rota"])
MAX_RANGE = timedelta(days=400)


def _override_etag(row: OverrideRow) -> str:
    return etag("override", row.id, row.version)


def check_range(start: datetime, end: datetime, limit: timedelta = MAX_RANGE) -> None:
    """Both instants with offsets, end after start, not too far apart."""
    require_aware_query(start, "start")
    require_aware_query(end, "end")
    if end <= start:
        raise ValidationFailed(
            "end must be after start", errors=[{"field": "query.end", "message": "not after start"}]
        )
    if end - start > limit:
        raise ValidationFailed(
            f"the range may span at most {limit.days} days",
            errors=[{"field": "query.end", "message": f"more than {limit.days} days after start"}],
        )


@router.get("/overrides", response_model=Page[OverrideOut])
async def list_overrides(
    session: DbSession,
    principal: RotaReader,
    start: Instant | None = None,
    end: Instant | None = None,
    specialist: DbId | None = None,
    team: str | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> Page[OverrideOut]:
    """Overrides overlapping [start, end), filtered (a specialist key sees its own)."""
    require_aware_query(start, "start")
    require_aware_query(end, "end")
    specialist = own_specialist(principal, specialist)
    query = select(OverrideRow).order_by(OverrideRow.starts_at, OverrideRow.id).limit(limit + 1)
    if cursor is not None:
        position = decode_cursor(cursor, "after_start", "after_id")
        try:
            after_start = datetime.fromisoformat(str(position["after_start"]))
            after_id = int(position["after_id"])
        except (TypeError, ValueError):
            after_start, after_id = None, None
        if after_start is None or after_start.tzinfo is None:
            raise ValidationFailed(
                "the pagination cursor is not valid",
                errors=[{"field": "query.cursor", "message": "not a cursor returned by this list"}],
            )
        query = query.where(
            or_(
                OverrideRow.starts_at > after_start,
                and_(OverrideRow.starts_at == after_start, OverrideRow.id > after_id),
            )
        )
    if start is not None:
        query = query.where(OverrideRow.ends_at > start)
    if end is not None:
        query = query.where(OverrideRow.starts_at < end)
    if specialist is not None:
        query = query.where(
            (OverrideRow.specialist_id == specialist) | (OverrideRow.substitute_id == specialist)
        )
    if team is not None:
        query = query.join(Team, and_(Team.id == OverrideRow.team_id)).where(Team.slug == team)
    if kind is not None:
        query = query.where(OverrideRow.kind == kind)
    rows, next_cursor = next_page(
        list(await session.scalars(query)),
        limit,
        lambda r: {"after_start": r.starts_at.isoformat(), "after_id": r.id},
    )
    slugs = await override_service.team_slugs(session)
    return Page[OverrideOut](
        items=[override_service.override_out(r, slugs) for r in rows], next_cursor=next_cursor
    )


@router.post("/overrides", status_code=status.HTTP_201_CREATED, response_model=list[OverrideOut])
async def create_override(
    body: OverrideIn,
    session: DbSession,
    write: WriteLater,
    response: Response,
    allow_past: AllowPast = False,
) -> list[OverrideOut]:
    """Create a cover, swap (two covers, atomically), leave or extra."""
    # Checked for double booking before the rota lock is taken (rechecked under it only
    # if another rota write commits meanwhile).
    precheck = await override_service.precheck_double_booking(session, body)
    await write.start()
    rows = await override_service.create_override(
        session, body, write, allow_past=allow_past, precheck=precheck
    )
    slugs = await override_service.team_slugs(session)
    response.headers["Location"] = f"/v1/overrides/{rows[0].id}"
    response.headers["ETag"] = _override_etag(rows[0])
    return [override_service.override_out(r, slugs) for r in rows]


@router.get("/overrides/{override_id}", response_model=OverrideOut)
async def get_override(
    override_id: DbId, session: DbSession, principal: RotaReader, response: Response
) -> OverrideOut:
    """One override (a specialist key reads only overrides that involve them)."""
    row = await override_service.get_override(session, override_id)
    own = own_specialist(principal, None)
    if own is not None and own not in (row.specialist_id, row.substitute_id):
        raise NotFound(f"override {override_id} does not exist")
    response.headers["ETag"] = _override_etag(row)
    return override_service.override_out(row, await override_service.team_slugs(session))


@router.patch("/overrides/{override_id}", response_model=OverrideOut)
async def patch_override(
    override_id: DbId,
    body: OverridePatch,
    session: DbSession,
    write: Write,
    response: Response,
    if_match: IfMatch = None,
    allow_past: AllowPast = False,
) -> OverrideOut:
    """Change an override's window or reason (If-Match required)."""
    row = await override_service.get_override(session, override_id)
    check_if_match(if_match, _override_etag(row))
    await override_service.patch_override(session, row, body, write, allow_past=allow_past)
    response.headers["ETag"] = _override_etag(row)
    return override_service.override_out(row, await override_service.team_slugs(session))


@router.delete("/overrides/{override_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_override(
    override_id: DbId,
    session: DbSession,
    write: Write,
    if_match: IfMatch = None,
    allow_past: AllowPast = False,
) -> Response:
    """Cancel an override: deleted if not started, ended now if under way."""
    row = await override_service.get_override(session, override_id)
    check_if_match(if_match, _override_etag(row))
    await override_service.cancel_override(session, row, write, allow_past=allow_past)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/days-off", response_model=list[DayOffOut])
async def list_days_off(
    session: DbSession,
    principal: RotaReader,
    start: Instant,
    end: Instant,
    specialist: DbId | None = None,
) -> list[DayOffOut]:
    """Days off in lieu (automatic and by hand) between two instants (own, for a specialist)."""
    check_range(start, end)
    specialist = own_specialist(principal, specialist)
    # The worker loads the rules itself; the connection goes back first.
    return await calculate_on_snapshot(session, start, end, days_off_answer, start, end, specialist)


def days_off_answer(
    snapshot: Snapshot, start: datetime, end: datetime, specialist: int | None
) -> list[DayOffOut]:
    """The days off's answer (CPU, in the calculation worker)."""
    return [
        day_off_out(d, snapshot) for d in days_off(snapshot.rota, start, end, specialist=specialist)
    ]


@router.post("/days-off", status_code=status.HTTP_201_CREATED)
async def add_day_off(
    body: DayOffIn,
    session: DbSession,
    write: Write,
    response: Response,
    allow_past: AllowPast = False,
) -> dict[str, object]:
    """Add a day off in lieu by hand."""
    row = await override_service.add_day_off(session, body, write, allow_past=allow_past)
    response.headers["ETag"] = etag("dayoff", f"manual:{row.id}", row.version)
    return {"id": f"manual:{row.id}", "specialist_id": row.specialist_id, "day": row.day}


@router.get("/days-off/{day_off_id}/etag")
async def day_off_etag(
    day_off_id: str, session: DbSession, _: RotaReader, response: Response
) -> dict[str, str]:
    """The ETag to send with If-Match when moving or cancelling a day off."""
    tag = await override_service.day_off_etag(session, day_off_id)
    response.headers["ETag"] = tag
    return {"id": day_off_id, "etag": tag}


@router.patch("/days-off/{day_off_id}")
async def move_day_off(
    day_off_id: str,
    body: DayOffMove,
    session: DbSession,
    write: Write,
    response: Response,
    if_match: IfMatch = None,
    allow_past: AllowPast = False,
) -> dict[str, object]:
    """Move a day off in lieu to another date (If-Match required)."""
    check_if_match(if_match, await override_service.day_off_etag(session, day_off_id))
    await override_service.move_or_cancel_day_off(
        session, day_off_id, body, write, allow_past=allow_past
    )
    response.headers["ETag"] = await override_service.day_off_etag(session, day_off_id)
    return {"id": day_off_id, "day": body.day}


@router.delete("/days-off/{day_off_id}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_day_off(
    day_off_id: str,
    session: DbSession,
    write: Write,
    if_match: IfMatch = None,
    allow_past: AllowPast = False,
) -> Response:
    """Cancel a day off in lieu (it stays owed in the ledger) (If-Match required)."""
    check_if_match(if_match, await override_service.day_off_etag(session, day_off_id))
    await override_service.move_or_cancel_day_off(
        session, day_off_id, None, write, allow_past=allow_past
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/audit", response_model=Page[AuditOut])
async def list_audit(
    session: DbSession,
    _: RotaWriter,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    resource_type: str | None = None,
    resource_id: str | None = None,
    actor: str | None = None,
    start: Instant | None = None,
    end: Instant | None = None,
) -> Page[AuditOut]:
    """The audit log, newest first."""
    require_aware_query(start, "start")
    require_aware_query(end, "end")
    before = id_cursor(cursor, "before_id")
    rows = await audit.page(
        session,
        before_id=before,
        limit=limit + 1,
        resource_type=resource_type,
        resource_id=resource_id,
        actor=actor,
        start=start,
        end=end,
    )
    rows, next_cursor = next_page(rows, limit, lambda r: {"before_id": r.id})
    return Page[AuditOut](
        items=[
            AuditOut(
                id=r.id,
                at=r.at,
                actor=r.actor,
                action=r.action,
                resource_type=r.resource_type,
                resource_id=r.resource_id,
                effective_from=r.effective_from,
                before=r.before,
                after=r.after,
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )
