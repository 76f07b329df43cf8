"""The desk's call control: "Call back" on a work item and "Transfer" during a call.

Both go through the same services as `POST /v1/callbacks/{id}/dial` and
`POST /v1/calls/{sid}/transfer`: the write commits, then Twilio is asked, then its answer is
recorded. A form posted by the page's script gets JSON (what to show under the button); a
form posted without scripts comes back to the desk with the same words.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.core.errors import AppError
from app.desk.pages import _specialist_of, _text
from app.desk.views import dial_text
from app.models.call import CallTransfer
from app.models.rota import Specialist
from app.models.routing import WorkItem
from app.telephony import outbound, transfers
from app.telephony.endpoints import telephony_of
from app.telephony.endpoints_control import rest_client
from app.web.deps import CheckedForm, CurrentUser, acting_as
from app.web.pages import clock_of, db_of

router = APIRouter(include_in_schema=False)

UNDER_WAY = ("dialing", "ringing_specialist", "calling_customer")
NOT_CONFIGURED = (
    "Calling out is not set up on this Switchboard: an admin must set TWILIO_ACCOUNT_SID, "
    "TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET."
)
TRANSFER_WORDS = {
    "ringing": "Ringing {target}…",
    "talking": "{target} accepted: talk to them, then bring the caller in.",
    "connected": "Transferred to {target}.",
    "returned": "Nobody took the call: the caller is back with you.",
    "failed": "The transfer failed.",
}


def dial_state(item: WorkItem) -> dict[str, Any]:
    """Where the item's last callback got to, in words (None status: never called back)."""
    status = item.dial_status
    words = dial_text(status, item.last_dial_error)
    if words and item.dial_attempts:
        words = f"{words} · attempt {item.dial_attempts}"
    return {
        "item_id": item.id,
        "status": status,
        "attempts": item.dial_attempts,
        "error": item.last_dial_error,
        "under_way": status in UNDER_WAY,
        "text": words,
    }


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _answer(request: Request, status: int, body: dict[str, Any]) -> Response:
    if _wants_json(request):
        return JSONResponse(body, status_code=status)
    return RedirectResponse(f"/desk?notice={quote(str(body.get('text', '')))}", status_code=303)


def _problem_text(exc: AppError) -> str:
    if isinstance(exc, outbound.TwilioNotConfigured):
        return NOT_CONFIGURED
    return str(exc.detail)


@router.post("/desk/work/{item_id}/dial")
async def dial(request: Request, item_id: int, me: CurrentUser, form: CheckedForm) -> Response:
    """Call the customer back: Switchboard rings me first, then them."""
    sid = _specialist_of(me)
    tel = telephony_of(request.app.state)
    try:
        async with db_of(request).transaction() as session:
            placing = await outbound.start(
                session,
                tel.settings,
                item_id,
                acting_as(me),
                specialist_id=sid,
                now=clock_of(request).now(),
            )
    except AppError as exc:
        return _answer(request, exc.status, {"item_id": item_id, "text": _problem_text(exc)})
    _, error = await outbound.place(tel, rest_client(request), placing)
    async with db_of(request).transaction() as session:
        item = await session.get(WorkItem, item_id)
        assert item is not None
        state = dial_state(item)
    return _answer(request, 502 if error else 202, state)


@router.get("/desk/work/{item_id}/dial")
async def dial_progress(request: Request, item_id: int, me: CurrentUser) -> Response:
    """Where the item's callback is now (the page asks every few seconds while under way)."""
    _specialist_of(me)
    async with db_of(request).transaction() as session:
        item = await session.get(WorkItem, item_id)
        if item is None:
            return JSONResponse({"text": "This item no longer exists."}, status_code=404)
        return JSONResponse(dial_state(item), headers={"Cache-Control": "no-store"})


async def _transfer_state(request: Request, transfer_id: int) -> dict[str, Any]:
    async with db_of(request).transaction() as session:
        transfer = await session.get(CallTransfer, transfer_id)
        assert transfer is not None
        target = transfer.target_team or "the team"
        if transfer.target_specialist_id is not None:
            person = await session.get(Specialist, transfer.target_specialist_id)
            target = person.name if person is not None else "the specialist"
        elif transfer.target_team:
            target = f"someone in {transfer.target_team}"
        words = TRANSFER_WORDS.get(transfer.status, transfer.status).format(target=target)
        if transfer.error:
            words = f"{words} {transfer.error}"
        return {
            "transfer_id": transfer.id,
            "status": transfer.status,
            "mode": transfer.mode,
            "under_way": transfer.status in ("ringing", "talking"),
            "can_complete": transfer.mode == "warm" and transfer.status == "talking",
            "text": words,
        }


@router.post("/desk/transfer")
async def transfer(request: Request, me: CurrentUser, form: CheckedForm) -> Response:
    """Transfer the call I am on to a team or a specialist, cold or warm."""
    _specialist_of(me)
    call_sid, target, mode = _text(form, "call"), _text(form, "target"), _text(form, "mode")
    kind, _, value = target.partition(":")
    team = value if kind == "team" and value else None
    person = int(value) if kind == "specialist" and value.isdigit() else None
    if not call_sid or (team is None and person is None) or mode not in ("cold", "warm"):
        text = "Choose a team or a specialist, and cold or warm."
        return _answer(request, 422, {"text": text})
    tel = telephony_of(request.app.state)
    try:
        async with db_of(request).transaction() as session:
            move = await transfers.start(
                session,
                tel.settings,
                call_sid,
                acting_as(me),
                team=team,
                specialist_id=person,
                mode=mode,
                now=clock_of(request).now(),
            )
    except AppError as exc:
        return _answer(request, exc.status, {"text": _problem_text(exc)})
    error = await transfers.place(tel, rest_client(request), move)
    state = await _transfer_state(request, move.transfer_id)
    return _answer(request, 502 if error else 202, state)


@router.get("/desk/transfers/{transfer_id}")
async def transfer_progress(request: Request, transfer_id: int, me: CurrentUser) -> Response:
    """Where a transfer is now (the page asks every few seconds while it rings)."""
    sid = _specialist_of(me)
    async with db_of(request).transaction() as session:
        found = await session.get(CallTransfer, transfer_id)
        mine = found is not None and sid in (found.from_specialist_id, found.target_specialist_id)
        if found is None or not (mine or me.role in ("admin", "scheduler")):
            return JSONResponse({"text": "No such transfer."}, status_code=404)
    return JSONResponse(
        await _transfer_state(request, transfer_id), headers={"Cache-Control": "no-store"}
    )


@router.post("/desk/transfer/complete")
async def complete(request: Request, me: CurrentUser, form: CheckedForm) -> Response:
    """Warm transfer: bring the caller to the target, then I leave."""
    _specialist_of(me)
    call_sid = _text(form, "call")
    tel = telephony_of(request.app.state)
    try:
        async with db_of(request).transaction() as session:
            move = await transfers.complete(
                session, call_sid, acting_as(me), now=clock_of(request).now()
            )
    except AppError as exc:
        return _answer(request, exc.status, {"text": _problem_text(exc)})
    error = await transfers.bring_caller(tel, rest_client(request), move)
    state = await _transfer_state(request, move.transfer_id)
    return _answer(request, 502 if error else 200, state)
