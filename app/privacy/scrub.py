"""The statements that scrub a call's personal details and keep its anonymous figures.

Scrubbed: the caller's number, the voicemail recording URL and transcript, the callback
number, typed and spoken inputs in the IVR path (account numbers, phone numbers, what the
caller said), the stored IVR state (which repeats them), and the number and note of the
call's work items. Kept: when, how long, language, topic, team, tier-free outcome, who
answered, every ringing attempt: what reports count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.call import Call, CallStateRow, CallStep
from app.models.console import ConsoleEvent
from app.models.routing import WorkItem

# Path inputs this short are menu keys ("1", "0", "#"): not personal, kept for the path.
KEPT_INPUT_LENGTH = 2
BATCH = 500


async def scrub_calls(session: AsyncSession, call_ids: Sequence[int], now: datetime) -> int:
    """Scrub these calls' personal details; returns how many calls were scrubbed."""
    done = 0
    for start in range(0, len(call_ids), BATCH):
        ids = list(call_ids[start : start + BATCH])
        await session.execute(
            update(Call)
            .where(Call.id.in_(ids))
            .values(
                from_number="",
                # "" rather than NULL: reports still see that there was a voicemail or a
                # callback request; the API shows neither.
                voicemail_url=case((Call.voicemail_url.is_(None), None), else_=""),
                voicemail_transcription=None,
                callback_number=case((Call.callback_number.is_(None), None), else_=""),
                scrubbed_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(CallStep)
            .where(
                CallStep.call_id.in_(ids),
                CallStep.input.is_not(None),
                func.length(CallStep.input) > KEPT_INPUT_LENGTH,
            )
            .values(input=None)
            .execution_options(synchronize_session=False)
        )
        # Live-console events repeat the caller's number and account (the screen pop).
        await session.execute(
            delete(ConsoleEvent)
            .where(ConsoleEvent.call_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            delete(CallStateRow)
            .where(CallStateRow.call_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(WorkItem)
            .where(
                WorkItem.call_id.in_(ids),
                or_(WorkItem.number.is_not(None), WorkItem.note.is_not(None)),
            )
            .values(number=None, note=None, updated_at=now, version=WorkItem.version + 1)
            .execution_options(synchronize_session=False)
        )
        done += len(ids)
    return done


async def calls_of_account(session: AsyncSession, account_id: int) -> list[int]:
    """Ids of the calls linked to an account."""
    return list(await session.scalars(select(Call.id).where(Call.account_id == account_id)))


async def unlinked_calls_from(session: AsyncSession, numbers: Sequence[str]) -> list[int]:
    """Ids of calls from these numbers that no account is linked to."""
    if not numbers:
        return []
    query = select(Call.id).where(Call.account_id.is_(None), Call.from_number.in_(list(numbers)))
    return list(await session.scalars(query))


async def calls_from(session: AsyncSession, numbers: Sequence[str]) -> list[int]:
    """Ids of every call from these numbers, linked to an account or not."""
    if not numbers:
        return []
    return list(await session.scalars(select(Call.id).where(Call.from_number.in_(list(numbers)))))


async def older_unscrubbed(session: AsyncSession, before: datetime, limit: int) -> list[int]:
    """Ids of calls that started before `before` and still carry details.

    Retention is at least a day and Twilio ends calls after four hours: these are over.
    """
    query = (
        select(Call.id)
        .where(Call.started_at < before, Call.scrubbed_at.is_(None))
        .order_by(Call.id)
        .limit(limit)
    )
    return list(await session.scalars(query))
