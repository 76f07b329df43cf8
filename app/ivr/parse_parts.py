"""Reading the parts steps are made of: prompts, options, conditions, team choices."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.ivr.schema import (
    ANY_LANGUAGE,
    TIERS,
    Audio,
    Case,
    Choice,
    Condition,
    LanguageOption,
    MenuOption,
    PromptPart,
    PromptSpec,
    Text,
    frozen_map,
)
from app.ivr.yamlnodes import Entry, Reader, join, line_of

MENU_KEY = re.compile(r"[0-9*]")
VARIABLE = re.compile(r"[a-z_][a-z0-9_]*")
URL = re.compile(r"https?://\S+")
CONDITION_FIELDS = ("tier", "language", "topic")


class StepFields:
    """Reads the fields of one mapping (a step, an option) with defaults on problems."""

    def __init__(self, reader: Reader, entries: dict[str, Entry], what: str, path: str) -> None:
        self.reader = reader
        self.entries = entries
        self.what = what
        self.path = path

    def node(self, name: str) -> Node | None:
        """The value node of a field, if present."""
        entry = self.entries.get(name)
        return entry.value if entry else None

    def _label(self, name: str) -> str:
        return f"{self.what}: '{name}'"

    def text(self, name: str) -> str | None:
        """A plain value, or None when absent or bad."""
        node = self.node(name)
        return None if node is None else self.reader.text(node, self._label(name))

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """A whole number within bounds, or the default."""
        node = self.node(name)
        value = None if node is None else self.reader.integer(node, self._label(name), low, high)
        return default if value is None else value

    def boolean(self, name: str, default: bool) -> bool:
        """True or false, or the default."""
        node = self.node(name)
        value = None if node is None else self.reader.boolean(node, self._label(name))
        return default if value is None else value

    def word(self, name: str, allowed: Collection[str], default: str) -> str:
        """One of a few words, or the default."""
        node = self.node(name)
        value = None if node is None else self.reader.choice(node, self._label(name), allowed)
        return default if value is None else value

    def texts(self, name: str) -> tuple[str, ...]:
        """One value or a list of values."""
        node = self.node(name)
        if node is None:
            return ()
        return tuple(self.reader.texts(node, self._label(name), join(self.path, name)))

    def prompt(self, name: str) -> PromptSpec:
        """A prompt field (empty when absent)."""
        node = self.node(name)
        if node is None:
            return ()
        return read_prompt(self.reader, node, self._label(name), join(self.path, name))

    def team(self, name: str) -> Choice | None:
        """A team name, or `when:` cases choosing one with an `else:`."""
        node = self.node(name)
        if node is None:
            return None
        if isinstance(node, ScalarNode):
            value = self.reader.text(node, self._label(name))
            return None if value is None else Choice((), value)
        return read_choice(self.reader, node, self._label(name), join(self.path, name), "team")


def read_prompt(reader: Reader, node: Node, what: str, path: str) -> PromptSpec:
    """A prompt: text, `lang: text` lines, `play: URL`, or a list of those."""
    if isinstance(node, SequenceNode):
        parts = [
            _part(reader, item, what, join(path, str(index)))
            for index, item in enumerate(node.value)
        ]
        if not parts:
            reader.report(line_of(node), f"{what} is an empty list")
        return tuple(part for part in parts if part is not None)
    reader.lines[join(path, "0")] = reader.lines.get(path, line_of(node))
    part = _part(reader, node, what, join(path, "0"))
    return () if part is None else (part,)


def _part(reader: Reader, node: Node, what: str, path: str) -> PromptPart | None:
    reader.lines.setdefault(path, line_of(node))
    if isinstance(node, ScalarNode):
        value = reader.text(node, what)
        return None if value is None else Text(frozen_map({ANY_LANGUAGE: value}))
    entries = reader.mapping(node, what)
    if entries is None:
        return None
    for entry in entries.values():
        reader.lines[join(path, entry.key)] = entry.line
    if "play" in entries:
        if len(entries) > 1:
            reader.report(line_of(node), f"{what}: a `play:` prompt cannot have other keys")
            return None
        urls = _by_language(reader, entries["play"].value, f"{what} play", join(path, "play"))
        for url in urls.values():
            if not URL.fullmatch(url):
                line = line_of(entries["play"].value)
                reader.report(line, f"{what}: '{url}' is not an http(s) URL")
        return Audio(frozen_map(urls)) if urls else None
    texts: dict[str, str] = {}
    for entry in entries.values():
        value = reader.text(entry.value, f"{what} ({entry.key})")
        if value is not None:
            texts[entry.key] = value
    return Text(frozen_map(texts)) if texts else None


def _by_language(reader: Reader, node: Node, what: str, path: str) -> dict[str, str]:
    if isinstance(node, ScalarNode):
        value = reader.text(node, what)
        return {} if value is None else {ANY_LANGUAGE: value}
    entries = reader.mapping(node, what) or {}
    found: dict[str, str] = {}
    for entry in entries.values():
        reader.lines[join(path, entry.key)] = entry.line
        value = reader.text(entry.value, f"{what} ({entry.key})")
        if value is not None:
            found[entry.key] = value
    return found


def read_menu_options(reader: Reader, node: Node, what: str, path: str) -> list[MenuOption]:
    """Menu options: `key: step` or `key: {next, topic, set, keywords}`."""
    found: list[MenuOption] = []
    for key, entry, label, option_path in _option_entries(reader, node, what, path):
        if isinstance(entry.value, ScalarNode):
            target = reader.text(entry.value, label)
            if target is not None:
                found.append(MenuOption(key, target))
            continue
        entries = reader.mapping(entry.value, label)
        if entries is None:
            continue
        allowed = ("next", "topic", "set", "keywords")
        reader.fields(entries, entry.line, label, option_path, allowed, ("next",))
        fields = StepFields(reader, entries, label, option_path)
        variables = _variables(reader, fields, label, option_path)
        topic = fields.text("topic")
        if topic is not None:
            variables["topic"] = topic
        keywords = _keywords(reader, fields.node("keywords"), label, join(option_path, "keywords"))
        target = fields.text("next")
        if target is not None:
            found.append(MenuOption(key, target, frozen_map(variables), frozen_map(keywords)))
    return found


def read_language_options(reader: Reader, node: Node, what: str, path: str) -> list[LanguageOption]:
    """Language options: `key: code` or `key: {language, say, keywords}`."""
    found: list[LanguageOption] = []
    for key, entry, label, option_path in _option_entries(reader, node, what, path):
        if isinstance(entry.value, ScalarNode):
            code = reader.text(entry.value, label)
            if code is not None:
                found.append(LanguageOption(key, code))
            continue
        entries = reader.mapping(entry.value, label)
        if entries is None:
            continue
        allowed = ("language", "say", "keywords")
        reader.fields(entries, entry.line, label, option_path, allowed, ("language",))
        fields = StepFields(reader, entries, label, option_path)
        code = fields.text("language")
        if code is not None:
            found.append(LanguageOption(key, code, fields.text("say"), fields.texts("keywords")))
    return found


def _option_entries(
    reader: Reader, node: Node, what: str, path: str
) -> Iterable[tuple[str, Entry, str, str]]:
    entries = reader.mapping(node, f"{what}: 'options'")
    if entries is None:
        return
    if not entries:
        reader.report(line_of(node), f"{what} has no options")
    for key, entry in entries.items():
        option_path = join(path, key)
        reader.lines[option_path] = entry.line
        if not MENU_KEY.fullmatch(key):
            message = f"{what}: option '{key}' must be a single keypad key (0-9 or *)"
            reader.report(entry.line, message)
            continue
        yield key, entry, f"{what}, option {key}", option_path


def _variables(reader: Reader, fields: StepFields, what: str, path: str) -> dict[str, str]:
    node = fields.node("set")
    if node is None:
        return {}
    found: dict[str, str] = {}
    for entry in (reader.mapping(node, f"{what}: 'set'") or {}).values():
        reader.lines[join(join(path, "set"), entry.key)] = entry.line
        if not VARIABLE.fullmatch(entry.key):
            message = f"{what}: variable name '{entry.key}' should be lower_case_with_underscores"
            reader.report(entry.line, message)
            continue
        value = reader.text(entry.value, f"{what}: variable '{entry.key}'")
        if value is not None:
            found[entry.key] = value
    return found


def _keywords(
    reader: Reader, node: Node | None, what: str, path: str
) -> dict[str, tuple[str, ...]]:
    if node is None:
        return {}
    if not isinstance(node, MappingNode):
        return {ANY_LANGUAGE: tuple(reader.texts(node, f"{what}: 'keywords'", path))}
    found: dict[str, tuple[str, ...]] = {}
    for entry in (reader.mapping(node, f"{what}: 'keywords'") or {}).values():
        entry_path = join(path, entry.key)
        reader.lines[entry_path] = entry.line
        words = reader.texts(entry.value, f"{what}: keywords ({entry.key})", entry_path)
        found[entry.key] = tuple(words)
    return found


def read_choice(
    reader: Reader, node: Node, what: str, path: str, value_field: str
) -> Choice | None:
    """`when:` cases (conditions plus `value_field`) and an `else:` value."""
    entries = reader.mapping(node, what)
    if entries is None:
        return None
    line = reader.lines.get(path, line_of(node))
    reader.fields(entries, line, what, path, ("when", "else"), ("when", "else"))
    when = entries["when"].value if "when" in entries else None
    cases = read_cases(reader, when, what, join(path, "when"), value_field)
    otherwise = StepFields(reader, entries, what, path).text("else")
    return None if cases is None or otherwise is None else Choice(cases, otherwise)


def read_cases(
    reader: Reader, node: Node | None, what: str, path: str, value_field: str
) -> tuple[Case, ...] | None:
    """A `when:` list of conditions, each with its `value_field`."""
    if node is None:
        return None
    items = reader.sequence(node, f"{what}: 'when'")
    if items is None:
        return None
    cases: list[Case] = []
    for index, item in enumerate(items):
        item_path = join(path, str(index))
        reader.lines[item_path] = line_of(item)
        label = f"{what}, case {index + 1}"
        entries = reader.mapping(item, label)
        if entries is None:
            continue
        allowed = (*CONDITION_FIELDS, value_field)
        reader.fields(entries, line_of(item), label, item_path, allowed, (value_field,))
        fields = StepFields(reader, entries, label, item_path)
        sets = {name: frozenset(fields.texts(name)) for name in CONDITION_FIELDS if name in entries}
        if not sets:
            message = f"{label} has no condition (tier, language or topic); use 'else' instead"
            reader.report(line_of(item), message)
        for tier in sorted(sets.get("tier", frozenset()) - set(TIERS)):
            message = f"{label}: unknown tier '{tier}' (use standard, paid or unknown)"
            reader.report(entries["tier"].line, message)
        value = fields.text(value_field)
        if value is not None:
            condition = Condition(sets.get("tier"), sets.get("language"), sets.get("topic"))
            cases.append(Case(condition, value))
    return tuple(cases)
