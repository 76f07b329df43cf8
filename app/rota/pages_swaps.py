"""The scheduler's swap requests page: approve or reject the swaps teammates agreed on,
see the ones still waiting for a teammate and what was decided lately, and choose per team
whether swaps need a scheduler's approval at all.

Every form goes through the same services as `/v1/swaps` and
`/v1/teams/{slug}/console-settings` and comes back to the page with what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import AppError
from app.models.rota import Team
from app.rota import console_settings, swaps
from app.rota.endpoints_swaps import SwapOut, swap_outs
from app.rota.repository import team_by_slug
from app.web.deps import CheckedForm, SchedulerUser, acting_as
from app.web.errors import PageNotFound
from app.web.nav import register_nav
from app.web.pages import clock_of, db_of
from app.web.templating import add_template_dir, render

router = APIRouter(include_in_schema=False)
add_template_dir(Path(__file__).parent / "templates")
register_nav("Swaps", "/swaps", ("admin", "scheduler"), order=12)

DECIDED_DAYS = 30
STATE_WORDS = {
    "pending": "waiting for the teammate",
    "accepted": "accepted",
    "approved": "approved",
    "declined": "declined by the teammate",
    "rejected": "rejected",
    "cancelled": "cancelled by the requester",
}


@dataclass(frozen=True)
class SwapLine:
    """A swap request as the page shows it, with its shift in the team's own zone."""

    swap: SwapOut
    team_name: str
    tz: str
    shift: str
    awaiting: bool
    state_words: str


def _shift_text(start: datetime, end: datetime, tz: str) -> str:
    zone = ZoneInfo(tz)
    a, b = start.astimezone(zone), end.astimezone(zone)
    tail = b.strftime("%H:%M") if a.date() == b.date() else b.strftime("%a %-d %b %H:%M")
    return f"{a:%a %-d %b %H:%M}–{tail} ({a:%Z})"


def _lines(outs: list[SwapOut], teams: dict[str, Team]) -> list[SwapLine]:
    lines = []
    for s in outs:
        team = teams[s.team]
        awaiting = s.state == "accepted" and s.needs_approval and s.override_id is None
        words = STATE_WORDS[s.state]
        if s.state == "accepted":
            words = "waiting for a scheduler" if awaiting else "accepted: the cover is on the rota"
        lines.append(
            SwapLine(s, team.name, team.tz, _shift_text(s.start, s.end, team.tz), awaiting, words)
        )
    return lines


async def _page(
    request: Request, *, error: AppError | None = None, status_code: int = 200
) -> Response:
    now = clock_of(request).now()
    async with db_of(request).transaction() as session:
        rows = await swaps.for_schedulers(session, decided_since=now - timedelta(days=DECIDED_DAYS))
        outs = await swap_outs(session, rows)
        rules = await swaps.approval_rules(session)
    teams = {team.slug: team for team, _ in rules}
    lines = _lines(outs, teams)
    return render(
        request,
        "rota/swaps.html",
        {
            "awaiting": [line for line in lines if line.awaiting],
            "pending": [line for line in lines if line.swap.state == "pending"],
            "decided": [
                line for line in lines if not line.awaiting and line.swap.state != "pending"
            ],
            "rules": rules,
            "decided_days": DECIDED_DAYS,
            "notice": request.query_params.get("notice"),
            "error": error,
            "now": now,
        },
        status_code=status_code,
    )


@router.get("/swaps")
async def swaps_page(request: Request, me: SchedulerUser) -> Response:
    """Swaps waiting for approval, waiting for a teammate, decided lately; the rule per team."""
    return await _page(request)


async def _write(request: Request, action: Any) -> Response:
    try:
        async with db_of(request).transaction() as session:
            notice = await action(session)
    except AppError as exc:
        return await _page(request, error=exc, status_code=exc.status)
    return RedirectResponse("/swaps?" + urlencode({"notice": notice}), status_code=303)


@router.post("/swaps/{swap_id}/{verb}")
async def decide_swap(
    request: Request, swap_id: int, verb: str, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Approve (the cover goes on the rota) or reject an accepted swap."""
    if verb not in ("approve", "reject"):
        raise PageNotFound("There is no such action on a swap request.")
    now = clock_of(request).now()

    async def action(session: AsyncSession) -> str:
        swap = await swaps.decide(
            session, acting_as(me), swap_id, approve=verb == "approve", now=now
        )
        out = (await swap_outs(session, [swap]))[0]
        taker = out.accepted_by["name"] if out.accepted_by else "the teammate"
        if verb == "approve":
            return f"Approved: {taker} covers {out.requester['name']}'s shift; it is on the rota."
        return f"Rejected: {out.requester['name']} keeps the shift."

    return await _write(request, action)


@router.post("/swaps/approval")
async def set_approval(request: Request, me: SchedulerUser, form: CheckedForm) -> Response:
    """Whether a team's swaps need a scheduler's approval (audited in the team's changes)."""
    slug = form.get("team")
    wanted = form.get("need_approval") == "yes"
    now = clock_of(request).now()

    async def action(session: AsyncSession) -> str:
        team = await team_by_slug(session, slug) if isinstance(slug, str) else None
        if team is None:
            raise PageNotFound(f"There is no team {slug!r}.")
        await console_settings.change(
            session, acting_as(me), team, {"swaps_need_approval": wanted}, now=now
        )
        if wanted:
            return f"{team.name}: swaps now need a scheduler's approval."
        return f"{team.name}: teammates' swaps go on the rota as soon as they are accepted."

    return await _write(request, action)
