"""Value types shared by API schemas and parameters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Strict

# Primary keys are 32-bit integers on PostgreSQL; a larger number is bad input, not a 500.
MAX_DB_INT = 2_147_483_647
DbId = Annotated[int, Ge(1), Le(MAX_DB_INT)]

# Numbers and booleans of JSON bodies that only the API reads: `false` is not read as 0,
# nor `0` or "yes" as false, nor "5" as 5 (pydantic's lax mode would). Bodies a console
# form also fills (its fields arrive as text) keep plain int and bool.
JsonInt = Annotated[int, Strict()]
JsonBool = Annotated[bool, Strict()]
JsonId = Annotated[int, Strict(), Ge(1), Le(MAX_DB_INT)]

# The instants and dates the API accepts. Outside them the rota arithmetic (a local day
# either side, a week of lookahead) would leave Python's years 1-9999 and the databases'
# ranges; nothing Switchboard schedules or logs is that far away.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
RANGE_TEXT = "between 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z"


def supported_instant(value: datetime) -> datetime:
    """The instant, when it lies in the supported range (naive ones are read as UTC)."""
    low, high = (EARLIEST, LATEST) if value.tzinfo else (_naive(EARLIEST), _naive(LATEST))
    if not low <= value < high:
        raise ValueError(f"must be {RANGE_TEXT}")
    return value


def supported_day(value: date) -> date:
    """The date, when it lies in the supported range."""
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError("must be between 1970-01-01 and 2199-12-31")
    return value


def not_a_number(value: object) -> object:
    """Refuse a bare number where a date or date-time is expected.

    Pydantic would read `0.5` as seconds since 1970 and `0` as 1970-01-01: a client that
    sends a number meant something else, and should hear so.
    """
    text = value.strip() if isinstance(value, str) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("must be an ISO 8601 date or date-time, not a number")
    if text is not None and text.replace(".", "", 1).lstrip("+-").isdigit():
        raise ValueError("must be an ISO 8601 date or date-time, not a number")
    return value


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None)


Instant = Annotated[datetime, BeforeValidator(not_a_number), AfterValidator(supported_instant)]
"""A date-time in the supported range (an endpoint may still require an offset)."""
AwareInstant = Annotated[
    AwareDatetime, BeforeValidator(not_a_number), AfterValidator(supported_instant)
]
"""A date-time with an offset, in the supported range."""
Day = Annotated[date, BeforeValidator(not_a_number), AfterValidator(supported_day)]
"""A calendar date in the supported range."""
