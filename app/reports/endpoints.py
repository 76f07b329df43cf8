"""`/v1/reports/summary`: offered, answered, abandoned, ASA, service level, AHT; JSON or CSV."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import APIRouter, Query, Request, Response

from app.auth.deps import ReportReader
from app.core.deps import DbSession
from app.core.errors import ValidationFailed
from app.core.types import supported_instant
from app.reports import service
from app.reports.figures import GroupBy
from app.reports.schemas import SummaryOut, summary_csv, summary_out
from app.reports.specialists import SpecialistReportOut, specialist_report
from app.rota.repository import specialist_names

router = APIRouter(prefix="/v1/reports", tags=["reports"])

# SPEC 8: reports are read by admin, scheduler and viewer keys, not by specialists.
MAX_RANGE = timedelta(days=366)
CSV = "text/csv"
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZONES = available_timezones()


def _invalid(name: str, message: str, detail: str | None = None) -> ValidationFailed:
    return ValidationFailed(
        detail or f"{name} {message}", errors=[{"field": f"query.{name}", "message": message}]
    )


def parse_bound(text: str, name: str) -> datetime:
    """An ISO-8601 date-time with an offset, or a date meaning its midnight UTC."""
    try:
        if _DATE_ONLY.match(text):
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(name, "not an ISO-8601 date (2026-11-20) or date-time with offset") from None
    if value.tzinfo is None:
        raise _invalid(name, "needs a UTC offset, e.g. 2026-11-20T09:00:00+09:00 or ...Z")
    try:
        return supported_instant(value)
    except ValueError as exc:
        raise _invalid(name, str(exc)) from None


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone, or a 422."""
    try:
        if name in _ZONES:
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise _invalid("tz", "not an IANA time zone (e.g. Europe/Dublin)")


def wants_csv(accept: str) -> bool:
    """True when the Accept header prefers text/csv to JSON (JSON wins ties and */*)."""
    best_csv = best_json = 0.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if media == CSV:
            best_csv = max(best_csv, quality)
        elif media in ("application/json", "application/*", "*/*"):
            best_json = max(best_json, quality)
    return best_csv > best_json


@router.get(
    "/summary",
    response_model=SummaryOut,
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}},
)
async def summary(
    request: Request,
    session: DbSession,
    _: ReportReader,
    start: Annotated[str, Query(description="calls started at or after (date: 00:00 UTC)")],
    end: Annotated[str, Query(description="calls started before (date: 00:00 UTC)")],
    team: Annotated[str | None, Query(max_length=64)] = None,
    language: Annotated[str | None, Query(max_length=10)] = None,
    tier: Annotated[
        Literal["standard", "paid", "unknown"] | None,
        Query(description="the account's tier; unknown: callers not identified"),
    ] = None,
    group_by: GroupBy | None = None,
    threshold: Annotated[int, Query(ge=1, le=3600, description="service level, seconds")] = 60,
    tz: Annotated[str, Query(max_length=64, description="zone of hour and day groups")] = "UTC",
) -> Response:
    """Call figures over a range, per team, language, topic, tier, specialist, hour or day."""
    begins, ends = parse_bound(start, "start"), parse_bound(end, "end")
    if ends <= begins:
        raise _invalid("end", "not after start", "end must be after start")
    if ends - begins > MAX_RANGE:
        raise _invalid("end", "more than 366 days after start", "the range may span 366 days")
    zone = parse_zone(tz)
    try:
        begins, ends = begins.astimezone(UTC), ends.astimezone(UTC)
    except OverflowError:
        raise _invalid("start", "out of range") from None
    found = await service.summary(
        session,
        start=begins,
        end=ends,
        threshold=timedelta(seconds=threshold),
        group_by=group_by,
        zone=zone,
        team=team,
        language=language,
        tier=tier,
    )
    names: dict[int, str] = {}
    if group_by == "specialist":
        ids = {g.key for g in found.groups if isinstance(g.key, int)}
        names = await specialist_names(session, ids)
    out = summary_out(
        found,
        start=begins,
        end=ends,
        zone=zone,
        threshold_seconds=threshold,
        group_by=group_by,
        names=names,
    )
    if wants_csv(request.headers.get("accept", "")):
        return Response(
            summary_csv(out),
            media_type=CSV,
            headers={"Content-Disposition": 'attachment; filename="calls-summary.csv"'},
        )
    return Response(out.model_dump_json(), media_type="application/json")


SPECIALIST_RANGE = timedelta(days=92)


@router.get("/specialists", response_model=SpecialistReportOut)
async def specialists(
    session: DbSession,
    _: ReportReader,
    start: Annotated[str, Query(description="from (date: 00:00 UTC)")],
    end: Annotated[str, Query(description="until, exclusive (date: 00:00 UTC)")],
    team: Annotated[str | None, Query(max_length=64)] = None,
) -> SpecialistReportOut:
    """Per specialist: rings offered, answered, missed, declined; talk time, time on shift
    and utilisation (talk time over time on shift)."""
    begins, ends = parse_bound(start, "start"), parse_bound(end, "end")
    if ends <= begins:
        raise _invalid("end", "not after start", "end must be after start")
    if ends - begins > SPECIALIST_RANGE:
        raise _invalid("end", "more than 92 days after start", "the range may span 92 days")
    return await specialist_report(
        session, start=begins.astimezone(UTC), end=ends.astimezone(UTC), team=team
    )
