"""The step examples of the IVR flow reference (docs/ivr-flows.md) are valid flow YAML."""

from __future__ import annotations

import re

import pytest

from app.ivr import check_flow_text
from app.ivr.schema import STEP_KINDS

from .flowkit import FLOWS_DIR

README = (FLOWS_DIR.parent / "docs" / "ivr-flows.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", README, flags=re.DOTALL)
STEP_EXAMPLES = [block for block in BLOCKS if re.match(r"[a-z_]+:\n  kind: ", block)]
HEADER = """\
name: readme
default: true
languages:
  en: Polly.Joanna
  fr: Polly.Celine
  ja: Polly.Mizuki
start: {start}
steps:
"""
UNKNOWN_STEP = re.compile(r"goes to unknown step '([a-z_]+)'")


def test_the_readme_shows_every_step_kind() -> None:
    kinds = {m.group(1) for block in STEP_EXAMPLES if (m := re.search(r"kind: (\w+)", block))}
    assert kinds == set(STEP_KINDS)


@pytest.mark.parametrize("block", STEP_EXAMPLES, ids=lambda b: b.split(":")[0])
def test_step_example_is_valid(block: str) -> None:
    name = block.split(":")[0]
    body = "".join(f"  {line}\n" for line in block.splitlines())
    text = HEADER.format(start=name) + body
    _, problems = check_flow_text(text, "readme.yaml", None)
    stubs = sorted({m.group(1) for p in problems if (m := UNKNOWN_STEP.search(p.message))})
    text += "".join(f"  {stub}:\n    kind: hangup\n" for stub in stubs)
    _, problems = check_flow_text(text, "readme.yaml", None)
    assert [str(p) for p in problems if p.severity == "error"] == []
