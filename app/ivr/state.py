"""A call's progress through its flow, stored between webhooks as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from app.ivr.actions import Play, Prompt, PromptItem
from app.ivr.events import AccountInfo
from app.ivr.schema import frozen_map

Stage = Literal[
    "",  # entering the step
    "gather",  # waiting for caller input
    "lookup_caller",  # waiting for LookupResult (caller ID)
    "lookup_number",  # waiting for LookupResult (typed account number)
    "hours",  # waiting for HoursResult
    "ringing",  # waiting for RouteResult
    "recording",  # waiting for RecordingDone
    "transferring",  # waiting for TransferResult
    "ended",  # the call is over
]
STAGES: tuple[Stage, ...] = (
    "",
    "gather",
    "lookup_caller",
    "lookup_number",
    "hours",
    "ringing",
    "recording",
    "transferring",
    "ended",
)
MAX_PATH = 200  # keep the stored state small on very long calls


@dataclass(frozen=True)
class PathEntry:
    """One step entered or one input/result received, with the driver's timestamp."""

    step: str
    input: str | None = None
    at: str | None = None


@dataclass(frozen=True)
class RouteProgress:
    """Where a route step is: the teams to try, which one now, batches rung there."""

    teams: tuple[str, ...]
    index: int = 0
    attempts: int = 0


@dataclass(frozen=True)
class CallState:
    """Everything the engine needs to continue a call on the next webhook."""

    flow: str
    step: str
    language: str
    stage: Stage = ""
    retries: int = 0
    caller_number: str = ""
    called_number: str = ""
    account: AccountInfo | None = None
    account_number: str | None = None  # last number typed at an identify step
    topic: str | None = None
    variables: Mapping[str, str] = field(default_factory=lambda: frozen_map({}))
    route: RouteProgress | None = None
    callback_number: str | None = None
    pending: tuple[PromptItem, ...] = ()  # prompts waiting for the next non-query action
    # What the call went through, as the engine adds to it. The webhook driver logs each
    # entry as a row of the call's path and stores the state without them.
    path: tuple[PathEntry, ...] = ()

    def evolved(self, **changes: Any) -> CallState:
        """A copy with `changes`, as `dataclasses.replace` makes it, in a fifth of its time
        (the engine makes about ten per webhook): the fields are copied, not passed through
        `__init__` one frozen `setattr` at a time. CallState has no `__post_init__` and no
        field that `__init__` computes, so the two copies are the same (tests hold them so).
        """
        unknown = changes.keys() - _FIELD_NAMES
        if unknown:
            raise TypeError(f"CallState has no field {sorted(unknown)[0]!r}")
        copy = object.__new__(CallState)
        fields_of_copy = copy.__dict__
        fields_of_copy.update(self.__dict__)
        fields_of_copy.update(changes)
        return copy

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (see from_dict)."""
        account = self.account
        route = self.route
        return {
            "flow": self.flow,
            "step": self.step,
            "language": self.language,
            "stage": self.stage,
            "retries": self.retries,
            "caller_number": self.caller_number,
            "called_number": self.called_number,
            "account": None
            if account is None
            else {
                "id": account.id,
                "name": account.name,
                "tier": account.tier,
                "number": account.number,
            },
            "account_number": self.account_number,
            "topic": self.topic,
            "variables": dict(self.variables),
            "route": None
            if route is None
            else {"teams": list(route.teams), "index": route.index, "attempts": route.attempts},
            "callback_number": self.callback_number,
            "pending": [_prompt_dict(item) for item in self.pending],
            "path": [{"step": e.step, "input": e.input, "at": e.at} for e in self.path],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallState:
        """Rebuild a state from to_dict output; raise ValueError on malformed data."""
        read = _Fields(data, "state")
        account = read.optional_map("account")
        route = read.optional_map("route")
        stage = read.text("stage")
        if stage not in STAGES:
            raise ValueError(f"state: unknown stage {stage!r}")
        tier = _Fields(account, "account").text("tier") if account is not None else "standard"
        return cls(
            flow=read.text("flow"),
            step=read.text("step"),
            language=read.text("language"),
            stage=_STAGE_BY_NAME[stage],
            retries=read.number("retries"),
            caller_number=read.text("caller_number"),
            called_number=read.text("called_number"),
            account=None if account is None else _account(account, tier),
            account_number=read.optional_text("account_number"),
            topic=read.optional_text("topic"),
            variables=frozen_map(read.text_map("variables")),
            route=None if route is None else _route(route),
            callback_number=read.optional_text("callback_number"),
            pending=tuple(_prompt(item) for item in read.maps("pending")),
            path=tuple(_path_entry(item) for item in read.maps("path")),
        )


_STAGE_BY_NAME: dict[str, Stage] = {stage: stage for stage in STAGES}
_FIELD_NAMES = frozenset(f.name for f in fields(CallState))


def _prompt_dict(item: PromptItem) -> dict[str, str]:
    if isinstance(item, Play):
        return {"play": item.url}
    return {
        "text": item.text,
        "language": item.language,
        "voice": item.voice,
        "say_language": item.say_language,
    }


def _prompt(data: Mapping[str, Any]) -> PromptItem:
    read = _Fields(data, "prompt")
    if "play" in data:
        return Play(read.text("play"))
    return Prompt(
        read.text("text"), read.text("language"), read.text("voice"), read.text("say_language")
    )


def _account(data: Mapping[str, Any], tier: str) -> AccountInfo:
    read = _Fields(data, "account")
    if tier not in ("standard", "paid"):
        raise ValueError(f"account: unknown tier {tier!r}")
    paid_or_standard: Literal["standard", "paid"] = "paid" if tier == "paid" else "standard"
    return AccountInfo(
        read.text("id"), read.text("name"), paid_or_standard, read.optional_text("number")
    )


def _route(data: Mapping[str, Any]) -> RouteProgress:
    read = _Fields(data, "route")
    teams = read.value("teams", list)
    if not all(isinstance(team, str) for team in teams):
        raise ValueError("route: teams must be strings")
    return RouteProgress(tuple(teams), read.number("index"), read.number("attempts"))


def _path_entry(data: Mapping[str, Any]) -> PathEntry:
    read = _Fields(data, "path")
    return PathEntry(read.text("step"), read.optional_text("input"), read.optional_text("at"))


class _Fields:
    """Typed access to one dict of stored state, with clear errors."""

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, Mapping):
            raise ValueError(f"{what}: expected an object, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        self.what = what

    def value(self, key: str, kind: type[Any]) -> Any:
        if key not in self.data:
            raise ValueError(f"{self.what}: missing {key!r}")
        found = self.data[key]
        if not isinstance(found, kind) or (kind is int and isinstance(found, bool)):
            raise ValueError(f"{self.what}: {key!r} should be {kind.__name__}")
        return found

    def text(self, key: str) -> str:
        return str(self.value(key, str))

    def number(self, key: str) -> int:
        return int(self.value(key, int))

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)

    def optional_map(self, key: str) -> Mapping[str, Any] | None:
        return None if self.data.get(key) is None else self.value(key, Mapping)

    def maps(self, key: str) -> list[Mapping[str, Any]]:
        items = self.value(key, list)
        if not all(isinstance(item, Mapping) for item in items):
            raise ValueError(f"{self.what}: {key!r} should be a list of objects")
        return list(items)

    def text_map(self, key: str) -> dict[str, str]:
        found = self.value(key, Mapping)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in found.items()):
            raise ValueError(f"{self.what}: {key!r} should map names to strings")
        return dict(found)
