"""Twilio request signatures: every /twilio/* request is checked before anything is read."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from app.config import Settings
from app.core.errors import Forbidden

logger = logging.getLogger("switchboard.telephony")


def signed_url(public_base_url: str, path: str, query: str) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path + raw query (never the URL we see).

    Behind a TLS proxy the app sees http://127.0.0.1:8000/..., Twilio signed
    https://support.example.com/...; PUBLIC_BASE_URL is what Twilio used.
    """
    return public_base_url.rstrip("/") + path + (f"?{query}" if query else "")


def signature_valid(
    token: str,
    url: str,
    params: FormData | dict[str, str],
    signature: str,
    algorithm: str | None = None,
) -> bool:
    """Whether `signature` is Twilio's for the URL and POST parameters.

    RequestValidator accepts the URL with and without the default port, as Twilio signs
    either. An empty token never validates (anyone could sign with it).
    """
    if not token or not signature:
        return False
    return bool(RequestValidator(token).validate(url, params, signature, algorithm=algorithm))


def check_request(
    settings: Settings,
    *,
    raw_path: str,
    query: str,
    params: FormData | dict[str, str],
    signature: str,
    signature_settings: str | None,
    call_sid: str | None,
) -> None:
    """Raise Forbidden unless the request carries Twilio's signature (when checks are on)."""
    if not settings.twilio_signature_check:
        return
    url = signed_url(settings.public_base_url, raw_path, query)
    algorithm = get_signature_algorithm(signature_settings)
    if not signature_valid(settings.twilio_auth_token, url, params, signature, algorithm):
        logger.warning(
            "refused a /twilio request with a missing or wrong signature",
            extra={"path": raw_path, "call_sid": call_sid},
        )
        raise Forbidden("the X-Twilio-Signature header is missing or does not match")


async def twilio_form(request: Request) -> dict[str, str]:
    """The POSTed form of a signed Twilio request; 403 when the signature is wrong."""
    settings: Settings = request.app.state.settings
    form = await request.form()
    call_sid = form.get("CallSid")
    if isinstance(call_sid, str):
        request.state.call_sid = call_sid  # for the access log line
    if any(not isinstance(value, str) for _, value in form.multi_items()):
        raise Forbidden("Twilio webhooks post url-encoded fields, not files")
    raw_path = request.scope.get("raw_path")
    check_request(
        settings,
        raw_path=raw_path.decode("latin-1") if raw_path else request.url.path,
        query=request.scope.get("query_string", b"").decode("latin-1"),
        params=form,
        signature=request.headers.get(SIGNATURE_HEADER, ""),
        signature_settings=request.headers.get(SIGNATURE_SETTINGS_HEADER),
        call_sid=call_sid if isinstance(call_sid, str) else None,
    )
    return garbled_as_unreadable({key: str(value) for key, value in form.items()})


def garbled_as_unreadable(fields: Mapping[str, str]) -> dict[str, str]:
    """Signed fields with any NUL made U+FFFD: text no step accepts, that the database stores.

    A NUL in `Digits` or `SpeechResult` then reads as input the menu does not understand (its
    retry prompt), not as a database error (the apology); in `From` it is kept visibly.
    """
    return {_unreadable(key): _unreadable(value) for key, value in fields.items()}


def _unreadable(text: str) -> str:
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


TwilioForm = Annotated[dict[str, str], Depends(twilio_form)]
