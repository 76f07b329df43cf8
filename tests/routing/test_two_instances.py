"""Two app instances in two processes share one database: nobody is reserved twice."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import RingAttempt
from app.models.routing import QueueEntry, SpecialistPresence
from tests.telephony.rota_rows import Person, staff

CHECKOUT = Path(__file__).resolve().parents[2]
DIRECT = """\
name: direct
default: true
languages:
  en: Polly.Joanna
start: connect
steps:
  connect:
    kind: route
    team: line
    batch_size: 2
    max_wait: 300
    hold_prompt: You are number {position} in the queue.
    fallback: goodbye
  goodbye:
    kind: hangup
    prompt: Goodbye.
"""
PEOPLE = [Person(f"P{i}", f"+1415556{i:04d}", ["en"]) for i in range(5)]
CALLS_PER_INSTANCE = 8


async def _instance(url: str, flows: Path, prefix: str, start_at: float) -> dict[str, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.routing.instance",
        url,
        str(flows),
        prefix,
        str(CALLS_PER_INSTANCE),
        str(start_at),
        cwd=CHECKOUT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-3000:]
    result: dict[str, list[str]] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def test_two_processes_never_ring_the_same_specialist_at_once(
    database_url: str, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    await staff(db, clock.now(), {"line": PEOPLE})
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "direct.yaml").write_text(DIRECT, encoding="utf-8")
    start_at = time.time() + 6  # both processes import and start up before this
    first, second = await asyncio.gather(
        _instance(database_url, flows, "A", start_at),
        _instance(database_url, flows, "B", start_at),
    )
    rung = [c for contacts in (*first.values(), *second.values()) for c in contacts]
    # 16 calls for 5 people in batches of 2: every person rings for exactly one call.
    assert sorted(rung) == sorted(p.contact for p in PEOPLE)
    assert all(n == 1 for n in Counter(rung).values())
    queued = [sid for sid, contacts in (*first.items(), *second.items()) if not contacts]
    assert len(queued) == 2 * CALLS_PER_INSTANCE - sum(
        1 for contacts in (*first.values(), *second.values()) if contacts
    )
    async with db.transaction() as session:
        holders = list(
            (
                await session.execute(
                    select(SpecialistPresence.specialist_id, SpecialistPresence.call_id).where(
                        SpecialistPresence.state == "ringing"
                    )
                )
            ).all()
        )
        attempts = await session.scalar(select(func.count()).select_from(RingAttempt))
        waiting = await session.scalar(
            select(func.count()).select_from(QueueEntry).where(QueueEntry.state == "waiting")
        )
    assert len(holders) == len(PEOPLE) and attempts == len(PEOPLE)
    assert waiting == len(queued)
