"""The alerts admin page: a team's channels and rules, test sends, recent deliveries.

For admins and schedulers, like `/v1/alert-channels` and `/v1/alert-rules` (any team).
Every form goes through the same service as the API and comes back to the page with what
happened; a test send queues a delivery whose outcome shows in the deliveries table (the
page asks again every few seconds while one is pending).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service
from app.alerts.schemas import THRESHOLDS, ChannelIn, ChannelPatch, RuleIn, RulePatch
from app.core.errors import AppError, ValidationFailed
from app.models.rota import Team
from app.web.deps import CheckedForm, SchedulerUser, settings_of
from app.web.nav import register_nav
from app.web.pages import clock_of, db_of
from app.web.templating import add_template_dir, render

router = APIRouter(include_in_schema=False)
add_template_dir(Path(__file__).parent / "templates")
register_nav("Alerts", "/alerts", ("admin", "scheduler"), order=70)

RULE_LABELS = {
    "new_work": "New voicemail or callback request",
    "caller_waiting": "A caller waits longer than (seconds)",
    "service_level": "Service level below (percent, last hour)",
    "coverage_gap": "A coverage gap in the next (days)",
    "ring_unanswered": "A ring nobody answered",
}


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _invalid(exc: ValidationError) -> ValidationFailed:
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    return ValidationFailed("the form is not valid", errors=errors)


async def _page(
    request: Request,
    team: str | None,
    *,
    error: AppError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    async with db_of(request).transaction() as session:
        teams = list(await session.execute(select(Team.slug, Team.name).order_by(Team.slug)))
        slugs = [slug for slug, _ in teams]
        chosen = team if team in slugs else (slugs[0] if slugs else None)
        channels = await service.list_channels(session, chosen) if chosen else []
        rules = await service.list_rules(session, chosen) if chosen else []
        deliveries = (
            await service.list_deliveries(
                session, team=chosen, status=None, channel_id=None, before_id=None, limit=25
            )
            if chosen
            else []
        )
    names = {c.id: c.name for c in channels}
    return render(
        request,
        "alerts/alerts.html",
        {
            "teams": teams,
            "team": chosen,
            "channels": channels,
            "rules": rules,
            "deliveries": deliveries,
            "channel_names": names,
            "rule_labels": RULE_LABELS,
            "thresholds": THRESHOLDS,
            "pending": any(d.status in ("pending", "sending") for d in deliveries),
            "sending_enabled": settings_of(request).alerts_send,
            "email_ready": bool(settings_of(request).smtp_host),
            "notice": request.query_params.get("notice"),
            "error": error,
            "form": form or {},
        },
        status_code=error.status if error else 200,
    )


@router.get("/alerts")
async def alerts_page(request: Request, me: SchedulerUser, team: str | None = None) -> Response:
    """A team's alert channels, rules and recent deliveries."""
    return await _page(request, team)


async def _write(
    request: Request,
    team: str,
    form: Any,
    action: Callable[[AsyncSession], Awaitable[str]],
) -> Response:
    """Run one write; back to the page with a notice, or the page with the problem."""
    try:
        async with db_of(request).transaction() as session:
            notice = await action(session)
    except ValidationError as exc:
        return await _page(request, team, error=_invalid(exc), form=dict(form))
    except AppError as exc:
        return await _page(request, team, error=exc, form=dict(form))
    query = urlencode({"team": team, "notice": notice})
    return RedirectResponse(f"/alerts?{query}", status_code=303)


@router.post("/alerts/channels")
async def add_channel(request: Request, me: SchedulerUser, form: CheckedForm) -> Response:
    """Add a webhook or e-mail channel to the team."""
    team = _field(form, "team")
    now = clock_of(request).now()

    async def action(session: AsyncSession) -> str:
        body = ChannelIn(
            team=team,
            name=_field(form, "name"),
            kind=_field(form, "kind"),
            target=_field(form, "target"),
        )
        made = await service.create_channel(session, body, now=now)
        return f"Channel {made.name} added."

    return await _write(request, team, form, action)


@router.post("/alerts/channels/{channel_id}")
async def edit_channel(
    request: Request, channel_id: int, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Rename, retarget (an empty target keeps the old one), pause or resume a channel."""
    team = _field(form, "team")
    now = clock_of(request).now()

    async def action(session: AsyncSession) -> str:
        body = ChannelPatch(
            name=_field(form, "name") or None,
            target=_field(form, "target") or None,
            active=_field(form, "active") == "on",
        )
        changed = await service.update_channel(session, channel_id, body, now=now)
        return f"Channel {changed.name} saved{'' if changed.active else ' (paused)'}."

    return await _write(request, team, form, action)


@router.post("/alerts/channels/{channel_id}/delete")
async def remove_channel(
    request: Request, channel_id: int, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Delete a channel with its rules and deliveries."""
    team = _field(form, "team")

    async def action(session: AsyncSession) -> str:
        await service.delete_channel(session, channel_id)
        return "Channel deleted, with its rules and deliveries."

    return await _write(request, team, form, action)


@router.post("/alerts/channels/{channel_id}/test")
async def test_channel(
    request: Request, channel_id: int, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Queue a test alert; its outcome shows in the deliveries below within seconds."""
    team = _field(form, "team")
    now = clock_of(request).now()
    base = settings_of(request).public_base_url

    async def action(session: AsyncSession) -> str:
        sent = await service.test_send(session, channel_id, base, now=now)
        return f"Test alert queued (delivery {sent.id}): its outcome shows below."

    return await _write(request, team, form, action)


def _threshold(form: Any) -> int | None:
    raw = _field(form, "threshold")
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed(
            "the threshold is a whole number",
            errors=[{"field": "threshold", "message": "a whole number"}],
        )
    return int(raw)


def _channel_id(form: Any) -> int | None:
    raw = _field(form, "channel_id")
    return int(raw) if raw.isdigit() else None


@router.post("/alerts/rules")
async def add_rule(request: Request, me: SchedulerUser, form: CheckedForm) -> Response:
    """Add a rule to the team."""
    team = _field(form, "team")
    now = clock_of(request).now()

    async def action(session: AsyncSession) -> str:
        body = RuleIn(
            team=team,
            kind=_field(form, "kind"),
            threshold=_threshold(form),
            channel_id=_channel_id(form),
        )
        made = await service.create_rule(session, body, now=now)
        return f"Rule added: {RULE_LABELS.get(made.kind, made.kind)}."

    return await _write(request, team, form, action)


@router.post("/alerts/rules/{rule_id}")
async def edit_rule(
    request: Request, rule_id: int, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Change a rule's threshold, channel or whether it is active."""
    team = _field(form, "team")
    now = clock_of(request).now()

    async def action(session: AsyncSession) -> str:
        rule = await service.get_rule(session, rule_id)
        values: dict[str, Any] = {
            "channel_id": _channel_id(form),
            "active": _field(form, "active") == "on",
        }
        if THRESHOLDS.get(rule.kind) is not None:
            values["threshold"] = _threshold(form)
        changed = await service.update_rule(session, rule_id, RulePatch(**values), now=now)
        return f"Rule saved: {RULE_LABELS.get(changed.kind, changed.kind)}."

    return await _write(request, team, form, action)


@router.post("/alerts/rules/{rule_id}/delete")
async def remove_rule(
    request: Request, rule_id: int, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Delete a rule (its past deliveries stay)."""
    team = _field(form, "team")

    async def action(session: AsyncSession) -> str:
        await service.delete_rule(session, rule_id)
        return "Rule deleted."

    return await _write(request, team, form, action)
