"""Structured logs: one JSON object per line, phone numbers masked, no stored values.

Besides the engine's `hide_parameters`, database errors quote values themselves:
PostgreSQL's "DETAIL:  Key (calendar_token)=(...) already exists" and asyncpg's "invalid
input for query argument $2: '...'". Those parts are cut from every line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from app.core.phone import mask_phone

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)
_ARGUMENT = re.compile(r"(query argument \$\d+:).*$", re.MULTILINE)


def scrub(text: str) -> str:
    """A log text without phone numbers or values quoted by database errors."""
    text = _DETAIL.sub(r"\1 (hidden)", text)
    text = _ARGUMENT.sub(r"\1 (hidden)", text)
    return mask_phone(text)


class MaskingJsonFormatter(logging.Formatter):
    """Formats records as JSON lines; every string value has phone numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            payload["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False, default=str)


class MaskingTextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, phone numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        extras = {
            k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")
        }
        line = super().format(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return scrub(line)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time of each record (it may be replaced)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send all logs to stderr in the chosen format."""
    handler = StderrHandler()
    if fmt == "json":
        handler.setFormatter(MaskingJsonFormatter())
    else:
        handler.setFormatter(MaskingTextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # uvicorn's own access log would duplicate our request line.
    logging.getLogger("uvicorn.access").handlers = []
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
