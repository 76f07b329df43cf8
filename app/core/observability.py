"""Request metrics (Prometheus) and the one-line-per-request log, as plain ASGI middleware."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.phone import mask_phone

REQUESTS = Counter(
    "switchboard_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "switchboard_http_request_duration_seconds",
    "Time to answer HTTP requests, by route template and method.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

access_log = logging.getLogger("switchboard.access")

# The labelled children, kept: `labels()` takes a lock and checks its labels on every call.
_counted: dict[tuple[str, str, str], Any] = {}
_timed: dict[tuple[str, str], Any] = {}


def _count(method: str, route: str, status: str, elapsed: float) -> None:
    counter = _counted.get((method, route, status))
    if counter is None:
        counter = _counted[method, route, status] = REQUESTS.labels(method, route, status)
    counter.inc()
    timer = _timed.get((method, route))
    if timer is None:
        timer = _timed[method, route] = LATENCY.labels(method, route)
    timer.observe(elapsed)


class RequestObserver:
    """Counts, times and logs every HTTP request by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        request_id = os.urandom(8).hex()  # 16 hex digits, as uuid4().hex[:16] at a third the cost
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            _count(method, route, str(status), elapsed)
            if access_log.isEnabledFor(logging.INFO):  # above INFO: no line to build
                query = scope.get("query_string", b"").decode("latin-1")
                access_log.info(
                    "%s %s %s",
                    method,
                    scope["path"],
                    status,
                    extra={
                        "request_id": request_id,
                        "method": method,
                        "route": route,
                        "path": scope["path"],
                        "query": redact_query(query) if query else "",
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "call_sid": scope.get("state", {}).get("call_sid"),
                    },
                )


_SECRET_PARAMS = re.compile(r"(?i)\b(token|key|secret|password)=[^&]*")


def redact_query(query: str) -> str:
    """A query string fit for logs: secrets (feed tokens) hidden, phone numbers masked."""
    return mask_phone(_SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=***", query))


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
