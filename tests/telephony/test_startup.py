"""Flows are loaded at start-up; a broken flow (or one naming unknown teams) stops it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.core.schema import REPO_ROOT
from app.ivr import FlowError
from app.main import create_app
from tests.telephony.rota_rows import staff
from tests.telephony.test_cli import BROKEN


async def test_the_shipped_flows_are_loaded(app: FastAPI, client: httpx.AsyncClient) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["flows"] == "ok"
    # Every YAML file in ivr_flows/ is loaded, by name, with its steps: not merely "some".
    shipped = sorted(p.stem for p in (REPO_ROOT / "ivr_flows").glob("*.yaml"))
    assert shipped and sorted(app.state.flows) == shipped
    support = app.state.flows["support"]
    assert support.default and support.start in support.steps and len(support.steps) > 5


async def test_a_broken_flow_stops_the_service(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    app = create_app(settings.model_copy(update={"flows_dir": tmp_path}), clock=clock)
    with pytest.raises(FlowError) as raised:
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover - never reached
    assert f"{tmp_path / 'broken.yaml'}:15: error:" in str(raised.value)


async def test_flows_naming_teams_that_do_not_exist_stop_the_service(
    settings: Settings, clock: FixedClock, db: Database
) -> None:
    await staff(db, clock.now(), {"support-en": [], "paid-support": []})
    app = create_app(settings, clock=clock)
    with pytest.raises(FlowError, match="unknown team 'support-ja'"):
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover - never reached
