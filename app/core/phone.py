"""Phone numbers: E.164 normalisation and masking for logs."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """A string that is not a valid phone number."""


def to_e164(raw: str, default_region: str = "US") -> str:
    """Normalise a phone number however it is written; raise InvalidPhoneNumber if invalid."""
    text = raw.strip()
    if not text or len(text) > 40:
        raise InvalidPhoneNumber("not a phone number")
    e164 = _e164(text, default_region)
    if e164 is None:
        raise InvalidPhoneNumber(f"{mask_phone(text)} is not a valid phone number")
    return e164


# A support line hears the same callers again and again, and parsing a number with its
# metadata costs ~25 us: every caller webhook that looks up the caller's account would pay
# it. The answer depends on the text and region alone (and the library's metadata, fixed
# for the process), so it is kept for the most recent numbers.
@lru_cache(maxsize=4096)
def _e164(text: str, default_region: str) -> str | None:
    """The E.164 form of a stripped, length-checked number, or None if it is not valid."""
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        # A caller ID such as 14155550199 has its country code but no '+'.
        digits = re.sub(r"\D", "", text)
        if digits and not text.startswith("+"):
            try:
                parsed = phonenumbers.parse("+" + digits, None)
            except phonenumbers.NumberParseException:
                parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def try_e164(raw: str | None, default_region: str = "US") -> str | None:
    """Like to_e164 but returns None for anything invalid (caller IDs can be 'anonymous')."""
    if not raw:
        return None
    try:
        return to_e164(raw, default_region)
    except InvalidPhoneNumber:
        return None


# A run of digits standing on its own: not inside a word such as a CallSid (CA...) or a
# request id, and not a date-time (2026-11-22 01:16 would otherwise look like a number).
_PHONE_RE = re.compile(
    r"(?:%2[Bb]|(?<![0-9A-Za-z])\+?)(?!\d{4}-\d\d-\d\d)\d[\d\s().-]{5,}\d(?![0-9A-Za-z])"
)


def mask_phone(text: str) -> str:
    """Hide every digit but the last four of each phone-number-like run in text."""

    def _mask(match: re.Match[str]) -> str:
        run = match.group(0)
        prefix = "%2B" if run.upper().startswith("%2B") else ""
        run = run[len(prefix) :]
        total = sum(ch.isdigit() for ch in run)
        if total < 9:  # shorter runs are dates, ids and counts, not phone numbers
            return prefix + run
        keep = 4
        out = []
        seen = 0
        for ch in run:
            if ch.isdigit():
                seen += 1
                out.append(ch if seen > total - keep else "*")
            else:
                out.append(ch)
        return prefix + "".join(out)

    return _PHONE_RE.sub(_mask, text)


def contact_kind(contact: str) -> str | None:
    """'number', 'client' or 'sip' for a specialist's contact; None if not dialable."""
    if contact.startswith("+") and contact[1:].isdigit() and 7 <= len(contact) <= 16:
        return "number"
    if contact.startswith("client:") and len(contact) > len("client:"):
        return "client"
    if contact.startswith(("sip:", "sips:")):
        return "sip"
    return None
