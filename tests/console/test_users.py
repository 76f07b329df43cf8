"""`switchboard users create`, the admin's users page, one-time links, sessions list."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.cli import main
from app.core.clock import FixedClock
from app.core.db import Database
from app.models.user import User, WebSession
from tests.console.helpers import PASSWORD, add_user, csrf_of, sign_in


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://sb.example.com")
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0
    return url


def test_users_create_prints_a_one_time_link(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    args = ["users", "create", "--email", "Ada@Example.com", "--name", "Ada", "--role", "admin"]
    assert main([*args, "--link"]) == 0
    out = capsys.readouterr().out
    assert "created user 1: Ada <ada@example.com> (admin)" in out
    assert re.search(r"https://sb\.example\.com/login/link/[\w-]{40,}", out)
    # The same email again is a clear refusal.
    assert main([*args, "--link"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_users_create_prompts_for_the_password(
    cli_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["short", "short"])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    args = ["users", "create", "--email", "s@example.com", "--name", "Sam", "--role", "scheduler"]
    assert main(args) == 1
    assert "at least 12 characters" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD + "x"])
    assert main(args) == 2
    assert "differ" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    assert main(args) == 0
    out = capsys.readouterr()
    assert PASSWORD not in out.out + out.err
    assert "link" not in out.out


def test_users_create_without_a_terminal_asks_for_link(
    cli_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    args = ["users", "create", "--email", "v@example.com", "--name", "V", "--role", "viewer"]
    assert main(args) == 2
    assert "--link" in capsys.readouterr().err


async def test_admin_adds_a_user_who_sets_a_password_through_the_link(
    browser: httpx.AsyncClient, app: object, db: Database, clock: FixedClock
) -> None:
    admin = await add_user(db, clock, "admin")
    await sign_in(browser, admin)
    page = await browser.get("/admin/users")
    bad = await browser.post(
        "/admin/users",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "not-an-email",
            "display_name": "Kim",
            "role": "scheduler",
            "password": "",
        },
    )
    assert bad.status_code == 422
    assert 'value="Kim"' in bad.text  # what was typed is kept
    added = await browser.post(
        "/admin/users",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "kim@example.com",
            "display_name": "Kim",
            "role": "scheduler",
            "password": "",
        },
    )
    assert added.status_code == 200 and "Added Kim (scheduler)" in added.text
    link = re.search(r"/login/link/([\w-]+)", added.text)
    assert link
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as kim:
        form = await kim.get(f"/login/link/{link.group(1)}")
        assert form.status_code == 200 and "Choose a password" in form.text
        short = await kim.post(
            f"/login/link/{link.group(1)}", data={"password": "short", "password_again": "short"}
        )
        assert short.status_code == 422 and "at least 12" in short.text
        done = await kim.post(
            f"/login/link/{link.group(1)}",
            data={"password": PASSWORD, "password_again": PASSWORD},
        )
        assert done.status_code == 303 and done.headers["location"] == "/rota"
        assert (await kim.get("/rota")).status_code == 200
        # The link worked once.
        assert (await kim.get(f"/login/link/{link.group(1)}")).status_code == 410


async def test_deactivating_a_user_ends_their_sessions(
    browser: httpx.AsyncClient, app: object, db: Database, clock: FixedClock
) -> None:
    admin = await add_user(db, clock, "admin")
    victim = await add_user(db, clock, "scheduler")
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as other:
        await sign_in(other, victim)
        assert (await other.get("/rota")).status_code == 200
        await sign_in(browser, admin)
        page = await browser.get("/admin/users")
        async with db.transaction() as session:
            victim_id = await session.scalar(select(User.id).where(User.email == victim))
        response = await browser.post(
            f"/admin/users/{victim_id}/active",
            data={"csrf_token": csrf_of(page.text), "active": "false"},
        )
        assert "deactivated" in response.text
        assert (await other.get("/rota")).status_code == 303
        assert (await sign_in(other, victim)).status_code == 401


async def test_my_sessions_can_be_listed_and_ended(
    browser: httpx.AsyncClient, app: object, db: Database, clock: FixedClock
) -> None:
    email = await add_user(db, clock, "viewer")
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=transport, base_url="https://console.test", headers={"user-agent": "Laptop"}
    ) as laptop:
        await sign_in(laptop, email)
        await sign_in(browser, email)
        page = await browser.get("/account")
        assert page.text.count("End session") == 1 and "Laptop" in page.text
        async with db.transaction() as session:
            laptop_session = await session.scalar(
                select(WebSession.id).where(WebSession.user_agent == "Laptop")
            )
        ended = await browser.post(
            f"/account/sessions/{laptop_session}/end", data={"csrf_token": csrf_of(page.text)}
        )
        assert "That session has ended" in ended.text
        assert (await laptop.get("/home")).status_code == 303
        assert (await browser.get("/home")).status_code == 200
