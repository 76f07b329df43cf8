"""Alembic helpers: apply migrations and refuse to serve a database whose schema is behind."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def _project_root() -> Path:
    """Where alembic.ini and migrations/ are: the source checkout, else the working directory.

    A source checkout (editable install) has them beside the package; an installed wheel
    (the Docker image) runs from the directory that holds them.
    """
    source = Path(__file__).resolve().parents[2]
    if (source / "migrations" / "env.py").exists():
        return source
    return Path.cwd()


REPO_ROOT = _project_root()


class SchemaBehind(RuntimeError):
    """The database has not had every migration applied."""


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at migrations/ and the given database."""
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to a revision (blocking; call outside an event loop)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Revert migrations down to a revision (blocking; call outside an event loop)."""
    command.downgrade(alembic_config(database_url), revision)


def head_revisions() -> set[str]:
    """The revisions a fully migrated database is at."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return set(script.get_heads())


async def ensure_schema_current(engine: AsyncEngine) -> None:
    """Raise SchemaBehind, naming the command to run, unless the schema is at head."""

    def _current(conn: Connection) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
    heads = head_revisions()
    if current != heads:
        state = ", ".join(sorted(current)) or "empty (no migrations applied)"
        raise SchemaBehind(
            f"the database schema is behind (at {state}; needs {', '.join(sorted(heads))}). "
            "Run `switchboard migrate` (or `python -m app migrate`) and start again."
        )
