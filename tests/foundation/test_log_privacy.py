"""Nothing secret or personal reaches the logs through database errors."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import DBAPIError

from app.core.db import Database
from app.core.logging import MaskingJsonFormatter, MaskingTextFormatter
from app.models.rota import Specialist

TOKEN = "feed-token-SECRET-4711"
NAME = "Zelda Privatename"


def _specialist(token: str, contact: str | None) -> Specialist:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    return Specialist(
        name=NAME,
        contact=contact,
        tz="UTC",
        languages=["en"],
        skills=[],
        active=True,
        calendar_token=token,
        created_at=now,
        updated_at=now,
    )


def _logged(exc: BaseException) -> list[str]:
    """The exception as each of our formatters writes it."""
    try:
        raise RuntimeError("answering /twilio/voice failed") from exc
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = MaskingTextFormatter("%(message)s")
    return [MaskingJsonFormatter().format(record), text.format(record)]


async def test_a_database_error_carries_no_bound_values(db: Database) -> None:
    with pytest.raises(DBAPIError) as caught:
        async with db.transaction() as session:
            session.add(_specialist(TOKEN, None))  # contact is NOT NULL
    assert TOKEN not in str(caught.value)
    assert NAME not in str(caught.value)
    for line in _logged(caught.value):
        assert TOKEN not in line and NAME not in line
        assert "specialists" in line  # the statement still says what failed


@pytest.mark.postgres_only
async def test_a_unique_violation_on_postgres_logs_no_value(db: Database) -> None:
    async with db.transaction() as session:
        session.add(_specialist(TOKEN, "+14155550100"))
    with pytest.raises(DBAPIError) as caught:
        async with db.transaction() as session:
            session.add(_specialist(TOKEN, "+14155550100"))  # the token is unique
    assert TOKEN not in str(caught.value)
    for line in _logged(caught.value):
        assert TOKEN not in line and NAME not in line
        assert "uq_specialists_calendar_token" in line  # what failed is still said


def test_postgres_detail_lines_are_cut() -> None:
    error = RuntimeError(
        'duplicate key value violates unique constraint "uq_specialists_calendar_token"\n'
        f"DETAIL:  Key (calendar_token)=({TOKEN}) already exists."
    )
    for line in _logged(error):
        assert TOKEN not in line
        assert "DETAIL: (hidden)" in line


def test_driver_messages_quoting_an_argument_are_cut() -> None:
    error = ValueError(
        "invalid input for query argument $3: 'Zelda Privatename' (expected int, got str)"
    )
    for line in _logged(error):
        assert NAME not in line
        assert "query argument $3: (hidden)" in line
