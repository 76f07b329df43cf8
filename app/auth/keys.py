"""API key secrets: generation and hashing."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "sb_"


def new_key() -> str:
    """A fresh random API key (shown to its owner once)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The SHA-256 hex digest stored in place of the key.

    Keys are 256-bit random strings, so a fast hash is safe here (no dictionary to attack)
    and keeps the per-request lookup cheap.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """The first characters of a key, stored so operators can tell keys apart."""
    return key[:10]
