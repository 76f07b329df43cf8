"""The switchboard command: migrate, seed, api-keys, and the refusal to serve an old schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main


@pytest.fixture
def fresh_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    return url


def test_serve_refuses_an_unmigrated_database(
    fresh_sqlite: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "1"]) == 1
    assert "switchboard migrate" in capsys.readouterr().err


def test_migrate_seed_and_keys(fresh_sqlite: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["seed", "--if-empty"]) == 0
    assert "demo data loaded" in capsys.readouterr().out
    assert main(["seed", "--if-empty"]) == 0
    assert "already has data" in capsys.readouterr().out

    assert main(["api-keys", "create", "--role", "admin", "--name", "ops"]) == 0
    out = capsys.readouterr()
    secret = out.out.strip()
    assert secret.startswith("sb_")
    assert "not shown again" in out.err

    assert main(["api-keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "ops" in listing and "active" in listing and secret not in listing

    assert main(["api-keys", "revoke", "1"]) == 0
    assert main(["api-keys", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["api-keys", "revoke", "42"]) == 1

    assert main(["api-keys", "create", "--role", "specialist", "--name", "s"]) == 2
