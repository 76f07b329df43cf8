"""The Dockerfile and compose.yaml keep their promises (no Docker engine here: read them).

What can be checked without building: dependencies install in a layer before the code is
copied, the dependency list the Dockerfile extracts is the one pyproject.toml pins, code is
copied once and owned by root, the service runs unprivileged, the health check asks
/readyz, and compose runs a one-shot migration before the app, with the flows as a volume.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def _instructions(stage: str) -> list[str]:
    """The instructions of one build stage, continuation lines joined."""
    text = DOCKERFILE.replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    start = next(i for i, line in enumerate(lines) if line.endswith(f"AS {stage}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("FROM ")), None)
    return lines[start:end]


def test_dependencies_install_before_the_code_is_copied() -> None:
    build = _instructions("build")
    deps = next(i for i, line in enumerate(build) if "-r requirements.txt" in line)
    code = next(i for i, line in enumerate(build) if line.startswith("COPY app "))
    assert deps < code
    assert [line for line in build[:deps] if line.startswith("COPY")] == ["COPY pyproject.toml ./"]


def test_the_extracted_requirements_are_the_pinned_dependencies(tmp_path: Path) -> None:
    command = re.search(r'python -c "(.*?)" > requirements.txt', DOCKERFILE)
    assert command is not None
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    out = subprocess.run(
        [sys.executable, "-c", command.group(1)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert out == pinned and all("==" in dep for dep in out)


def test_runtime_has_one_root_owned_copy_and_runs_unprivileged() -> None:
    runtime = _instructions("runtime")
    copies = [line for line in runtime if line.startswith("COPY")]
    assert not any("--chown" in line for line in copies)
    assert not any(" app " in f" {line} " or "/src" in line for line in copies)
    assert "COPY --from=build /opt/venv /opt/venv" in copies
    user = next(i for i, line in enumerate(runtime) if line.startswith("USER "))
    assert runtime[user] == "USER switchboard"
    assert all(not line.startswith(("COPY", "RUN")) for line in runtime[user:])
    health = next(line for line in runtime if line.startswith("HEALTHCHECK"))
    assert "/readyz" in health


def test_compose_migrates_once_then_serves_with_a_flows_volume() -> None:
    services = COMPOSE["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    migrate, app = services["migrate"], services["app"]
    assert migrate["command"] == ["switchboard", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
    flows = app["environment"]["FLOWS_DIR"]
    assert any(v.split(":")[1] == flows for v in app["volumes"])
    assert all(p.startswith("127.0.0.1:") for p in app["ports"])
