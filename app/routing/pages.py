"""The supervisor's wallboard: one tile per team, live by Server-Sent Events."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.db import Database
from app.events.stream import listen
from app.rota import calendar_view
from app.routing import wallboard
from app.routing.roster import everyone, read_team
from app.web.deps import require_page_role
from app.web.nav import register_home, register_nav
from app.web.sessions import SignedIn
from app.web.templating import add_template_dir, render

router = APIRouter(include_in_schema=False)
add_template_dir(Path(__file__).parent / "templates")
register_nav("Wallboard", "/wallboard", ("admin", "scheduler", "viewer"), order=20)
register_home("viewer", "/wallboard")


@calendar_view.status_source
async def _on_shift_statuses(session: AsyncSession, slug: str, now: datetime) -> dict[int, str]:
    """The team calendar's "On now" says what each person is doing, as the wallboard does."""
    view = await read_team(session, slug, now=now, call_id=None)
    rows = await everyone(session, view, now) if view is not None else []
    return {row.specialist_id: wallboard.status_of(row, now) for row in rows}


Supervisor = Annotated[SignedIn, Depends(require_page_role("admin", "scheduler", "viewer"))]


async def _tiles(request: Request) -> list[wallboard.Tile]:
    db: Database = request.app.state.db
    clock: Clock = request.app.state.clock
    async with db.transaction() as session:
        return await wallboard.board(session, clock.now(), team=None)


@router.get("/wallboard")
async def wallboard_page(request: Request, me: Supervisor) -> Response:
    """Every team's tile; the page refreshes the tiles when something changes."""
    return render(request, "wallboard/wallboard.html", {"tiles": await _tiles(request)})


@router.get("/wallboard/tiles")
async def wallboard_tiles(request: Request, me: Supervisor) -> Response:
    """The tiles alone (what the page swaps in when an event arrives)."""
    return render(request, "wallboard/_tiles.html", {"tiles": await _tiles(request)})


@router.get("/wallboard/events")
async def wallboard_events(
    request: Request, me: Supervisor, last_event_id: str | None = Header(default=None)
) -> StreamingResponse:
    """Wallboard changes as Server-Sent Events."""
    stream = listen(
        request.app.state.events,
        request.app.state.db,
        request.app.state.clock,
        role=me.role,
        specialist_id=None,
        last_event_id=int(last_event_id) if last_event_id and last_event_id.isdigit() else None,
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
