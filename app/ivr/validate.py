"""Checks on a parsed flow that need the whole file: jumps, reachability, loops, languages."""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator

from app.ivr.parse import Parsed
from app.ivr.problems import Problem, Severity
from app.ivr.schema import (
    ANY_LANGUAGE,
    INPUT_FREE_KINDS,
    QUEUE_PLACEHOLDERS,
    STATE_PLACEHOLDERS,
    BranchStep,
    Choice,
    Flow,
    HoursStep,
    LanguageStep,
    MenuStep,
    RouteStep,
    Step,
    Text,
    jumps,
    prompts,
)
from app.ivr.yamlnodes import suggest

_FORMATTER = string.Formatter()


class _Checker:
    """Collects problems for one flow, finding each one's line from dotted key paths."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.problems: list[Problem] = []

    def line(self, path: str) -> int:
        """Line of a key path, or of its nearest recorded parent."""
        while path:
            if path in self.flow.lines:
                return self.flow.lines[path]
            path = path.rpartition(".")[0]
        return 0

    def report(self, path: str, message: str, severity: Severity = "error") -> None:
        """Record a problem at the line of a key path."""
        self.problems.append(Problem(self.flow.file, self.line(path), severity, message))


def validate(parsed: Parsed, known_teams: set[str] | None = None) -> list[Problem]:
    """Check a parsed flow's steps against each other, its languages and known teams."""
    flow = parsed.flow
    if flow is None:
        return []
    check = _Checker(flow)
    if flow.start not in parsed.step_names:
        hint = suggest(flow.start, parsed.step_names)
        check.report("start", f"start step '{flow.start}' is not defined in steps{hint}")
    if not flow.numbers and not flow.default:
        message = "the flow answers no number: list its numbers or set 'default: true'"
        check.report("name", message, "warning")
    variables = {name for step in flow.steps.values() for name in _variables(step)}
    for name, step in flow.steps.items():
        path = f"steps.{name}"
        _check_jumps(check, name, step, parsed.step_names)
        _check_menu_misses(check, name, step)
        _check_prompts(check, name, step, variables)
        _check_languages(check, path, step)
        _check_teams(check, path, step, known_teams)
    if parsed.complete and flow.start in flow.steps:
        _check_reachable(check)
        _check_input_free_loops(check)
    return check.problems


def _variables(step: Step) -> set[str]:
    if isinstance(step, MenuStep):
        return {name for option in step.options for name in option.variables}
    return set()


def _check_jumps(check: _Checker, name: str, step: Step, names: frozenset[str]) -> None:
    for path, target in jumps(step):
        if target not in names:
            message = f"step '{name}': {_jump_label(path)} goes to unknown step '{target}'"
            check.report(f"steps.{name}.{path}", message + suggest(target, names))


def _jump_label(path: str) -> str:
    parts = path.split(".")
    if parts[0] == "options":
        return f"option {parts[1]}"
    if parts[0] == "when":
        return f"case {int(parts[1]) + 1}"
    return f"'{path}'"


def _check_menu_misses(check: _Checker, name: str, step: Step) -> None:
    if not isinstance(step, MenuStep):
        return
    for target, miss, who in (
        (step.no_input, "no_input", "callers who press nothing"),
        (step.invalid, "invalid", "callers who press a wrong key"),
    ):
        if target is None:
            message = f"menu '{name}' has no '{miss}' step for {who}; add '{miss}' or 'fallback'"
            check.report(f"steps.{name}", message)


def _check_prompts(check: _Checker, name: str, step: Step, variables: set[str]) -> None:
    languages = check.flow.languages
    for field, prompt in prompts(step):
        allowed = STATE_PLACEHOLDERS | frozenset(variables)
        if field == "hold_prompt":
            allowed |= QUEUE_PLACEHOLDERS
        for index, part in enumerate(prompt):
            path = f"steps.{name}.{field}.{index}"
            values = part.texts if isinstance(part, Text) else part.urls
            for code in values:
                if code != ANY_LANGUAGE and code not in languages:
                    message = f"step '{name}': {field} has text for '{code}', which is not in "
                    check.report(f"{path}.{code}", message + f"languages ({', '.join(languages)})")
            if ANY_LANGUAGE not in values:
                _check_missing_languages(check, path, f"step '{name}': {field}", values)
            if isinstance(part, Text):
                for code, text in part.texts.items():
                    _check_placeholders(check, f"{path}.{code}", name, text, allowed)


def _check_missing_languages(check: _Checker, path: str, what: str, values: Iterable[str]) -> None:
    present = list(values)
    flow = check.flow
    fallback = next((code for code in (flow.default_language, "en") if code in present), present[0])
    for code in flow.languages:
        if code not in present:
            message = f"{what} has no '{code}' text; those callers will hear the '{fallback}' text"
            check.report(path, message, "warning")


def _check_placeholders(
    check: _Checker, path: str, name: str, text: str, allowed: frozenset[str]
) -> None:
    try:
        fields = [(field, spec, conv) for _, field, spec, conv in _FORMATTER.parse(text)]
    except ValueError:
        message = f"step '{name}': unbalanced '{{' or '}}' in '{text}'; write {{{{ for a brace"
        check.report(path, message)
        return
    for field, spec, conv in fields:
        if field is None:
            continue
        if not field.isidentifier() or spec or conv:
            message = f"step '{name}': placeholder '{{{field}}}' should be a plain name"
            check.report(path, message + " like {account_name}")
        elif field not in allowed:
            hint = suggest(field, allowed)
            check.report(path, f"step '{name}': unknown placeholder '{{{field}}}'{hint}")


def _check_languages(check: _Checker, path: str, step: Step) -> None:
    known = check.flow.languages

    def unknown(code: str, where: str, what: str) -> None:
        if code not in known and code != ANY_LANGUAGE:
            message = f"{what} uses language '{code}', which is not in languages"
            check.report(where, message + f" ({', '.join(known)})")

    what = f"step '{path.removeprefix('steps.')}'"
    if isinstance(step, LanguageStep):
        for pick in step.options:
            unknown(pick.language, f"{path}.options.{pick.key}", f"{what}, option {pick.key}")
    if isinstance(step, MenuStep):
        for option in step.options:
            for code in option.keywords:
                where = f"{path}.options.{option.key}.keywords.{code}"
                unknown(code, where, f"{what}, option {option.key} keywords")
    choices: list[tuple[str, Choice]] = []
    if isinstance(step, BranchStep):
        choices.append((path, step.choice))
    if isinstance(step, RouteStep | HoursStep):
        choices.append((f"{path}.team", step.team))
    for choice_path, choice in choices:
        for index, case in enumerate(choice.cases):
            for code in sorted(case.when.language or ()):
                unknown(code, f"{choice_path}.when.{index}", f"{what}, case {index + 1}")


def _check_teams(check: _Checker, path: str, step: Step, known: set[str] | None) -> None:
    if not isinstance(step, RouteStep | HoursStep):
        return
    languages = tuple(check.flow.languages)
    templates: list[tuple[str, str, Iterable[str]]] = []
    for index, case in enumerate(step.team.cases):
        templates.append((f"{path}.team.when.{index}", case.value, case.when.language or languages))
    else_path = f"{path}.team.else" if step.team.cases else f"{path}.team"
    templates.append((else_path, step.team.otherwise, languages))
    if isinstance(step, RouteStep | HoursStep):
        for index, team in enumerate(step.overflow):
            templates.append((f"{path}.overflow.{index}", team, languages))
    for where, template, codes in templates:
        for team in _expand(check, where, template, codes):
            if known is not None and team not in known:
                hint = suggest(team, known)
                origin = "" if team == template else f" (from '{template}')"
                check.report(where, f"unknown team '{team}'{origin}{hint}")


def _expand(check: _Checker, where: str, template: str, codes: Iterable[str]) -> Iterator[str]:
    try:
        fields = {field for _, field, _, _ in _FORMATTER.parse(template) if field is not None}
    except ValueError:
        fields = {"?"}
    if fields - {"language"}:
        check.report(where, f"team '{template}' may only use the {{language}} placeholder")
        return
    seen: set[str] = set()
    for code in codes:
        team = template.replace("{language}", code)
        if team not in seen:
            seen.add(team)
            yield team


def _check_reachable(check: _Checker) -> None:
    flow = check.flow
    seen = {flow.start}
    todo = [flow.start]
    while todo:
        for _, target in jumps(flow.steps[todo.pop()]):
            if target in flow.steps and target not in seen:
                seen.add(target)
                todo.append(target)
    for name in flow.steps:
        if name not in seen:
            message = f"step '{name}' is never reached from the start step '{flow.start}'"
            check.report(f"steps.{name}", message, "warning")


def _check_input_free_loops(check: _Checker) -> None:
    flow = check.flow
    quick = {name for name, step in flow.steps.items() if step.kind in INPUT_FREE_KINDS}
    edges = {name: [t for _, t in jumps(flow.steps[name]) if t in quick] for name in sorted(quick)}
    order = {name: index for index, name in enumerate(flow.steps)}
    for group in _cycles(edges):
        names = sorted(group, key=order.__getitem__)
        loop = " → ".join([*names, names[0]])
        message = f"steps {loop} form a loop that never waits for the caller; the call would"
        check.report(f"steps.{names[0]}", message + " never stop (add a menu or a hangup)")


def _cycles(edges: dict[str, list[str]]) -> list[set[str]]:
    """Strongly connected groups that contain a cycle (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges[node]:
                found.append(group)

    for node in edges:
        if node not in index:
            visit(node)
    return found
