"""Alert channels and rules: create, read, change, delete (admin, scheduler); test-send."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import messages
from app.alerts.outbox import enqueue
from app.alerts.schemas import (
    THRESHOLDS,
    ChannelIn,
    ChannelKind,
    ChannelOut,
    ChannelPatch,
    DeliveryOut,
    DeliveryStatus,
    RuleIn,
    RuleKind,
    RuleOut,
    RulePatch,
)
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.models.alerts import AlertChannel, AlertDelivery, AlertRule
from app.models.rota import Team


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field} is not valid: {message}", errors=[{"field": field, "message": message}]
    )


async def team_by_slug(session: AsyncSession, slug: str, field: str = "body.team") -> Team:
    """The team with a slug, or a 422 naming the field."""
    team = await session.scalar(select(Team).where(Team.slug == slug))
    if team is None:
        raise _invalid(field, f"no team {slug!r}")
    return team


def _check_target(kind: str, target: str) -> str:
    if kind == "slack":
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _invalid("body.target", "a Slack-compatible incoming webhook URL (http/https)")
        return target
    addresses = [a.strip() for a in target.split(",") if a.strip()]
    bad = [a for a in addresses if "@" not in a or " " in a or a.startswith("@") or a.endswith("@")]
    if not addresses or bad:
        raise _invalid("body.target", "e-mail addresses separated by commas")
    return ", ".join(addresses)


def _shown_target(channel: AlertChannel) -> str:
    """E-mail addresses as they are; a webhook URL (a secret) as its host only."""
    if channel.kind != "slack":
        return channel.target
    parts = urlsplit(channel.target)
    return f"{parts.scheme}://{parts.netloc}/…"


def channel_out(channel: AlertChannel, slug: str) -> ChannelOut:
    """The API view of a channel."""
    return ChannelOut(
        id=channel.id,
        team=slug,
        name=channel.name,
        kind=cast(ChannelKind, channel.kind),
        target=_shown_target(channel),
        active=channel.active,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


async def _slugs(session: AsyncSession, team_ids: set[int]) -> dict[int, str]:
    if not team_ids:
        return {}
    rows = await session.execute(select(Team.id, Team.slug).where(Team.id.in_(team_ids)))
    return {row.id: row.slug for row in rows}


async def list_channels(session: AsyncSession, team: str | None) -> list[ChannelOut]:
    """Every channel, or a team's."""
    query = select(AlertChannel).order_by(AlertChannel.id)
    if team is not None:
        query = query.where(
            AlertChannel.team_id == (await team_by_slug(session, team, "query.team")).id
        )
    channels = list(await session.scalars(query))
    slugs = await _slugs(session, {c.team_id for c in channels})
    return [channel_out(c, slugs[c.team_id]) for c in channels]


async def get_channel(session: AsyncSession, channel_id: int) -> AlertChannel:
    """A channel or a 404."""
    channel = await session.get(AlertChannel, channel_id)
    if channel is None:
        raise NotFound(f"alert channel {channel_id} does not exist")
    return channel


async def create_channel(session: AsyncSession, body: ChannelIn, *, now: datetime) -> ChannelOut:
    """Add a channel to a team (names are unique per team)."""
    team = await team_by_slug(session, body.team)
    target = _check_target(body.kind, body.target)
    if await session.scalar(
        select(AlertChannel.id).where(
            AlertChannel.team_id == team.id, AlertChannel.name == body.name
        )
    ):
        raise Conflict(f"team {team.slug} already has a channel named {body.name!r}")
    channel = AlertChannel(
        team_id=team.id,
        name=body.name,
        kind=body.kind,
        target=target,
        active=body.active,
        created_at=now,
        updated_at=now,
    )
    session.add(channel)
    await session.flush()
    return channel_out(channel, team.slug)


async def update_channel(
    session: AsyncSession, channel_id: int, body: ChannelPatch, *, now: datetime
) -> ChannelOut:
    """Rename, retarget, pause or resume a channel."""
    channel = await get_channel(session, channel_id)
    if body.name is not None and body.name != channel.name:
        if await session.scalar(
            select(AlertChannel.id).where(
                AlertChannel.team_id == channel.team_id, AlertChannel.name == body.name
            )
        ):
            raise Conflict(f"the team already has a channel named {body.name!r}")
        channel.name = body.name
    if body.target is not None:
        channel.target = _check_target(channel.kind, body.target)
    if body.active is not None:
        channel.active = body.active
    channel.updated_at = now
    await session.flush()
    return channel_out(channel, (await _slugs(session, {channel.team_id}))[channel.team_id])


async def delete_channel(session: AsyncSession, channel_id: int) -> None:
    """Remove a channel (its rules and deliveries go with it)."""
    await session.delete(await get_channel(session, channel_id))


async def test_send(
    session: AsyncSession, channel_id: int, base_url: str, *, now: datetime
) -> DeliveryOut:
    """Queue a test alert for a channel (delivered like any other; its outcome is shown)."""
    channel = await get_channel(session, channel_id)
    team = await session.get(Team, channel.team_id)
    assert team is not None
    alert = messages.test_message(team, channel.name, base_url, now)
    await enqueue(
        session, team_id=team.id, channel_ids=[channel.id], rule_id=None, alert=alert, now=now
    )
    row = await session.scalar(
        select(AlertDelivery).where(
            AlertDelivery.channel_id == channel.id, AlertDelivery.event_key == alert.event_key
        )
    )
    assert row is not None
    return delivery_out(row, team.slug)


def _check_rule(kind: str, threshold: int | None) -> None:
    meaning = THRESHOLDS[kind]
    if meaning is None:
        if threshold is not None:
            raise _invalid("body.threshold", f"a {kind} rule takes no threshold")
        return
    what, low, high = meaning
    if threshold is None or not low <= threshold <= high:
        raise _invalid("body.threshold", f"{what}, from {low} to {high}")


async def _check_channel(session: AsyncSession, team_id: int, channel_id: int | None) -> None:
    if channel_id is None:
        return
    channel = await session.get(AlertChannel, channel_id)
    if channel is None or channel.team_id != team_id:
        raise _invalid("body.channel_id", "not a channel of the rule's team")


def rule_out(rule: AlertRule, slug: str) -> RuleOut:
    """The API view of a rule."""
    return RuleOut(
        id=rule.id,
        team=slug,
        kind=cast(RuleKind, rule.kind),
        threshold=rule.threshold,
        channel_id=rule.channel_id,
        active=rule.active,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


async def list_rules(session: AsyncSession, team: str | None) -> list[RuleOut]:
    """Every rule, or a team's."""
    query = select(AlertRule).order_by(AlertRule.id)
    if team is not None:
        query = query.where(
            AlertRule.team_id == (await team_by_slug(session, team, "query.team")).id
        )
    rules = list(await session.scalars(query))
    slugs = await _slugs(session, {r.team_id for r in rules})
    return [rule_out(r, slugs[r.team_id]) for r in rules]


async def get_rule(session: AsyncSession, rule_id: int) -> AlertRule:
    """A rule or a 404."""
    rule = await session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"alert rule {rule_id} does not exist")
    return rule


async def create_rule(session: AsyncSession, body: RuleIn, *, now: datetime) -> RuleOut:
    """Add a rule to a team."""
    team = await team_by_slug(session, body.team)
    _check_rule(body.kind, body.threshold)
    await _check_channel(session, team.id, body.channel_id)
    rule = AlertRule(
        team_id=team.id,
        kind=body.kind,
        threshold=body.threshold,
        channel_id=body.channel_id,
        active=body.active,
        created_at=now,
        updated_at=now,
    )
    session.add(rule)
    await session.flush()
    return rule_out(rule, team.slug)


async def update_rule(
    session: AsyncSession, rule_id: int, body: RulePatch, *, now: datetime
) -> RuleOut:
    """Change a rule's threshold, channel or whether it is active."""
    rule = await get_rule(session, rule_id)
    sent = body.model_fields_set
    if "threshold" in sent:
        _check_rule(rule.kind, body.threshold)
        rule.threshold = body.threshold
    if "channel_id" in sent:
        await _check_channel(session, rule.team_id, body.channel_id)
        rule.channel_id = body.channel_id
    if body.active is not None:
        rule.active = body.active
    rule.updated_at = now
    await session.flush()
    return rule_out(rule, (await _slugs(session, {rule.team_id}))[rule.team_id])


async def delete_rule(session: AsyncSession, rule_id: int) -> None:
    """Remove a rule (its past deliveries stay, without the rule)."""
    await session.delete(await get_rule(session, rule_id))


def delivery_out(row: AlertDelivery, slug: str) -> DeliveryOut:
    """The API view of a delivery."""
    return DeliveryOut(
        id=row.id,
        channel_id=row.channel_id,
        rule_id=row.rule_id,
        team=slug,
        kind=row.kind,
        event_key=row.event_key,
        subject=row.subject,
        body=row.body,
        link=row.link,
        status=cast(DeliveryStatus, row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


async def list_deliveries(
    session: AsyncSession,
    *,
    team: str | None,
    status: str | None,
    channel_id: int | None,
    before_id: int | None,
    limit: int,
) -> list[DeliveryOut]:
    """Deliveries newest first, filtered."""
    query: Any = select(AlertDelivery).order_by(AlertDelivery.id.desc()).limit(limit)
    if team is not None:
        query = query.where(
            AlertDelivery.team_id == (await team_by_slug(session, team, "query.team")).id
        )
    if status is not None:
        query = query.where(AlertDelivery.status == status)
    if channel_id is not None:
        query = query.where(AlertDelivery.channel_id == channel_id)
    if before_id is not None:
        query = query.where(AlertDelivery.id < before_id)
    rows = list(await session.scalars(query))
    slugs = await _slugs(session, {r.team_id for r in rows})
    return [delivery_out(r, slugs[r.team_id]) for r in rows]
