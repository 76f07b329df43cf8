"""One error base class, rendered as RFC 9457 problem details by one set of handlers."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("switchboard.errors")


class AppError(Exception):
    """An error the API reports to its client; subclasses set status and type."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extra = extra


class BadRequest(AppError):
    """The request is malformed (e.g. a bad pagination cursor)."""


class ValidationFailed(AppError):
    """Fields of the request are invalid; `errors` says which and why."""

    status = 422
    slug = "validation-error"
    title = "Validation failed"


class Unauthorized(AppError):
    """No valid API key."""

    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


class Forbidden(AppError):
    """The key's role may not do this."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(AppError):
    """The resource does not exist."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(AppError):
    """The request conflicts with the current state (e.g. a duplicate key)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class PreconditionFailed(AppError):
    """If-Match did not match the resource's current ETag."""

    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


class PreconditionRequired(AppError):
    """An update arrived without If-Match."""

    status = 428
    slug = "precondition-required"
    title = "Precondition required"


class DryRunOutcome(Exception):
    """Raised after a dry-run write: the transaction rolls back and `result` is answered (200)."""

    def __init__(self, result: Any) -> None:
        super().__init__("dry run")
        self.result = result


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def app_error_response(exc: AppError, path: str) -> JSONResponse:
    """The problem+json answer for an AppError raised while answering `path`."""
    return problem(
        exc.status,
        exc.slug,
        exc.title,
        exc.detail,
        instance=path,
        headers=exc.headers,
        errors=exc.errors,
        **exc.extra,
    )


def unexpected_response(method: str, path: str, exc: BaseException) -> JSONResponse:
    """Log an unexpected error with an id and answer 500 problem+json quoting it."""
    error_id = uuid.uuid4().hex
    logger.error(
        "unhandled error %s on %s %s",
        error_id,
        method,
        path,
        exc_info=exc,
        extra={"error_id": error_id},
    )
    return problem(
        500,
        "internal-error",
        "Internal server error",
        f"An unexpected error occurred; quote error id {error_id} to the operator.",
        instance=path,
        error_id=error_id,
    )


def _path_operations(app: FastAPI, path: str) -> dict[str, Any] | None:
    """The operations of the most specific OpenAPI path template matching `path`.

    `/v1/accounts/lookup` and `/v1/accounts/13:erase` also fit `/v1/accounts/{account_id}`;
    the template with the most fixed characters is the one that serves them.
    """
    best: tuple[int, dict[str, Any]] | None = None
    for template, operations in app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            fixed = len(re.sub(r"\{[^}]*\}", "", template))
            if best is None or fixed > best[0]:
                best = (fixed, operations)
    return best[1] if best is not None else None


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method the app's OpenAPI document serves at the request's path."""
    operations = _path_operations(app, request.url.path) or {}
    methods = {m.upper() for m in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the API can return as problem+json."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return app_error_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        served = _path_operations(app, request.url.path)
        if served is not None and request.method.lower() not in served:
            # `PATCH /v1/accounts/lookup` reached the `{account_id}` route only because
            # "lookup" fills its parameter: the path exists, and does not take the method.
            return problem(
                405,
                "http-405",
                "Method not allowed",
                "Method Not Allowed",
                instance=request.url.path,
                headers={"Allow": ", ".join(allowed_methods(app, request))},
            )
        errors = []
        for err in exc.errors():
            loc = list(err.get("loc", ()))
            msg = str(err.get("msg", "invalid"))
            msg = msg.removeprefix("Value error, ")
            errors.append({"field": _field_path(loc), "message": msg})
        fields = ", ".join(e["field"] for e in errors[:5])
        return problem(
            422,
            "validation-error",
            "Validation failed",
            f"{len(errors)} invalid field(s): {fields}",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names the methods of the first route whose path matched; a path
            # served by several routes (GET and PATCH and DELETE) allows all of theirs.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(app, request))}
        return problem(
            exc.status_code,
            "http-" + str(exc.status_code),
            titles.get(exc.status_code, "HTTP error"),
            str(exc.detail),
            instance=request.url.path,
            headers=headers,
        )

    @app.exception_handler(DryRunOutcome)
    async def _dry_run(request: Request, exc: DryRunOutcome) -> JSONResponse:
        return JSONResponse(jsonable_encoder(exc.result), status_code=200)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem(
            412,
            "precondition-failed",
            "Precondition failed",
            "the resource was changed by someone else at the same time; fetch it again and retry",
            instance=request.url.path,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (too large, wrong type) that slipped past the
        # schemas: the client's input is at fault, and nothing was written.
        # The driver's message may quote the value: name the error only.
        logger.warning(
            "database rejected a value on %s: %s", request.url.path, type(exc.orig).__name__
        )
        return problem(
            422,
            "validation-error",
            "Validation failed",
            "a value is out of range or of the wrong type for this field",
            instance=request.url.path,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_response(request.method, request.url.path, exc)
