"""The scheduler's pages: teams, the team calendar, lieu ledger and fairness, audit trail.

Edits live in `app/rota/pages_edits.py`. Pages parse, authorise, call the rota services and
render; they run no SQL of their own.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.core.errors import NotFound
from app.rota import calendar_view, queries_view, swaps
from app.rota.schemas import check_time_zone
from app.rota.wallclock import local_date, local_midnight
from app.web.deps import SchedulerUser
from app.web.errors import PageNotFound
from app.web.nav import register_home, register_nav
from app.web.pages import clock_of, db_of
from app.web.templating import add_template_dir, render

router = APIRouter(include_in_schema=False)
add_template_dir(Path(__file__).parent / "templates")
register_nav("Rota", "/rota", ("admin", "scheduler"), order=10)
register_home("scheduler", "/rota")
register_home("admin", "/rota")

VIEWS = {"week": 7, "4w": 28}


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD query value, or None when absent or unreadable."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_zone(value: str | None) -> str | None:
    """An IANA zone from the query, or None when absent or unknown."""
    if not value:
        return None
    try:
        return check_time_zone(value)
    except ValueError:
        return None


@router.get("/rota")
async def teams_page(request: Request, me: SchedulerUser) -> Response:
    """Every team with its zone, people and this week's gaps."""
    now = clock_of(request).now()
    async with db_of(request).transaction() as session:
        teams = await queries_view.team_summaries(session, now)
        awaiting = await swaps.awaiting_approval(session)
    return render(request, "rota/teams.html", {"teams": teams, "swaps_awaiting": awaiting})


async def calendar_context(
    request: Request,
    me: Any,
    slug: str,
    *,
    view: str,
    start: str | None,
    tz: str | None,
) -> dict[str, Any]:
    """The calendar's page context (also shown beside an edit that came back stale)."""
    n_days = VIEWS.get(view, 7)
    now = clock_of(request).now()
    zone_name = parse_zone(tz)
    async with db_of(request).transaction() as session:
        team_tz = await queries_view.team_zone(session, slug)
        if team_tz is None:
            raise PageNotFound(f"There is no team {slug!r}.")
        shown = zone_name or team_tz
        first = parse_day(start) or local_date(now, shown)
        first -= timedelta(days=first.weekday())  # weeks start on Monday
        cal = await calendar_view.team_calendar(
            session,
            slug,
            first_day=first,
            n_days=n_days,
            tz=shown,
            now=now,
            me=me.specialist_id,
        )
        my_zone = await queries_view.specialist_zone(session, me.specialist_id)
    step = timedelta(days=n_days)
    weeks = [cal.days[i : i + 7] for i in range(0, len(cal.days), 7)]
    return {
        "cal": cal,
        "view": view if view in VIEWS else "week",
        "weeks": weeks,
        "slug": slug,
        "zone_param": zone_name or "",
        "my_zone": my_zone,
        "prev_start": (first - step).isoformat(),
        "next_start": (first + step).isoformat(),
        "now": now,
        "last_day": first + step - timedelta(days=1),
        "zone_abbr": now.astimezone(ZoneInfo(shown)).strftime("%Z"),
        "status_labels": calendar_view.STATUS_LABELS,
    }


@router.get("/rota/{slug}")
async def calendar_page(
    request: Request,
    slug: str,
    me: SchedulerUser,
    view: Annotated[str, Query()] = "week",
    start: Annotated[str | None, Query()] = None,
    tz: Annotated[str | None, Query()] = None,
    done: Annotated[str | None, Query()] = None,
) -> Response:
    """A team's week or four weeks: people by day, coverage strip with gaps, who is on now."""
    context = await calendar_context(request, me, slug, view=view, start=start, tz=tz)
    context["done"] = done
    return render(request, "rota/calendar.html", context)


@router.get("/rota/{slug}/on-now")
async def on_now_fragment(
    request: Request,
    slug: str,
    me: SchedulerUser,
    tz: Annotated[str | None, Query()] = None,
) -> Response:
    """The calendar's "On now" line alone (what the page swaps in when something changes)."""
    now = clock_of(request).now()
    async with db_of(request).transaction() as session:
        team_tz = await queries_view.team_zone(session, slug)
        if team_tz is None:
            raise PageNotFound(f"There is no team {slug!r}.")
        running = await calendar_view.on_now(session, slug, now)
    return render(
        request,
        "rota/_on_now.html",
        {
            "on_now": running,
            "tz": parse_zone(tz) or team_tz,
            "status_labels": calendar_view.STATUS_LABELS,
        },
    )


def _period(request: Request, start: str | None, end: str | None) -> tuple[date, date]:
    now = clock_of(request).now()
    last = parse_day(end) or now.date()
    first = parse_day(start) or last - timedelta(weeks=12)
    if first > last:
        first, last = last, first
    return first, min(last, first + timedelta(days=366))


@router.get("/rota/{slug}/ledger")
async def ledger_page(
    request: Request,
    slug: str,
    me: SchedulerUser,
    start: Annotated[str | None, Query()] = None,
    end: Annotated[str | None, Query()] = None,
) -> Response:
    """Days off in lieu per person and the fairness figures, for a period."""
    first, last = _period(request, start, end)
    now = clock_of(request).now()
    async with db_of(request).transaction() as session:
        try:
            report = await queries_view.team_report(session, slug, first, last, now)
        except NotFound:
            raise PageNotFound(f"There is no team {slug!r}.") from None
    return render(
        request,
        "rota/ledger.html",
        {"slug": slug, "report": report, "first": first, "last": last},
    )


@router.get("/rota/{slug}/audit")
async def audit_page(
    request: Request,
    slug: str,
    me: SchedulerUser,
    before: Annotated[int | None, Query()] = None,
) -> Response:
    """Who changed what in the team's rota, newest first."""
    async with db_of(request).transaction() as session:
        try:
            trail = await queries_view.team_audit(session, slug, before_id=before, limit=50)
        except NotFound:
            raise PageNotFound(f"There is no team {slug!r}.") from None
    return render(
        request,
        "rota/audit.html",
        {"slug": slug, "trail": trail, "describe": queries_view.describe},
    )


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """A local day's first and last instant (for forms prefilled from a calendar cell)."""
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
