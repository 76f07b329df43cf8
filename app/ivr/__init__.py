"""IVR flows: the YAML format, its loader/validator, and the pure step engine.

Nothing here talks to Twilio, a database or a clock: the telephony layer feeds events to
`advance` and turns the returned Turn into TwiML (see docs/ivr-flows.md for flows).
"""

from app.ivr.actions import (
    Action,
    CheckHours,
    Gather,
    Hangup,
    LookupAccount,
    OrderedTeam,
    Play,
    Prompt,
    PromptItem,
    Record,
    Route,
    RouteOrder,
    Transfer,
    fill_queue_placeholders,
    is_query,
)
from app.ivr.engine import advance, new_call, route_order, route_steps
from app.ivr.events import (
    AccountInfo,
    Digits,
    Event,
    HoursResult,
    LookupResult,
    NoInput,
    RecordingDone,
    RouteResult,
    Speech,
    Start,
    TransferResult,
)
from app.ivr.loader import check_flow_text, check_flows, flows_for_number, load_flow, load_flows
from app.ivr.problems import FlowError, Problem
from app.ivr.run import Turn
from app.ivr.schema import Flow
from app.ivr.state import CallState, PathEntry, RouteProgress

__all__ = [
    "AccountInfo",
    "Action",
    "CallState",
    "CheckHours",
    "Digits",
    "Event",
    "Flow",
    "FlowError",
    "Gather",
    "Hangup",
    "HoursResult",
    "LookupAccount",
    "LookupResult",
    "NoInput",
    "OrderedTeam",
    "PathEntry",
    "Play",
    "Problem",
    "Prompt",
    "PromptItem",
    "Record",
    "RecordingDone",
    "Route",
    "RouteOrder",
    "RouteProgress",
    "RouteResult",
    "Speech",
    "Start",
    "Transfer",
    "TransferResult",
    "Turn",
    "advance",
    "check_flow_text",
    "check_flows",
    "fill_queue_placeholders",
    "flows_for_number",
    "is_query",
    "load_flow",
    "load_flows",
    "new_call",
    "route_order",
    "route_steps",
]
