"""Test fixtures: a migrated database per test (SQLite file or PostgreSQL), the app, keys.

Set TEST_DATABASE_URL=postgresql+asyncpg://... to run the whole suite on PostgreSQL;
without it the suite runs on SQLite files. A PostgreSQL URL that cannot be reached fails
the run: it is never skipped silently.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.auth.service import create_key
from app.config import Settings, load_settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.core.schema import upgrade
from app.main import create_app
from app.models.rota import Specialist

# Hypothesis's per-example deadline is a timed assertion: on a loaded machine it fails
# correct code. Examples are still bounded by each test's max_examples.
hypothesis_settings.register_profile("switchboard", deadline=None)
hypothesis_settings.load_profile("switchboard")

# Rota calculations run in a thread in tests: a worker process per app would add its
# start-up (about a second) to every test. tests/rota_api/test_calc_pool.py runs them in one.
os.environ.setdefault("ROTA_CALC_PROCESSES", "0")

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
AUTH_TOKEN = "test-auth-token-0123456789"
PUBLIC_BASE_URL = "https://switchboard.example.com"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def pytest_report_header() -> str:
    """Say which database the suite runs on."""
    return f"switchboard database: {'PostgreSQL' if ON_POSTGRES else 'SQLite'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite, leave out (deselect, never skip) the tests marked postgres_only.

    They run in the PostgreSQL suite, which CI always runs.
    """
    if ON_POSTGRES:
        return
    kept = [i for i in items if i.get_closest_marker("postgres_only") is None]
    dropped = [i for i in items if i.get_closest_marker("postgres_only") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def _truncate_postgres(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            names = (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            tables = ", ".join(f'"{n}"' for n in names)
            if tables:
                await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head once per session (a file to copy, or the PG database)."""
    if ON_POSTGRES:
        asyncio.run(_reset_postgres(TEST_DATABASE_URL))
        upgrade(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    if ON_POSTGRES:
        yield template_database
        asyncio.run(_truncate_postgres(template_database))
        return
    target = tmp_path / "switchboard.db"
    shutil.copyfile(template_database, target)
    yield f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing at NOW."""
    return FixedClock(NOW)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for the test database with a known Twilio token and public URL."""
    return load_settings(
        _env_file=None,
        database_url=database_url,
        twilio_auth_token=AUTH_TOKEN,
        public_base_url=PUBLIC_BASE_URL,
        default_region="US",
        callback_spool_dir=tmp_path / "callback-spool",
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """Direct database access for arranging and checking data."""
    database = Database.from_url(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator[FastAPI]:
    """The app with its lifespan running."""
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def make_specialist(
    session: AsyncSession, clock: FixedClock, *, name: str = "Sam Specialist"
) -> int:
    """Insert a minimal specialist row and return its id."""
    now = clock.now()
    row = Specialist(
        name=name,
        contact="+14155550100",
        tz="America/Los_Angeles",
        languages=["en"],
        skills=[],
        active=True,
        calendar_token=secrets.token_urlsafe(24),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


class Keys:
    """Creates API keys of each role and returns auth headers."""

    def __init__(self, db: Database, clock: FixedClock) -> None:
        self._db = db
        self._clock = clock

    async def headers(
        self, role: str, *, name: str | None = None, specialist_id: int | None = None
    ) -> dict[str, str]:
        """Authorization headers of a new key with the role."""
        async with self._db.transaction() as session:
            if role == "specialist" and specialist_id is None:
                specialist_id = await make_specialist(session, self._clock)
            _, secret = await create_key(
                session,
                name=name or f"{role}-key",
                role=role,
                now=self._clock.now(),
                specialist_id=specialist_id,
            )
        return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def keys(db: Database, clock: FixedClock) -> Keys:
    """Key factory."""
    return Keys(db, clock)


@pytest.fixture
async def admin(keys: Keys) -> dict[str, str]:
    """Headers of an admin key."""
    return await keys.headers("admin")
