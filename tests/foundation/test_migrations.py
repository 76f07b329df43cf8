"""Migrations upgrade and downgrade cleanly; models and migrations agree; start-up guard."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import load_settings
from app.core.schema import SchemaBehind, alembic_config, downgrade, ensure_schema_current, upgrade
from app.main import create_app
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL

# Named after the test database, so suites running side by side on one server don't collide.
MIGRATION_DB = f"{TEST_DATABASE_URL.rpartition('/')[2].split('?')[0] or 'test'}_migration"


async def _recreate_pg_database() -> str:
    admin = create_async_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {MIGRATION_DB}"))
    finally:
        await admin.dispose()
    base, _, _ = TEST_DATABASE_URL.rpartition("/")
    return f"{base}/{MIGRATION_DB}"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if ON_POSTGRES:
        yield asyncio.run(_recreate_pg_database())
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    tables = asyncio.run(_tables(empty_database_url))
    assert {"accounts", "account_phones", "account_notes", "api_keys"} <= tables
    downgrade(empty_database_url, "base")
    assert asyncio.run(_tables(empty_database_url)) <= {"alembic_version"}
    upgrade(empty_database_url)
    assert asyncio.run(_tables(empty_database_url)) == tables


def test_models_and_migrations_agree(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    command.check(alembic_config(empty_database_url))


def test_service_refuses_a_database_that_is_behind(empty_database_url: str) -> None:
    async def _check() -> None:
        engine = create_async_engine(empty_database_url)
        try:
            await ensure_schema_current(engine)
        finally:
            await engine.dispose()

    with pytest.raises(SchemaBehind, match="switchboard migrate"):
        asyncio.run(_check())

    settings = load_settings(_env_file=None, database_url=empty_database_url)
    app = create_app(settings)

    async def _start() -> None:
        async with app.router.lifespan_context(app):
            pass

    with pytest.raises(SchemaBehind):
        asyncio.run(_start())


async def _run(url: str, *statements: str) -> list[tuple[object, ...]]:
    """Run statements in one transaction; the rows of the last."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = None
            for statement in statements:
                result = await conn.execute(text(statement))
            return [tuple(r) for r in result.fetchall()] if result and result.returns_rows else []
    finally:
        await engine.dispose()


def test_call_steps_keep_their_rows_keyed_by_call_and_place(empty_database_url: str) -> None:
    """0015: the path of a call survives the change of key both ways; (call_id, seq) stays
    unique; a downgrade numbers the rows again and new ones get ids after them."""
    url = empty_database_url
    at = "'2026-12-07 10:00:00+00'"
    upgrade(url, "0014")
    asyncio.run(
        _run(
            url,
            "INSERT INTO calls (id, sid, from_number, to_number, status, started_at, direction, "
            f"created_at, updated_at) VALUES (7, 'CA1', '+1', '+2', 'completed', {at}, "
            f"'inbound', {at}, {at})",
            "INSERT INTO call_steps (call_id, seq, step, at) VALUES "
            f"(7, 0, 'greeting', {at}), (7, 1, 'language', {at}), (7, 2, 'topic', {at})",
        )
    )
    path = [(7, 0, "greeting"), (7, 1, "language"), (7, 2, "topic")]
    upgrade(url)
    assert asyncio.run(_run(url, "SELECT call_id, seq, step FROM call_steps ORDER BY seq")) == path
    with pytest.raises(IntegrityError):
        asyncio.run(
            _run(url, f"INSERT INTO call_steps (call_id, seq, step, at) VALUES (7, 1, 'x', {at})")
        )
    downgrade(url, "0014")
    rows = asyncio.run(_run(url, "SELECT id, call_id, seq, step FROM call_steps ORDER BY seq"))
    assert [r[1:] for r in rows] == path
    assert len({r[0] for r in rows}) == 3
    added = asyncio.run(
        _run(
            url,
            f"INSERT INTO call_steps (call_id, seq, step, at) VALUES (7, 3, 'queue', {at})",
            "SELECT id FROM call_steps WHERE seq = 3",
        )
    )
    assert added[0][0] > max(r[0] for r in rows)
    upgrade(url)
    steps = asyncio.run(_run(url, "SELECT step FROM call_steps ORDER BY seq"))
    assert [s for (s,) in steps] == ["greeting", "language", "topic", "queue"]
    command.check(alembic_config(url))
