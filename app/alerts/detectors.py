"""Finding what a team's rules alert on, in the database, and putting it in the outbox.

The scan runs on every app instance every ALERTS_SCAN_SECONDS, never on a webhook's path.
Each alert has an event key unique per channel, so instances scanning at the same time,
or a scan repeated, enqueue it once.
Coverage gaps are checked daily and whenever the audit log has grown (a rota edit).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import messages
from app.alerts.outbox import Alert, enqueue
from app.core.db import Database
from app.models.alerts import AlertChannel, AlertRule
from app.models.call import Call, RingAttempt
from app.models.rota import AuditEntry, Team
from app.models.routing import QueueEntry, WorkItem
from app.rota.calculator import Gap, coverage_gaps
from app.rota.repository import Snapshot
from app.rota.snapshot_work import calculate_on_committed_snapshot, calculate_on_snapshot

logger = logging.getLogger("switchboard.alerts")

SERVICE_LEVEL_SECONDS = 60
SERVICE_LEVEL_MIN_CALLS = 3
GAP_CHECK_EVERY = timedelta(days=1)
# A new rule looks back this far for new work and unanswered rings (not the whole history).
LOOK_BACK = timedelta(hours=1)


async def scan(
    session: AsyncSession,
    base_url: str,
    now: datetime,
    gaps: dict[tuple[int, int | None], list[Gap]] | None = None,
) -> int:
    """Check every active rule once; returns how many deliveries were added.

    `gaps`: coverage gaps calculated beforehand (`gaps_due`).
    """
    rules = list(
        await session.scalars(
            select(AlertRule).where(AlertRule.active.is_(True)).order_by(AlertRule.id)
        )
    )
    if not rules:
        return 0
    team_ids = {r.team_id for r in rules}
    teams = {t.id: t for t in await session.scalars(select(Team).where(Team.id.in_(team_ids)))}
    channels: dict[int, list[int]] = defaultdict(list)
    for channel in await session.scalars(
        select(AlertChannel).where(
            AlertChannel.team_id.in_(team_ids), AlertChannel.active.is_(True)
        )
    ):
        channels[channel.team_id].append(channel.id)
    added = 0
    for rule in rules:
        team = teams.get(rule.team_id)
        targets = channels.get(rule.team_id, [])
        if rule.channel_id is not None:
            targets = [c for c in targets if c == rule.channel_id]
        if team is None or not targets:
            continue
        for alert in await _alerts_of(session, rule, team, base_url, now, gaps or {}):
            added += await enqueue(
                session,
                team_id=team.id,
                channel_ids=targets,
                rule_id=rule.id,
                alert=alert,
                now=now,
            )
        rule.checked_at = now if rule.kind != "coverage_gap" else rule.checked_at
    return added


async def _alerts_of(
    session: AsyncSession,
    rule: AlertRule,
    team: Team,
    base: str,
    now: datetime,
    gaps: dict[tuple[int, int | None], list[Gap]],
) -> list[Alert]:
    if rule.kind == "new_work":
        return await _new_work(session, rule, team, base, now)
    if rule.kind == "caller_waiting":
        return await _waiting(session, rule, team, base, now)
    if rule.kind == "service_level":
        return await _service_level(session, rule, team, base, now)
    if rule.kind == "coverage_gap":
        return await _coverage_gaps(session, rule, team, base, now, gaps)
    if rule.kind == "ring_unanswered":
        return await _unanswered(session, rule, team, base, now)
    return []


def _since(rule: AlertRule, now: datetime) -> datetime:
    return max(rule.created_at, now - LOOK_BACK)


async def _new_work(
    session: AsyncSession, rule: AlertRule, team: Team, base: str, now: datetime
) -> list[Alert]:
    # No watermark: items of concurrent transactions commit out of id order. The window is
    # short, and the event key makes a repeat a no-op.
    query = select(WorkItem).where(
        WorkItem.team == team.slug, WorkItem.created_at >= _since(rule, now)
    )
    items = await session.scalars(query.order_by(WorkItem.id).limit(200))
    return [messages.new_work(item, team, base) for item in items]


async def _waiting(
    session: AsyncSession, rule: AlertRule, team: Team, base: str, now: datetime
) -> list[Alert]:
    threshold = timedelta(seconds=rule.threshold or 120)
    entries = await session.scalars(
        select(QueueEntry)
        .where(
            QueueEntry.team == team.slug,
            QueueEntry.state.in_(("waiting", "ringing")),
            QueueEntry.enqueued_at <= now - threshold,
        )
        .order_by(QueueEntry.enqueued_at)
        .limit(50)
    )
    return [messages.caller_waiting(e, team, now, base) for e in entries]


async def _service_level(
    session: AsyncSession, rule: AlertRule, team: Team, base: str, now: datetime
) -> list[Alert]:
    start = now - timedelta(hours=1)
    rows = (
        await session.execute(
            select(Call.routed_at, Call.answered_at).where(
                Call.team == team.slug,
                Call.direction == "inbound",
                Call.routed_at.is_not(None),
                Call.routed_at >= start,
                Call.routed_at < now,
            )
        )
    ).all()
    # A call still ringing inside the threshold is neither a hit nor a miss yet.
    settled = now - timedelta(seconds=SERVICE_LEVEL_SECONDS)
    offered = [r for r in rows if r.answered_at is not None or r.routed_at <= settled]
    if len(offered) < SERVICE_LEVEL_MIN_CALLS:
        return []
    within = sum(
        1
        for r in offered
        if r.answered_at is not None
        and (r.answered_at - r.routed_at).total_seconds() <= SERVICE_LEVEL_SECONDS
    )
    percent = round(100 * within / len(offered))
    target = rule.threshold or 80
    if percent >= target:
        return []
    hour = now.replace(minute=0, second=0, microsecond=0)
    return [messages.service_level(team, percent, target, len(offered), hour, base)]


def _gap_check_due(rule: AlertRule, newest_edit: int | None, now: datetime) -> bool:
    edited = newest_edit is not None and newest_edit != rule.seen_id
    return edited or rule.checked_at is None or now - rule.checked_at >= GAP_CHECK_EVERY


def _gap_window(rule: AlertRule, now: datetime) -> tuple[datetime, datetime]:
    return now, now + timedelta(days=rule.threshold or 7)


def _gaps_of(snapshot: Snapshot, team: str, start: datetime, end: datetime) -> list[Gap]:
    return coverage_gaps(snapshot.rota, team, start, end)


async def gaps_due(db: Database, now: datetime) -> dict[tuple[int, int | None], list[Gap]]:
    """The coverage gaps of every coverage rule due a check, keyed by (rule, newest edit).

    Calculated before the scan's transaction, each from a snapshot the calculation worker
    loads, with no connection held: the scan writes (its rules' check times, the outbox),
    and on SQLite a webhook's write would wait for its transaction.
    """
    async with db.transaction() as session:
        newest_edit = await session.scalar(select(func.max(AuditEntry.id)))
        rules = [
            (rule.id, slug, *_gap_window(rule, now))
            for rule, slug in await session.execute(
                select(AlertRule, Team.slug)
                .join(Team, Team.id == AlertRule.team_id)
                .where(AlertRule.active.is_(True), AlertRule.kind == "coverage_gap")
            )
            if _gap_check_due(rule, newest_edit, now)
        ]
    found: dict[tuple[int, int | None], list[Gap]] = {}
    for rule_id, slug, start, end in rules:
        async with db.transaction() as session:
            gaps = await calculate_on_snapshot(session, start, end, _gaps_of, slug, start, end)
        found[(rule_id, newest_edit)] = gaps
    return found


async def _coverage_gaps(
    session: AsyncSession,
    rule: AlertRule,
    team: Team,
    base: str,
    now: datetime,
    ready: dict[tuple[int, int | None], list[Gap]],
) -> list[Alert]:
    newest_edit = await session.scalar(select(func.max(AuditEntry.id)))
    if not _gap_check_due(rule, newest_edit, now):
        return []
    rule.checked_at = now
    rule.seen_id = newest_edit
    gaps = ready.get((rule.id, newest_edit))
    if gaps is None:  # an edit came in after `gaps_due`: calculated here (rarely)
        start, end = _gap_window(rule, now)
        gaps = await calculate_on_committed_snapshot(
            session, start, end, _gaps_of, team.slug, start, end
        )
    return [messages.coverage_gap(g, team, base) for g in gaps]


async def _unanswered(
    session: AsyncSession, rule: AlertRule, team: Team, base: str, now: datetime
) -> list[Alert]:
    rung = (
        select(RingAttempt.call_id).where(RingAttempt.call_id == Call.id).correlate(Call).exists()
    )
    accepted = (
        select(RingAttempt.call_id)
        .where(RingAttempt.call_id == Call.id, RingAttempt.result == "accepted")
        .correlate(Call)
        .exists()
    )
    query = select(Call).where(
        Call.team == team.slug,
        Call.direction == "inbound",
        Call.ended_at.is_not(None),
        Call.answered_at.is_(None),
        Call.ended_at >= _since(rule, now),
        rung,
        ~accepted,
    )
    calls = await session.scalars(query.order_by(Call.id).limit(200))
    return [messages.ring_unanswered(c, team, base) for c in calls]
