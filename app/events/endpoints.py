"""`GET /v1/events`: the live events of the signed-in person (or key), as Server-Sent Events."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from app.auth.deps import CurrentPrincipal
from app.events.hub import EventHub
from app.events.stream import listen

router = APIRouter(prefix="/v1", tags=["events"])


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    request: Request,
    principal: CurrentPrincipal,
    last_event_id: str | None = Header(default=None),
) -> StreamingResponse:
    """Rings (with the screen pop), their ends and availability for my specialist;
    wallboard changes for schedulers, admins and viewers."""
    hub: EventHub = request.app.state.events
    resume = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    stream = listen(
        hub,
        request.app.state.db,
        request.app.state.clock,
        role=principal.role,
        specialist_id=principal.specialist_id,
        last_event_id=resume,
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
