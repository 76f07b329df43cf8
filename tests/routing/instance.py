"""One app instance in its own process, ringing calls at an agreed instant.

    python -m tests.routing.instance DATABASE_URL FLOWS_DIR PREFIX CALLS START_AT

Waits until the wall clock reaches START_AT (a Unix time) so that two instances start
together, then sends CALLS first webhooks at once, each a new call, and prints a JSON
object {CallSid: [contacts rung]} (an empty list: the caller was queued).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx

from app.config import load_settings
from app.core.clock import FixedClock
from app.main import create_app
from tests.conftest import AUTH_TOKEN, NOW, PUBLIC_BASE_URL
from tests.telephony.twilio import Caller


async def run(
    url: str, flows: Path, prefix: str, calls: int, start_at: float
) -> dict[str, list[str]]:
    settings = load_settings(
        _env_file=None,
        database_url=url,
        twilio_auth_token=AUTH_TOKEN,
        public_base_url=PUBLIC_BASE_URL,
        flows_dir=flows,
    )
    app = create_app(settings, clock=FixedClock(NOW))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            callers = [
                Caller(client, sid=f"CA{prefix}{i:030d}", from_number=f"+1415555{i:04d}")
                for i in range(calls)
            ]
            await asyncio.sleep(max(0.0, start_at - time.time()))
            docs = await asyncio.gather(*(c.dial_in() for c in callers))
    rung: dict[str, list[str]] = {}
    for caller, doc in zip(callers, docs, strict=True):
        dial = doc.find("Dial")
        rung[caller.sid] = [leg.text or "" for leg in dial] if dial is not None else []
    return rung


if __name__ == "__main__":
    database_url, folder, sid_prefix, count, start = sys.argv[1:6]
    found = asyncio.run(run(database_url, Path(folder), sid_prefix, int(count), float(start)))
    print(json.dumps(found))
