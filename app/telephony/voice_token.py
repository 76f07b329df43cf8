"""Access tokens for the softphone (the Twilio Voice JS SDK in the desk page).

The token lets the browser register as the specialist's `client:` identity, so the
`<Client>` legs routing dials ring it (incoming), and place calls through the TwiML App
(outgoing). It is signed with an API key of the account, never the auth token, and lives
only a few minutes: the page asks for a new one before it runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from app.config import Settings
from app.core.errors import Conflict
from app.core.phone import contact_kind


class SoftphoneNotConfigured(Conflict):
    """The four softphone settings are not all set."""


@dataclass(frozen=True)
class VoiceToken:
    """A signed JWT, the identity it registers and when it expires."""

    token: str
    identity: str
    expires_at: datetime


def client_identity(contact: str) -> str | None:
    """The Voice SDK identity of a `client:NAME` contact (None for numbers and SIP)."""
    if contact_kind(contact) != "client":
        return None
    return contact.removeprefix("client:")


def issue(settings: Settings, identity: str, *, now: datetime) -> VoiceToken:
    """A Voice SDK token for `identity`: incoming calls allowed, outgoing via the TwiML App."""
    if not settings.softphone_configured:
        raise SoftphoneNotConfigured(
            "the softphone is not configured: set TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID, "
            "TWILIO_API_KEY_SECRET and TWIML_APP_SID"
        )
    ttl = settings.voice_token_ttl_seconds
    expires_at = now + timedelta(seconds=ttl)
    # Not before and expiry from the app's clock (the library would read the system's).
    token = AccessToken(
        settings.twilio_account_sid,
        settings.twilio_api_key_sid,
        settings.twilio_api_key_secret,
        identity=identity,
        ttl=ttl,
        nbf=int(now.timestamp()),
        valid_until=int(expires_at.timestamp()),
    )
    token.add_grant(
        VoiceGrant(incoming_allow=True, outgoing_application_sid=settings.twiml_app_sid)
    )
    return VoiceToken(token.to_jwt(), identity, expires_at)
