"""Answering the engine's queries from the database, and choosing who to ring.

Used by the webhook driver and by `switchboard simulate`; it reads, never writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts
from app.accounts.numbers import is_valid_account_number
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
from app.rota.lookup import on_shift, team_open
from app.rota.repository import team_by_slug
from app.telephony.twiml import contact_kind

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


@dataclass(frozen=True)
class Settled:
    """Where the call rests after its queries are answered: a turn the caller can hear."""

    turn: Turn
    prompts: tuple[PromptItem, ...]
    ring: tuple[Candidate, ...]  # who to ring when turn.action is a Route
    notes: tuple[str, ...]  # what was looked up and decided, for logs and simulate


async def lookup_account(
    session: AsyncSession, action: LookupAccount, *, region: str
) -> list[AccountInfo]:
    """Accounts matching a caller ID (however formatted) or a typed account number."""
    if action.by == "caller_id":
        e164 = try_e164(action.value, region)
        found = await accounts.by_phone(session, e164) if e164 else []
    else:
        typed = action.value.strip()
        account = (
            await accounts.by_number(session, typed) if is_valid_account_number(typed) else None
        )
        found = [account] if account is not None else []
    return [
        AccountInfo(
            id=str(a.id),
            name=a.name,
            tier="paid" if a.tier == "paid" else "standard",
            number=a.number,
        )
        for a in found
    ]


async def ring_candidates(
    session: AsyncSession, route: Route, *, now: datetime, exclude: Collection[int]
) -> list[Candidate]:
    """The next batch for a route: on shift now in the team, speaking the call's language.

    Specialists already rung for this call are skipped; those with the call's topic skill
    come first; contacts that cannot be dialled are left out. A team that does not serve
    the call's language (an overflow such as a Japanese caller sent on to support-en) is
    there to reach someone: its speakers of the language come first, then everyone else.
    """
    team = await team_by_slug(session, route.team)
    serves = team is None or not team.languages or route.language in team.languages
    language_filter = route.language if serves else None
    shifts = await on_shift(session, now, team=route.team, language=language_filter)
    seen: set[int] = set(exclude)
    ranked: list[tuple[int, int, Candidate]] = []
    for order, shift in enumerate(shifts):
        if shift.specialist_id in seen or contact_kind(shift.contact) is None:
            continue
        seen.add(shift.specialist_id)
        skilled = route.skill is not None and route.skill in shift.skills
        speaks = route.language in shift.languages
        why = (
            f"on shift in {shift.team} {shift.starts_at:%a %H:%M}-{shift.ends_at:%a %H:%M} UTC "
            f"({shift.source_kind}), "
            + (
                f"speaks {route.language}"
                if speaks
                else f"overflow: {shift.team} does not serve {route.language}"
            )
            + (f", skill {route.skill}" if skilled else "")
        )
        candidate = Candidate(shift.specialist_id, shift.name, shift.contact, shift.team, why)
        rank = (0 if speaks else 2) + (0 if skilled else 1)
        ranked.append((rank, order, candidate))
    batch = max(1, min(route.batch_size, MAX_LEGS))
    return [c for _, _, c in sorted(ranked, key=lambda r: (r[0], r[1]))][:batch]


async def settle(
    session: AsyncSession,
    flow: Flow,
    turn: Turn,
    *,
    now: datetime,
    region: str,
    already_rung: Callable[[], Awaitable[Collection[int]]] | None = None,
) -> Settled:
    """Answer lookups, hours checks and empty routes until the caller has something to hear."""
    prompts: list[PromptItem] = list(turn.prompts)
    notes: list[str] = []
    unsaid: tuple[PromptItem, ...] = ()
    for _ in range(MAX_RESOLUTIONS):
        action = turn.action
        event: Event
        if isinstance(action, LookupAccount):
            found = await lookup_account(session, action, region=region)
            shown = mask_phone(action.value) if action.by == "caller_id" else action.value
            names = ", ".join(f"{a.name} (#{a.id}, {a.tier})" for a in found) or "no account"
            notes.append(f"lookup by {action.by} {shown}: {names}")
            event = LookupResult(found, now=now)
        elif isinstance(action, CheckHours):
            is_open = await team_open(session, action.team, now)
            notes.append(f"team {action.team} is {'open' if is_open else 'closed'} now")
            event = HoursResult(is_open, now=now)
        elif isinstance(action, Route):
            # Asked only when a route comes up: most webhooks never need it.
            exclude = await already_rung() if already_rung is not None else ()
            batch = await ring_candidates(session, action, now=now, exclude=exclude)
            if batch:
                if unsaid and not action.announce:
                    # "Please hold" of a team that had nobody, said now that someone rings.
                    turn = replace(turn, action=replace(action, announce=unsaid))
                return Settled(turn, tuple(prompts), tuple(batch), tuple(notes))
            unsaid = action.announce or unsaid
            others = " not rung already" if exclude else ""
            notes.append(
                f"nobody to ring in {action.team}: no one on shift who speaks "
                f"{action.language}{others}"
            )
            event = RouteResult("nobody_available", now=now)
        else:
            return Settled(turn, tuple(prompts), (), tuple(notes))
        turn = advance(flow, turn.state, event)
        prompts += turn.prompts
    raise FlowDidNotSettle(f"flow {flow.name!r} asked {MAX_RESOLUTIONS} questions in a row")
