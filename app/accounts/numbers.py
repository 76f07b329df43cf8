"""Account numbers a caller can type on a keypad: six digits and a Luhn check digit."""

from __future__ import annotations

import secrets

ACCOUNT_NUMBER_DIGITS = 7


def luhn_check_digit(payload: str) -> str:
    """The Luhn digit that makes payload + digit pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def is_valid_account_number(number: str) -> bool:
    """True for a string of digits whose last digit is its Luhn check digit."""
    return number.isdigit() and len(number) >= 2 and luhn_check_digit(number[:-1]) == number[-1]


def new_account_number() -> str:
    """A random 7-digit account number (no leading zero) with a check digit.

    The check digit catches a mistyped digit on the keypad before the lookup.
    """
    payload = str(secrets.randbelow(900_000) + 100_000)
    return payload + luhn_check_digit(payload)
