"""What each alert says: a short subject, a line or two, and a link to the console page."""

from __future__ import annotations

import secrets
from datetime import datetime

from app.alerts.outbox import Alert
from app.models.call import Call
from app.models.rota import Team
from app.models.routing import QueueEntry, WorkItem
from app.rota.calculator import Gap

_WORK = {"voicemail": "New voicemail", "callback": "New callback request"}


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def new_work(item: WorkItem, team: Team, base: str) -> Alert:
    """A voicemail or callback request arrived on the team's work list."""
    what = _WORK.get(item.kind, "New work item")
    number = item.number or "an unknown number"
    return Alert(
        kind="new_work",
        event_key=f"work:{item.id}",
        subject=f"{what} for {team.name}",
        body=f"{what} from {number} ({item.language or 'no language'}), {_when(item.created_at)}.",
        link=f"{base}/desk?item={item.id}",
    )


def caller_waiting(entry: QueueEntry, team: Team, now: datetime, base: str) -> Alert:
    """A caller has waited in the team's queue longer than the rule allows."""
    minutes, seconds = divmod(int((now - entry.enqueued_at).total_seconds()), 60)
    tier = "paid-tier " if entry.priority > 0 else ""
    return Alert(
        kind="caller_waiting",
        event_key=f"wait:{entry.id}",
        subject=f"A caller has waited {minutes} min {seconds:02d} s for {team.name}",
        body=f"A {tier}caller ({entry.language}) is waiting in the {team.slug} queue "
        f"since {_when(entry.enqueued_at)}.",
        link=f"{base}/wallboard?team={team.slug}",
    )


def service_level(
    team: Team, percent: int, target: int, offered: int, hour: datetime, base: str
) -> Alert:
    """The share of calls answered within 60 s over the last hour is below target."""
    return Alert(
        kind="service_level",
        event_key=f"service-level:{hour.isoformat()}",
        subject=f"{team.name}: service level {percent}% (target {target}%)",
        body=f"{percent}% of the {offered} calls of the last hour were answered within 60 s; "
        f"the target is {target}%.",
        link=f"{base}/wallboard?team={team.slug}",
    )


def coverage_gap(gap: Gap, team: Team, base: str) -> Alert:
    """Fewer people on the rota than a coverage rule's minimum, in the coming days."""
    language = f" ({gap.language})" if gap.language else ""
    return Alert(
        kind="coverage_gap",
        # By its end: a later check sees an ongoing gap starting later (at its own now).
        event_key=f"gap:{gap.rule_index}:{gap.end.isoformat()}",
        subject=f"Coverage gap for {team.name}{language}: {_when(gap.start)}",
        body=f"{gap.staffed} of {gap.min_staff} people on the rota from {_when(gap.start)} "
        f"to {_when(gap.end)}.",
        link=f"{base}/rota/{team.slug}",
    )


def ring_unanswered(call: Call, team: Team, base: str) -> Alert:
    """Every specialist rung for a call let it ring out or declined."""
    return Alert(
        kind="ring_unanswered",
        event_key=f"unanswered:{call.id}",
        subject=f"A call to {team.name} was not answered by anyone",
        body=f"Nobody took the call from {call.from_number or 'an unknown number'} at "
        f"{_when(call.started_at)} (outcome: {call.outcome or 'ended'}).",
        link=f"{base}/calls/{call.sid}",
    )


def test_message(team: Team, channel_name: str, base: str, now: datetime) -> Alert:
    """A test-send: proves the channel works."""
    return Alert(
        kind="test",
        event_key=f"test:{now.isoformat()}:{secrets.token_hex(4)}",
        subject=f"Test alert for {team.name}",
        body=f"This is a test of the alert channel {channel_name!r}. It works.",
        link=f"{base}/rota/{team.slug}",
    )
