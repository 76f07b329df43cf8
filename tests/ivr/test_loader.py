"""Loading flow files: the shipped flow, immutability, picking a flow by number."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.ivr import FlowError, check_flows, flows_for_number, load_flow, load_flows
from app.ivr.schema import HoursStep, LanguageStep, MenuStep, RouteStep, Text

from .flowkit import EVERYTHING, FLOWS_DIR, TEAMS, flow_from_text, support_flow


def test_shipped_flow_has_no_problems_at_all() -> None:
    assert check_flows(FLOWS_DIR, TEAMS) == []
    assert check_flows(FLOWS_DIR) == []


def test_shipped_flow_follows_the_spec() -> None:
    flow = support_flow()
    assert flow.default is True
    assert list(flow.languages) == ["en", "ja", "fr", "de", "es"]
    assert [(v.voice, v.say_language) for v in flow.languages.values()] == [
        ("Polly.Joanna", "en-US"),
        ("Polly.Mizuki", "ja-JP"),
        ("Polly.Celine", "fr-FR"),
        ("Polly.Vicki", "de-DE"),
        ("Polly.Mia", "es-MX"),
    ]
    language = flow.steps["choose_language"]
    assert isinstance(language, LanguageStep)
    assert [(o.key, o.language) for o in language.options] == [
        ("1", "en"),
        ("2", "ja"),
        ("3", "fr"),
        ("4", "de"),
        ("5", "es"),
    ]
    topic = flow.steps["topic"]
    assert isinstance(topic, MenuStep)
    assert {o.key: o.variables["topic"] for o in topic.options} == {
        "1": "payments",
        "2": "billing",
        "3": "developers",
        "0": "general",
    }
    hours = flow.steps["check_hours"]
    assert isinstance(hours, HoursStep)
    assert (hours.open, hours.closed, hours.holiday) == ("topic", "closed", "holiday")
    assert hours.team == flow.steps["connect"].team  # type: ignore[union-attr]
    assert hours.overflow == ("support-{language}", "support-en")
    route = flow.steps["connect"]
    assert isinstance(route, RouteStep)
    # A paid caller: the paid team, then their language team, then English (issue 12.7).
    assert route.overflow == ("support-{language}", "support-en")
    assert route.team.otherwise == "support-{language}"
    assert route.team.cases[0].value == "paid-support"


def test_every_prompt_of_the_shipped_flow_is_fully_translated() -> None:
    flow = support_flow()
    for step in flow.steps.values():
        for name in ("prompt", "retry_prompt", "greeting", "unknown_prompt", "hold_prompt"):
            for part in getattr(step, name, ()):
                assert isinstance(part, Text)
                assert set(part.texts) == {"en", "ja", "fr", "de", "es"}, name
                assert all(text.strip() for text in part.texts.values())


def test_a_loaded_flow_is_immutable() -> None:
    flow = support_flow()
    with pytest.raises(dataclasses.FrozenInstanceError):
        flow.start = "elsewhere"  # type: ignore[misc]
    with pytest.raises(TypeError):
        flow.steps["welcome"] = flow.steps["goodbye"]  # type: ignore[index]
    with pytest.raises(TypeError):
        flow.languages["es"] = flow.languages["en"]  # type: ignore[index]


def test_load_flow_reads_one_file(tmp_path: Path) -> None:
    path = tmp_path / "everything.yaml"
    path.write_text(EVERYTHING, encoding="utf-8")
    flow = load_flow(path, {"support-en", "support-fr"})
    assert flow.name == "everything"
    assert flow.file == str(path)
    assert next(iter(flow.steps)) == "check_hours"


def test_load_flow_raises_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(EVERYTHING.replace("next: bye", "next: nowhere"), encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    messages = [p.message for p in caught.value.problems]
    expected = EVERYTHING.count("next: bye")
    assert expected >= 2
    assert len([m for m in messages if "unknown step 'nowhere'" in m]) == expected
    assert "error(s) in IVR flows" in str(caught.value)


def test_load_flows_raises_when_any_file_is_broken(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(EVERYTHING, encoding="utf-8")
    (tmp_path / "b.yaml").write_text("name: [", encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        load_flows(tmp_path)
    assert [p.file for p in caught.value.problems] == [str(tmp_path / "b.yaml")]


def test_load_flows_reads_yaml_and_yml_and_skips_other_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(EVERYTHING, encoding="utf-8")
    other = EVERYTHING.replace("name: everything", "name: other").replace("2222", "4444")
    (tmp_path / "b.yml").write_text(other, encoding="utf-8")
    (tmp_path / "README.md").write_text("# not a flow", encoding="utf-8")
    assert sorted(load_flows(tmp_path)) == ["everything", "other"]


def test_flows_for_number_prefers_a_listed_number_then_the_default() -> None:
    support = support_flow()
    everything = flow_from_text(EVERYTHING)
    flows = {"support": support, "everything": everything}
    assert flows_for_number(flows, "+15550002222") is everything
    assert flows_for_number(flows, "+1 (555) 000-2222") is everything
    assert flows_for_number(flows, "15550002222") is everything
    assert flows_for_number(flows, "+4930123456") is support
    assert flows_for_number({"everything": everything}, "+4930123456") is None
