"""The reports page: the call summary with a period and a grouping as controls, two
server-rendered SVG charts, the table with the same numbers, and CSV of what is shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from app.core.clock import Clock
from app.core.db import Database
from app.core.errors import AppError
from app.reports import service
from app.reports.charts import Series, bar_chart
from app.reports.endpoints import parse_zone
from app.reports.figures import GroupBy
from app.reports.schemas import SummaryOut, summary_csv, summary_out
from app.rota.repository import specialist_names
from app.web.deps import require_page_role
from app.web.nav import register_nav
from app.web.sessions import SignedIn
from app.web.templating import add_template_dir, render

router = APIRouter(include_in_schema=False)
add_template_dir(Path(__file__).parent / "templates")
register_nav("Reports", "/reports", ("admin", "scheduler", "viewer"), order=30)

Reader = Annotated[SignedIn, Depends(require_page_role("admin", "scheduler", "viewer"))]
GROUPS: tuple[str, ...] = get_args(GroupBy)
MAX_DAYS = 366


def _day(value: str | None, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _BadControl(f"{value!r} is not a date (YYYY-MM-DD)") from None


class _BadControl(AppError):
    status = 422
    slug = "validation-error"
    title = "Validation failed"


async def _report(request: Request) -> tuple[dict[str, Any], SummaryOut | None, str | None]:
    clock: Clock = request.app.state.clock
    db: Database = request.app.state.db
    q = request.query_params
    today = clock.now().date()
    controls: dict[str, Any] = {
        "start": q.get("start") or (today - timedelta(days=6)).isoformat(),
        "end": q.get("end") or today.isoformat(),
        "group_by": q.get("group_by") or "day",
        "tz": q.get("tz") or "UTC",
        "groups": GROUPS,
    }
    try:
        start = _day(controls["start"], today)
        end = _day(controls["end"], today)
        if end < start:
            raise _BadControl("the last day is before the first")
        if (end - start).days >= MAX_DAYS:
            raise _BadControl("the period may span 366 days")
        group_by = controls["group_by"]
        if group_by not in GROUPS:
            raise _BadControl(f"group by one of {', '.join(GROUPS)}")
        zone = parse_zone(controls["tz"])
    except AppError as exc:
        return controls, None, exc.detail
    begins = datetime.combine(start, datetime.min.time(), zone).astimezone(UTC)
    ends = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    async with db.transaction() as session:
        found = await service.summary(
            session,
            start=begins,
            end=ends,
            threshold=timedelta(seconds=60),
            group_by=group_by,
            zone=zone,
        )
        names: dict[int, str] = {}
        if group_by == "specialist":
            names = await specialist_names(
                session, {g.key for g in found.groups if isinstance(g.key, int)}
            )
    out = summary_out(
        found,
        start=begins,
        end=ends,
        zone=zone,
        threshold_seconds=60,
        group_by=group_by,
        names=names,
    )
    return controls, out, None


def _label(group: Any) -> str:
    name = getattr(group, "name", None)
    if name:
        return str(name)
    return "none" if group.group is None else str(group.group)[:16]


def charts(out: SummaryOut) -> list[Markup]:
    """Calls per group, and service level and abandonment per group."""
    labels = [_label(g) for g in out.groups]
    calls = bar_chart(
        "Calls",
        labels,
        [
            Series("offered", "offered", [g.offered for g in out.groups]),
            Series("answered", "answered", [g.answered for g in out.groups]),
            Series("abandoned", "abandoned", [g.abandoned for g in out.groups]),
        ],
    )
    shares = bar_chart(
        "Service level and abandonment",
        labels,
        [
            Series("service level", "level", [g.service_level for g in out.groups]),
            Series(
                "abandoned",
                "abandoned",
                [g.abandoned / g.offered if g.offered else None for g in out.groups],
            ),
        ],
        percent=True,
    )
    # Built from escaped text only (app.reports.charts escapes every label and name).
    return [Markup(calls), Markup(shares)]


@router.get("/reports")
async def reports_page(request: Request, me: Reader) -> Response:
    """The summary with charts, table and a CSV link."""
    controls, out, error = await _report(request)
    return render(
        request,
        "reports/reports.html",
        {
            **controls,
            "out": out,
            "error": error,
            "charts": charts(out) if out is not None else [],
            "label": _label,
            "csv_query": request.url.query,
        },
        status_code=422 if error else 200,
    )


@router.get("/reports/summary.csv")
async def reports_csv(request: Request, me: Reader) -> Response:
    """Exactly the table shown, as CSV."""
    _, out, error = await _report(request)
    if out is None:
        return Response(error or "bad request", status_code=422, media_type="text/plain")
    return Response(
        summary_csv(out),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="calls-summary.csv"'},
    )
