"""Twilio request signatures: every /twilio/* request is checked before anything is read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlparse

from fastapi import Depends, Request
from starlette.datastructures import FormData
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    add_port,
    get_signature_algorithm,
    remove_port,
)

from app.config import Settings
from app.core.errors import Forbidden

logger = logging.getLogger("switchboard.telephony")
_DIGESTS = {HMAC_SHA1: hashlib.sha1, HMAC_SHA256: hashlib.sha256}


def signed_url(public_base_url: str, path: str, query: str) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path + raw query (never the URL we see).

    Behind a TLS proxy the app sees http://127.0.0.1:8000/..., Twilio signed
    https://support.example.com/...; PUBLIC_BASE_URL is what Twilio used.
    """
    return public_base_url.rstrip("/") + path + (f"?{query}" if query else "")


Params = FormData | Mapping[str, str] | Sequence[tuple[str, str]]
"""The POSTed fields: a form, a dict, or the (name, value) pairs as they were posted."""


def _signed_text(url: str, params: Params) -> str:
    """What Twilio signs: the URL, then each field name in order with each distinct value in
    order (as `RequestValidator.compute_signature` builds it, in one pass)."""
    if isinstance(params, FormData):
        pairs: Iterable[tuple[str, object]] = params.multi_items()
    elif isinstance(params, Mapping):
        pairs = params.items()
    else:
        pairs = params
    by_name: dict[str, set[str]] = {}
    for name, value in pairs:
        by_name.setdefault(name, set()).add(str(value))
    return url + "".join(
        name + value for name in sorted(by_name) for value in sorted(by_name[name])
    )


def signature_valid(
    token: str,
    url: str,
    params: Params,
    signature: str,
    algorithm: str | None = None,
) -> bool:
    """Whether `signature` is Twilio's for the URL and POST parameters.

    As RequestValidator: the URL with and without the default port are both accepted, as
    Twilio signs either; but the form is walked once and the second HMAC is computed only
    when the first (the URL as given) does not match (a third of a webhook's signature
    cost). An empty token never validates (anyone could sign with it).
    """
    if not token or not signature:
        return False
    digest = _DIGESTS.get((algorithm or HMAC_SHA1).upper())
    if digest is None:  # RequestValidator refuses it and logs which algorithm it was
        return bool(RequestValidator(token).validate(url, {}, signature, algorithm=algorithm))
    fields = _signed_text("", params)
    key = token.encode()
    given = signature.encode()
    for candidate in _url_variants(url):
        mac = hmac.new(key, (candidate + fields).encode(), digest).digest()
        if hmac.compare_digest(base64.b64encode(mac), given):
            return True
    return False


@lru_cache(maxsize=1024)
def _url_variants(url: str) -> tuple[str, str]:
    """The URL as it was given first (with its port, if it has one: the one Twilio most
    likely signed, so the usual request takes one HMAC either way), then the other form.

    Kept per URL: a call's webhooks come back to the same few (a hook, the state version,
    the language, the step), and parsing one costs more than its HMAC.
    """
    parsed = urlparse(url)
    first, second = (add_port, remove_port) if parsed.port else (remove_port, add_port)
    return first(parsed), second(parsed)


def check_request(
    settings: Settings,
    *,
    raw_path: str,
    query: str,
    params: Params,
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
