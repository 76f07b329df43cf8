"""Operational endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.core.db import Database
from app.core.deadline import DeadlinePassed, within
from app.core.errors import Unauthorized
from app.routing.metrics import LiveLineKeeper

router = APIRouter(tags=["operations"])
# A load balancer's probe gives up after a few seconds: answer 503 before it does, even when
# the database accepts connections but never answers (frozen), or the pool is exhausted.
READY_DEADLINE_SECONDS = 1.5


async def _database_answers(db: Database) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and the flows are loaded; 503 otherwise."""
    db: Database = request.app.state.db
    checks: dict[str, str] = {}
    try:
        await within(READY_DEADLINE_SECONDS, _database_answers(db), what="the readiness check")
        checks["database"] = "ok"
    except DeadlinePassed:
        checks["database"] = f"no answer within {READY_DEADLINE_SECONDS:g} s"
    except Exception as exc:  # any failure means not ready
        checks["database"] = f"unreachable: {type(exc).__name__}"
    flows = getattr(request.app.state, "flows", None)
    checks["flows"] = "ok" if flows is not None else "not loaded"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text: this process's metrics and the latest live-line reading.

    Never touches the database. With METRICS_TOKEN set, scrapers send it as a Bearer token.
    """
    token: str = request.app.state.settings.metrics_token
    if token:
        presented = request.headers.get("authorization", "")
        if not secrets.compare_digest(presented.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("/metrics needs the metrics token: Authorization: Bearer <token>")
    keeper: LiveLineKeeper = request.app.state.live_line
    body = generate_latest() + generate_latest(keeper)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
