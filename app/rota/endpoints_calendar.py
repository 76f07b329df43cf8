"""`/calendars/...`: iCalendar feeds reached by a secret link (no API key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.core.deps import ClockDep, DbSession
from app.rota import calendar_feed

router = APIRouter(prefix="/calendars", tags=["calendar feeds"])

ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"
Token = Annotated[
    str | None,
    Query(description="the feed's secret (from calendar_url); rotate it to revoke the link"),
]
_ICS_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/calendar": {}}, "description": "an iCalendar (RFC 5545) feed"},
    404: {"description": "no feed at this link (unknown feed or wrong token)"},
}


def _ics(feed: calendar_feed.Feed) -> Response:
    # The link is a credential: shared caches must not keep the feed.
    return Response(
        content=feed.body,
        media_type=ICS_MEDIA_TYPE,
        headers={"Cache-Control": "private, max-age=300"},
    )


@router.get("/specialists/{specialist_id}.ics", response_class=Response, responses=_ICS_RESPONSE)
async def specialist_calendar(
    specialist_id: str, session: DbSession, clock: ClockDep, token: Token = None
) -> Response:
    """A specialist's shifts and days off in lieu, two weeks back to six months ahead."""
    feed = await calendar_feed.specialist_feed(session, specialist_id, token, clock.now())
    return _ics(feed)


@router.get("/teams/{slug}.ics", response_class=Response, responses=_ICS_RESPONSE)
async def team_calendar(
    slug: str, session: DbSession, clock: ClockDep, token: Token = None
) -> Response:
    """A team's shifts (everyone's) and its people's days off in lieu."""
    feed = await calendar_feed.team_feed(session, slug, token, clock.now())
    return _ics(feed)
