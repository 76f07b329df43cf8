"""The pure step engine: (flow, call state, event) -> Turn. No clock, no I/O."""

from __future__ import annotations

from app.ivr import steps_connect as connect
from app.ivr import steps_input as inputs
from app.ivr.actions import Action, CallerTier, RouteOrder
from app.ivr.events import AccountInfo, Event, Start
from app.ivr.run import Goto, Outcome, Run, Turn
from app.ivr.schema import (
    BranchStep,
    CallbackStep,
    Flow,
    HangupStep,
    HoursStep,
    IdentifyStep,
    LanguageStep,
    MenuStep,
    RouteStep,
    SayStep,
    Step,
    TransferStep,
    VoicemailStep,
)
from app.ivr.state import CallState

# Steps entered within one event; only a broken flow (an input-free loop) gets near it.
MAX_HOPS = 64


def new_call(flow: Flow, start: Start) -> CallState:
    """The state of a call that has not entered any step yet."""
    return CallState(
        flow=flow.name,
        step=flow.start,
        language=flow.default_language,
        caller_number=start.from_number.strip(),
        called_number=start.to_number.strip(),
    )


def route_steps(flow: Flow) -> list[str]:
    """The flow's route steps, in file order."""
    return [name for name, step in flow.steps.items() if isinstance(step, RouteStep)]


def route_order(
    flow: Flow, step: str, *, language: str, tier: CallerTier, topic: str | None
) -> RouteOrder:
    """The teams a route step would try for such a caller, in order, as a call's would.

    Raises KeyError when `step` is not a route step of the flow.
    """
    found = flow.steps.get(step)
    if not isinstance(found, RouteStep):
        raise KeyError(step)
    account = AccountInfo("", "", tier) if tier != "unknown" else None
    state = CallState(flow=flow.name, step=step, language=language, account=account, topic=topic)
    return connect.route_order(Run(flow, state, None), found)


def advance(flow: Flow, state: CallState | None, event: Event) -> Turn:
    """Apply one event to a call and return what to say and do next; never raises."""
    outcome: Outcome
    if isinstance(event, Start) or state is None:
        start = event if isinstance(event, Start) else Start("", "", event.now)
        run = Run(flow, new_call(flow, start), event.now)
        outcome = Goto(flow.start)
    else:
        run = Run(flow, state, event.now)
        step = flow.steps.get(state.step)
        if state.stage == "ended":
            outcome = connect.on_ended(run)
        elif step is None or state.flow != flow.name:
            outcome = Goto(flow.start)  # the flow changed under a live call: start over
        else:
            outcome = _on_event(run, step, event)
    return run.turn(_settle(run, outcome))


def _settle(run: Run, outcome: Outcome) -> Action:
    """Follow jumps until a step produces an action."""
    hops = 0
    while isinstance(outcome, Goto):
        hops += 1
        target = outcome.target
        if target is None or target not in run.flow.steps or hops > MAX_HOPS:
            return run.end()
        run.update(step=target, stage="", retries=0)
        run.log()
        outcome = _enter(run, run.flow.steps[target])
    return outcome


def _enter(run: Run, step: Step) -> Outcome:
    match step:
        case SayStep():
            return connect.enter_say(run, step)
        case MenuStep():
            return inputs.enter_menu(run, step)
        case LanguageStep():
            return inputs.enter_language(run, step)
        case IdentifyStep():
            return inputs.enter_identify(run, step)
        case HoursStep():
            return connect.enter_hours(run, step)
        case RouteStep():
            return connect.enter_route(run, step)
        case VoicemailStep():
            return connect.enter_voicemail(run, step)
        case CallbackStep():
            return inputs.enter_callback(run, step)
        case TransferStep():
            return connect.enter_transfer(run, step)
        case HangupStep():
            return connect.enter_hangup(run, step)
        case BranchStep():
            return connect.enter_branch(run, step)


def _on_event(run: Run, step: Step, event: Event) -> Outcome:
    match step:
        case MenuStep():
            return inputs.on_menu(run, step, event)
        case LanguageStep():
            return inputs.on_language(run, step, event)
        case IdentifyStep():
            return inputs.on_identify(run, step, event)
        case HoursStep():
            return connect.on_hours(run, step, event)
        case RouteStep():
            return connect.on_route(run, step, event)
        case VoicemailStep():
            return connect.on_voicemail(run, step, event)
        case CallbackStep():
            return inputs.on_callback(run, step, event)
        case TransferStep():
            return connect.on_transfer(run, step, event)
        case SayStep() | HangupStep() | BranchStep():
            # These never wait, so the call cannot normally rest on them: re-enter.
            return _enter(run, step)
