"""Signing in through the pages from tests: a client that keeps cookies and reads CSRF tokens."""

from __future__ import annotations

import re

import httpx

from app.core.clock import FixedClock
from app.core.db import Database
from app.web.users import NewUser, create_user

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LOGIN = re.compile(r'name="login_token" value="([^"]+)"')


async def add_user(
    db: Database,
    clock: FixedClock,
    role: str,
    *,
    email: str | None = None,
    specialist_id: int | None = None,
    password: str = PASSWORD,
) -> str:
    """Create a user with a password; returns the email."""
    email = email or f"{role}@example.com"
    async with db.transaction() as session:
        await create_user(
            session,
            NewUser(email, role.title() + " Person", role, specialist_id, password),
            now=clock.now(),
        )
    return email


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, next_path: str = "/"
) -> httpx.Response:
    """Open the sign-in page and post the form as a browser does."""
    page = await client.get("/login", params={"next": next_path})
    token = _LOGIN.search(page.text)
    assert token
    return await client.post(
        "/login",
        data={
            "login_token": token.group(1),
            "next": next_path,
            "email": email,
            "password": password,
        },
    )
