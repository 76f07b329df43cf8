"""Settings fail fast with readable messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, load_settings


def _load(**kw: object) -> object:
    return load_settings(_env_file=None, **kw)


def test_defaults_are_sqlite_in_the_working_directory() -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///./switchboard.db"
    assert settings.twilio_signature_check is True
    assert str(settings.flows_dir) == "ivr_flows"


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("database_url", "not a url", "DATABASE_URL"),
        ("database_url", "mysql://root@localhost/db", "unsupported driver"),
        ("public_base_url", "support.example.com", "absolute http(s) URL"),
        ("public_base_url", "ftp://support.example.com", "absolute http(s) URL"),
        ("fallback_number", "12345", "FALLBACK_NUMBER"),
        ("default_region", "XX", "two-letter region"),
        ("twilio_auth_token", "changeme", "placeholder"),
        ("log_level", "LOUD", "LOG_LEVEL"),
    ],
)
def test_bad_values_are_named(field: str, value: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(**{field: value})
    assert needle in str(err.value)


def test_plain_driver_names_are_upgraded_to_async_drivers() -> None:
    assert _load(database_url="postgresql://u@h/db").database_url.startswith(  # type: ignore[attr-defined]
        "postgresql+asyncpg://"
    )
    assert _load(database_url="sqlite:///x.db").database_url == "sqlite+aiosqlite:///x.db"  # type: ignore[attr-defined]


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://support.example.com/")
    monkeypatch.setenv("FALLBACK_NUMBER", "+1 415 555 0100")
    monkeypatch.setenv("TWILIO_SIGNATURE_CHECK", "false")
    settings = load_settings(_env_file=None)
    assert settings.public_base_url == "https://support.example.com"
    assert settings.fallback_number == "+14155550100"
    assert settings.twilio_signature_check is False


def test_fastapis_opentelemetry_is_asked_for_only_when_turned_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """OPENTELEMETRY off (the default): no request asks for OpenTelemetry's providers, even
    where an SDK configured them; on, FastAPI's native telemetry takes them."""
    from fastapi.telemetry import _asgi

    from app.main import create_app

    # As if an OpenTelemetry SDK had set the global providers.
    monkeypatch.setattr(_asgi, "_unconfigured", lambda provider: False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'otel.db'}"
    off = create_app(_load(database_url=url), check_schema=False)  # type: ignore[arg-type]
    on = create_app(  # type: ignore[arg-type]
        _load(database_url=url, opentelemetry=True), check_schema=False
    )
    assert off._native_telemetry.enabled() is False
    assert on._native_telemetry.enabled() is True
