"""`POST /v1/voice/token`: a Twilio Voice SDK token for the desk's softphone."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app.auth.deps import CurrentPrincipal
from app.config import Settings
from app.core.deps import ClockDep, DbSession
from app.core.errors import Conflict, Forbidden
from app.models.rota import Specialist
from app.telephony import voice_token

router = APIRouter(prefix="/v1/voice", tags=["desk"])


class VoiceTokenOut(BaseModel):
    """A Twilio Voice SDK access token for the signed-in specialist's client identity."""

    token: str
    identity: str
    expires_at: datetime
    ttl_seconds: int


@router.post("/token", response_model=VoiceTokenOut)
async def post_voice_token(
    request: Request, session: DbSession, clock: ClockDep, principal: CurrentPrincipal
) -> VoiceTokenOut:
    """A short-lived token: incoming calls for my `client:` identity, outgoing via the app."""
    if principal.specialist_id is None:
        raise Forbidden("only a specialist (a key or user linked to one) has a softphone")
    specialist = await session.get(Specialist, principal.specialist_id)
    if specialist is None:
        raise Forbidden("the linked specialist no longer exists")
    identity = voice_token.client_identity(specialist.contact)
    if identity is None:
        raise Conflict(
            f"your contact is {specialist.contact!r}: Switchboard rings it directly; the "
            "softphone needs a 'client:NAME' contact"
        )
    settings: Settings = request.app.state.settings
    found = voice_token.issue(settings, identity, now=clock.now())
    return VoiceTokenOut(
        token=found.token,
        identity=found.identity,
        expires_at=found.expires_at,
        ttl_seconds=settings.voice_token_ttl_seconds,
    )
