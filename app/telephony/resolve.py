"""Answering the engine's queries from the database, and choosing who to ring.

Used by the webhook driver and by `switchboard simulate`. It reads; only the `route`
function the driver passes in reserves specialists and queues callers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts
from app.accounts.numbers import is_valid_account_number
from app.closures.hours import line_hours
from app.closures.repository import HoursAhead
from app.core.phone import mask_phone, try_e164
from app.ivr import (
    AccountInfo,
    CheckHours,
    Event,
    Flow,
    HoursResult,
    LookupAccount,
    LookupResult,
    PromptItem,
    Route,
    RouteResult,
    Turn,
    advance,
)
from app.routing.decide import RouteRequest
from app.routing.dispatch import Choice, Ring, Wait

# Queries and empty route steps answered within one webhook; a sane flow needs a handful.
MAX_RESOLUTIONS = 32
MAX_LEGS = 10  # Twilio dials at most ten nouns at once


class FlowDidNotSettle(RuntimeError):
    """The engine kept asking questions without ever giving the caller something to hear."""


@dataclass(frozen=True)
class Candidate:
    """A specialist who would be rung now, and why."""

    specialist_id: int
    name: str
    contact: str
    team: str
    why: str
    attempt_id: int | None = None  # the attempt ringing them, written with the reservation


@dataclass(frozen=True)
class Settled:
    """Where the call rests after its queries are answered: a turn the caller can hear."""

    turn: Turn
    prompts: tuple[PromptItem, ...]
    ring: tuple[Candidate, ...]  # who to ring when turn.action is a Route
    notes: tuple[str, ...]  # what was looked up and decided, for logs and simulate
    wait: Wait | None = None  # a Route whose caller holds in the queue instead


@dataclass(frozen=True)
class KnownAccounts:
    """The accounts with a number, already read (with the call: `records.call_and_state`)."""

    number: str
    accounts: list[accounts.AccountBrief]

    @classmethod
    def of(cls, number: str, rows: list[tuple[int, str, str, str]] | None) -> KnownAccounts | None:
        """The accounts read for a number as rows of `brief_by_phone`'s columns (None: none
        were read)."""
        if rows is None:
            return None
        return cls(number, [accounts.AccountBrief(*row) for row in rows])


async def lookup_account(
    session: AsyncSession,
    action: LookupAccount,
    *,
    region: str,
    known: KnownAccounts | None = None,
) -> list[AccountInfo]:
    """Accounts matching a caller ID (however formatted) or a typed account number.

    `known`: the accounts of a number read before; a caller ID that is that number is
    answered from them, without a statement.
    """
    if action.by == "caller_id":
        found = await _by_caller_id(session, action.value, region, known)
    else:
        typed = action.value.strip()
        account = (
            await accounts.by_number(session, typed) if is_valid_account_number(typed) else None
        )
        found = (
            [accounts.AccountBrief(account.id, account.name, account.tier, account.number)]
            if account is not None
            else []
        )
    return [
        AccountInfo(
            id=str(a.id),
            name=a.name,
            tier="paid" if a.tier == "paid" else "standard",
            number=a.number,
        )
        for a in found
    ]


# A caller ID as Twilio sends it for a phone: E.164 already (+14155550199).
_E164_FORM = re.compile(r"\+[1-9][0-9]{6,14}")


async def _by_caller_id(
    session: AsyncSession, caller_id: str, region: str, known: KnownAccounts | None
) -> list[accounts.AccountBrief]:
    """The accounts with the caller's number.

    Every stored number was written by `to_e164`, so a caller ID equal to one of them is
    that very number: a caller ID already in E.164 form is looked up as it came, and parsed
    (~160 µs in place, with the phone library's metadata cold) only when it finds nobody
    or is written some other way (national, spaced, without its +).
    """
    text = caller_id.strip()
    tried = _E164_FORM.fullmatch(text) is not None
    if tried:
        found = await _by_phone(session, text, known)
        if found:
            return found
    e164 = try_e164(caller_id, region)
    if e164 is None or (tried and e164 == text):
        return []
    return await _by_phone(session, e164, known)


async def _by_phone(
    session: AsyncSession, e164: str, known: KnownAccounts | None
) -> list[accounts.AccountBrief]:
    if known is not None and known.number == e164:
        return known.accounts  # read with the call: no statement of its own
    return await accounts.brief_by_phone(session, e164)


def request_for(action: Route) -> RouteRequest:
    """The routing request of an engine Route action."""
    return RouteRequest(
        team=action.team,
        language=action.language,
        skill=action.skill,
        tier=action.tier,
        strategy=action.strategy,
        batch_size=max(1, min(action.batch_size, MAX_LEGS)),
    )


RouteFn = Callable[[Route], Awaitable[Choice]]


async def settle(
    session: AsyncSession,
    flow: Flow,
    turn: Turn,
    *,
    now: datetime,
    region: str,
    route: RouteFn,
    known: KnownAccounts | None = None,
    hours_ahead: HoursAhead | None = None,
) -> Settled:
    """Answer lookups, hours checks and routes until the caller has something to hear.

    `route` decides a Route action: ring people (the call rests there), hold the caller in
    the queue (rests there too), or nobody, which the engine hears as `nobody_available`
    (the next team, then the step's fallback) or `queue_timeout` (the fallback).
    `known`: the caller's accounts read with the call, for caller ID (`lookup_account`).
    `hours_ahead`: the `hours` step's read made with the call's (`line_hours`).
    """
    prompts: list[PromptItem] = list(turn.prompts)
    notes: list[str] = []
    unsaid: tuple[PromptItem, ...] = ()
    for _ in range(MAX_RESOLUTIONS):
        action = turn.action
        event: Event
        if isinstance(action, LookupAccount):
            found = await lookup_account(session, action, region=region, known=known)
            shown = mask_phone(action.value) if action.by == "caller_id" else action.value
            names = ", ".join(f"{a.name} (#{a.id}, {a.tier})" for a in found) or "no account"
            notes.append(f"lookup by {action.by} {shown}: {names}")
            event = LookupResult(found, now=now)
        elif isinstance(action, CheckHours):
            hours = await line_hours(
                session, (action.team, *action.overflow), now, ahead=hours_ahead
            )
            for team in hours.teams:
                said = "open now" if team.open else "closed now"
                if not team.open and team.messages:
                    said += f" (closure #{team.closure_id})"
                elif not team.open and team.holiday:
                    said += " (public holiday)"
                if not team.open and team.opens_at is not None:
                    said += f", opens {team.opens_at.isoformat()}"
                notes.append(f"team {team.team} is {said}")
            event = HoursResult(
                hours.open,
                now=now,
                holiday=hours.holiday,
                opens_at=hours.opens_at,
                messages=hours.messages,
            )
        elif isinstance(action, Route):
            choice = await route(action)
            if isinstance(choice, Ring):
                if unsaid and not action.announce:
                    # "Please hold" of a team that had nobody, said now that someone rings.
                    turn = replace(turn, action=replace(action, announce=unsaid))
                attempts = choice.attempts or (None,) * len(choice.people)
                ring = tuple(
                    Candidate(p.specialist_id, p.name, p.contact, p.team, why, attempt)
                    for p, why, attempt in zip(choice.people, choice.reasons, attempts, strict=True)
                )
                return Settled(turn, tuple(prompts), ring, tuple(notes))
            if isinstance(choice, Wait):
                notes.append(
                    f"everyone who could take the call in {action.team} is busy: "
                    f"queued at position {choice.position}"
                )
                return Settled(turn, tuple(prompts), (), tuple(notes), wait=choice)
            unsaid = action.announce or unsaid
            notes.append(f"nobody to ring in {action.team}: {choice.reason}")
            event = RouteResult(
                "queue_timeout" if choice.timed_out else "nobody_available", now=now
            )
        else:
            return Settled(turn, tuple(prompts), (), tuple(notes))
        turn = advance(flow, turn.state, event)
        prompts += turn.prompts
    raise FlowDidNotSettle(f"flow {flow.name!r} asked {MAX_RESOLUTIONS} questions in a row")
