"""What a specialist hears before accepting: who calls, in which language, about what, history."""

from __future__ import annotations

from datetime import timedelta

from app.calls import service as calls
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.account import Account
from app.telephony.legs import whisper_text


async def test_the_whisper_tells_who_calls_and_their_history(
    db: Database, clock: FixedClock
) -> None:
    now = clock.now()
    async with db.transaction() as session:
        account = Account(
            number="1000017", name="Acme Payments", tier="paid", created_at=now, updated_at=now
        )
        session.add(account)
        await session.flush()
        made = []
        for i, outcome in enumerate(("answered", None, "voicemail")):
            call = calls.open_call(
                session,
                sid=f"CA{i:032d}",
                from_number="+14155550199",
                to_number="+18005550100",
                status="completed",
                now=now - timedelta(days=3 - i),
            )
            call.account_id = account.id
            call.outcome = outcome
            made.append(call)
        current = calls.open_call(
            session,
            sid="CA" + "9" * 32,
            from_number="+14155550199",
            to_number="+18005550100",
            status="in-progress",
            now=now,
        )
        current.account_id, current.language, current.topic = account.id, "ja", "billing"
        await session.flush()
        text = await whisper_text(session, current)
        assert text == (
            "Support call from Acme Payments, paid tier, in Japanese, about account and billing."
            " 3 earlier calls; the last one: voicemail."
        )
        made[2].outcome = None  # the newest earlier call has no outcome recorded
        await session.flush()
        assert (await whisper_text(session, current)).endswith(" 3 earlier calls.")
        stranger = calls.open_call(
            session, sid="CA" + "8" * 32, from_number="", to_number="", status=None, now=now
        )
        await session.flush()
        assert await whisper_text(session, stranger) == (
            "Support call from an unidentified caller."
        )
