"""Signing in and out, cookies, throttling, idle sessions, roles, CSRF."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from app.core.clock import FixedClock
from app.core.db import Database
from app.models.user import SignInAttempt, User, WebSession
from app.web.sessions import MAX_FAILURES_PER_ACCOUNT, THROTTLE_WINDOW
from tests.console.helpers import PASSWORD, add_user, csrf_of, sign_in


async def test_root_sends_a_stranger_to_sign_in(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_sign_in_opens_a_session_with_safe_cookies(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "scheduler")
    response = await sign_in(browser, email)
    assert response.status_code == 303
    assert response.headers["location"] == "/rota"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("sb_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    assert (await browser.get("/")).headers["location"] == "/rota"
    page = await browser.get("/rota")
    assert page.status_code == 200
    assert "Scheduler Person" in page.text and "Sign out" in page.text
    async with db.transaction() as session:
        stored = (await session.scalars(select(WebSession))).one()
        user = (await session.scalars(select(User))).one()
    # Only digests and hashes are stored: neither the cookie nor the password.
    assert stored.token_hash not in cookie
    assert browser.cookies["sb_session"] not in stored.token_hash
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_secure_flag_follows_the_public_url(
    settings: object, clock: FixedClock, db: Database
) -> None:
    from app.config import Settings
    from app.main import create_app

    assert isinstance(settings, Settings)
    plain = settings.model_copy(update={"public_base_url": "http://127.0.0.1:8000"})
    app = create_app(plain, clock=clock)
    email = await add_user(db, clock, "viewer")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://local") as http:
            response = await sign_in(http, email)
    cookie = next(h for h in response.headers.get_list("set-cookie") if "sb_session=" in h)
    assert "Secure" not in cookie and "HttpOnly" in cookie


async def test_wrong_password_is_refused_without_saying_which_part(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "scheduler")
    wrong = await sign_in(browser, email, "not the password at all")
    unknown = await sign_in(browser, "nobody@example.com", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "do not match an active account" in response.text
        assert "sb_session" not in response.headers.get("set-cookie", "")


async def test_sign_in_is_throttled_per_account_then_allowed_again(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "scheduler")
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await sign_in(browser, email, "wrong password!!")).status_code == 401
    throttled = await sign_in(browser, email)  # even the right password waits
    assert throttled.status_code == 429
    assert "Too many failed sign-ins for this account" in throttled.text
    assert "15 minutes" in throttled.text
    clock.advance(THROTTLE_WINDOW + timedelta(seconds=1))
    assert (await sign_in(browser, email)).status_code == 303


async def test_sign_in_is_throttled_per_address(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "scheduler")
    async with db.transaction() as session:
        for n in range(20):
            session.add(
                SignInAttempt(email=f"x{n}@example.com", address="203.0.113.5", at=clock.now())
            )
    response = await sign_in(browser, email)
    assert response.status_code == 429
    assert "from this address" in response.text


async def test_sign_out_ends_the_session_for_good(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "scheduler")
    await sign_in(browser, email)
    secret = browser.cookies["sb_session"]
    page = await browser.get("/rota")
    response = await browser.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303
    # The old cookie, replayed, no longer opens anything.
    browser.cookies.set("sb_session", secret, domain="console.test")
    again = await browser.get("/rota")
    assert again.status_code == 303 and again.headers["location"].startswith("/login")
    async with db.transaction() as session:
        row = (await session.scalars(select(WebSession))).one()
    assert row.end_reason == "signed-out"


async def test_an_idle_session_expires_and_sign_in_returns_to_the_page(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "scheduler")
    await sign_in(browser, email)
    clock.advance(timedelta(minutes=59))
    assert (await browser.get("/rota")).status_code == 200  # use keeps it alive
    clock.advance(timedelta(minutes=61))
    expired = await browser.get("/rota/support-en?view=4w")
    assert expired.status_code == 303
    assert expired.headers["location"] == "/login?next=/rota/support-en%3Fview%3D4w"
    back = await sign_in(browser, email, next_path="/rota/support-en?view=4w")
    assert back.headers["location"] == "/rota/support-en?view=4w"


async def test_sign_in_never_sends_anyone_to_another_site(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "scheduler")
    response = await sign_in(browser, email, next_path="//evil.example/steal")
    assert response.headers["location"] == "/rota"


async def test_a_role_without_the_page_gets_a_403_page(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "viewer")
    await sign_in(browser, email)
    response = await browser.get("/rota")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "This page is for admins and schedulers" in response.text
    assert (await browser.get("/admin/users")).status_code == 403
    home = await browser.get("/home")
    assert home.status_code == 200 and "viewer" in home.text


async def test_forms_without_the_csrf_token_are_refused(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "admin")
    await sign_in(browser, email)
    form = {"email": "new@example.com", "display_name": "New", "role": "viewer"}
    missing = await browser.post("/admin/users", data=form)
    forged = await browser.post("/admin/users", data={**form, "csrf_token": "guess"})
    for response in (missing, forged):
        assert response.status_code == 403
        assert "This form has expired" in response.text
    async with db.transaction() as session:
        assert await session.scalar(select(User).where(User.email == "new@example.com")) is None


async def test_the_sign_in_form_needs_its_own_token(
    browser: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "admin")
    response = await browser.post(
        "/login", data={"email": email, "password": PASSWORD, "login_token": "x", "next": "/"}
    )
    assert response.status_code == 403
    assert "sb_session" not in response.headers.get("set-cookie", "")
