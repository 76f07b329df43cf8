"""The validator: every kind of problem, with its file, line and a plain message."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ivr import Problem, check_flows

from .flowkit import line_with

MINI = """\
name: mini
numbers: ["+15550001111"]
languages:
  en: Polly.Joanna
  fr: {voice: Polly.Celine, say_language: fr-FR}
start: main
steps:
  main:
    kind: menu
    prompt:
      en: Press 1 for sales.
      fr: Tapez 1 pour les ventes.
    options:
      1: sales
    fallback: bye
  sales:
    kind: route
    team: sales
    fallback: bye
  bye:
    kind: hangup
    prompt:
      en: Goodbye.
      fr: Au revoir.
"""


def check(tmp_path: Path, text: str, known_teams: set[str] | None = None) -> list[Problem]:
    """Problems of one flow file written to tmp_path."""
    (tmp_path / "flow.yaml").write_text(text, encoding="utf-8")
    return check_flows(tmp_path, known_teams)


def only(problems: list[Problem]) -> Problem:
    """The single problem found."""
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_the_base_flow_is_clean(tmp_path: Path) -> None:
    assert check(tmp_path, MINI, {"sales"}) == []


def test_bad_yaml_reports_the_parser_line(tmp_path: Path) -> None:
    text = MINI.replace("      1: sales", "      1: [sales")
    problem = only(check(tmp_path, text))
    assert problem.severity == "error"
    assert problem.file == str(tmp_path / "flow.yaml")
    assert problem.message.startswith("bad YAML")
    assert line_with(text, "1: [sales") <= problem.line <= line_with(text, "1: [sales") + 2


def test_bad_indentation_is_bad_yaml(tmp_path: Path) -> None:
    text = MINI.replace("    kind: hangup", "   kind: hangup")
    problem = only(check(tmp_path, text))
    assert problem.message.startswith("bad YAML")
    assert problem.line in (
        line_with(text, "   kind: hangup"),
        line_with(text, "   kind: hangup") + 1,
    )


def test_empty_file_and_non_mapping_top_level(tmp_path: Path) -> None:
    assert only(check(tmp_path, "")).message == "the file is empty"
    problem = only(check(tmp_path, "- a\n- b\n"))
    assert "should be a set of `key: value` lines, not a list" in problem.message
    assert problem.line == 1


def test_unknown_step_kind(tmp_path: Path) -> None:
    text = MINI.replace("kind: hangup", "kind: hang_up")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "kind: hang_up")
    assert problem.message == "step 'bye' has an unknown kind 'hang_up' (did you mean 'hangup'?)"


def test_missing_kind(tmp_path: Path) -> None:
    text = MINI.replace("    kind: hangup\n", "")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "  bye:")
    assert problem.message.startswith("step 'bye' has no 'kind' (one of: say, menu,")


def test_unknown_step_field_with_suggestion(tmp_path: Path) -> None:
    text = MINI.replace("    fallback: bye\n  sales", "    fallback: bye\n    timout: 3\n  sales")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "timout: 3")
    assert problem.message == "step 'main': unknown field 'timout' (did you mean 'timeout'?)"


def test_unknown_top_level_field(tmp_path: Path) -> None:
    text = MINI.replace("start: main", "start: main\ndefault_lang: en")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "default_lang: en")
    assert "unknown field 'default_lang' (did you mean 'default_language'?)" in problem.message


def test_unknown_option_field(tmp_path: Path) -> None:
    text = MINI.replace("      1: sales", "      1:\n        next: sales\n        topik: sales")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "topik: sales")
    assert problem.message == "step 'main', option 1: unknown field 'topik' (did you mean 'topic'?)"


def test_missing_required_step_field(tmp_path: Path) -> None:
    text = MINI.replace("    team: sales\n", "")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "  sales:")
    assert problem.message == "step 'sales' is missing the required field 'team'"


def test_missing_required_top_level_field(tmp_path: Path) -> None:
    text = MINI.replace("start: main\n", "")
    problem = only(check(tmp_path, text))
    assert problem.line == 1
    assert problem.message == "the flow is missing the required field 'start'"


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "    fallback: bye\n  sales",
            "    fallback: bye\n    timeout: soon\n  sales",
            "timeout: soon",
            "step 'main': 'timeout' should be a whole number, not 'soon'",
        ),
        (
            "    fallback: bye\n  sales",
            "    fallback: bye\n    retries: 9\n  sales",
            "retries: 9",
            "step 'main': 'retries' is 9; it must be from 0 to 5",
        ),
        (
            "    fallback: bye\n  sales",
            "    fallback: bye\n    input: keypad\n  sales",
            "input: keypad",
            "step 'main': 'input' is 'keypad'; it must be one of: digits, speech, both",
        ),
        (
            "    team: sales\n",
            "    team: sales\n    strategy: random\n",
            "strategy: random",
            "step 'sales': 'strategy' is 'random'; it must be one of: "
            "longest_idle, round_robin, fixed_order",
        ),
        (
            "      1: sales",
            "      - sales",
            "- sales",
            "step 'main': 'options' should be a set of `key: value` lines, not a list",
        ),
        (
            "    prompt:\n      en: Goodbye.\n      fr: Au revoir.\n",
            "    prompt: [a, [b]]\n",
            "prompt: [a, [b]]",
            "step 'bye': 'prompt' should be a set of `key: value` lines, not a list",
        ),
        (
            "    team: sales\n",
            "    team: sales\n    batch_size: 2.5\n",
            "batch_size: 2.5",
            "step 'sales': 'batch_size' should be a whole number, not '2.5'",
        ),
        (
            "name: mini",
            "name: mini\ndefault: sometimes",
            "default: sometimes",
            "the flow: 'default' should be true or false, not 'sometimes'",
        ),
        (
            "    team: sales\n",
            "    team: sales\n    skill: [a, b]\n",
            "skill: [a, b]",
            "step 'sales': 'skill' should be a single value, not a list",
        ),
    ],
)
def test_wrong_types_and_values(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    text = MINI.replace(old, new)
    problem = only(check(tmp_path, text))
    assert (problem.line, problem.message) == (line_with(text, needle), message)


def test_menu_key_must_be_one_keypad_key(tmp_path: Path) -> None:
    text = MINI.replace("      1: sales", "      1: sales\n      12: sales")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "12: sales")
    assert problem.message == "step 'main': option '12' must be a single keypad key (0-9 or *)"


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    text = MINI.replace("      1: sales", "      1: sales\n      1: bye")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "1: bye")
    first = line_with(text, "1: sales")
    assert problem.message == f"step 'main': 'options': '1' appears twice (also line {first})"


def test_jump_to_unknown_step(tmp_path: Path) -> None:
    text = MINI.replace("      1: sales", "      1: sale")
    problems = check(tmp_path, text)
    jump = [p for p in problems if "unknown step" in p.message]
    assert len(jump) == 1
    assert jump[0].line == line_with(text, "1: sale")
    assert jump[0].message == (
        "step 'main': option 1 goes to unknown step 'sale' (did you mean 'sales'?)"
    )


def test_unknown_start_step(tmp_path: Path) -> None:
    text = MINI.replace("start: main", "start: mian")
    problems = check(tmp_path, text)
    assert problems[0].line == line_with(text, "start: mian")
    assert problems[0].message == (
        "start step 'mian' is not defined in steps (did you mean 'main'?)"
    )


def test_unreachable_step_is_a_warning(tmp_path: Path) -> None:
    text = MINI + "  orphan:\n    kind: hangup\n"
    problem = only(check(tmp_path, text))
    assert problem.severity == "warning"
    assert problem.line == line_with(text, "orphan:")
    assert problem.message == "step 'orphan' is never reached from the start step 'main'"


@pytest.mark.parametrize(
    ("fallback", "missing"),
    [
        ("    fallback: bye\n", "no_input"),  # removed entirely: both are missing
        ("    invalid: bye\n", "no_input"),
        ("    no_input: bye\n", "invalid"),
    ],
)
def test_menu_without_no_input_or_invalid_branch(
    tmp_path: Path, fallback: str, missing: str
) -> None:
    menu_fallback = "    fallback: bye\n  sales:"
    if fallback == "    fallback: bye\n":
        text = MINI.replace(menu_fallback, "  sales:")
    else:
        text = MINI.replace(menu_fallback, fallback + "  sales:")
    problems = check(tmp_path, text)
    assert problems
    assert all(p.line == line_with(text, "  main:") for p in problems)
    assert any(p.message.startswith(f"menu 'main' has no '{missing}' step") for p in problems)
    assert all(p.severity == "error" for p in problems)


def test_loop_without_caller_input(tmp_path: Path) -> None:
    loop = """\
  again:
    kind: say
    prompt: Please wait.
    next: check
  check:
    kind: branch
    when:
      - {tier: paid, next: sales}
    else: again
"""
    text = MINI.replace("      1: sales", "      1: again") + loop
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "  again:")
    assert problem.message.startswith(
        "steps again → check → again form a loop that never waits for the caller"
    )


def test_self_loop_without_caller_input(tmp_path: Path) -> None:
    text = MINI.replace("      1: sales", "      1: sales\n      2: spin") + (
        "  spin:\n    kind: say\n    prompt: Hold on.\n    next: spin\n"
    )
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "  spin:")
    assert "steps spin → spin form a loop" in problem.message


def test_a_loop_through_a_menu_is_fine(tmp_path: Path) -> None:
    text = MINI.replace("      1: sales", "      1: sales\n      2: again") + (
        "  again:\n    kind: say\n    prompt: Once more.\n    next: main\n"
    )
    assert check(tmp_path, text) == []


def test_unknown_teams_only_when_teams_are_known(tmp_path: Path) -> None:
    text = MINI.replace("team: sales", "team: sales-{language}")
    assert check(tmp_path, text) == []
    problems = check(tmp_path, text, {"sales-en"})
    assert len(problems) == 1
    assert problems[0].line == line_with(text, "team: sales-{language}")
    assert problems[0].message == (
        "unknown team 'sales-fr' (from 'sales-{language}') (did you mean 'sales-en'?)"
    )


def test_unknown_team_in_cases_and_overflow(tmp_path: Path) -> None:
    text = MINI.replace(
        "    team: sales\n",
        "    team:\n      when:\n        - {tier: paid, team: vip}\n      else: sales\n"
        "    overflow: [backup]\n",
    )
    problems = check(tmp_path, text, {"sales"})
    assert [(p.line, p.message) for p in problems] == [
        (line_with(text, "team: vip"), "unknown team 'vip'"),
        (line_with(text, "overflow: [backup]"), "unknown team 'backup'"),
    ]


def test_team_template_may_only_use_language(tmp_path: Path) -> None:
    text = MINI.replace("team: sales", "team: sales-{topic}")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "team: sales-{topic}")
    assert problem.message == "team 'sales-{topic}' may only use the {language} placeholder"


def test_prompt_missing_a_language_is_a_warning(tmp_path: Path) -> None:
    text = MINI.replace("      fr: Au revoir.\n", "")
    problem = only(check(tmp_path, text))
    assert problem.severity == "warning"
    assert problem.line == line_with(text, "    prompt:", 2)
    assert problem.message == (
        "step 'bye': prompt has no 'fr' text; those callers will hear the 'en' text"
    )


def test_a_plain_text_prompt_is_for_every_language(tmp_path: Path) -> None:
    text = MINI.replace(
        "    prompt:\n      en: Goodbye.\n      fr: Au revoir.\n", "    prompt: Ciao!\n"
    )
    assert check(tmp_path, text) == []


def test_prompt_text_for_an_undeclared_language(tmp_path: Path) -> None:
    text = MINI.replace("      fr: Au revoir.", "      fr: Au revoir.\n      es: Adiós.")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "es: Adiós.")
    assert problem.message == (
        "step 'bye': prompt has text for 'es', which is not in languages (en, fr)"
    )


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "      1: sales",
            "      1: sales\n"
            "      2:\n        next: sales\n        keywords: {en: [sales], de: [verkauf]}",
            "keywords: {en",
            "step 'main', option 2 keywords uses language 'de', which is not in languages (en, fr)",
        ),
        (
            "  bye:\n",
            "  pick:\n    kind: language\n    options:\n      1: en\n      2: es\n    next: bye\n"
            "  bye:\n",
            "2: es",
            "step 'pick', option 2 uses language 'es', which is not in languages (en, fr)",
        ),
        (
            "    team: sales\n",
            "    team:\n      when:\n        - {language: ja, team: sales}\n      else: sales\n",
            "language: ja",
            "step 'sales', case 1 uses language 'ja', which is not in languages (en, fr)",
        ),
        (
            "start: main",
            "start: main\ndefault_language: de",
            "default_language: de",
            "default_language 'de' is not in languages (en, fr)",
        ),
    ],
)
def test_unknown_language_codes(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    text = MINI.replace(old, new)
    problems = [p for p in check(tmp_path, text) if p.severity == "error"]
    problem = only(problems)
    assert (problem.line, problem.message) == (line_with(text, needle), message)


def test_unknown_voice(tmp_path: Path) -> None:
    text = MINI.replace("en: Polly.Joanna", "en: Polly.Joana")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "Polly.Joana")
    assert problem.message == (
        "language 'en': unknown voice 'Polly.Joana' (did you mean 'Polly.Joanna'?)"
    )


def test_voice_outside_the_twiml_list(tmp_path: Path) -> None:
    text = MINI.replace("voice: Polly.Celine", "voice: Polly.Zeina")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "Polly.Zeina")
    assert problem.message.startswith("language 'fr': unknown voice 'Polly.Zeina'")


def test_voice_and_say_language_disagree_is_a_warning(tmp_path: Path) -> None:
    text = MINI.replace("say_language: fr-FR", "say_language: en-US")
    problem = only(check(tmp_path, text))
    assert problem.severity == "warning"
    assert problem.message == "language 'fr': voice 'Polly.Celine' speaks fr-FR, not en-US"


def test_generic_voice_needs_a_say_language(tmp_path: Path) -> None:
    text = MINI.replace("en: Polly.Joanna", "en: alice")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "en: alice")
    assert problem.message == "language 'en': voice 'alice' needs a say_language, like en-US"
    fixed = MINI.replace("en: Polly.Joanna", "en: {voice: alice, say_language: en-GB}")
    assert check(tmp_path, fixed) == []


def test_unknown_placeholder(tmp_path: Path) -> None:
    text = MINI.replace("en: Goodbye.", "en: Goodbye {acount_name}.")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "Goodbye {acount_name}")
    assert problem.message == (
        "step 'bye': unknown placeholder '{acount_name}' (did you mean 'account_name'?)"
    )


def test_queue_placeholders_only_in_hold_prompt(tmp_path: Path) -> None:
    text = MINI.replace(
        "    team: sales\n", "    team: sales\n    hold_prompt: You are number {position}.\n"
    )
    assert check(tmp_path, text) == []
    text = MINI.replace("en: Goodbye.", "en: You were number {position}.")
    assert "unknown placeholder '{position}'" in only(check(tmp_path, text)).message


def test_menu_variables_are_placeholders(tmp_path: Path) -> None:
    text = MINI.replace(
        "      1: sales", "      1:\n        next: sales\n        set: {desk: sales}"
    ).replace("en: Goodbye.", "en: Goodbye from {desk}.")
    assert check(tmp_path, text) == []


def test_unbalanced_brace(tmp_path: Path) -> None:
    text = MINI.replace("en: Goodbye.", "en: Goodbye {account_name.")
    problem = only(check(tmp_path, text))
    assert "unbalanced '{' or '}'" in problem.message


def test_a_flow_without_numbers_is_a_warning(tmp_path: Path) -> None:
    text = MINI.replace('numbers: ["+15550001111"]\n', "")
    problem = only(check(tmp_path, text))
    assert (problem.severity, problem.line) == ("warning", 1)
    assert problem.message == (
        "the flow answers no number: list its numbers or set 'default: true'"
    )
    assert check(tmp_path, text.replace("name: mini", "name: mini\ndefault: true")) == []


def test_numbers_must_be_e164(tmp_path: Path) -> None:
    text = MINI.replace('numbers: ["+15550001111"]', "numbers:\n  - +15550001111\n  - 555-0100")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "- 555-0100")
    assert problem.message == "number '555-0100' is not in E.164 form, like +14155550100"


def test_transfer_number_must_be_e164(tmp_path: Path) -> None:
    text = MINI.replace(
        "  bye:\n", "  out:\n    kind: transfer\n    number: '0800 123'\n  bye:\n"
    ).replace("      1: sales", "      1: sales\n      2: out")
    problem = only(check(tmp_path, text))
    assert problem.line == line_with(text, "number: '0800 123'")
    assert problem.message == "step 'out': number '0800 123' is not in E.164 form"


def test_condition_without_a_test_and_unknown_tier(tmp_path: Path) -> None:
    text = MINI.replace(
        "    team: sales\n",
        "    team:\n      when:\n        - {team: sales}\n        - {tier: gold, team: sales}\n"
        "      else: sales\n",
    )
    problems = check(tmp_path, text)
    assert [(p.line, p.message) for p in problems] == [
        (
            line_with(text, "- {team: sales}"),
            "step 'sales': 'team', case 1 has no condition (tier, language or topic); "
            "use 'else' instead",
        ),
        (
            line_with(text, "tier: gold"),
            "step 'sales': 'team', case 2: unknown tier 'gold' (use standard, paid or unknown)",
        ),
    ]


def test_two_flows_claiming_one_number_or_both_default(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINI.replace("name: mini", "name: a\ndefault: true"))
    second = MINI.replace("name: mini", "name: b\ndefault: true")
    (tmp_path / "b.yaml").write_text(second)
    problems = check_flows(tmp_path)
    b = str(tmp_path / "b.yaml")
    assert [(p.file, p.line, p.message) for p in problems] == [
        (
            b,
            line_with(second, "default: true"),
            f"flow 'a' ({tmp_path / 'a.yaml'}) is already the default flow",
        ),
        (
            b,
            line_with(second, "numbers:"),
            f"number +15550001111 is already answered by flow 'a' ({tmp_path / 'a.yaml'})",
        ),
    ]


def test_two_flows_with_one_name(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINI)
    (tmp_path / "b.yaml").write_text(MINI.replace("+15550001111", "+15550009999"))
    problem = only(check_flows(tmp_path))
    assert (problem.file, problem.line) == (str(tmp_path / "b.yaml"), 1)
    assert problem.message == f"flow name 'mini' is already used by {tmp_path / 'a.yaml'}"


def test_no_flow_files(tmp_path: Path) -> None:
    problem = only(check_flows(tmp_path))
    assert (problem.file, problem.line, problem.severity) == (str(tmp_path), 0, "error")
    assert only(check_flows(tmp_path / "missing")).message == "the folder does not exist"
    (tmp_path / "empty").mkdir()
    assert (
        only(check_flows(tmp_path / "empty")).message
        == "no flow files (*.yaml or *.yml) found here"
    )
    (tmp_path / "a.yaml").write_text("name: a\n", encoding="utf-8")
    assert only(check_flows(tmp_path / "a.yaml")).message.startswith("not a folder")


def test_problem_prints_like_a_compiler_message(tmp_path: Path) -> None:
    text = MINI.replace("kind: hangup", "kind: hang_up")
    problem = only(check(tmp_path, text))
    assert str(problem) == (
        f"{tmp_path / 'flow.yaml'}:{problem.line}: error: step 'bye' has an unknown kind "
        "'hang_up' (did you mean 'hangup'?)"
    )


def test_keys_stay_as_written(tmp_path: Path) -> None:
    # YAML 1.1 would read `no` as false and `+1555...` as a number; flows keep the text.
    text = MINI.replace("  fr: {voice: Polly.Celine, say_language: fr-FR}", "  no: Polly.Joanna")
    text = text.replace("      fr: ", "      no: ").replace(
        'numbers: ["+15550001111"]', "numbers: [+15550001111]"
    )
    (tmp_path / "flow.yaml").write_text(text)
    problems = check_flows(tmp_path)
    assert problems == []
