"""The OpenAPI document, made to say what the service really answers.

FastAPI documents each route's success answer and a 422 in its own shape. Switchboard's
errors are RFC 9457 problems (`application/problem+json`), the /v1 API takes a bearer key,
writes take If-Match, rota writes answer a schedule preview on `dry_run=true`, and the
Twilio webhooks answer TwiML. `openapi_for(app)` adds all of that to FastAPI's document,
by rules that follow from how the service is built (see each function); the schemathesis
run in `.ci/run` checks every answer against the result.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from app.core.errors import PROBLEM_JSON
from app.rota.schemas import ScheduleChange
from app.telephony.endpoints import HEARD_BY_CALLER

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: what went wrong, and for 422 which fields.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
REASONS = {
    400: "Malformed request (e.g. a cursor this list did not return)",
    401: "No API key, or an unknown or revoked one",
    403: "The key's role may not do this (on /twilio: the signature is missing or wrong)",
    404: "No such resource",
    409: "The request conflicts with the current state",
    412: "If-Match does not match the current ETag",
    413: "The request body is too large",
    422: "Invalid input; `errors` names each field",
    428: "If-Match is required",
    503: "Not ready",
}
WRITES = {"post", "put", "patch", "delete"}


def openapi_for(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document for the app, with the answers it leaves out."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    _add_models(schemas, ScheduleChange)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _document(path, method, operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = schema
    return schema


def _add_models(schemas: dict[str, Any], *models: type[Any]) -> None:
    _, top = models_json_schema(
        [(m, "serialization") for m in models], ref_template="#/components/schemas/{model}"
    )
    for name, definition in top.get("$defs", {}).items():
        schemas.setdefault(name, definition)


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": REASONS.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }


def _document(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    params = {p["name"]: p for p in operation.get("parameters", [])}
    statuses: set[int] = set()
    if params or "requestBody" in operation:
        statuses.add(422)  # refused parameters, bodies, and NUL characters anywhere
    if "requestBody" in operation and not path.startswith("/twilio/"):
        statuses.add(400)  # a body that is not JSON at all
    if path.startswith("/twilio/"):
        _document_webhook(path, operation, responses, statuses)
    elif path.startswith("/v1/"):
        statuses |= {401, 403}
        operation.setdefault("security", [{"bearerAuth": []}])  # every /v1 call needs a key
        if any(p["in"] == "path" for p in params.values()):
            statuses.add(404)
        if "cursor" in params:
            statuses.add(400)
        if method in WRITES:
            statuses |= {404, 409}
        if "If-Match" in params:
            statuses |= {412, 428}
        if "dry_run" in params:
            _document_dry_run(responses)
    elif path.startswith("/calendars/"):
        statuses |= {403, 404}
        responses["200"] = {
            "description": "The iCalendar feed",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        }
    elif path == "/readyz":
        ready = copy.deepcopy(responses.get("200", {"description": "Ready"}))
        ready["description"] = "Not ready: the database does not answer or flows are not loaded"
        responses["503"] = ready
    elif path == "/metrics":
        responses["200"] = {
            "description": "Prometheus text exposition",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    for status in sorted(statuses):
        responses[str(status)] = _problem(status)


def _document_webhook(
    path: str, operation: dict[str, Any], responses: dict[str, Any], statuses: set[int]
) -> None:
    """TwiML (200) or nothing (204); 403 without Twilio's signature; an oversized body is
    answered with the apology TwiML on the caller's webhooks and 413 on the others."""
    statuses.add(403)
    body = {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        },
    }
    operation.setdefault("requestBody", body)
    if "204" in responses:
        responses.pop("200", None)
        statuses.add(413)
        return
    responses["200"] = {
        "description": "TwiML for Twilio"
        + (" (the apology on any failure)" if path in HEARD_BY_CALLER else ""),
        "content": {"text/xml": {"schema": {"type": "string"}}},
    }
    if path not in HEARD_BY_CALLER:
        statuses.add(413)


def _document_dry_run(responses: dict[str, Any]) -> None:
    """With dry_run=true a rota write answers 200 with the schedule change, whatever it
    answers otherwise."""
    preview = {"$ref": "#/components/schemas/ScheduleChange"}
    current = responses.get("200")
    if current is None:
        responses["200"] = {
            "description": "Dry run: what the write would change (nothing was written)",
            "content": {"application/json": {"schema": preview}},
        }
        return
    content = current.setdefault("content", {}).setdefault("application/json", {})
    existing = content.get("schema")
    content["schema"] = {"anyOf": [existing, preview]} if existing else preview
    current["description"] += "; with dry_run=true, what the write would change"
