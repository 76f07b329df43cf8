"""Server-side console sessions and sign-in throttling, stored in the database.

Every instance of the app shares them, so signing out, revoking and throttling hold however
many instances serve the console.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models.user import SignInAttempt, User, WebSession
from app.web.users import by_email, digest, normalise_email, password_matches

# Failed sign-ins counted over this window; past a limit, sign-in waits until the oldest
# failure of the window ages out.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
# last_seen_at is written at most this often: a page view should not always be a write.
TOUCH_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request's session cookie."""

    session_id: int
    user_id: int
    email: str
    name: str
    role: str
    specialist_id: int | None
    csrf_token: str


class Throttled(Exception):
    """Too many failed sign-ins for the account or the address."""

    def __init__(self, message: str, retry_after: timedelta) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


async def _failures(
    session: AsyncSession, column: InstrumentedAttribute[str], value: str, since: datetime
) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(SignInAttempt)
        .where(column == value, SignInAttempt.at > since)
    )
    return int(count or 0)


async def _oldest(
    session: AsyncSession, column: InstrumentedAttribute[str], value: str, since: datetime
) -> datetime:
    oldest = await session.scalar(
        select(func.min(SignInAttempt.at)).where(column == value, SignInAttempt.at > since)
    )
    return oldest or since


async def check_throttle(session: AsyncSession, email: str, address: str, now: datetime) -> None:
    """Raise Throttled when the account or the address failed too often lately."""
    since = now - THROTTLE_WINDOW
    email = normalise_email(email)
    if await _failures(session, SignInAttempt.email, email, since) >= MAX_FAILURES_PER_ACCOUNT:
        oldest = await _oldest(session, SignInAttempt.email, email, since)
        wait = oldest + THROTTLE_WINDOW - now
        raise Throttled(
            "Too many failed sign-ins for this account. "
            f"Try again in {_minutes(wait)}, or ask an administrator to reset the password.",
            wait,
        )
    if await _failures(session, SignInAttempt.address, address, since) >= MAX_FAILURES_PER_ADDRESS:
        oldest = await _oldest(session, SignInAttempt.address, address, since)
        wait = oldest + THROTTLE_WINDOW - now
        raise Throttled(
            f"Too many failed sign-ins from this address. Try again in {_minutes(wait)}.", wait
        )


def _minutes(wait: timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


async def record_failure(session: AsyncSession, email: str, address: str, now: datetime) -> None:
    """Count a failed sign-in (and forget failures older than the window)."""
    session.add(SignInAttempt(email=normalise_email(email)[:254], address=address, at=now))
    await session.execute(delete(SignInAttempt).where(SignInAttempt.at < now - THROTTLE_WINDOW))
    await session.flush()


async def authenticate(
    session: AsyncSession, email: str, password: str, address: str, now: datetime
) -> User | None:
    """The active user with this email and password, or None (the failure is counted).

    Raises Throttled before checking the password when there were too many failures.
    """
    await check_throttle(session, email, address, now)
    user = await by_email(session, email)
    if password_matches(user, password):
        return user
    await record_failure(session, email, address, now)
    return None


async def start_session(
    session: AsyncSession, user: User, *, address: str, user_agent: str, now: datetime
) -> str:
    """Open a session for the user; returns the cookie's secret (only its digest is stored)."""
    secret = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=digest(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            address=address[:64],
            user_agent=user_agent[:300],
            created_at=now,
            last_seen_at=now,
        )
    )
    await session.flush()
    return secret


async def resolve(
    session: AsyncSession, secret: str, *, now: datetime, idle: timedelta
) -> SignedIn | None:
    """The signed-in person for a cookie secret; None when unknown, ended or idle too long.

    A session idle for longer than `idle` is ended here; an active one is marked as seen.
    """
    row = (
        await session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == digest(secret))
        )
    ).one_or_none()
    if row is None:
        return None
    web, user = row[0], row[1]
    if web.ended_at is not None or not user.active:
        return None
    if now - web.last_seen_at > idle:
        await session.execute(
            update(WebSession)
            .where(WebSession.id == web.id)
            .values(ended_at=now, end_reason="idle")
        )
        return None
    if now - web.last_seen_at >= TOUCH_RESOLUTION:
        await session.execute(
            update(WebSession).where(WebSession.id == web.id).values(last_seen_at=now)
        )
    return SignedIn(
        session_id=web.id,
        user_id=user.id,
        email=user.email,
        name=user.display_name,
        role=user.role,
        specialist_id=user.specialist_id,
        csrf_token=web.csrf_token,
    )


async def end_session(
    session: AsyncSession, session_id: int, *, now: datetime, reason: str, user_id: int | None
) -> bool:
    """End one session (of one user when `user_id` is given); False if none was open."""
    query = (
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    if user_id is not None:
        query = query.where(WebSession.user_id == user_id)
    result = await session.execute(query)
    return bool(getattr(result, "rowcount", 0))


async def open_sessions(
    session: AsyncSession, *, now: datetime, idle: timedelta, user_id: int | None = None
) -> list[tuple[WebSession, User]]:
    """Open, not yet idle sessions (of one user, or everyone's), most recent first."""
    query = (
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.ended_at.is_(None), WebSession.last_seen_at > now - idle)
        .order_by(WebSession.last_seen_at.desc())
    )
    if user_id is not None:
        query = query.where(WebSession.user_id == user_id)
    return [(r[0], r[1]) for r in await session.execute(query)]
