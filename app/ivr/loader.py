"""Loading and checking the flow files of a folder, and picking the flow for a number."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from app.ivr.parse import parse_flow
from app.ivr.problems import FlowError, Problem, errors
from app.ivr.schema import Flow
from app.ivr.validate import validate

_PUNCTUATION = re.compile(r"[\s().\-]")


def check_flow_text(
    text: str, file: str = "<flow>", known_teams: set[str] | None = None
) -> tuple[Flow | None, list[Problem]]:
    """Parse and check one flow's YAML text: the flow (None if it has errors) and problems."""
    parsed = parse_flow(text, file)
    problems = sorted([*parsed.problems, *validate(parsed, known_teams)])
    return (None if errors(problems) else parsed.flow), problems


def _check_file(path: Path, known_teams: set[str] | None) -> tuple[Flow | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(str(path), 0, "error", f"cannot read the file: {exc}")]
    return check_flow_text(text, str(path), known_teams)


def load_flow(path: str | Path, known_teams: set[str] | None = None) -> Flow:
    """Load one flow file; raise FlowError listing every problem if it has errors."""
    flow, problems = _check_file(Path(path), known_teams)
    if flow is None:
        raise FlowError(problems)
    return flow


def _flow_files(directory: Path) -> list[Path]:
    found = [*directory.glob("*.yaml"), *directory.glob("*.yml")]
    return sorted(path for path in found if path.is_file() and not path.name.startswith("."))


def _check_directory(
    directory: str | Path, known_teams: set[str] | None
) -> tuple[dict[str, Flow], list[Problem]]:
    folder = Path(directory)
    if not folder.exists():
        return {}, [Problem(str(folder), 0, "error", "the folder does not exist")]
    if not folder.is_dir():
        return {}, [Problem(str(folder), 0, "error", "not a folder (give the flows' folder)")]
    files = _flow_files(folder)
    if not files:
        return {}, [Problem(str(folder), 0, "error", "no flow files (*.yaml or *.yml) found here")]
    flows: list[Flow] = []
    problems: list[Problem] = []
    for path in files:
        flow, found = _check_file(path, known_teams)
        problems += found
        if flow is not None:
            flows.append(flow)
    problems += _check_together(flows)
    return {flow.name: flow for flow in flows}, sorted(problems)


def _check_together(flows: Iterable[Flow]) -> list[Problem]:
    """Problems between flows: a name, a number or the default claimed twice."""
    problems: list[Problem] = []
    names: dict[str, Flow] = {}
    numbers: dict[str, Flow] = {}
    default: Flow | None = None
    for flow in flows:
        if flow.name in names:
            other = names[flow.name].file
            message = f"flow name '{flow.name}' is already used by {other}"
            problems.append(Problem(flow.file, flow.lines.get("name", 0), "error", message))
        names.setdefault(flow.name, flow)
        for index, number in enumerate(flow.numbers):
            if number in numbers:
                owner = numbers[number]
                message = f"number {number} is already answered by flow '{owner.name}'"
                message += f" ({owner.file})"
                line = flow.lines.get(f"numbers.{index}", 0)
                problems.append(Problem(flow.file, line, "error", message))
            numbers.setdefault(number, flow)
        if flow.default:
            if default is not None:
                message = f"flow '{default.name}' ({default.file}) is already the default flow"
                problems.append(Problem(flow.file, flow.lines.get("default", 0), "error", message))
            default = default or flow
    return problems


def load_flows(directory: str | Path, known_teams: set[str] | None = None) -> dict[str, Flow]:
    """Load every flow in a folder by name; raise FlowError if any file has errors."""
    flows, problems = _check_directory(directory, known_teams)
    if errors(problems):
        raise FlowError(problems)
    return flows


def check_flows(directory: str | Path, known_teams: set[str] | None = None) -> list[Problem]:
    """Every problem (errors and warnings) in a folder's flows, sorted by file and line."""
    return _check_directory(directory, known_teams)[1]


def flows_for_number(flows: Mapping[str, Flow], to: str) -> Flow | None:
    """The flow answering a called number: the one listing it, else the default flow."""
    wanted = _PUNCTUATION.sub("", to)
    if wanted and not wanted.startswith("+"):
        wanted = "+" + wanted
    default: Flow | None = None
    for flow in flows.values():
        if wanted in flow.numbers:
            return flow
        if flow.default and default is None:
            default = flow
    return default
