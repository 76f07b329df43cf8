"""Opaque keyset cursors for list endpoints."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.core.errors import ValidationFailed

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


# A page size as a query parameter: ?limit=1..200 (default 50).
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page (1-200)")]


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(values: dict[str, Any]) -> str:
    """An opaque cursor for the position after the given key values."""
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        "the pagination cursor is not valid",
        errors=[{"field": "query.cursor", "message": "not a cursor returned by this list"}],
    )


def decode_cursor(cursor: str, *keys: str) -> dict[str, Any]:
    """Decode a cursor made by encode_cursor; a 422 problem if it was not."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, dict) or set(values) != set(keys):
        raise _bad_cursor()
    return values


def id_cursor(cursor: str | None, key: str) -> int | None:
    """The row id a keyset cursor points after (None without a cursor); 422 if malformed."""
    if cursor is None:
        return None
    value = decode_cursor(cursor, key)[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad_cursor()
    return value


R = TypeVar("R")


def next_page(
    rows: Sequence[R], limit: int, cursor_of: Callable[[R], dict[str, Any]]
) -> tuple[list[R], str | None]:
    """Rows fetched with limit + 1 -> this page's rows and the cursor of the next page."""
    page = list(rows[:limit])
    more = len(rows) > limit
    return page, encode_cursor(cursor_of(page[-1])) if more and page else None
