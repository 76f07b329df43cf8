"""create_app(): lifespan, routers and error handlers — wiring only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig

from app.accounts.endpoints import bulk_router as accounts_bulk_router
from app.accounts.endpoints import router as accounts_router
from app.alerts.endpoints import router as alerts_router
from app.alerts.pages import router as alerts_pages_router
from app.alerts.runner import running as alerts_running
from app.apidocs import install_api_docs
from app.auth.endpoints import router as api_keys_router
from app.calls.endpoints import router as calls_router
from app.calls.endpoints_wrapup import router as wrapup_router
from app.closures.endpoints import router as closures_router
from app.config import Settings, get_settings, warn_if_insecure
from app.core import calc_pool
from app.core.clock import Clock, SystemClock
from app.core.db import Database
from app.core.deadline import settle_abandoned
from app.core.errors import install_error_handlers
from app.core.nul import RefuseNulCharacters
from app.core.observability import RequestObserver
from app.core.schema import ensure_schema_current
from app.core.sqlite_checkpoint import WalCheckpointer
from app.desk.control import router as desk_control_router
from app.desk.pages import router as desk_pages_router
from app.events.endpoints import router as events_router
from app.events.hub import EventHub
from app.openapi import openapi_for
from app.ops import router as ops_router
from app.planning.endpoints import router as planning_router
from app.planning.pages import router as planning_pages_router
from app.privacy.endpoints import router as privacy_router
from app.privacy.jobs import keep_retention
from app.reports.endpoints import router as reports_router
from app.reports.pages import router as reports_pages_router
from app.rota.endpoints_bulk import router as rota_bulk_router
from app.rota.endpoints_calendar import router as rota_calendar_router
from app.rota.endpoints_changes import router as rota_changes_router
from app.rota.endpoints_queries import router as rota_queries_router
from app.rota.endpoints_resources import router as rota_resources_router
from app.rota.endpoints_swaps import router as swaps_router
from app.rota.pages import router as rota_pages_router
from app.rota.pages_edits import router as rota_edit_pages_router
from app.rota.pages_setup import router as rota_setup_pages_router
from app.rota.pages_swaps import router as rota_swap_pages_router
from app.rota.refresher import keep_horizon, refresh_at_start
from app.routing.endpoints import router as routing_router
from app.routing.endpoints_availability import router as availability_router
from app.routing.endpoints_wallboard import router as wallboard_router
from app.routing.metrics import LiveLineKeeper
from app.routing.pages import router as wallboard_pages_router
from app.telephony.endpoints import CALLBACKS, telephony_of
from app.telephony.endpoints import router as twilio_router
from app.telephony.endpoints_control import router as call_control_router
from app.telephony.endpoints_voice import router as voice_router
from app.telephony.fastpath import TwilioFastPath
from app.telephony.flows import load_for_app as load_flows
from app.telephony.spool import keep_replaying
from app.telephony.sweeper import keep_sweeping
from app.web.admin_pages import router as admin_pages_router
from app.web.errors import install_page_error_handlers
from app.web.pages import router as web_pages_router
from app.web.templating import STATIC_DIR
from app.worklist.endpoints import router as worklist_router

TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's native OpenTelemetry, unless OPENTELEMETRY=true: without it every request would
ask the global providers whether an SDK is configured (~1% of a webhook's CPU)."""

logger = logging.getLogger("switchboard")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    check_schema: bool = True,
) -> FastAPI:
    """Build the ASGI app for the given settings."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database.from_url(settings.database_url, pool_size=settings.db_pool_size)
        calc_pool.configure(settings.rota_calc_processes)
        calc_pool.warm_up()
        checkpointer: WalCheckpointer | None = None
        try:
            if check_schema:
                await ensure_schema_current(db.engine)
            app.state.db = db
            # A broken flow stops the start-up here (FlowError lists every problem).
            app.state.flows = await load_flows(settings.flows_dir, db)
            warn_if_insecure(settings, logger)
            if check_schema:
                await refresh_at_start(db, app.state.clock)
            # SQLite: the log's checkpoints in a thread, not in a webhook's commit.
            checkpointer = WalCheckpointer.start_for(settings.database_url)
            refresher = asyncio.create_task(keep_horizon(db, app.state.clock))
            app.state.events = EventHub(
                db, app.state.clock, poll_seconds=settings.events_poll_seconds
            )
            # Reads the state's database each time (tests swap it to simulate an outage).
            keeper = LiveLineKeeper(lambda: app.state.db, app.state.clock)
            app.state.live_line = keeper
            await keeper.refresh()
            live = asyncio.create_task(keeper.run(settings.metrics_refresh_seconds))
            background = [refresher, live]
            background.append(
                asyncio.create_task(keep_replaying(lambda: telephony_of(app.state), CALLBACKS))
            )
            background.append(asyncio.create_task(keep_sweeping(db, app.state.clock)))
            if settings.call_detail_retention_days:
                days = settings.call_detail_retention_days
                background.append(asyncio.create_task(keep_retention(db, app.state.clock, days)))
            try:
                async with alerts_running(db, settings, app.state.clock):
                    yield
            finally:
                await app.state.events.close()
                for task in background:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await settle_abandoned()
        finally:
            if checkpointer is not None:
                await asyncio.to_thread(checkpointer.stop)
            await asyncio.to_thread(calc_pool.close)
            await db.dispose()

    app = FastAPI(
        title="Switchboard",
        version="0.1.0",
        summary="Self-hosted phone-support backend: Twilio IVR, rota-aware routing, call log.",
        lifespan=lifespan,
        docs_url=None,  # served by install_api_docs, without a CDN
        redoc_url=None,
        telemetry=None if settings.opentelemetry else TELEMETRY_OFF,
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    install_error_handlers(app)
    app.openapi = partial(openapi_for, app)  # type: ignore[method-assign]
    install_page_error_handlers(app)
    install_api_docs(app)
    app.add_middleware(RefuseNulCharacters)  # the API's; Twilio's forms are read as garbled
    app.add_middleware(TwilioFastPath)  # inside the observer: metrics and logs still see it
    app.add_middleware(RequestObserver)
    app.include_router(ops_router)
    app.include_router(api_keys_router)
    app.include_router(accounts_bulk_router)
    app.include_router(accounts_router)
    app.include_router(privacy_router)
    app.include_router(calls_router)
    app.include_router(reports_router)
    app.include_router(worklist_router)
    app.include_router(twilio_router)
    app.include_router(rota_bulk_router)
    app.include_router(call_control_router)
    app.include_router(alerts_router)
    app.include_router(rota_resources_router)
    app.include_router(rota_changes_router)
    app.include_router(rota_queries_router)
    app.include_router(planning_router)
    app.include_router(rota_calendar_router)
    app.include_router(routing_router)
    app.include_router(availability_router)
    app.include_router(voice_router)
    app.include_router(events_router)
    app.include_router(wrapup_router)
    app.include_router(wallboard_router)
    app.include_router(swaps_router)
    app.include_router(closures_router)
    # The console: pages for people, beside the API for programs.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(web_pages_router)
    app.include_router(admin_pages_router)
    app.include_router(rota_pages_router)
    app.include_router(rota_edit_pages_router)
    app.include_router(rota_setup_pages_router)
    app.include_router(rota_swap_pages_router)
    app.include_router(planning_pages_router)
    app.include_router(desk_control_router)  # before the desk's /desk/work/{id}/{verb}
    app.include_router(desk_pages_router)
    app.include_router(wallboard_pages_router)
    app.include_router(reports_pages_router)
    app.include_router(alerts_pages_router)
    return app
