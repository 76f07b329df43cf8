"""Sign-in, sign-out, one-time links, `GET /`, the home page and my sessions."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.core.clock import Clock
from app.core.db import Database
from app.core.errors import ValidationFailed
from app.models.user import User, WebSession
from app.web import sessions as session_service
from app.web import signout
from app.web import users as user_service
from app.web.deps import (
    SESSION_COOKIE,
    CheckedForm,
    CurrentUser,
    client_address,
    idle_timeout,
    settings_of,
    signed_in_or_none,
)
from app.web.errors import safe_next
from app.web.nav import home_for
from app.web.sessions import SignedIn
from app.web.templating import render

router = APIRouter(include_in_schema=False)
# The sign-in form is protected by a double-submit token: a cookie and the same value in the
# form (there is no session yet to keep it in).
LOGIN_COOKIE = "sb_login"


def db_of(request: Request) -> Database:
    """The app's database."""
    db: Database = request.app.state.db
    return db


def clock_of(request: Request) -> Clock:
    """The app's clock."""
    clock: Clock = request.app.state.clock
    return clock


def _cookie_args(request: Request) -> dict[str, object]:
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": settings_of(request).secure_cookies,
        "path": "/",
    }


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure on https; ends with the browser."""
    response.set_cookie(SESSION_COOKIE, secret, **_cookie_args(request))  # type: ignore[arg-type]


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {"next_path": next_path, "email": email, "error": error, "login_token": token},
        status_code=status_code,
    )
    response.set_cookie(LOGIN_COOKIE, token, **_cookie_args(request))  # type: ignore[arg-type]
    return response


@router.get("/")
async def root(request: Request) -> Response:
    """Signed out: the sign-in page. Signed in: my role's home page."""
    me = await signed_in_or_none(request)
    return RedirectResponse(home_for(me.role) if me else "/login", status_code=303)


@router.get("/login")
async def login_form(request: Request, next: Annotated[str, Query()] = "/") -> Response:
    """The sign-in page."""
    return _login_page(request, next_path=safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the email and password, open a session and go back to the page asked for."""
    form = await request.form()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "/")))
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    presented = str(form.get("login_token", ""))
    if not cookie or not secrets.compare_digest(cookie, presented):
        return _login_page(
            request,
            next_path=next_path,
            email=email,
            error="The sign-in form expired. Please sign in again.",
            status_code=403,
        )
    now = clock_of(request).now()
    try:
        async with db_of(request).transaction() as session:
            user = await session_service.authenticate(
                session, email, password, client_address(request), now
            )
            secret = None
            if user is not None:
                secret = await session_service.start_session(
                    session,
                    user,
                    address=client_address(request),
                    user_agent=request.headers.get("user-agent", ""),
                    now=now,
                )
    except session_service.Throttled as exc:
        return _login_page(
            request,
            next_path=next_path,
            email=email,
            error=exc.message,
            status_code=429,
        )
    if secret is None:
        return _login_page(
            request,
            next_path=next_path,
            email=email,
            error="That email and password do not match an active account.",
            status_code=401,
        )
    target = next_path if next_path != "/" else home_for(user.role) if user else "/"
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, secret)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, me: CurrentUser, form: CheckedForm) -> Response:
    """End this session and go to the sign-in page."""
    async with db_of(request).transaction() as session:
        await session_service.end_session(
            session,
            me.session_id,
            now=clock_of(request).now(),
            reason="signed-out",
            user_id=me.user_id,
        )
        await signout.signed_out(session, me, clock_of(request).now())
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/login/link/{secret}")
async def link_form(request: Request, secret: str) -> Response:
    """A one-time link: choose a password."""
    async with db_of(request).transaction() as session:
        link = await user_service.open_link(session, secret, now=clock_of(request).now())
        user = await session.get(User, link.user_id) if link else None
    if link is None or user is None:
        return render(
            request,
            "error.html",
            {
                "title": "This link has expired",
                "message": "Sign-in links work once and for 24 hours. Ask an administrator "
                "for a new one.",
            },
            status_code=410,
        )
    return render(request, "set_password.html", {"secret": secret, "user": user, "error": None})


@router.post("/login/link/{secret}")
async def link_use(request: Request, secret: str) -> Response:
    """Set the password through the link, then sign in."""
    form = await request.form()
    password = str(form.get("password", ""))
    again = str(form.get("password_again", ""))
    now = clock_of(request).now()
    error = None
    if password != again:
        error = "The two passwords differ."
    else:
        try:
            async with db_of(request).transaction() as session:
                user = await user_service.use_link(session, secret, password, now=now)
                if user is None:
                    return await link_form(request, secret)
                cookie = await session_service.start_session(
                    session,
                    user,
                    address=client_address(request),
                    user_agent=request.headers.get("user-agent", ""),
                    now=now,
                )
                role = user.role
        except ValidationFailed as exc:
            error = exc.detail
    if error is not None:
        async with db_of(request).transaction() as session:
            link = await user_service.open_link(session, secret, now=now)
            who = await session.get(User, link.user_id) if link else None
        if who is None:
            return await link_form(request, secret)
        return render(
            request,
            "set_password.html",
            {"secret": secret, "user": who, "error": error},
            status_code=422,
        )
    response = RedirectResponse(home_for(role), status_code=303)
    set_session_cookie(request, response, cookie)
    return response


@router.get("/home")
async def home(request: Request, me: CurrentUser) -> Response:
    """The page of a role without a page of its own: who I am and where I can go."""
    return render(request, "home.html", {})


def _session_rows(
    rows: list[tuple[WebSession, User]],
) -> list[dict[str, object]]:
    return [
        {
            "id": web.id,
            "user": user.display_name,
            "email": user.email,
            "address": web.address,
            "user_agent": web.user_agent,
            "created_at": web.created_at,
            "last_seen_at": web.last_seen_at,
        }
        for web, user in rows
    ]


async def _account_page(request: Request, me: SignedIn, message: str | None = None) -> Response:
    async with db_of(request).transaction() as session:
        rows = await session_service.open_sessions(
            session, now=clock_of(request).now(), idle=idle_timeout(request), user_id=me.user_id
        )
    return render(request, "account.html", {"sessions": _session_rows(rows), "message": message})


@router.get("/account")
async def account(request: Request, me: CurrentUser) -> Response:
    """My account: where I am signed in, with a way to end the other sessions."""
    return await _account_page(request, me)


@router.post("/account/sessions/{session_id}/end")
async def end_my_session(
    request: Request, session_id: int, me: CurrentUser, form: CheckedForm
) -> Response:
    """End one of my sessions (another browser)."""
    async with db_of(request).transaction() as session:
        await session_service.end_session(
            session, session_id, now=clock_of(request).now(), reason="revoked", user_id=me.user_id
        )
    if session_id == me.session_id:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return await _account_page(request, me, "That session has ended.")
