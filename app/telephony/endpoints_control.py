"""`/v1/...` call control: outbound callbacks from the work list, transfers of live calls.

Twilio is asked only after the request's transaction has committed, so a call is never
placed for a write that was rolled back; its answer (or failure) is then recorded in a
second transaction and returned.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import CallReader, require_role
from app.auth.service import Principal
from app.calls import repository as call_records
from app.core.deps import ClockDep, DbSession
from app.core.errors import NotFound
from app.core.types import DbId
from app.models.call import CallTransfer, RingAttempt
from app.telephony import outbound, transfers
from app.telephony.driver import Telephony
from app.telephony.endpoints import telephony_of
from app.telephony.rest import TwilioRest
from app.telephony.schemas import TransferAttemptOut, TransferOut, TransferRequest
from app.worklist import service as worklist
from app.worklist.auth import WorkClaimer
from app.worklist.schemas import DialRequest, WorkItemOut

router = APIRouter(prefix="/v1", tags=["call control"])
# The specialist on the call transfers it; schedulers and admins may too.
Transferrer = Annotated[Principal, Depends(require_role("admin", "scheduler", "specialist"))]
CallSid = Annotated[str, Path(min_length=1, max_length=64)]


def rest_client(request: Request) -> TwilioRest:
    """The app's Twilio REST client (built once, at the first use)."""
    state = request.app.state
    client: TwilioRest | None = getattr(state, "twilio_rest", None)
    if client is None:
        client = TwilioRest(state.settings)
        state.twilio_rest = client
    return client


@router.post(
    "/callbacks/{item_id}/dial",
    response_model=WorkItemOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        502: {"description": "Twilio refused or did not answer; recorded on the item"},
        503: {"description": "Twilio's REST API is not configured; nothing was written"},
    },
)
async def dial_work_item(
    item_id: DbId,
    request: Request,
    response: Response,
    session: DbSession,
    clock: ClockDep,
    principal: WorkClaimer,
    body: DialRequest | None = None,
) -> WorkItemOut:
    """Call the customer back: ring the specialist (the claimer) with a whisper, then the
    customer from the company's caller ID. 202 when Twilio placed the call; its progress
    shows in the item's `dial` and in the outbound call on the call log."""
    tel = telephony_of(request.app.state)
    dial = await outbound.start(
        session,
        tel.settings,
        item_id,
        principal,
        specialist_id=body.specialist_id if body else None,
        now=clock.now(),
    )
    await session.commit()
    sid, error = await outbound.place(tel, rest_client(request), dial)
    async with tel.db.transaction() as fresh:
        item = await worklist.get(fresh, item_id)
        view = await worklist.view(fresh, item)
    if error is not None:
        raise outbound.TwilioUnavailable(
            str(error), item=view.model_dump(mode="json"), call_id=dial.call_id
        )
    response.headers["ETag"] = worklist.etag(item)
    if sid:
        response.headers["Location"] = f"/v1/calls/{sid}"
    return view


async def _transfer_view(tel: Telephony, sid: str, transfer_id: int) -> TransferOut:
    async with tel.db.transaction() as session:
        transfer = await session.get(CallTransfer, transfer_id)
        assert transfer is not None
        return await _out(session, sid, transfer)


async def _out(session: AsyncSession, sid: str, transfer: CallTransfer) -> TransferOut:
    attempts = await session.scalars(
        select(RingAttempt).where(RingAttempt.transfer_id == transfer.id).order_by(RingAttempt.id)
    )
    return TransferOut(
        id=transfer.id,
        call_sid=sid,
        mode=transfer.mode,
        status=transfer.status,
        from_specialist_id=transfer.from_specialist_id,
        target_team=transfer.target_team,
        target_specialist_id=transfer.target_specialist_id,
        error=transfer.error,
        attempts=[
            TransferAttemptOut(
                specialist_id=a.specialist_id,
                rung_at=a.rung_at,
                ended_at=a.ended_at,
                result=a.result,
            )
            for a in attempts
        ],
        created_at=transfer.created_at,
        updated_at=transfer.updated_at,
    )


@router.post(
    "/calls/{sid}/transfer",
    response_model=TransferOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        502: {"description": "Twilio refused; the caller stays where they were"},
        503: {"description": "Twilio's REST API is not configured; nothing was written"},
    },
)
async def transfer_call(
    sid: CallSid,
    body: TransferRequest,
    request: Request,
    session: DbSession,
    clock: ClockDep,
    principal: Transferrer,
) -> TransferOut:
    """Transfer a call in progress to a team or a specialist, cold or warm.

    202 when the target is being rung (cold: the caller holds with music; warm: you wait
    in a conference for the target while the caller holds). 409 when nobody in the team
    can take the call now: nothing changes and the caller stays with you.
    """
    tel = telephony_of(request.app.state)
    move = await transfers.start(
        session,
        tel.settings,
        sid,
        principal,
        team=body.team,
        specialist_id=body.specialist_id,
        mode=body.mode,
        now=clock.now(),
    )
    await session.commit()
    error = await transfers.place(tel, rest_client(request), move)
    view = await _transfer_view(tel, sid, move.transfer_id)
    if error is not None:
        raise outbound.TwilioUnavailable(str(error), transfer=view.model_dump(mode="json"))
    return view


@router.post("/calls/{sid}/transfer/complete", response_model=TransferOut)
async def complete_transfer(
    sid: CallSid,
    request: Request,
    session: DbSession,
    clock: ClockDep,
    principal: Transferrer,
) -> TransferOut:
    """Warm transfer: bring the caller to the target you have been talking with, then hang
    up (you leave the conference; the caller and the target stay)."""
    tel = telephony_of(request.app.state)
    move = await transfers.complete(session, sid, principal, now=clock.now())
    await session.commit()
    error = await transfers.bring_caller(tel, rest_client(request), move)
    view = await _transfer_view(tel, sid, move.transfer_id)
    if error is not None:
        raise outbound.TwilioUnavailable(
            f"{error} (the caller joins from their hold loop within seconds)",
            transfer=view.model_dump(mode="json"),
        )
    return view


@router.get("/calls/{sid}/transfers", response_model=list[TransferOut])
async def list_transfers(sid: CallSid, session: DbSession, _: CallReader) -> list[TransferOut]:
    """A call's transfers with every target rung, oldest first."""
    call = await call_records.by_sid(session, sid)
    if call is None:
        raise NotFound(f"call {sid} does not exist")
    return [await _out(session, sid, t) for t in await transfers.transfers_of(session, call.id)]
