"""`/v1/alert-channels`, `/v1/alert-rules`, `/v1/alert-deliveries` (admin, scheduler)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.alerts import service
from app.alerts.schemas import (
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    DeliveryOut,
    DeliveryStatus,
    RuleIn,
    RuleOut,
    RulePatch,
)
from app.auth.deps import require_role
from app.auth.service import Principal
from app.core.deps import ClockDep, DbSession
from app.core.types import DbId

AlertAdmin = Annotated[Principal, Depends(require_role("admin", "scheduler"))]
TeamFilter = Annotated[str | None, Query(max_length=64, description="a team's slug")]

router = APIRouter(prefix="/v1", tags=["alerts"])


@router.get("/alert-channels", response_model=list[ChannelOut])
async def list_channels(
    session: DbSession, _: AlertAdmin, team: TeamFilter = None
) -> list[ChannelOut]:
    """Every alert channel, or a team's (webhook URLs show their host only)."""
    return await service.list_channels(session, team)


@router.post("/alert-channels", response_model=ChannelOut, status_code=status.HTTP_201_CREATED)
async def create_channel(
    body: ChannelIn, session: DbSession, clock: ClockDep, _: AlertAdmin
) -> ChannelOut:
    """Add a Slack-compatible webhook or an e-mail channel to a team."""
    return await service.create_channel(session, body, now=clock.now())


@router.get("/alert-channels/{channel_id}", response_model=ChannelOut)
async def get_channel(channel_id: DbId, session: DbSession, _: AlertAdmin) -> ChannelOut:
    """One channel."""
    channel = await service.get_channel(session, channel_id)
    [out] = [c for c in await service.list_channels(session, None) if c.id == channel.id]
    return out


@router.patch("/alert-channels/{channel_id}", response_model=ChannelOut)
async def update_channel(
    channel_id: DbId, body: ChannelPatch, session: DbSession, clock: ClockDep, _: AlertAdmin
) -> ChannelOut:
    """Rename, retarget, pause (`active: false`) or resume a channel."""
    return await service.update_channel(session, channel_id, body, now=clock.now())


@router.delete("/alert-channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_channel(channel_id: DbId, session: DbSession, _: AlertAdmin) -> Response:
    """Remove a channel, its rules and its deliveries."""
    await service.delete_channel(session, channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/alert-channels/{channel_id}/test",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
)
async def test_channel(
    channel_id: DbId, request: Request, session: DbSession, clock: ClockDep, _: AlertAdmin
) -> DeliveryOut:
    """Queue a test alert for the channel; its delivery shows in /v1/alert-deliveries."""
    base = request.app.state.settings.public_base_url
    return await service.test_send(session, channel_id, base, now=clock.now())


@router.get("/alert-rules", response_model=list[RuleOut])
async def list_rules(session: DbSession, _: AlertAdmin, team: TeamFilter = None) -> list[RuleOut]:
    """Every alert rule, or a team's."""
    return await service.list_rules(session, team)


@router.post("/alert-rules", response_model=RuleOut, status_code=status.HTTP_201_CREATED)
async def create_rule(body: RuleIn, session: DbSession, clock: ClockDep, _: AlertAdmin) -> RuleOut:
    """Add a rule: what raises an alert for the team, and to which channel (default all)."""
    return await service.create_rule(session, body, now=clock.now())


@router.get("/alert-rules/{rule_id}", response_model=RuleOut)
async def get_rule(rule_id: DbId, session: DbSession, _: AlertAdmin) -> RuleOut:
    """One rule."""
    rule = await service.get_rule(session, rule_id)
    [out] = [r for r in await service.list_rules(session, None) if r.id == rule.id]
    return out


@router.patch("/alert-rules/{rule_id}", response_model=RuleOut)
async def update_rule(
    rule_id: DbId, body: RulePatch, session: DbSession, clock: ClockDep, _: AlertAdmin
) -> RuleOut:
    """Change a rule's threshold, channel or whether it is active."""
    return await service.update_rule(session, rule_id, body, now=clock.now())


@router.delete("/alert-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(rule_id: DbId, session: DbSession, _: AlertAdmin) -> Response:
    """Remove a rule."""
    await service.delete_rule(session, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/alert-deliveries", response_model=list[DeliveryOut])
async def list_deliveries(
    session: DbSession,
    _: AlertAdmin,
    team: TeamFilter = None,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    channel_id: DbId | None = None,
    before_id: DbId | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    """Alerts and how their delivery went, newest first (`before_id` pages back)."""
    return await service.list_deliveries(
        session,
        team=team,
        status=delivery_status,
        channel_id=channel_id,
        before_id=before_id,
        limit=limit,
    )
