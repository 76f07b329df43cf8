"""Property tests: the engine is total, and every call reaches an end."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ivr import (
    AccountInfo,
    CallState,
    CheckHours,
    Digits,
    Event,
    Flow,
    Gather,
    Hangup,
    HoursResult,
    LookupAccount,
    LookupResult,
    NoInput,
    Record,
    RecordingDone,
    Route,
    RouteResult,
    Speech,
    Start,
    Transfer,
    TransferResult,
    Turn,
    advance,
)
from app.ivr.events import ROUTE_OUTCOMES

from .flowkit import EVERYTHING, NOW, flow_from_text, is_ending, roundtrip, support_flow

SUPPORT = support_flow()
EVERY_KIND = flow_from_text(EVERYTHING, {"support-en", "support-fr"})
FLOWS = st.sampled_from([SUPPORT, EVERY_KIND])
ACTIONS = (Gather, LookupAccount, CheckHours, Route, Record, Transfer, Hangup)
# Most caller inputs each flow can take before its IVR part must be over (see below).
SUPPORT_INPUT_BUDGET = 11

phone = st.one_of(
    st.just("+14155550100"),
    st.just("anonymous"),
    st.just(""),
    st.from_regex(r"\+?[0-9]{3,16}", fullmatch=True),
)
accounts = st.lists(
    st.builds(
        AccountInfo,
        id=st.text(min_size=1, max_size=8),
        name=st.text(max_size=20),
        tier=st.sampled_from(["standard", "paid"]),
        number=st.one_of(st.none(), phone),
    ),
    max_size=3,
)
times = st.one_of(st.none(), st.just(NOW))
caller_inputs = st.one_of(
    st.builds(Digits, st.text(alphabet="0123456789*#", max_size=6), times),
    st.builds(Digits, st.text(max_size=6), times),
    st.builds(
        Speech,
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(["billing", "paiement", "API", "2", "français", "その他"]),
        ),
        st.floats(allow_nan=True),
        times,
    ),
    st.builds(NoInput, times),
)
answers = st.one_of(
    st.builds(LookupResult, accounts, times),
    st.builds(HoursResult, st.booleans(), times),
    st.builds(
        RouteResult,
        st.sampled_from(ROUTE_OUTCOMES),
        st.one_of(st.none(), st.text(max_size=5)),
        times,
    ),
    st.builds(RecordingDone, st.text(max_size=20), st.integers(-5, 500), times),
    st.builds(TransferResult, st.booleans(), times),
)
starts = st.builds(Start, phone, phone, times)
any_event = st.one_of(caller_inputs, answers, starts)


def check_turn(turn: Turn) -> CallState:
    """A well-formed turn: one action of a known kind, a state that survives JSON."""
    assert isinstance(turn, Turn)
    assert isinstance(turn.action, ACTIONS)
    if isinstance(turn.action, LookupAccount | CheckHours):
        assert turn.prompts == ()
    return roundtrip(turn.state)


@settings(max_examples=300, deadline=None)
@given(FLOWS, starts, st.lists(any_event, max_size=40))
def test_any_events_in_any_order_always_give_one_action(
    flow: Flow, start: Start, events: list[Event]
) -> None:
    first = advance(flow, None, start)
    # Neither flow ends the call at once: an engine that always hung up would fail here.
    assert not is_ending(first.action), first.action
    state = check_turn(first)
    for event in events:
        turn = advance(flow, state, event)
        state = check_turn(turn)
        if is_ending(turn.action):
            # Once the call has ended, nothing more happens on it.
            assert is_ending(advance(flow, state, event).action)


@settings(max_examples=300, deadline=None)
@given(starts, st.lists(st.one_of(caller_inputs, answers), min_size=60, max_size=80))
def test_a_call_on_the_support_line_ends_within_a_bounded_number_of_inputs(
    start: Start, events: list[Event]
) -> None:
    # Budget: language menu 3 (retries 2), identify 5 (a lost caller-ID lookup 1, then two
    # attempts of typing plus a lost lookup answer), topic menu 3. Answers never add inputs.
    turn = advance(SUPPORT, None, start)
    inputs = 0
    for event in events:
        if is_ending(turn.action):
            break
        if isinstance(event, Digits | Speech | NoInput):
            inputs += 1
        turn = advance(SUPPORT, roundtrip(turn.state), event)
    else:
        assert is_ending(turn.action) or inputs < SUPPORT_INPUT_BUDGET, inputs
    if is_ending(turn.action):
        assert inputs <= SUPPORT_INPUT_BUDGET, inputs
