"""The planner's console pages: set a period and rules, propose, compare with the rota, apply.

Schedulers and admins propose and apply; viewers may read stored plans. Every action goes
through the planning services the API uses (same validation, If-Match, dry run, audit).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.core.errors import AppError, DryRunOutcome, PreconditionFailed, ValidationFailed
from app.planning import page_queries, service
from app.planning.apply import apply_plan
from app.planning.endpoints import solving
from app.planning.page_form import DAYS, form_defaults, parse_form
from app.planning.page_view import applied_summary, compare, rotation_words, when
from app.planning.schemas import PlanApplied, PlanOut
from app.rota.wallclock import local_date
from app.rota.writes import RotaWrite
from app.web.deps import CheckedForm, SchedulerUser, acting_as, require_page_role
from app.web.errors import PageNotFound
from app.web.nav import register_nav
from app.web.pages import clock_of, db_of
from app.web.sessions import SignedIn
from app.web.templating import add_template_dir, render

router = APIRouter(include_in_schema=False)
add_template_dir(Path(__file__).parent / "templates")
register_nav("Planner", "/planner", ("admin", "scheduler", "viewer"), order=15)

PlanReader = Annotated[SignedIn, Depends(require_page_role("admin", "scheduler", "viewer"))]
WRITERS = ("admin", "scheduler")
# A proposal is solved while the browser waits: keep it well inside what proxies allow.
PAGE_TIME_LIMIT_MAX = 60.0


@router.get("/planner")
async def planner_home(request: Request, me: PlanReader) -> Response:
    """Teams to plan for and the stored proposals, newest first."""
    async with db_of(request).transaction() as session:
        teams = await page_queries.teams(session)
        plans = await page_queries.plans(session)
    return render(
        request,
        "planning/index.html",
        {"teams": teams, "plans": plans, "can_plan": me.role in WRITERS},
    )


def _next_monday(request: Request, tz: str) -> date:
    today = local_date(clock_of(request).now(), tz)
    return today + timedelta(days=7 - today.weekday())


async def _team_page(
    request: Request,
    me: SignedIn,
    slug: str,
    values: dict[str, Any] | None = None,
    error: AppError | None = None,
    status_code: int = 200,
) -> Response:
    async with db_of(request).transaction() as session:
        facts = await page_queries.team_facts(session, slug)
        if facts is None:
            raise PageNotFound(f"There is no team {slug!r}.")
        plans = await page_queries.plans(session, facts.id, limit=20)
        last = await page_queries.latest_request(session, facts.id)
    settings = request.app.state.settings
    if values is None:
        values = form_defaults(
            last,
            _next_monday(request, facts.tz),
            facts.members,
            settings.planner_time_limit_seconds,
        )
    return render(
        request,
        "planning/team.html",
        {
            "team": facts,
            "plans": plans,
            "v": values,
            "error": error,
            "days": DAYS,
            "can_plan": me.role in WRITERS,
            "limit_max": PAGE_TIME_LIMIT_MAX,
        },
        status_code=status_code,
    )


@router.get("/planner/{slug}")
async def team_planner(request: Request, slug: str, me: PlanReader) -> Response:
    """The form to propose a rota for a team, and the team's stored proposals."""
    return await _team_page(request, me, slug)


@router.post("/planner/{slug}")
async def propose(request: Request, slug: str, me: SchedulerUser, form: CheckedForm) -> Response:
    """Solve a proposal (the browser waits, up to the time limit) and show it."""
    async with db_of(request).transaction() as session:
        facts = await page_queries.team_facts(session, slug)
    if facts is None:
        raise PageNotFound(f"There is no team {slug!r}.")
    try:
        data, values = parse_form(form, facts.members, PAGE_TIME_LIMIT_MAX)
    except ValidationFailed as exc:
        return await _team_page(request, me, slug, exc.extra.get("values"), exc, 422)
    settings = request.app.state.settings
    limits = service.Limits(settings.planner_time_limit_seconds, settings.planner_workers)
    try:
        async with solving(request):
            plan_id = await service.propose(
                db_of(request), slug, data, limits, acting_as(me).name, clock_of(request).now()
            )
    except AppError as exc:
        return await _team_page(request, me, slug, values, exc, exc.status)
    return RedirectResponse(f"/planner/plans/{plan_id}", status_code=303)


async def _plan_page(
    request: Request,
    me: SignedIn,
    plan_id: int,
    *,
    preview: PlanApplied | None = None,
    error: AppError | None = None,
    etag: str | None = None,
    allow_past: bool = False,
    status_code: int = 200,
) -> Response:
    async with db_of(request).transaction() as session:
        row = await service.get_plan(session, plan_id)
        plan: PlanOut = await service.plan_view(session, row)
        facts = await page_queries.team_facts(session, plan.team)
        assert facts is not None
        gaps_now = await page_queries.current_gaps(session, plan.team, plan.start, plan.weeks)
        holidays = await page_queries.holidays(session, plan.team, plan.start, plan.weeks)
        stale_plan = row.team_version != (await service.team_of(session, row)).version
        paused = await page_queries.rotation_names(
            session, preview.rotations_paused if preview else []
        )
    view = compare(plan, facts.tz, holidays, gaps_now)
    names = dict(facts.members) | {r.specialist_id: r.name for r in view.rows}
    now = clock_of(request).now()
    started = local_date(now, facts.tz) >= plan.start
    return render(
        request,
        "planning/plan.html",
        {
            "plan": plan,
            "team": facts,
            "view": view,
            "names": names,
            "gaps_now": gaps_now,
            "can_apply": me.role in WRITERS,
            "preview": preview,
            "paused": paused,
            "preview_lines": applied_summary(preview, names) if preview else [],
            "error": error,
            "etag": etag or facts.etag,
            "allow_past": allow_past,
            "started": started,
            "stale_plan": stale_plan,
            "rotation_words": rotation_words,
            "when": when,
            "last_day": plan.start + timedelta(weeks=plan.weeks, days=-1),
        },
        status_code=status_code,
    )


@router.get("/planner/plans/{plan_id}")
async def plan_page(request: Request, plan_id: int, me: PlanReader) -> Response:
    """A proposal beside the current rota: changes, gaps, fairness, solver; apply from here."""
    try:
        return await _plan_page(request, me, plan_id)
    except AppError:
        raise PageNotFound(f"There is no plan {plan_id}.") from None


async def _apply(
    request: Request, me: SignedIn, plan_id: int, etag: str, allow_past: bool, dry_run: bool
) -> PlanApplied:
    db = db_of(request)
    try:
        async with db.transaction() as session:
            row = await service.get_plan(session, plan_id)
            write = RotaWrite(
                session,
                acting_as(me),
                clock_of(request).now(),
                dry_run=False,
                refresh_after_commit=True,
            )
            await write.start()
            return await apply_plan(
                session, row, write, if_match=etag, allow_past=allow_past, dry_run=dry_run
            )
    except DryRunOutcome as outcome:
        result: PlanApplied = outcome.result
        return result


@router.post("/planner/plans/{plan_id}/apply")
async def apply_page(
    request: Request, plan_id: int, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Preview (dry run) or apply a proposal with the team's ETag as it was on the page."""
    etag = str(form.get("etag") or "")
    allow_past = form.get("allow_past") == "on"
    dry_run = form.get("action") != "apply"
    try:
        outcome = await _apply(request, me, plan_id, etag, allow_past, dry_run)
    except PreconditionFailed:
        stale = PreconditionFailed(
            "Someone changed this team's rota since you opened this page, so nothing was "
            "written. The page now shows the team as it is: preview again, then apply."
        )
        return await _plan_page(request, me, plan_id, error=stale, status_code=412)
    except AppError as exc:
        return await _plan_page(
            request,
            me,
            plan_id,
            error=exc,
            etag=etag,
            allow_past=allow_past,
            status_code=exc.status,
        )
    if dry_run:
        return await _plan_page(
            request, me, plan_id, preview=outcome, etag=etag, allow_past=allow_past
        )
    async with db_of(request).transaction() as session:
        plan = await service.plan_view(session, await service.get_plan(session, plan_id))
    done = (
        f"Applied plan {plan_id}: {len(outcome.rotations_created)} rotations written for "
        f"{plan.weeks} week(s) from {plan.start:%a %-d %b %Y}."
    )
    return RedirectResponse(
        f"/rota/{plan.team}?view=4w&start={plan.start.isoformat()}&done={quote(done)}",
        status_code=303,
    )
