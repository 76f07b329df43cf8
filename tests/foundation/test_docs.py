"""The README is a front door and the docs hold together.

Every relative link (and #anchor) resolves; shell examples call the checkout's
`.venv/bin/switchboard`, never a bare `switchboard` that is not on PATH, and are not tied
to a fixed date; ivr_flows/README.md and the flow reference do not point at each other in
a circle; every docs page has its contents; the layout list names every package.
The shell commands themselves were run by hand against a live service.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
# The pages the README was split into (other pages are welcome; these must stay).
FRONT_DOOR = (
    "configuration.md",
    "api-and-roles.md",
    "calls-and-reports.md",
    "rota.md",
    "ivr-flows.md",
    "routing.md",
    "twilio-and-going-live.md",
    "operations.md",
    "development.md",
)
PAGES = [ROOT / "README.md", ROOT / "ivr_flows" / "README.md", *DOCS]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)
DATE = re.compile(r"\b20\d\d-\d\d-\d\d")


def _anchor(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_anchor(m.group(1)) for m in re.finditer(r"^#+ (.*)$", text, flags=re.MULTILINE)}


def _prose(path: Path) -> str:
    return FENCE.sub("", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(page: Path) -> None:
    for target in LINK.findall(_prose(page)):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in _anchors(resolved), f"{page.name}: no #{anchor} in {resolved.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_examples_run_from_the_checkout_on_any_day(page: Path) -> None:
    for kind, block in FENCE.findall(page.read_text(encoding="utf-8")):
        if kind not in ("sh", ""):
            continue
        for line in block.splitlines():
            command = line.split("#", 1)[0]
            assert not re.match(r"\s*switchboard\s", command), f"{page.name}: {line}"
            if kind == "sh":
                assert not DATE.search(command), f"{page.name}: a fixed date in {line}"


def test_readme_is_a_front_door() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    linked = set(LINK.findall(text))
    for name in FRONT_DOOR:
        assert f"docs/{name}" in linked, f"README does not link docs/{name}"


def test_flow_readme_and_reference_are_not_a_circle() -> None:
    folder_readme = _prose(ROOT / "ivr_flows" / "README.md")
    assert "../docs/ivr-flows.md" in folder_readme
    reference = _prose(ROOT / "docs" / "ivr-flows.md")
    assert "ivr_flows/README.md" not in reference


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_every_docs_page_has_its_contents(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    sections = [
        h
        for h in re.findall(r"^## (.*)$", FENCE.sub("", text), flags=re.MULTILINE)
        if h.strip() != "Contents"
    ]
    if len(sections) >= 2:
        assert "**Contents**" in text or "## Contents" in text, page.name
        for heading in sections:
            assert f"(#{_anchor(heading)})" in text, f"{page.name}: {heading} not in contents"


def test_layout_names_every_package() -> None:
    layout = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    packages = [p.name for p in (ROOT / "app").iterdir() if (p / "__init__.py").exists()]
    missing = [p for p in packages if f"`app/{p}`" not in layout]
    assert not missing, f"docs/development.md's layout list must name app/{missing}"
