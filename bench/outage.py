"""What callers and callbacks get while the database accepts connections but never answers.

    python -m bench.outage

Starts the app in-process on a fresh SQLite file with the real deadlines, points it at a
loopback server that accepts connections and never answers (PostgreSQL frozen with
SIGSTOP behaves so), and times, for a few calls: the first voice webhook, a recording and a
status callback, and /readyz. Then the database comes back and the spool is replayed. The
report is markdown; nothing here is asserted (tests/telephony/test_outage.py checks the
behaviour, with short deadlines).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from app.config import load_settings
from app.core.db import Database
from app.core.schema import upgrade
from app.main import create_app
from app.telephony import spool
from app.telephony.endpoints import CALLBACKS, telephony_of

TOKEN = "bench-auth-token-0123456789"
BASE = "https://switchboard.example.com"
CALLS = 3


async def _timed(request: Callable[[], Awaitable[httpx.Response]]) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    answer = await request()
    return time.perf_counter() - began, answer


async def main() -> None:
    """Measure and print the report."""
    folder = Path(tempfile.mkdtemp(prefix="switchboard-outage-"))
    url = f"sqlite+aiosqlite:///{folder / 'outage.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = load_settings(
        _env_file=None,
        database_url=url,
        twilio_auth_token=TOKEN,
        public_base_url=BASE,
        callback_spool_dir=folder / "spool",
    )
    server = await asyncio.start_server(_swallow, "127.0.0.1", 0)
    frozen_url = f"postgresql+asyncpg://x@127.0.0.1:{server.sockets[0].getsockname()[1]}/x"
    app = create_app(settings)
    rows: dict[str, list[float]] = {"voice": [], "recording": [], "status": [], "readyz": []}
    codes: dict[str, set[str]] = {name: set() for name in rows}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def signed(path: str, form: dict[str, str]) -> httpx.Response:
                signature = RequestValidator(TOKEN).compute_signature(BASE + path, form)
                return await client.post(path, data=form, headers={"X-Twilio-Signature": signature})

            healthy: Database = app.state.db
            app.state.db = Database.from_url(frozen_url)
            for n in range(CALLS):
                form = {"CallSid": f"CA{n:032d}", "From": "+14155550100", "To": "+18005550100"}
                took, answer = await _timed(lambda f=form: signed("/twilio/voice", f))
                rows["voice"].append(took)
                codes["voice"].add(
                    f"{answer.status_code} {'apology' if 'sorry' in answer.text else '?'}"
                )
                recording = {
                    **form,
                    "RecordingUrl": f"https://api.twilio.com/r/RE{n}",
                    "RecordingStatus": "completed",
                    "RecordingDuration": "12",
                }
                took, answer = await _timed(lambda r=recording: signed("/twilio/recording", r))
                rows["recording"].append(took)
                codes["recording"].add(str(answer.status_code))
                status = {**form, "CallStatus": "completed", "SequenceNumber": "5"}
                took, answer = await _timed(lambda s=status: signed("/twilio/status", s))
                rows["status"].append(took)
                codes["status"].add(str(answer.status_code))
                took, answer = await _timed(lambda: client.get("/readyz"))
                rows["readyz"].append(took)
                codes["readyz"].add(str(answer.status_code))
            spooled = spool.CallbackSpool(settings.callback_spool_dir).count()
            app.state.db = healthy
            began = time.perf_counter()
            replayed = await spool.replay(telephony_of(app.state), CALLBACKS)
            replay_took = time.perf_counter() - began
    server.close()
    print("| request while the database hangs | answer | seconds (median, max) |")
    print("| --- | --- | --- |")
    for name, values in rows.items():
        print(
            f"| {name} | {', '.join(sorted(codes[name]))} | "
            f"{statistics.median(values):.2f}, {max(values):.2f} |"
        )
    print()
    print(
        f"spooled: {spooled} events; replayed when the database was back: {replayed} "
        f"in {replay_took:.2f} s"
    )


async def _swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while await reader.read(4096):
        pass


if __name__ == "__main__":
    asyncio.run(main())
