"""A small day of calls whose report figures are worked out by hand below.

All times are UTC on 2026-11-19; wait = answered - routed, handle = ended - answered.

call  team        lang topic    started  routed   answered ended    by   what
c1    support-en  en   billing  09:00:00 09:00:30 09:00:50 09:05:50 Ann  wait 20, handle 300
c2    support-en  en   billing  09:10:00 09:10:40 09:12:15 09:20:15 Ann  wait 95, handle 480
c3    support-en  en   tech     09:30:00 09:30:20 -        09:31:00 -    abandoned in queue
c4    support-en  en   -        10:15:00 -        -        10:15:40 -    abandoned in IVR
c5    support-de  de   tech     10:20:00 10:20:15 10:20:45 10:30:46 Bo   wait 30, handle 601
c6    support-de  de   billing  10:40:00 10:40:10 -        10:43:10 -    voicemail
c7    support-de  de   billing  23:30:00 23:30:05 -        23:31:05 -    callback
c8    support-de  de   tech     23:50:00 23:50:10 23:51:10 -        Bo   wait 60, going on
c9    -           -    -        12:00:00 -        -        12:00:20 -    abandoned in IVR

Outside [2026-11-19, 2026-11-20): one call at 2026-11-18T23:59:59Z, one at 2026-11-20T00:00Z.

Totals (threshold 60 s): offered 9; answered 4 (c1 c2 c5 c8); abandoned 3 = 2 in the IVR
(c4 c9) + 1 in the queue (c3); in progress 1 (c8); routed 7; answered within 60 s 3
(c1 20, c5 30, c8 60 — c2 waited 95); service level 3/7 = 0.4286; ASA (20+95+30+60)/4 =
51.25 -> 51.3; AHT (300+480+601)/3 = 460.33 -> 460.3 (c8 has not ended); voicemails 1;
callbacks 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.call import Call
from tests.conftest import make_specialist

DAY = "2026-11-19"


def at(hhmmss: str, day: int = 19) -> datetime:
    """An instant of 2026-11-<day> UTC."""
    hour, minute, second = (int(part) for part in hhmmss.split(":"))
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    """Ids of the example's specialists."""

    ann: int
    bo: int


def _call(number: int, started: datetime, **fields: Any) -> Call:
    status = "in-progress" if fields.get("ended_at") is None else "completed"
    return Call(
        sid=f"CA{number:032d}",
        from_number="+14155550100",
        to_number="+18005550100",
        status=status,
        started_at=started,
        created_at=started,
        updated_at=started,
        **fields,
    )


async def seed_example(db: Database, clock: FixedClock) -> Seeded:
    """Insert the calls of the table above."""
    async with db.transaction() as session:
        ann = await make_specialist(session, clock, name="Ann")
        bo = await make_specialist(session, clock, name="Bo")
        en = {"team": "support-en", "language": "en"}
        de = {"team": "support-de", "language": "de"}
        vm = "https://api.twilio.com/recordings/RE1"
        session.add_all(
            [
                _call(
                    1,
                    at("09:00:00"),
                    **en,
                    topic="billing",
                    routed_at=at("09:00:30"),
                    answered_at=at("09:00:50"),
                    ended_at=at("09:05:50"),
                    answered_by_id=ann,
                    outcome="answered",
                ),
                _call(
                    2,
                    at("09:10:00"),
                    **en,
                    topic="billing",
                    routed_at=at("09:10:40"),
                    answered_at=at("09:12:15"),
                    ended_at=at("09:20:15"),
                    answered_by_id=ann,
                    outcome="answered",
                ),
                _call(
                    3,
                    at("09:30:00"),
                    **en,
                    topic="tech",
                    routed_at=at("09:30:20"),
                    ended_at=at("09:31:00"),
                    outcome="abandoned",
                ),
                _call(4, at("10:15:00"), **en, ended_at=at("10:15:40"), outcome="abandoned"),
                _call(
                    5,
                    at("10:20:00"),
                    **de,
                    topic="tech",
                    routed_at=at("10:20:15"),
                    answered_at=at("10:20:45"),
                    ended_at=at("10:30:46"),
                    answered_by_id=bo,
                    outcome="answered",
                ),
                _call(
                    6,
                    at("10:40:00"),
                    **de,
                    topic="billing",
                    routed_at=at("10:40:10"),
                    ended_at=at("10:43:10"),
                    voicemail_url=vm,
                    outcome="voicemail",
                ),
                _call(
                    7,
                    at("23:30:00"),
                    **de,
                    topic="billing",
                    routed_at=at("23:30:05"),
                    ended_at=at("23:31:05"),
                    callback_number="+14155550123",
                    outcome="callback",
                ),
                _call(
                    8,
                    at("23:50:00"),
                    **de,
                    topic="tech",
                    routed_at=at("23:50:10"),
                    answered_at=at("23:51:10"),
                    answered_by_id=bo,
                    outcome="answered",
                ),
                _call(9, at("12:00:00"), ended_at=at("12:00:20"), outcome="abandoned"),
                # Just outside the range on either side, each one that would change every figure.
                _call(
                    10,
                    at("23:59:59", day=18),
                    **en,
                    routed_at=at("23:59:59", day=18),
                    answered_at=at("00:00:01"),
                    ended_at=at("00:01:00"),
                    answered_by_id=ann,
                    outcome="answered",
                ),
                _call(
                    11,
                    at("00:00:00", day=20),
                    **de,
                    routed_at=at("00:00:00", day=20) + timedelta(seconds=1),
                    ended_at=at("00:00:30", day=20),
                    outcome="abandoned",
                ),
            ]
        )
    return Seeded(ann=ann, bo=bo)


def figures(**values: Any) -> dict[str, Any]:
    """A full figures row: zeros and nulls, overridden by `values`."""
    row: dict[str, Any] = {
        "offered": 0,
        "answered": 0,
        "abandoned": 0,
        "abandoned_in_ivr": 0,
        "abandoned_in_queue": 0,
        "in_progress": 0,
        "routed": 0,
        "answered_within_threshold": 0,
        "service_level": None,
        "average_speed_of_answer_seconds": None,
        "average_handle_time_seconds": None,
        "voicemails": 0,
        "callbacks": 0,
    }
    unknown = set(values) - set(row)
    assert not unknown, unknown
    row.update(values)
    return row


TOTAL = figures(
    offered=9,
    answered=4,
    abandoned=3,
    abandoned_in_ivr=2,
    abandoned_in_queue=1,
    in_progress=1,
    routed=7,
    answered_within_threshold=3,
    service_level=0.4286,
    average_speed_of_answer_seconds=51.3,
    average_handle_time_seconds=460.3,
    voicemails=1,
    callbacks=1,
)
SUPPORT_EN = figures(
    offered=4,
    answered=2,
    abandoned=2,
    abandoned_in_ivr=1,
    abandoned_in_queue=1,
    routed=3,
    answered_within_threshold=1,
    service_level=0.3333,
    average_speed_of_answer_seconds=57.5,
    average_handle_time_seconds=390.0,
)
SUPPORT_DE = figures(
    offered=4,
    answered=2,
    in_progress=1,
    routed=4,
    answered_within_threshold=2,
    service_level=0.5,
    average_speed_of_answer_seconds=45.0,
    average_handle_time_seconds=601.0,
    voicemails=1,
    callbacks=1,
)
NO_TEAM = figures(offered=1, abandoned=1, abandoned_in_ivr=1)
