"""Structured logs: one JSON object per line, phone numbers masked."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from app.core.phone import mask_phone

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class MaskingJsonFormatter(logging.Formatter):
    """Formats records as JSON lines; every string value has phone numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_phone(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = mask_phone(value) if isinstance(value, str) else value
        if record.exc_info:
            payload["exc"] = mask_phone(self.formatException(record.exc_info))
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
        return mask_phone(line)


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
