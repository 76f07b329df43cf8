"""The admin's users page: add users, reset passwords, deactivate, revoke sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from app.core.errors import AppError
from app.models.rota import Specialist
from app.models.user import USER_ROLES, User
from app.web import sessions as session_service
from app.web import users as user_service
from app.web.deps import AdminUser, CheckedForm, idle_timeout, settings_of
from app.web.errors import PageNotFound
from app.web.nav import register_nav
from app.web.pages import clock_of, db_of
from app.web.templating import render

router = APIRouter(include_in_schema=False)
register_nav("Users", "/admin/users", ("admin",), order=90)


async def _specialists(request: Request) -> list[tuple[int, str]]:
    async with db_of(request).transaction() as session:
        rows = await session.execute(
            select(Specialist.id, Specialist.name).order_by(Specialist.name)
        )
        return [(ident, name) for ident, name in rows]


async def _users_page(
    request: Request,
    *,
    form: dict[str, Any] | None = None,
    error: AppError | None = None,
    message: str | None = None,
    link: str | None = None,
) -> Response:
    now = clock_of(request).now()
    async with db_of(request).transaction() as session:
        users = await user_service.list_users(session)
        open_rows = await session_service.open_sessions(
            session, now=now, idle=idle_timeout(request)
        )
    counts: dict[int, int] = {}
    for _, user in open_rows:
        counts[user.id] = counts.get(user.id, 0) + 1
    return render(
        request,
        "admin_users.html",
        {
            "users": users,
            "session_counts": counts,
            "sessions": open_rows,
            "roles": USER_ROLES,
            "specialists": await _specialists(request),
            "form": form or {"role": "scheduler"},
            "error": error,
            "message": message,
            "link": link,
        },
        status_code=error.status if error else 200,
    )


def _link_url(request: Request, secret: str) -> str:
    return f"{settings_of(request).public_base_url}/login/link/{secret}"


@router.get("/admin/users")
async def users_page(request: Request, me: AdminUser) -> Response:
    """Every user with their role, state and open sessions; a form to add one."""
    return await _users_page(request)


@router.post("/admin/users")
async def add_user(request: Request, me: AdminUser, form: CheckedForm) -> Response:
    """Add a user with a password, or with a one-time link to choose one."""
    entered = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "password")}
    specialist = entered.get("specialist_id") or None
    password = str(form.get("password", "")) or None
    now = clock_of(request).now()
    try:
        async with db_of(request).transaction() as session:
            user = await user_service.create_user(
                session,
                user_service.NewUser(
                    email=entered.get("email", ""),
                    display_name=entered.get("display_name", ""),
                    role=entered.get("role", ""),
                    specialist_id=int(specialist) if specialist and specialist.isdigit() else None,
                    password=password,
                ),
                now=now,
            )
            secret = (
                None if password else await user_service.create_sign_in_link(session, user, now=now)
            )
    except AppError as exc:
        return await _users_page(request, form=entered, error=exc)
    return await _users_page(
        request,
        message=f"Added {user.display_name} ({user.role}).",
        link=_link_url(request, secret) if secret else None,
    )


@router.post("/admin/users/{user_id}/reset")
async def reset_password(
    request: Request, user_id: int, me: AdminUser, form: CheckedForm
) -> Response:
    """A new one-time link for the user to choose a password; their sessions end."""
    now = clock_of(request).now()
    async with db_of(request).transaction() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise PageNotFound(f"User {user_id} does not exist.")
        user.password_hash = None
        user.updated_at = now
        await user_service.end_sessions(session, user.id, now=now, reason="password-reset")
        secret = await user_service.create_sign_in_link(session, user, now=now)
        name = user.display_name
    return await _users_page(
        request,
        message=f"{name}'s password is reset and their sessions ended. Send them this link "
        "(it works once, for 24 hours):",
        link=_link_url(request, secret),
    )


@router.post("/admin/users/{user_id}/active")
async def set_active(request: Request, user_id: int, me: AdminUser, form: CheckedForm) -> Response:
    """Deactivate (sessions end at once) or reactivate a user."""
    active = form.get("active") == "true"
    if user_id == me.user_id and not active:
        return await _users_page(request, message="You cannot deactivate yourself.")
    async with db_of(request).transaction() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise PageNotFound(f"User {user_id} does not exist.")
        await user_service.set_active(session, user, active, now=clock_of(request).now())
        name = user.display_name
    state = "reactivated" if active else "deactivated; their sessions have ended"
    return await _users_page(request, message=f"{name} is {state}.")


@router.post("/admin/sessions/{session_id}/revoke")
async def revoke_session(
    request: Request, session_id: int, me: AdminUser, form: CheckedForm
) -> Response:
    """End anyone's session."""
    async with db_of(request).transaction() as session:
        ended = await session_service.end_session(
            session, session_id, now=clock_of(request).now(), reason="revoked", user_id=None
        )
    if session_id == me.session_id:
        return RedirectResponse("/login", status_code=303)
    return await _users_page(
        request, message="The session has ended." if ended else "That session had already ended."
    )
