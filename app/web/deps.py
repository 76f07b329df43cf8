"""Page dependencies: who is signed in, which roles may open a page, CSRF-checked forms."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from app.auth.service import Principal
from app.config import Settings
from app.core.clock import Clock
from app.core.db import Database
from app.web.errors import CsrfFailed, PageForbidden, SignInRequired
from app.web.sessions import SignedIn, resolve

SESSION_COOKIE = "sb_session"


def settings_of(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def idle_timeout(request: Request) -> timedelta:
    """How long a session may stay unused."""
    return timedelta(minutes=settings_of(request).session_idle_minutes)


def client_address(request: Request) -> str:
    """The browser's address (uvicorn applies X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else "unknown"


async def signed_in_or_none(request: Request) -> SignedIn | None:
    """The person behind the session cookie, or None.

    Uses its own short transaction, closed before the page handler runs: a handler may then
    open the transactions it needs (SQLite has one connection per process).
    """
    cached: SignedIn | None = getattr(request.state, "signed_in", None)
    if cached is not None:
        return cached
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    db: Database = request.app.state.db
    clock: Clock = request.app.state.clock
    async with db.transaction() as session:
        me = await resolve(session, secret, now=clock.now(), idle=idle_timeout(request))
    request.state.signed_in = me
    return me


def _asked_for(request: Request) -> str:
    """Where to come back to after signing in: this page, or for a form post the page it was on."""
    if request.method == "GET":
        path = request.url.path
        return f"{path}?{request.url.query}" if request.url.query else path
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    return "/" + referer[len(base) :] if referer.startswith(base) else "/"


async def signed_in(
    request: Request, me: Annotated[SignedIn | None, Depends(signed_in_or_none)]
) -> SignedIn:
    """The signed-in person; otherwise off to the sign-in page and back here afterwards."""
    if me is None:
        raise SignInRequired(_asked_for(request))
    return me


CurrentUser = Annotated[SignedIn, Depends(signed_in)]


def require_page_role(*roles: str) -> Callable[[SignedIn], Awaitable[SignedIn]]:
    """A dependency that lets only the given roles open the page (a 403 page for others)."""

    async def _check(me: CurrentUser) -> SignedIn:
        if me.role not in roles:
            raise PageForbidden(
                f"This page is for {' and '.join(r + 's' for r in roles)}; "
                f"you are signed in as a {me.role}."
            )
        return me

    return _check


AdminUser = Annotated[SignedIn, Depends(require_page_role("admin"))]
SchedulerUser = Annotated[SignedIn, Depends(require_page_role("admin", "scheduler"))]


def csrf_ok(expected: str, presented: object) -> bool:
    """Constant-time comparison of the form's token with the session's."""
    return (
        isinstance(presented, str) and bool(expected) and hmac.compare_digest(expected, presented)
    )


async def form_data(request: Request, me: CurrentUser) -> FormData:
    """The posted form, after checking its CSRF token against the session's."""
    form = await request.form()
    if not csrf_ok(me.csrf_token, form.get("csrf_token")):
        raise CsrfFailed()
    return form


CheckedForm = Annotated[FormData, Depends(form_data)]


def acting_as(me: SignedIn) -> Principal:
    """The principal the services audit a signed-in person's writes under."""
    # key_id 0: no API key; the audit log's actor names the person and their email.
    return Principal(
        key_id=0, name=f"{me.name} <{me.email}>", role=me.role, specialist_id=me.specialist_id
    )
