"""Typed reading of a composed YAML node tree, recording lines and problems as it goes.

Reading nodes rather than constructed Python values keeps every key's line, keeps
scalars as written (`+15550100` stays a phone number, key `1` stays the string "1",
language `no` is not `False`) and catches duplicate keys, which PyYAML silently merges.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.ivr.problems import Problem, Severity

_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_CONSTRUCT = yaml.constructor.SafeConstructor()


def line_of(node: Node) -> int:
    """1-based line where a node starts."""
    return int(node.start_mark.line) + 1


def compose(text: str, file: str) -> tuple[Node | None, list[Problem]]:
    """Parse YAML text into a node tree, or report the parser's error and line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else 0
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        return None, [Problem(file, line, "error", f"bad YAML: {detail}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, 0, "error", f"bad YAML: {exc}")]


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a set of `key: value` lines"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"'{node.value}'"


@dataclass(frozen=True)
class Entry:
    """One `key: value` of a mapping, with the key's line."""

    key: str
    line: int
    value: Node


class Reader:
    """Reads values of expected types from nodes, collecting problems and key lines."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.lines: dict[str, int] = {}

    def report(self, line: int, message: str, severity: Severity = "error") -> None:
        """Record a problem at a line."""
        self.problems.append(Problem(self.file, line, severity, message))

    def mapping(self, node: Node, what: str) -> dict[str, Entry] | None:
        """Read a mapping's entries in file order, rejecting duplicates and odd keys."""
        if not isinstance(node, MappingNode):
            message = f"{what} should be a set of `key: value` lines, not {_describe(node)}"
            self.report(line_of(node), message)
            return None
        entries: dict[str, Entry] = {}
        for key_node, value in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _NULL:
                self.report(line_of(key_node), f"{what} has a key that is not a plain name")
                continue
            key = str(key_node.value)
            if key in entries:
                first = entries[key].line
                self.report(line_of(key_node), f"{what}: '{key}' appears twice (also line {first})")
                continue
            entries[key] = Entry(key, line_of(key_node), value)
        return entries

    def fields(
        self,
        entries: dict[str, Entry],
        line: int,
        what: str,
        path: str,
        allowed: Collection[str],
        required: Iterable[str] = (),
    ) -> None:
        """Record key lines under `path`; report unknown fields, and missing ones at `line`."""
        for entry in entries.values():
            self.lines[join(path, entry.key)] = entry.line
            if entry.key not in allowed:
                hint = suggest(entry.key, allowed)
                self.report(entry.line, f"{what}: unknown field '{entry.key}'{hint}")
        for name in required:
            if name not in entries:
                self.report(line, f"{what} is missing the required field '{name}'")

    def text(self, node: Node, what: str) -> str | None:
        """Read a non-empty scalar exactly as written."""
        if not isinstance(node, ScalarNode):
            self.report(line_of(node), f"{what} should be a single value, not {_describe(node)}")
            return None
        value = str(node.value).strip()
        if node.tag == _NULL or not value:
            self.report(line_of(node), f"{what} is empty")
            return None
        return value

    def choice(self, node: Node, what: str, allowed: Collection[str]) -> str | None:
        """Read a scalar that must be one of a few words."""
        value = self.text(node, what)
        if value is not None and value not in allowed:
            options = ", ".join(allowed)
            self.report(line_of(node), f"{what} is '{value}'; it must be one of: {options}")
            return None
        return value

    def integer(self, node: Node, what: str, low: int, high: int) -> int | None:
        """Read a whole number between low and high."""
        if not isinstance(node, ScalarNode) or node.tag != _INT:
            self.report(line_of(node), f"{what} should be a whole number, not {_describe(node)}")
            return None
        value = int(_CONSTRUCT.construct_yaml_int(node))
        if not low <= value <= high:
            self.report(line_of(node), f"{what} is {value}; it must be from {low} to {high}")
            return None
        return value

    def boolean(self, node: Node, what: str) -> bool | None:
        """Read true or false."""
        if not isinstance(node, ScalarNode) or node.tag != _BOOL:
            self.report(line_of(node), f"{what} should be true or false, not {_describe(node)}")
            return None
        return bool(_CONSTRUCT.construct_yaml_bool(node))

    def sequence(self, node: Node, what: str) -> list[Node] | None:
        """Read a list's items."""
        if not isinstance(node, SequenceNode):
            self.report(line_of(node), f"{what} should be a list, not {_describe(node)}")
            return None
        return list(node.value)

    def texts(self, node: Node, what: str, path: str) -> list[str]:
        """Read one value or a list of values, recording each item's line."""
        if isinstance(node, ScalarNode):
            value = self.text(node, what)
            self.lines[join(path, "0")] = line_of(node)
            return [value] if value is not None else []
        items = self.sequence(node, what) or []
        found: list[str] = []
        for index, item in enumerate(items):
            self.lines[join(path, str(index))] = line_of(item)
            value = self.text(item, what)
            if value is not None:
                found.append(value)
        return found


def join(path: str, key: str) -> str:
    """Dotted key path of `key` under `path` ("" is the top level)."""
    return f"{path}.{key}" if path else key


def suggest(word: str, known: Iterable[str]) -> str:
    """A ' (did you mean ...?)' hint for a misspelt name, or ''."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
