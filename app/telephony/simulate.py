"""`switchboard simulate` and `switchboard flows check`: flows without Twilio.

simulate walks a flow as a caller would, with the engine and the real database (account
lookups, who is on shift now) but never writes: it prints what the caller hears and, at a
route step, its whole order first (each team, who it would ring or why nobody, then the
fallback), then who would be rung in each team the call reaches and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from app.config import Settings
from app.core.db import Database
from app.ivr import (
    Digits,
    Event,
    FlowError,
    Gather,
    Hangup,
    NoInput,
    Play,
    Prompt,
    PromptItem,
    Record,
    RecordingDone,
    Route,
    RouteResult,
    Speech,
    Start,
    Transfer,
    TransferResult,
    advance,
    check_flows,
    flows_for_number,
)
from app.ivr.problems import errors
from app.routing.dispatch import Choice, preview
from app.routing.explain import explain, explain_order, explanation_lines, order_lines
from app.telephony.flows import flows_dir, known_teams, load_for_app
from app.telephony.resolve import request_for, settle

MAX_TURNS = 60  # a flow's menus all end after their retries; this only stops a runaway


def _database_exists(url: str) -> bool:
    """False for a SQLite file that is not there (opening it would create it)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return True
    return parsed.database == ":memory:" or Path(parsed.database).exists()


async def flows_check(settings: Settings, folder: Path | None, out: TextIO, err: TextIO) -> int:
    """Print every problem as `file:line: severity: message`; 1 when there are errors."""
    teams: set[str] | None = None
    if _database_exists(settings.database_url):
        db = Database.from_url(settings.database_url)
        try:
            teams = await known_teams(db)
        finally:
            await db.dispose()
    target = flows_dir(folder or settings.flows_dir)
    problems = check_flows(target, teams)
    for problem in problems:
        print(problem, file=out)
    if teams is None:
        print("note: team names not checked (no teams in the database)", file=err)
    failed = len(errors(problems))
    warnings = len(problems) - failed
    verdict = "flows have errors" if failed else "flows OK"
    print(f"{verdict}: {failed} error(s), {warnings} warning(s) in {target}", file=err)
    return 1 if failed else 0


def _spoken(items: tuple[PromptItem, ...], out: TextIO) -> None:
    for item in items:
        if isinstance(item, Play):
            print(f"  plays: {item.url}", file=out)
        elif isinstance(item, Prompt):
            print(f"  says ({item.language}, {item.voice}): {item.text}", file=out)


def _caller_input(token: str | None, now: datetime) -> Event | None:
    """A scripted or typed input: digits, `say:words`, empty for silence; None hangs up."""
    if token is None or token.strip().lower() in ("q", "quit", "hangup"):
        return None
    token = token.strip()
    if token.lower().startswith("say:"):
        return Speech(token[4:].strip(), now=now)
    return Digits(token, now=now) if token else NoInput(now=now)


async def simulate(
    settings: Settings,
    *,
    from_number: str,
    to_number: str,
    digits: list[str] | None,
    read_line: Callable[[], str | None],
    out: TextIO,
    now: datetime,
    answer: bool = False,
) -> int:
    """Walk a call through its flow; 0 when it ran to the end, 2 when no flow answers."""
    db = Database.from_url(settings.database_url)
    try:
        try:
            flows = await load_for_app(settings.flows_dir, db)
        except FlowError as exc:
            print(f"switchboard: {exc}", file=out)
            return 2
        flow = flows_for_number(flows, to_number)
        if flow is None:
            print(f"no flow answers {to_number} and none is the default", file=out)
            return 2
        print(
            f"call from {from_number} to {to_number} at {now:%Y-%m-%d %H:%M %Z}: "
            f"flow '{flow.name}' ({flow.file})",
            file=out,
        )
        scripted: Iterator[str] | None = iter(digits) if digits is not None else None
        rung: set[int] = set()
        ordered: set[str] = set()  # route steps whose whole order was printed
        connected: str | None = None

        turn = advance(flow, None, Start(from_number, to_number, now=now))
        async with db.sessionmaker() as session:  # read only; rolled back on close
            for _ in range(MAX_TURNS):

                async def route(action: Route) -> Choice:
                    request = request_for(action)
                    order = action.order
                    if order is not None and order.step not in ordered:
                        ordered.add(order.step)
                        plan = await explain_order(
                            session,
                            [(t.team, t.why) for t in order.teams],
                            request,
                            at=now,
                            max_attempts=action.max_attempts,
                            max_wait=action.max_wait,
                            fallback=order.fallback,
                        )
                        teams = " -> ".join((*(t.team for t in order.teams), order.fallback))
                        print(
                            f"  [route order for a {action.tier} {action.language} caller "
                            f"at step {order.step}: {teams}]",
                            file=out,
                        )
                        for line in order_lines(plan):
                            print(f"    {line}", file=out)
                    found = await explain(session, request, at=now, exclude=rung)
                    choice = preview(found.decision)
                    print(
                        f"  [routing for {action.team}, {action.language}"
                        + (f", skill {action.skill}" if action.skill else "")
                        + f", {action.tier} caller, {action.strategy}]",
                        file=out,
                    )
                    for line in explanation_lines(found):
                        print(f"    {line}", file=out)
                    return choice

                settled = await settle(
                    session, flow, turn, now=now, region=settings.default_region, route=route
                )
                for note in settled.notes:
                    print(f"  [{note}]", file=out)
                _spoken(settled.prompts, out)
                action = settled.turn.action
                event: Event | None
                if isinstance(action, Gather):
                    token = next(scripted, "") if scripted is not None else read_line()
                    event = _caller_input(token, now)
                    shown = "(silence)" if isinstance(event, NoInput) else token
                    if scripted is not None or event is None:
                        print(f"> caller: {shown if event else '(hangs up)'}", file=out)
                elif isinstance(action, Route) and settled.wait is not None:
                    print(
                        f"  holds in the {action.team} queue: everyone who could take the "
                        f"call is busy (up to {action.max_wait} s)",
                        file=out,
                    )
                    print("  (the wait runs out)", file=out)
                    event = RouteResult("queue_timeout", now=now)
                elif isinstance(action, Route):
                    _spoken(action.announce, out)
                    print(f"  rings {action.team} now (batch {action.attempt}):", file=out)
                    for candidate in settled.ring:
                        print(
                            f"    - {candidate.name} <{candidate.contact}>: {candidate.why}",
                            file=out,
                        )
                    rung.update(c.specialist_id for c in settled.ring)
                    if answer:
                        first = settled.ring[0]
                        print(f"  ({first.name} accepts the call)", file=out)
                        connected = first.name
                        event = RouteResult("answered", str(first.specialist_id), now=now)
                    else:
                        print("  (nobody answers)", file=out)
                        event = RouteResult("no_answer", now=now)
                elif isinstance(action, Record):
                    # As the driver does: Twilio's transcription understands English only.
                    english = settled.turn.state.language.split("-")[0] == "en"
                    if action.transcribe and english:
                        kept = "transcribed"
                    elif action.transcribe:
                        kept = "not transcribed: Twilio transcribes English only"
                    else:
                        kept = "not transcribed"
                    print(f"  records a voicemail (up to {action.max_length} s, {kept})", file=out)
                    event = RecordingDone("simulated-recording", 0, now=now)
                elif isinstance(action, Transfer):
                    print(f"  transfers the caller to {action.number}", file=out)
                    event = TransferResult(True, now=now)
                elif isinstance(action, Hangup) and connected is not None:
                    # The IVR's part is over; the conversation goes on until someone hangs up.
                    print(
                        f"  connected: the caller talks with {connected} (end of simulation)",
                        file=out,
                    )
                    return 0
                elif isinstance(action, Hangup):
                    print("  hangs up", file=out)
                    return 0
                else:
                    event = None
                if event is None:
                    return 0
                turn = advance(flow, settled.turn.state, event)
        print(f"stopped after {MAX_TURNS} turns", file=out)
        return 1
    finally:
        await db.dispose()
