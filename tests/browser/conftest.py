"""A real Switchboard server on 127.0.0.1 with the demo data, and the machine's Chromium.

The server is `switchboard serve` in a subprocess on the test database (SQLite or
PostgreSQL, like the rest of the suite), seeded by `switchboard seed`, one per module.
Chromium is Debian's /usr/bin/chromium driven by Playwright (never `playwright install`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.auth.service import create_key
from app.core.db import Database
from tests.conftest import ON_POSTGRES, _truncate_postgres

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))


@dataclass(frozen=True)
class Server:
    """A running server: its address, database and an admin API key for arranging data."""

    url: str
    database_url: str
    admin_key: str

    def api(self) -> httpx.Client:
        """An API client with the admin key."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.admin_key}"}, timeout=30
        )


def _in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion in a thread of its own.

    Playwright's sync API keeps an event loop running in the test's thread, where
    asyncio.run is refused.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin_key(url: str) -> str:
    from datetime import UTC, datetime

    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            _, secret = await create_key(
                session, name="browser tests", role="admin", now=datetime.now(UTC)
            )
    finally:
        await db.dispose()
    return secret


@pytest.fixture(scope="module")
def server(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`switchboard serve` on a free port of 127.0.0.1 with freshly seeded demo data."""
    with serve(template_database, tmp_path_factory) as running:
        yield running


@contextmanager
def serve(
    template_database: str,
    tmp_path_factory: pytest.TempPathFactory,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Serve the seeded demo data with the given extra settings for the duration of a block."""
    if ON_POSTGRES:
        database_url = template_database
    else:
        target = tmp_path_factory.mktemp("browser") / "switchboard.db"
        shutil.copyfile(template_database, target)
        database_url = f"sqlite+aiosqlite:///{target}"
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_AUTH_TOKEN": "browser-test-token-0123456789",
        # The desk's softphone: tokens are signed with these (the SDK never reaches Twilio).
        "TWILIO_ACCOUNT_SID": "AC" + "a1" * 16,
        "TWILIO_API_KEY_SID": "SK" + "b2" * 16,
        "TWILIO_API_KEY_SECRET": "c3" * 16,
        "TWIML_APP_SID": "AP" + "d4" * 16,
        "EVENTS_POLL_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
        **(extra_env or {}),
    }
    subprocess.run([SWITCHBOARD, "seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    key = _in_thread(lambda: _admin_key(database_url))
    log = tmp_path_factory.mktemp("browser-log") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [SWITCHBOARD, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield Server(url, database_url, key)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if ON_POSTGRES:
            _in_thread(lambda: _truncate_postgres(database_url))


@pytest.fixture(scope="module")
def chromium(template_database: str) -> Iterator[Browser]:
    """The machine's Chromium, headless, for one module.

    Playwright's sync API runs an event loop in this thread while it is open, so it closes
    before the suite's async tests run (and starts after the database template is ready).
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser window (no cookies) at a laptop's size."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    window = context.new_page()
    yield window
    context.close()


def sign_in(page: Page, server: Server, who: str, password: str | None = None) -> None:
    """Sign in through the form as a demo user (scheduler, admin, maya, viewer)."""
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(f"{who}@example.com")
    role = "specialist" if who == "maya" else who
    page.get_by_label("Password").fill(password or f"demo-{role}-password")
    page.get_by_role("button", name="Sign in").click()
