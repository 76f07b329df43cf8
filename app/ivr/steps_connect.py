"""Steps that do not wait for keys: say, branch, hours, route, voicemail, transfer, hangup."""

from __future__ import annotations

from app.ivr.actions import (
    CheckHours,
    Hangup,
    OrderedTeam,
    PromptItem,
    Record,
    Route,
    RouteOrder,
    Transfer,
)
from app.ivr.events import (
    Digits,
    Event,
    HoursResult,
    NoInput,
    RecordingDone,
    RouteResult,
    Speech,
    TransferResult,
)
from app.ivr.opening import spoken_opening
from app.ivr.run import Goto, Outcome, Run
from app.ivr.schema import (
    BranchStep,
    Condition,
    HangupStep,
    HoursStep,
    RouteStep,
    SayStep,
    TransferStep,
    VoicemailStep,
    frozen_map,
)
from app.ivr.speech import pick_language, say
from app.ivr.state import RouteProgress

# Outcomes after which the same team is tried again with the next batch.
_RING_AGAIN = ("no_answer", "busy", "failed")


def enter_say(run: Run, step: SayStep) -> Outcome:
    """Queue the message and go on."""
    run.speak(step.prompt)
    return Goto(step.next)


def enter_branch(run: Run, step: BranchStep) -> Outcome:
    """Jump to the first case that holds, else to `else`."""
    return Goto(run.choose(step.choice))


def _team(run: Run, template: str) -> str:
    return template.replace("{language}", run.state.language)


# hours --------------------------------------------------------------------------------


def enter_hours(run: Run, step: HoursStep) -> Outcome:
    """Ask the driver whether the team is open now."""
    run.update(stage="hours")
    team = _team(run, run.choose(step.team))
    overflow = tuple(t for t in (_team(run, o) for o in step.overflow) if t != team)
    return CheckHours(team, tuple(dict.fromkeys(overflow)))


def on_hours(run: Run, step: HoursStep, event: Event) -> Outcome:
    """Go to `open` or `closed`."""
    if run.state.stage == "hours" and isinstance(event, HoursResult):
        if event.open:
            run.log("open")
            return Goto(step.open)
        return _closed(run, step, event)
    if run.state.stage == "hours" and isinstance(event, Digits | Speech | NoInput):
        run.log("no hours answer")  # the answer was lost: the safe side is closed
        return Goto(step.closed)
    return enter_hours(run, step)


def _closed(run: Run, step: HoursStep, event: HoursResult) -> Goto:
    """Say a closure's own message first, keep when the line opens again for the prompts."""
    language = run.state.language
    opens_at = spoken_opening(event.opens_at, event.now, language)
    run.update(variables=frozen_map({**run.state.variables, "opens_at": opens_at}))
    if event.messages:
        found = pick_language(event.messages, language, run.flow.default_language)
        if found is not None:
            run.prompts.append(say(run.flow, found[1], found[0]))
    holiday = event.holiday and step.holiday is not None
    reason = "closure" if event.messages else "holiday" if event.holiday else "closed"
    run.log(f"{reason}, opens {event.opens_at.isoformat() if event.opens_at else 'unknown'}")
    return Goto(step.holiday if holiday and step.holiday else step.closed)


# route --------------------------------------------------------------------------------


def _condition(condition: Condition) -> str:
    tests = (("tier", condition.tier), ("language", condition.language), ("topic", condition.topic))
    return ", ".join(f"{name} {' or '.join(sorted(v))}" for name, v in tests if v is not None)


def route_order(run: Run, step: RouteStep) -> RouteOrder:
    """The teams the step tries for this call, in order (each once), then its fallback."""
    first = next((case for case in step.team.cases if run.holds(case.when)), None)
    if first is not None:
        why = f"the step's team for a caller with {_condition(first.when) or 'any call'}"
    elif step.team.cases:
        why = "the step's team for any other caller"
    else:
        why = "the step's team"
    teams: list[OrderedTeam] = []
    chosen = first.value if first is not None else step.team.otherwise
    templates = [(chosen, why)]
    templates += [(t, f"overflow {i}: {t}") for i, t in enumerate(step.overflow, start=1)]
    for template, reason in templates:
        team = _team(run, template)
        if all(t.team != team for t in teams):
            teams.append(OrderedTeam(team, reason))
    return RouteOrder(
        step=run.state.step,
        teams=tuple(teams),
        fallback=step.fallback,
        skill=step.skill or run.state.topic,
        strategy=step.strategy,
        batch_size=step.batch_size,
        max_attempts=step.max_attempts,
        max_wait=step.max_wait,
    )


def enter_route(run: Run, step: RouteStep) -> Outcome:
    """Work out the teams to try (team, then overflow) and ring the first."""
    teams = tuple(t.team for t in route_order(run, step).teams)
    run.update(route=RouteProgress(teams))
    return _ring(run, step, announce=run.render(step.prompt))


def _ring(run: Run, step: RouteStep, announce: tuple[PromptItem, ...] = ()) -> Route:
    progress = run.state.route or RouteProgress((_team(run, run.choose(step.team)),))
    run.update(stage="ringing", route=progress)
    return Route(
        team=progress.teams[min(progress.index, len(progress.teams) - 1)],
        language=run.state.language,
        skill=step.skill or run.state.topic,
        tier=run.tier(),
        strategy=step.strategy,
        batch_size=step.batch_size,
        ring_timeout=step.ring_timeout,
        max_attempts=step.max_attempts,
        max_wait=step.max_wait,
        attempt=progress.attempts + 1,
        hold=run.render(step.hold_prompt),
        callback_offer=run.render(step.callback_prompt) if step.callback else (),
        callback_key=step.callback_key if step.callback else None,
        announce=announce,
        order=route_order(run, step),
    )


def on_route(run: Run, step: RouteStep, event: Event) -> Outcome:
    """Answered: done. Otherwise the next batch, the next team, then the fallback.

    A queued caller's periodic check sends any non-result event: the step answers with
    its Route again, unchanged, so the driver can look for a free specialist.
    """
    progress = run.state.route
    if run.state.stage != "ringing" or progress is None:
        return enter_route(run, step)
    if not isinstance(event, RouteResult):
        return _ring(run, step)
    team = progress.teams[min(progress.index, len(progress.teams) - 1)]
    who = f" by {event.specialist_id}" if event.specialist_id else ""
    run.log(f"{team}: {event.outcome}{who}")
    if event.outcome == "answered":
        return run.end()
    if event.outcome == "callback_requested":
        return Goto(step.callback or step.fallback)
    if event.outcome == "queue_timeout":
        # max_wait bounds the whole route step: no further team after a full wait.
        return Goto(step.fallback)
    attempts = progress.attempts + 1
    if event.outcome in _RING_AGAIN and attempts < step.max_attempts:
        run.update(route=RouteProgress(progress.teams, progress.index, attempts))
        return _ring(run, step)
    if progress.index + 1 < len(progress.teams):
        run.update(route=RouteProgress(progress.teams, progress.index + 1, 0))
        return _ring(run, step)
    return Goto(step.fallback)


# voicemail, transfer, hangup ----------------------------------------------------------


def enter_voicemail(run: Run, step: VoicemailStep) -> Outcome:
    """Invite a message and record it."""
    run.speak(step.prompt)
    run.update(stage="recording")
    return Record(step.max_length, step.transcribe)


def on_voicemail(run: Run, step: VoicemailStep, event: Event) -> Outcome:
    """Go on once the recording is done."""
    if run.state.stage == "recording" and isinstance(event, RecordingDone):
        run.log(f"recording {event.url} ({event.duration} s)")
        return Goto(step.next)
    return enter_voicemail(run, step)


def enter_transfer(run: Run, step: TransferStep) -> Outcome:
    """Connect the caller to the external number."""
    run.speak(step.prompt)
    run.update(stage="transferring")
    return Transfer(step.number)


def on_transfer(run: Run, step: TransferStep, event: Event) -> Outcome:
    """Answered: done; otherwise the fallback (or hang up)."""
    if run.state.stage != "transferring":
        return enter_transfer(run, step)
    if not isinstance(event, TransferResult):
        return Transfer(step.number)
    run.log("answered" if event.answered else "not answered")
    return run.end() if event.answered else Goto(step.fallback)


def enter_hangup(run: Run, step: HangupStep) -> Outcome:
    """Say goodbye and end the call."""
    run.speak(step.prompt)
    return run.end()


def on_ended(run: Run) -> Hangup:
    """Any event after the end: just hang up."""
    return run.end()
