"""The scheduler's quick edits from the calendar: leave, a cover, a swap, an extra shift.

Each shows its preview (the API's dry run) first and is applied from the preview. The form
carries the team's state tag: if anyone changed the team in between, the page says so
(412), shows the current week, and keeps the form as typed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationFailed
from app.models.rota import Specialist
from app.rota import override_service, repository
from app.rota.page_forms import (
    EditPage,
    form_values,
    local_parts,
    parse_instant,
    parse_local,
    week_of,
    when,
)
from app.rota.page_writes import Action, Check
from app.rota.pages import calendar_context
from app.rota.schemas import OverrideIn
from app.rota.team_state import check_team_state, team_state_tag
from app.rota.writes import RotaWrite
from app.web.deps import CheckedForm, SchedulerUser
from app.web.errors import PageNotFound
from app.web.pages import db_of
from app.web.sessions import SignedIn

router = APIRouter(include_in_schema=False)
KINDS = {
    "cover": "Cover a shift",
    "swap": "Swap shifts",
    "leave": "Add leave",
    "extra": "Add an extra shift",
}


async def _team_facts(request: Request, slug: str) -> tuple[str, str, list[tuple[int, str]], str]:
    """The team's zone, name, members (id, name) and current state tag."""
    async with db_of(request).transaction() as session:
        team = await repository.team_by_slug(session, slug)
        if team is None:
            raise PageNotFound(f"There is no team {slug!r}.")
        ids = (await repository.team_members(session, [team.id])).get(team.id, [])
        snapshot_names = await _names(session)
        tag = await team_state_tag(session, team)
        members = sorted(((i, snapshot_names.get(i, "?")) for i in ids), key=lambda m: m[1])
        return team.tz, team.name, members, tag


async def _names(session: AsyncSession) -> dict[int, str]:
    return {i: n for i, n in await session.execute(select(Specialist.id, Specialist.name))}


def _page(
    request: Request,
    me: SignedIn,
    slug: str,
    kind: str,
    tz: str,
    name: str,
    members: list[tuple[int, str]],
) -> EditPage:
    async def load() -> dict[str, Any]:
        _, _, fresh_members, tag = await _team_facts(request, slug)
        return {
            "kind": kind,
            "title": KINDS[kind],
            "team_name": name,
            "members": fresh_members,
            "state_tag": tag,
        }

    return EditPage(
        request=request,
        me=me,
        team_slug=slug,
        team_tz=tz,
        template="rota/edit_override.html",
        names=dict(members),
        load=load,
    )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise PageNotFound(f"There is no edit called {kind!r}; try cover, swap, leave or extra.")


@router.get("/rota/{slug}/edit/{kind}")
async def override_form(
    request: Request,
    slug: str,
    kind: str,
    me: SchedulerUser,
    specialist: Annotated[int | None, Query()] = None,
    start: Annotated[str | None, Query()] = None,
    end: Annotated[str | None, Query()] = None,
    day: Annotated[str | None, Query()] = None,
) -> Response:
    """The form, filled in from the shift or the day clicked on the calendar."""
    _check_kind(kind)
    tz, name, members, tag = await _team_facts(request, slug)
    begins, ends = parse_instant(start), parse_instant(end)
    if kind == "leave" and begins is not None and ends is not None:
        # Leave from a shift: the whole local day (or days) of the shift.
        start_day, _ = local_parts(begins, tz)
        end_day, _ = local_parts(ends - timedelta(seconds=1), tz)
        values = {
            "start_date": start_day,
            "start_time": "00:00",
            "end_date": end_day,
            "end_time": "00:00",
            "whole_days": "on",
        }
    else:
        start_day, start_time = local_parts(begins, tz)
        end_day, end_time = local_parts(ends, tz)
        values = {
            "start_date": start_day or (day or ""),
            "start_time": start_time or "09:00",
            "end_date": end_day or (day or ""),
            "end_time": end_time or "17:00",
        }
    values["specialist_id"] = str(specialist or "")
    values["state_tag"] = tag
    page = _page(request, me, slug, kind, tz, name, members)
    return await page.show(values)


def _override_body(kind: str, slug: str, v: dict[str, Any], tz: str) -> OverrideIn:
    start = parse_local(v.get("start_date", ""), v.get("start_time", ""), tz, "start")
    end_day = v.get("end_date") or v.get("start_date", "")
    if v.get("whole_days") == "on":
        # Leave by whole days: from the first day's midnight to the midnight after the last.
        start = parse_local(v.get("start_date", ""), "00:00", tz, "start")
        end = _next_midnight(end_day, tz)
    else:
        end = parse_local(end_day, v.get("end_time", ""), tz, "end")
        if end <= start and not v.get("end_date"):
            end = parse_local(
                (_date(end_day) + timedelta(days=1)).isoformat(), v.get("end_time", ""), tz, "end"
            )
    data: dict[str, Any] = {
        "kind": kind,
        "specialist_id": v.get("specialist_id") or None,
        "team": slug,
        "start": start,
        "end": end,
        "reason": v.get("reason") or None,
    }
    if kind in ("cover", "swap"):
        data["substitute_id"] = v.get("substitute_id") or None
    if kind == "swap":
        data["swap_start"] = parse_local(
            v.get("swap_start_date", ""), v.get("swap_start_time", ""), tz, "swap_start"
        )
        data["swap_end"] = parse_local(
            v.get("swap_end_date") or v.get("swap_start_date", ""),
            v.get("swap_end_time", ""),
            tz,
            "swap_end",
        )
    return OverrideIn.model_validate(data)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "end: give a date (YYYY-MM-DD)", errors=[{"field": "end", "message": "date needed"}]
        ) from None


def _next_midnight(day_text: str, tz: str) -> datetime:
    return parse_local((_date(day_text) + timedelta(days=1)).isoformat(), "00:00", tz, "end")


def _summary(kind: str, body: OverrideIn, names: dict[int, str], tz: str) -> str:
    who = names.get(body.specialist_id, "?")
    period = when(body.start, body.end, tz)
    if kind == "cover":
        return f"{names.get(body.substitute_id or 0, '?')} covers {who}, {period}."
    if kind == "swap":
        return f"{who} and {names.get(body.substitute_id or 0, '?')} swap shifts ({period})."
    if kind == "leave":
        return f"{who} is on leave, {period}."
    return f"{who} works an extra shift, {period}."


@router.post("/rota/{slug}/edit/{kind}")
async def override_submit(
    request: Request, slug: str, kind: str, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Preview (dry run) or apply a cover, swap, leave or extra."""
    _check_kind(kind)
    tz, name, members, _ = await _team_facts(request, slug)
    values = form_values(form)
    page = _page(request, me, slug, kind, tz, name, members)
    names = dict(members)
    allow_past = values.get("allow_past") == "on"
    body_holder: list[OverrideIn] = []

    def build() -> tuple[Action, Check | None]:
        body = _override_body(kind, slug, values, tz)
        body_holder.append(body)

        async def action(session: AsyncSession, write: RotaWrite) -> Any:
            return await override_service.create_override(
                session, body, write, allow_past=allow_past
            )

        async def check(session: AsyncSession) -> None:
            team = await repository.team_by_slug(session, slug)
            if team is None:
                raise PageNotFound(f"There is no team {slug!r}.")
            await check_team_state(session, team, values.get("state_tag"))

        return action, check

    async def stale_state() -> dict[str, Any]:
        week = week_of(body_holder[0].start, tz) if body_holder else None
        return {
            "current": await calendar_context(request, me, slug, view="week", start=week, tz=None)
        }

    page.stale_state = stale_state
    page.summary = lambda: _summary(kind, body_holder[0], names, tz)

    def done_url() -> str:
        body = body_holder[0]
        saved = "Saved: " + _summary(kind, body, names, tz)
        return f"/rota/{slug}?start={week_of(body.start, tz)}&done={quote(saved)}"

    return await page.answer(values, build, done_url=done_url)
