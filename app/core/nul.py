"""Refuse NUL characters anywhere in an API request, with a 422 problem naming the field.

PostgreSQL's text types cannot hold U+0000, so a NUL that reached a query or a row failed the
request with a 500 (and SQLite would store a string that other tools cut short). The API has
no use for the character: it is refused at the door, in the path, the query string or a JSON
body, before any endpoint runs. Twilio's webhooks are not checked here: their forms are
signed as sent, and the telephony layer reads a NUL as garbled input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem

NUL = "\x00"
_ESCAPED_NUL = b"\\u0000"
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class RefuseNulCharacters:
    """ASGI middleware: a 422 problem for a NUL in the path, query or JSON body of a request."""

    def __init__(self, app: ASGIApp, *, skip_prefix: str = "/twilio/") -> None:
        self.app = app
        self.skip_prefix = skip_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip_prefix):
            await self.app(scope, receive, send)
            return
        field = _in_target(scope)
        if field is None and scope["method"] in _BODY_METHODS:
            body, more = await _read(receive)
            field = _in_body(body)
            receive = _replay(body, more, receive)
        if field is None:
            await self.app(scope, receive, send)
            return
        response = problem(
            422,
            "validation-error",
            "Validation failed",
            f"1 invalid field(s): {field}",
            instance=scope["path"],
            errors=[{"field": field, "message": "contains a NUL character (U+0000)"}],
        )
        await response(scope, receive, send)


def _in_target(scope: Scope) -> str | None:
    if NUL in scope["path"]:
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and NUL not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if NUL in name or NUL in value:
            return f"query.{name.replace(NUL, '')}"
    return "query"


def _in_body(body: bytes) -> str | None:
    if b"\x00" in body:
        return "body"
    if _ESCAPED_NUL not in body:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None  # not JSON: the endpoint's own parsing refuses it
    return next(_nul_paths(document, "body"), None)


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield path
            yield from _nul_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nul_paths(item, f"{path}[{i}]")


async def _read(receive: Receive) -> tuple[bytes, list[Message]]:
    """The request body, and any messages that came after it (a disconnect)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replay(body: bytes, after: list[Message], receive: Receive) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *after]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
