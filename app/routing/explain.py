"""`/v1/routing/explain`: who would be rung now, in order, and why everyone else would not.

`explain_order` does it for every team of a flow's route step in turn (the paid team, the
caller's language team, the English overflow, ...), as a call would go through them.

Team members who are not on shift are told apart with the shift calculator: a person
whose shift the lieu step removed has a day off (in lieu or by hand), one whose shift
only a leave override removed is on leave, anyone else is simply off shift.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.calc_pool import calculate
from app.models.rota import Specialist, Team, TeamMember
from app.rota.calculator import Rota, days_off, on_shift_at
from app.rota.overrides import pre_lieu_shifts
from app.rota.repository import load_snapshot
from app.routing.decide import Decision, RouteRequest, consider
from app.routing.dispatch import Nobody, Ring, preview

INSTANT = timedelta(microseconds=1)
_STATUS_CODES = {
    "busy": "busy",
    "held": "held_for_queue",
    "lacks_language": "lacks_language",
    "no_contact": "no_contact",
    "already_rung": "already_rung",
    "away": "away",
}


@dataclass(frozen=True)
class Excluded:
    """A team member who would not be rung, and why."""

    specialist_id: int
    name: str
    reason: str  # a code: off_shift, on_leave, day_off_in_lieu, day_off, busy, ...
    detail: str


def absences(rota: Rota, team: str, at: datetime, members: list[int]) -> dict[int, tuple[str, str]]:
    """Why members of a team are not on shift at `at`: {specialist: (code, detail)}."""

    def running(r: Rota) -> set[int]:
        return {
            s.specialist_id
            for s in pre_lieu_shifts(r, at, at + INSTANT)
            if s.team == team and s.start <= at < s.end
        }

    on_shift = {s.specialist_id for s in on_shift_at(rota, at, team=team)}
    before_lieu = running(rota)
    without_leave = running(
        replace(rota, overrides=tuple(o for o in rota.overrides if o.kind != "leave"))
    )
    day_offs = {d.specialist_id: d for d in days_off(rota, at, at + INSTANT)}
    found: dict[int, tuple[str, str]] = {}
    for sid in members:
        if sid in on_shift:
            continue
        if not rota.is_active(sid):
            found[sid] = ("inactive", "deactivated")
        elif sid in before_lieu:
            off = day_offs.get(sid)
            if off is not None and off.source == "manual":
                found[sid] = ("day_off", f"day off on {off.day}")
            else:
                day = f" on {off.day}" if off is not None else ""
                found[sid] = ("day_off_in_lieu", f"day off in lieu{day}")
        elif sid in without_leave:
            found[sid] = ("on_leave", "on leave")
        else:
            found[sid] = ("off_shift", "not on shift now")
    return found


@dataclass(frozen=True)
class Explanation:
    """A routing decision and every team member it leaves out."""

    decision: Decision
    excluded: tuple[Excluded, ...]


async def explain(
    session: AsyncSession, request: RouteRequest, *, at: datetime, exclude: Collection[int] = ()
) -> Explanation:
    """Who would be rung at `at` for a call needing this route, and why not the others."""
    decision = await consider(session, request, now=at, exclude=exclude)
    excluded = [
        Excluded(c.person.specialist_id, c.person.name, _STATUS_CODES[c.status], c.reason)
        for c in decision.considered
        if c.status != "candidate"
    ]
    rows = (
        await session.execute(
            select(Specialist.id, Specialist.name)
            .join(TeamMember, TeamMember.specialist_id == Specialist.id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.slug == request.team)
            .order_by(Specialist.id)
        )
    ).all()
    considered = {c.person.specialist_id for c in decision.considered}
    absent = [(sid, name) for sid, name in rows if sid not in considered]
    if absent:
        snapshot = await load_snapshot(session, at - timedelta(days=1), at + timedelta(days=1))
        reasons = await calculate(
            absences, snapshot.rota, request.team, at, [sid for sid, _ in absent]
        )
        for sid, name in absent:
            code, detail = reasons.get(sid, ("off_shift", "not on shift now"))
            excluded.append(Excluded(sid, name, code, detail))
    return Explanation(decision, tuple(excluded))


def explanation_lines(found: Explanation) -> list[str]:
    """The explanation as text: candidates in ringing order, then everyone left out."""
    lines = [
        f"{i}. {c.person.name} (#{c.person.specialist_id}): {c.reason}"
        for i, c in enumerate(
            (c for c in found.decision.considered if c.status == "candidate"), start=1
        )
    ]
    lines += [f"-  {e.name} (#{e.specialist_id}): {e.reason}: {e.detail}" for e in found.excluded]
    return lines


Outcome = Literal["ring", "queue", "nobody"]
# How a call gets to a team of the order, or to the fallback: straight away (every team
# before it has nobody to ring), only if nobody answers the teams rung before it, after
# waiting its full time in an earlier team's queue (the fallback only), or never (a team
# after the queue the caller holds in).
Reached = Literal["now", "if_unanswered", "after_wait", "never"]


def outcome_of(decision: Decision, *, max_wait: int | None = None) -> Outcome:
    """Ring when someone can be rung now; queue when they are busy (and waiting is allowed)."""
    if decision.candidates:
        return "ring"
    if decision.could_wait and (max_wait is None or max_wait > 0):
        return "queue"
    return "nobody"


@dataclass(frozen=True)
class OrderStep:
    """One team of a route step's order: who it would ring, or why nobody."""

    team: str
    why: str  # why the team is at this place in the order
    reached: Reached
    outcome: Outcome
    reason: str  # why it would ring these people, hold the caller, or pass them on
    found: Explanation


@dataclass(frozen=True)
class OrderPlan:
    """How a route step would take a call: each team in order, then its fallback."""

    steps: tuple[OrderStep, ...]
    fallback: str
    fallback_reached: Reached


async def explain_order(
    session: AsyncSession,
    teams: Sequence[tuple[str, str]],
    base: RouteRequest,
    *,
    at: datetime,
    max_attempts: int,
    max_wait: int,
    fallback: str,
) -> OrderPlan:
    """Every team of `teams` ((team, why) in order) as the call would meet it at `at`.

    Each team is explained as if the call reached it now, without those the earlier teams
    it is reached through would ring (a person in two teams is rung once). A team with
    someone to ring rings up to `max_attempts` batches before the call moves on; a team
    whose people are all busy holds the caller, who then goes to `fallback`; a team with
    nobody passes the call on.
    """
    rung: list[int] = []
    reached: Reached = "now"
    last: Reached = "now"  # how the call gets to the fallback
    steps: list[OrderStep] = []
    names = [team for team, _ in teams]
    for i, (team, why) in enumerate(teams):
        after = names[i + 1] if i + 1 < len(names) else f"the {fallback} step"
        found = await explain(session, replace(base, team=team), at=at, exclude=tuple(rung))
        outcome = outcome_of(found.decision, max_wait=max_wait)
        choice = preview(found.decision)
        if isinstance(choice, Ring):
            people = ", ".join(p.name for p in choice.people)
            free = len(found.decision.candidates)
            reason = (
                f"would ring {people} ({free} free to take the call; up to {max_attempts} "
                f"batch{'es' if max_attempts != 1 else ''} of {base.batch_size}), "
                f"then {after} if nobody answers"
            )
            if reached != "never":
                rung += [p.specialist_id for p in found.decision.candidates][
                    : base.batch_size * max_attempts
                ]
        elif outcome == "queue":
            reason = (
                f"everyone who could take the call is busy: the caller would hold in the "
                f"{team} queue for up to {max_wait} s, then go to the {fallback} step "
                "(later teams are not tried)"
            )
        else:
            why_not = choice.reason if isinstance(choice, Nobody) else "everyone is busy"
            reason = f"{why_not}: on to {after}"
        steps.append(OrderStep(team, why, reached, outcome, reason, found))
        if reached == "never":
            continue
        if outcome == "queue":
            reached, last = "never", "after_wait"
        elif outcome == "ring":
            reached = last = "if_unanswered"
    return OrderPlan(tuple(steps), fallback, last)


def order_lines(plan: OrderPlan) -> list[str]:
    """The order as text: each team with what it would do and who, then the fallback."""
    lines: list[str] = []
    for i, step in enumerate(plan.steps, start=1):
        lines.append(f"{i}. {step.team} ({step.why}; reached {_REACHED[step.reached]}):")
        lines.append(f"   {step.outcome}: {step.reason}")
        lines += [f"   {line}" for line in explanation_lines(step.found)]
    lines.append(
        f"{len(plan.steps) + 1}. the {plan.fallback} step "
        f"(reached {_REACHED[plan.fallback_reached]})"
    )
    return lines


_REACHED = {
    "now": "now",
    "if_unanswered": "if nobody answers the teams before",
    "after_wait": "after the caller's full wait in the queue before it",
    "never": "never: the caller holds in a queue before it",
}
