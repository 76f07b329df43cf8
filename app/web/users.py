"""Console users: create, list, passwords (argon2id), deactivate, one-time sign-in links."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound, ValidationFailed
from app.models.rota import Specialist
from app.models.user import USER_ROLES, SignInLink, User, WebSession

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
LINK_LIFETIME = timedelta(hours=24)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_hasher = PasswordHasher()
# Verifying against this when the email is unknown takes as long as a real check, so the
# answer's timing does not tell which emails have accounts.
_DUMMY_HASH = _hasher.hash("not a password anyone has" + secrets.token_hex(8))


def digest(secret: str) -> str:
    """SHA-256 hex digest of a random secret (session cookies, sign-in links)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively, without surrounding spaces."""
    return email.strip().lower()


def check_password(password: str, field: str = "password") -> None:
    """A password long enough (and not absurdly long), or a clear error."""
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(
            f"the password needs at least {MIN_PASSWORD} characters",
            errors=[{"field": field, "message": f"at least {MIN_PASSWORD} characters"}],
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationFailed(
            "the password is too long",
            errors=[{"field": field, "message": f"at most {MAX_PASSWORD} characters"}],
        )


def hash_password(password: str) -> str:
    """An argon2id hash of a password that passed check_password."""
    check_password(password)
    return _hasher.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    """True when the user exists, is active, has a password and it matches."""
    stored = user.password_hash if user is not None else None
    try:
        ok = _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and user is not None and stored is not None and user.active


async def by_email(session: AsyncSession, email: str) -> User | None:
    """A user by email (any case)."""
    return await session.scalar(select(User).where(User.email == normalise_email(email)))


async def get_user(session: AsyncSession, user_id: int) -> User:
    """A user or 404."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


async def list_users(session: AsyncSession) -> list[User]:
    """Every user, active first, then by name."""
    rows = await session.scalars(select(User).order_by(User.active.desc(), User.display_name))
    return list(rows)


@dataclass(frozen=True)
class NewUser:
    """What it takes to create a user; no password means a sign-in link is made instead."""

    email: str
    display_name: str
    role: str
    specialist_id: int | None = None
    password: str | None = None


async def create_user(session: AsyncSession, data: NewUser, *, now: datetime) -> User:
    """Validate and store a new user (password hashed, never stored or logged in clear)."""
    email = normalise_email(data.email)
    errors = []
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors.append({"field": "email", "message": "not an email address"})
    if not data.display_name.strip() or len(data.display_name) > 200:
        errors.append({"field": "display_name", "message": "1 to 200 characters"})
    if data.role not in USER_ROLES:
        errors.append({"field": "role", "message": f"one of {', '.join(USER_ROLES)}"})
    if data.specialist_id is not None and await session.get(Specialist, data.specialist_id) is None:
        errors.append({"field": "specialist_id", "message": "no such specialist"})
    if errors:
        raise ValidationFailed(
            "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors
        )
    if data.password is not None:
        check_password(data.password)
    if await by_email(session, email) is not None:
        raise Conflict(
            f"a user with the email {email} already exists",
            errors=[{"field": "email", "message": "already in use"}],
        )
    user = User(
        email=email,
        display_name=data.display_name.strip(),
        role=data.role,
        specialist_id=data.specialist_id,
        active=True,
        password_hash=_hasher.hash(data.password) if data.password is not None else None,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def set_password(session: AsyncSession, user: User, password: str, *, now: datetime) -> None:
    """Replace a user's password."""
    user.password_hash = hash_password(password)
    user.updated_at = now
    await session.flush()


async def end_sessions(
    session: AsyncSession, user_id: int, *, now: datetime, reason: str, keep: int | None = None
) -> None:
    """End every open session of a user (except `keep`)."""
    query = (
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    if keep is not None:
        query = query.where(WebSession.id != keep)
    await session.execute(query)


async def set_active(session: AsyncSession, user: User, active: bool, *, now: datetime) -> None:
    """Activate or deactivate a user; deactivating ends their sessions at once."""
    user.active = active
    user.updated_at = now
    if not active:
        await end_sessions(session, user.id, now=now, reason="deactivated")
    await session.flush()


async def create_sign_in_link(session: AsyncSession, user: User, *, now: datetime) -> str:
    """A one-time secret for /login/link/<secret> (valid LINK_LIFETIME); returns the secret."""
    secret = secrets.token_urlsafe(32)
    session.add(
        SignInLink(
            token_hash=digest(secret),
            user_id=user.id,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    await session.flush()
    return secret


async def open_link(session: AsyncSession, secret: str, *, now: datetime) -> SignInLink | None:
    """The unused, unexpired link for a secret, or None."""
    link = await session.scalar(select(SignInLink).where(SignInLink.token_hash == digest(secret)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link


async def use_link(
    session: AsyncSession, secret: str, password: str, *, now: datetime
) -> User | None:
    """Set the password through a link (used once); the user, or None if the link is dead."""
    link = await open_link(session, secret, now=now)
    if link is None:
        return None
    user = await session.get(User, link.user_id)
    if user is None or not user.active:
        return None
    await set_password(session, user, password, now=now)
    link.used_at = now
    # A new password ends the sessions opened with the old one.
    await end_sessions(session, user.id, now=now, reason="password-changed")
    await session.flush()
    return user
