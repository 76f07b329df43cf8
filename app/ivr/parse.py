"""Turning one flow file's YAML into a Flow, reporting shape problems with their lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode

from app.ivr.parse_parts import (
    StepFields,
    read_cases,
    read_language_options,
    read_menu_options,
)
from app.ivr.problems import Problem, errors
from app.ivr.schema import (
    INPUT_MODES,
    STEP_KINDS,
    STRATEGIES,
    VOICE_LANGUAGES,
    BranchStep,
    CallbackStep,
    Choice,
    Flow,
    HangupStep,
    HoursStep,
    IdentifyStep,
    InputMode,
    LanguageStep,
    MenuStep,
    RouteStep,
    SayStep,
    Step,
    Strategy,
    TransferStep,
    Voice,
    VoicemailStep,
    frozen_map,
)
from app.ivr.yamlnodes import Entry, Reader, compose, join, line_of, suggest

CALLBACK_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
SAY_LANGUAGE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")

TOP_FIELDS = ("name", "numbers", "default", "languages", "default_language", "start", "steps")
_GATHER = ("prompt", "retry_prompt", "options", "input", "timeout", "retries")
_MISSES = ("no_input", "invalid", "fallback")
_IDENTIFY = ("prompt", "retry_prompt", "greeting", "unknown_prompt", "retries", "timeout", "next")
_ROUTE = ("prompt", "hold_prompt", "team", "skill", "strategy", "batch_size", "ring_timeout")
_QUEUE_CALLBACK = ("callback", "callback_prompt", "callback_key")
# kind -> (allowed fields besides `kind`, required fields)
STEP_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "say": (("prompt", "next"), ("prompt", "next")),
    "menu": ((*_GATHER, *_MISSES), ("prompt", "options")),
    "language": ((*_GATHER, *_MISSES, "next"), ("options", "next")),
    "identify": (
        (*_IDENTIFY, "on_match", "on_unknown"),
        ("prompt", "next"),
    ),
    "hours": (("team", "open", "closed", "holiday", "overflow"), ("team", "open", "closed")),
    "route": (
        (*_ROUTE, "max_attempts", "max_wait", "overflow", "fallback", *_QUEUE_CALLBACK),
        ("team", "fallback"),
    ),
    "voicemail": (("prompt", "max_length", "transcribe", "next"), ("prompt", "next")),
    "callback": (
        ("prompt", "retry_prompt", "done_prompt", "retries", "timeout", "next"),
        ("prompt", "next"),
    ),
    "transfer": (("prompt", "number", "fallback"), ("number",)),
    "hangup": (("prompt",), ()),
    "branch": (("when", "else"), ("when", "else")),
}
_INPUT_MODES: dict[str, InputMode] = {mode: mode for mode in INPUT_MODES}
_STRATEGIES: dict[str, Strategy] = {name: name for name in STRATEGIES}


@dataclass(frozen=True)
class Parsed:
    """A parsed file: the flow (None if its top level is unusable) and its problems."""

    flow: Flow | None
    step_names: frozenset[str]  # every step the file names, including broken ones
    complete: bool  # the top level and every step parsed without errors
    problems: tuple[Problem, ...]


def parse_flow(text: str, file: str) -> Parsed:
    """Parse one flow file's text; shape problems only (see validate for the rest)."""
    root, problems = compose(text, file)
    if root is None:
        problems = problems or [Problem(file, 0, "error", "the file is empty")]
        return Parsed(None, frozenset(), False, tuple(problems))
    reader = Reader(file)
    top = reader.mapping(root, "the flow file")
    if top is None:
        return Parsed(None, frozenset(), False, tuple(reader.problems))
    reader.fields(top, 1, "the flow", "", TOP_FIELDS, ("name", "languages", "start", "steps"))
    fields = StepFields(reader, top, "the flow", "")
    languages = _languages(reader, top.get("languages"))
    default_language = fields.text("default_language") or next(iter(languages), "en")
    if languages and default_language not in languages:
        declared = ", ".join(languages)
        message = f"default_language '{default_language}' is not in languages ({declared})"
        reader.report(top["default_language"].line, message)
    numbers = _numbers(reader, top.get("numbers"))
    name, start = fields.text("name"), fields.text("start")
    is_default = fields.boolean("default", False)
    top_ok = not errors(reader.problems)
    steps, step_names = _steps(reader, top.get("steps"))
    flow = Flow(
        name=name or "",
        numbers=numbers,
        default=is_default,
        languages=frozen_map(languages),
        default_language=default_language,
        start=start or "",
        steps=frozen_map(steps),
        file=file,
        lines=frozen_map(reader.lines),
    )
    complete = top_ok and not errors(reader.problems)
    return Parsed(flow if top_ok else None, step_names, complete, tuple(reader.problems))


def _languages(reader: Reader, entry: Entry | None) -> dict[str, Voice]:
    if entry is None:
        return {}
    found: dict[str, Voice] = {}
    entries = reader.mapping(entry.value, "'languages'")
    if entries is not None and not entries:
        reader.report(entry.line, "'languages' is empty; declare at least one language")
    for code, item in (entries or {}).items():
        path = join("languages", code)
        reader.lines[path] = item.line
        if not LANGUAGE_CODE.fullmatch(code):
            reader.report(item.line, f"'{code}' is not a language code like en, ja or pt-BR")
            continue
        voice = _voice(reader, code, item.value, path, item.line)
        if voice is not None:
            found[code] = voice
    return found


def _voice(reader: Reader, code: str, node: Node, path: str, line: int) -> Voice | None:
    what = f"language '{code}'"
    voice_node, language_node = node, None
    if isinstance(node, MappingNode):
        entries = reader.mapping(node, what) or {}
        reader.fields(entries, line, what, path, ("voice", "say_language"), ("voice",))
        if "voice" not in entries:
            return None
        voice_node = entries["voice"].value
        language_node = entries["say_language"].value if "say_language" in entries else None
    voice = reader.text(voice_node, f"{what}: voice")
    if voice is None:
        return None
    if voice not in VOICE_LANGUAGES:
        hint = suggest(voice, VOICE_LANGUAGES) or " (see docs/ivr-flows.md for the list)"
        reader.report(line_of(voice_node), f"{what}: unknown voice '{voice}'{hint}")
        return None
    spoken = VOICE_LANGUAGES[voice]
    if language_node is None:
        if spoken is None:
            message = f"{what}: voice '{voice}' needs a say_language, like en-US"
            reader.report(line_of(voice_node), message)
            return None
        return Voice(voice, spoken)
    say_language = reader.text(language_node, f"{what}: say_language")
    if say_language is None:
        return None
    if not SAY_LANGUAGE.fullmatch(say_language):
        message = f"{what}: say_language '{say_language}' should look like en-US or ja-JP"
        reader.report(line_of(language_node), message)
        return None
    if spoken is not None and spoken != say_language:
        message = f"{what}: voice '{voice}' speaks {spoken}, not {say_language}"
        reader.report(line_of(language_node), message, "warning")
    return Voice(voice, say_language)


def _numbers(reader: Reader, entry: Entry | None) -> tuple[str, ...]:
    if entry is None:
        return ()
    if isinstance(entry.value, ScalarNode) and entry.value.value in ("", "[]"):
        return ()
    found: list[str] = []
    for index, number in enumerate(reader.texts(entry.value, "'numbers'", "numbers")):
        line = reader.lines.get(join("numbers", str(index)), entry.line)
        if not E164.fullmatch(number):
            reader.report(line, f"number '{number}' is not in E.164 form, like +14155550100")
        elif number in found:
            reader.report(line, f"number '{number}' is listed twice")
        else:
            found.append(number)
    return tuple(found)


def _steps(reader: Reader, entry: Entry | None) -> tuple[dict[str, Step], frozenset[str]]:
    if entry is None:
        return {}, frozenset()
    entries = reader.mapping(entry.value, "'steps'")
    if entries is not None and not entries:
        reader.report(entry.line, "'steps' is empty; a flow needs at least one step")
    steps: dict[str, Step] = {}
    for name, item in (entries or {}).items():
        reader.lines[join("steps", name)] = item.line
        before = len(errors(reader.problems))
        step = _step(reader, name, item)
        if step is not None and len(errors(reader.problems)) == before:
            steps[name] = step
    return steps, frozenset(entries or {})


def _step(reader: Reader, name: str, item: Entry) -> Step | None:
    what, path = f"step '{name}'", join("steps", name)
    entries = reader.mapping(item.value, what)
    if entries is None:
        return None
    kinds = ", ".join(STEP_KINDS)
    if "kind" not in entries:
        reader.report(item.line, f"{what} has no 'kind' (one of: {kinds})")
        return None
    kind = reader.text(entries["kind"].value, f"{what}: 'kind'")
    if kind is None:
        return None
    if kind not in STEP_FIELDS:
        hint = suggest(kind, STEP_KINDS) or f" (use one of: {kinds})"
        reader.report(entries["kind"].line, f"{what} has an unknown kind '{kind}'{hint}")
        return None
    allowed, required = STEP_FIELDS[kind]
    reader.fields(entries, item.line, what, path, ("kind", *allowed), required)
    return _build(kind, StepFields(reader, entries, what, path))


def _build(kind: str, f: StepFields) -> Step:
    if kind == "say":
        return SayStep(f.prompt("prompt"), f.text("next") or "")
    if kind in ("menu", "language"):
        return _gather_step(kind, f)
    if kind == "identify":
        return IdentifyStep(
            prompt=f.prompt("prompt"),
            next=f.text("next") or "",
            retry_prompt=f.prompt("retry_prompt"),
            greeting=f.prompt("greeting"),
            unknown_prompt=f.prompt("unknown_prompt"),
            retries=f.integer("retries", 1, 0, 5),
            timeout=f.integer("timeout", 10, 1, 60),
            on_match=f.text("on_match"),
            on_unknown=f.text("on_unknown"),
        )
    if kind == "hours":
        return HoursStep(
            _team(f),
            f.text("open") or "",
            f.text("closed") or "",
            holiday=f.text("holiday"),
            overflow=f.texts("overflow"),
        )
    if kind == "route":
        return _route_step(f)
    if kind == "voicemail":
        return VoicemailStep(
            prompt=f.prompt("prompt"),
            next=f.text("next") or "",
            max_length=f.integer("max_length", 120, 1, 3600),
            transcribe=f.boolean("transcribe", True),
        )
    if kind == "callback":
        return CallbackStep(
            prompt=f.prompt("prompt"),
            next=f.text("next") or "",
            retry_prompt=f.prompt("retry_prompt"),
            done_prompt=f.prompt("done_prompt"),
            retries=f.integer("retries", 1, 0, 5),
            timeout=f.integer("timeout", 10, 1, 60),
        )
    if kind == "transfer":
        number = f.text("number") or ""
        if number and not E164.fullmatch(number):
            line = f.entries["number"].line
            f.reader.report(line, f"{f.what}: number '{number}' is not in E.164 form")
        return TransferStep(number, f.prompt("prompt"), f.text("fallback"))
    if kind == "hangup":
        return HangupStep(f.prompt("prompt"))
    cases = read_cases(f.reader, f.node("when"), f.what, join(f.path, "when"), "next")
    return BranchStep(Choice(cases or (), f.text("else") or ""))


def _gather_step(kind: str, f: StepFields) -> Step:
    input_mode = _INPUT_MODES[f.word("input", INPUT_MODES, "digits")]
    timeout = f.integer("timeout", 5, 1, 60)
    retries = f.integer("retries", 2, 0, 5)
    # `fallback` stands in for whichever of no_input / invalid is not given.
    fallback = f.text("fallback")
    for miss in ("no_input", "invalid"):
        if miss not in f.entries and "fallback" in f.entries:
            f.reader.lines[join(f.path, miss)] = f.entries["fallback"].line
    no_input = f.text("no_input") or fallback
    invalid = f.text("invalid") or fallback
    options_node = f.node("options")
    options_path = join(f.path, "options")
    if kind == "language":
        return LanguageStep(
            options=tuple(
                read_language_options(f.reader, options_node, f.what, options_path)
                if options_node is not None
                else ()
            ),
            next=f.text("next") or "",
            prompt=f.prompt("prompt"),
            no_input=no_input,
            invalid=invalid,
            input=input_mode,
            timeout=timeout,
            retries=retries,
            retry_prompt=f.prompt("retry_prompt"),
        )
    options = (
        read_menu_options(f.reader, options_node, f.what, options_path)
        if options_node is not None
        else []
    )
    return MenuStep(
        prompt=f.prompt("prompt"),
        options=tuple(options),
        no_input=no_input,
        invalid=invalid,
        input=input_mode,
        timeout=timeout,
        retries=retries,
        retry_prompt=f.prompt("retry_prompt"),
    )


def _route_step(f: StepFields) -> RouteStep:
    strategy = _STRATEGIES[f.word("strategy", STRATEGIES, "longest_idle")]
    return RouteStep(
        team=_team(f),
        fallback=f.text("fallback") or "",
        overflow=f.texts("overflow"),
        skill=f.text("skill"),
        strategy=strategy,
        batch_size=f.integer("batch_size", 2, 1, 10),
        ring_timeout=f.integer("ring_timeout", 20, 5, 120),
        max_attempts=f.integer("max_attempts", 3, 1, 20),
        max_wait=f.integer("max_wait", 180, 0, 3600),
        prompt=f.prompt("prompt"),
        hold_prompt=f.prompt("hold_prompt"),
        callback=f.text("callback"),
        callback_prompt=f.prompt("callback_prompt"),
        callback_key=f.word("callback_key", CALLBACK_KEYS, "1"),
    )


def _team(f: StepFields) -> Choice:
    return f.team("team") or Choice((), "")
