"""The specialist's desk: availability, softphone, screen pop, after the call, my work,
my next four weeks and swap requests.

Every action is a CSRF-checked form that goes through the same services as the API and
comes back to the page; the live parts are the screen pop (/desk/events, Server-Sent
Events) and the softphone (a token from /desk/voice-token)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from app.core.errors import AppError
from app.desk import views
from app.events.stream import listen
from app.routing import availability
from app.telephony import voice_token
from app.web.deps import CheckedForm, CurrentUser, acting_as, csrf_ok, settings_of
from app.web.errors import CsrfFailed, PageForbidden
from app.web.nav import register_home, register_nav
from app.web.pages import clock_of, db_of
from app.web.sessions import SignedIn
from app.web.signout import on_sign_out
from app.web.templating import SECURITY_HEADERS, add_template_dir, render

router = APIRouter(include_in_schema=False)
add_template_dir(Path(__file__).parent / "templates")
register_nav("My desk", "/desk", ("specialist",), order=5)
register_home("specialist", "/desk")


@on_sign_out
async def _offline_on_sign_out(session: Any, me: SignedIn, now: datetime) -> None:
    """Signing out: offline, unless calls ring a phone number anyway."""
    if me.specialist_id is not None:
        await availability.signed_out(session, acting_as(me), me.specialist_id, now=now)


# The softphone talks to Twilio (signalling, media, its sounds): the desk allows exactly
# that beyond the app itself.
DESK_CSP = SECURITY_HEADERS["Content-Security-Policy"].replace(
    "default-src 'self';",
    "default-src 'self'; connect-src 'self' https://*.twilio.com wss://*.twilio.com; "
    "media-src 'self' https://*.twilio.com https://*.twiliocdn.com blob:;",
)


def _specialist_of(me: SignedIn) -> int:
    if me.specialist_id is None:
        raise PageForbidden(
            "The desk is for people linked to a specialist; ask an admin to link your user."
        )
    return me.specialist_id


async def _page(
    request: Request, me: SignedIn, *, error: str | None = None, status: int = 200
) -> Response:
    sid = _specialist_of(me)
    context = await views.desk(
        db_of(request), sid, now=clock_of(request).now(), settings=settings_of(request)
    )
    return render(
        request,
        "desk/desk.html",
        {**context, "error": error, "notice": request.query_params.get("notice")},
        status_code=status,
        headers={"Content-Security-Policy": DESK_CSP},
    )


@router.get("/desk")
async def desk_page(request: Request, me: CurrentUser) -> Response:
    """My desk."""
    return await _page(request, me)


async def _act(request: Request, me: SignedIn, action: Any) -> Response:
    """Run a form's action in one transaction; back to the desk, or the desk with the error."""
    try:
        async with db_of(request).transaction() as session:
            await action(session)
    except AppError as exc:
        return await _page(request, me, error=exc.detail, status=exc.status)
    return RedirectResponse("/desk", status_code=303)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.post("/desk/availability")
async def set_availability(request: Request, me: CurrentUser, form: CheckedForm) -> Response:
    """Available, away or offline."""
    sid = _specialist_of(me)
    wanted = _text(form, "availability")
    if wanted not in ("available", "away", "offline"):
        return await _page(request, me, error="Choose available, away or offline.", status=422)
    now = clock_of(request).now()

    async def action(session: Any) -> None:
        await availability.set_availability(session, acting_as(me), sid, wanted, now=now)

    return await _act(request, me, action)


@router.post("/desk/softphone-closed")
async def softphone_closed(request: Request, me: CurrentUser, form: CheckedForm) -> Response:
    """The softphone page closed: offline, unless calls ring a phone number anyway."""
    sid = _specialist_of(me)
    async with db_of(request).transaction() as session:
        await availability.signed_out(session, acting_as(me), sid, now=clock_of(request).now())
    return Response(status_code=204)


@router.post("/desk/wrap-up")
async def wrap_up(request: Request, me: CurrentUser, form: CheckedForm) -> Response:
    """After the call: a disposition and a note."""
    now = clock_of(request).now()
    sid, code, note = _text(form, "call_sid"), _text(form, "disposition"), _text(form, "note")

    async def action(session: Any) -> None:
        from app.calls import wrapup

        await wrapup.wrap_up(
            session, acting_as(me), sid, disposition=code, note=note or None, now=now
        )

    return await _act(request, me, action)


@router.post("/desk/work/{item_id}/{verb}")
async def work(
    request: Request, item_id: int, verb: str, me: CurrentUser, form: CheckedForm
) -> Response:
    """Claim, release or complete an item of my work list."""
    from app.worklist import service as work_service

    sid = _specialist_of(me)
    now = clock_of(request).now()
    principal = acting_as(me)

    async def action(session: Any) -> None:
        if verb == "claim":
            await work_service.claim(session, item_id, principal, specialist_id=sid, now=now)
        elif verb == "release":
            await work_service.release(session, item_id, principal, now=now)
        elif verb == "complete":
            await work_service.complete(
                session,
                item_id,
                principal,
                outcome=_text(form, "outcome") or "resolved",
                note=_text(form, "note") or None,
                now=now,
            )
        else:
            raise views.UnknownAction(verb)

    return await _act(request, me, action)


@router.post("/desk/swaps")
async def new_swap(request: Request, me: CurrentUser, form: CheckedForm) -> Response:
    """Offer one of my shifts, or ask a teammate to take it."""
    now = clock_of(request).now()
    shift = _text(form, "shift")
    teammate = _text(form, "teammate_id")
    kind = _text(form, "kind") or "offer"

    async def action(session: Any) -> None:
        from app.rota import swaps

        team, start, end = views.parse_shift_choice(shift)
        await swaps.create(
            session,
            acting_as(me),
            kind=kind,
            team=team,
            start=start,
            end=end,
            teammate_id=int(teammate) if teammate.isdigit() else None,
            note=_text(form, "note") or None,
            now=now,
        )

    return await _act(request, me, action)


@router.post("/desk/swaps/{swap_id}/{verb}")
async def act_on_swap(
    request: Request, swap_id: int, verb: str, me: CurrentUser, form: CheckedForm
) -> Response:
    """Accept, decline or cancel a swap request."""
    now = clock_of(request).now()

    async def action(session: Any) -> None:
        from app.rota import swaps

        principal = acting_as(me)
        if verb == "accept":
            await swaps.accept(session, principal, swap_id, now=now)
        elif verb == "decline":
            await swaps.decline(session, principal, swap_id, now=now)
        elif verb == "cancel":
            await swaps.cancel(session, principal, swap_id, now=now)
        else:
            raise views.UnknownAction(verb)

    return await _act(request, me, action)


@router.get("/desk/events")
async def desk_events(
    request: Request, me: CurrentUser, last_event_id: str | None = Header(default=None)
) -> StreamingResponse:
    """My rings (with the screen pop) and their ends, as Server-Sent Events."""
    resume = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    stream = listen(
        request.app.state.events,
        db_of(request),
        clock_of(request),
        role=me.role,
        specialist_id=me.specialist_id,
        last_event_id=resume,
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/desk/voice-token")
async def desk_voice_token(
    request: Request, me: CurrentUser, x_csrf_token: str | None = Header(default=None)
) -> Response:
    """A softphone token for my client identity (the page sends its CSRF token)."""
    if not csrf_ok(me.csrf_token, x_csrf_token):
        raise CsrfFailed()
    sid = _specialist_of(me)
    async with db_of(request).transaction() as session:
        identity = await views.client_identity_of(session, sid)
    if identity is None:
        return JSONResponse({"detail": "your contact is not a client: identity"}, status_code=409)
    try:
        found = voice_token.issue(settings_of(request), identity, now=clock_of(request).now())
    except AppError as exc:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)
    return JSONResponse(
        {
            "token": found.token,
            "identity": found.identity,
            "expires_at": found.expires_at.isoformat(),
            "ttl_seconds": settings_of(request).voice_token_ttl_seconds,
        },
        headers={"Cache-Control": "no-store"},
    )
