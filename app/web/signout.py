"""What domain pages want done when someone signs out (the console knows no domain)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.web.sessions import SignedIn

SignOutHook = Callable[[AsyncSession, SignedIn, datetime], Awaitable[None]]
_HOOKS: list[SignOutHook] = []


def on_sign_out(hook: SignOutHook) -> SignOutHook:
    """Run `hook` in the sign-out's transaction (registered once)."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


async def signed_out(session: AsyncSession, me: SignedIn, now: datetime) -> None:
    """Run every sign-out hook."""
    for hook in _HOOKS:
        await hook(session, me, now)
