"""Settings from environment variables and an optional `.env`, validated at start-up."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import phonenumbers
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.core.db import POOL_SIZE

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
PLACEHOLDER_TOKENS = {"changeme", "change-me", "your-auth-token", "xxx", "secret"}


class Settings(BaseSettings):
    """Everything an operator can configure; see docs/configuration.md."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite+aiosqlite:///./switchboard.db")
    twilio_auth_token: str = Field(default="")
    # Twilio's REST API (outbound callbacks, transfers) and the softphone (Voice JS SDK):
    # the account, an API key and secret, and a TwiML App.
    twilio_account_sid: str = Field(default="")
    twilio_api_key_sid: str = Field(default="")
    twilio_api_key_secret: str = Field(default="")
    twiml_app_sid: str = Field(default="")
    voice_token_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    # How often each app instance reads new console events for its live pages.
    events_poll_seconds: float = Field(default=0.5, ge=0.05, le=10)
    public_base_url: str = Field(default="http://127.0.0.1:8000")
    flows_dir: Path = Field(default=Path("ivr_flows"))
    fallback_number: str | None = Field(default=None)
    twilio_signature_check: bool = Field(default=True)
    default_region: str = Field(default="US")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO")
    log_format: Literal["json", "text"] = Field(default="json")
    # FastAPI's native OpenTelemetry spans, metrics and logs, for a deployment that
    # configures an OpenTelemetry SDK; off, no request asks the SDK whether it is there.
    opentelemetry: bool = Field(default=False)
    db_pool_size: int = Field(default=POOL_SIZE, ge=1, le=200)  # see docs/configuration.md
    # The queue's hold loop: music (or silence) between checks for a free specialist.
    hold_music_url: str = Field(default="")
    queue_check_seconds: int = Field(default=15, ge=5, le=120)
    # The rota planner: the solver's time limit per proposal (a request may ask for less)
    # and its search threads.
    planner_time_limit_seconds: float = Field(default=20.0, gt=0, le=600)
    planner_workers: int = Field(default=2, ge=1, le=16)
    # Days to keep caller numbers, recordings, transcripts and notes on calls; unset: forever.
    call_detail_retention_days: int | None = Field(default=None, ge=1, le=36500)
    # The console: a session unused this long ends; the person signs in again.
    session_idle_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    # Outbound calls: the caller ID customers see, per flow name or called number (JSON
    # object), else TWILIO_CALLER_ID, else the company number the customer called.
    twilio_caller_id: str = Field(default="")
    twilio_caller_ids: dict[str, str] = Field(default_factory=dict)
    twilio_api_base_url: str = Field(default="https://api.twilio.com")
    twilio_rest_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Alerts: e-mail over SMTP, and the loops that find alerts and deliver them.
    smtp_host: str = Field(default="")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = Field(default="")
    smtp_password: str = Field(default="")
    smtp_from: str = Field(default="")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(default="starttls")
    smtp_ca_file: Path | None = Field(default=None)
    alerts_scan_seconds: float = Field(default=15.0, ge=0.05, le=3600)
    alerts_delivery_seconds: float = Field(default=2.0, ge=0.05, le=600)
    alerts_max_attempts: int = Field(default=8, ge=1, le=50)
    # False: alerts are found and queued (shown in /v1/alert-deliveries) but none is sent,
    # e.g. on a staging copy or while scripts/schemathesis fuzzes the API.
    alerts_send: bool = Field(default=True)
    # /metrics: the live-line gauges are read from the database this often in the
    # background (never per scrape); a token, when set, must come as a Bearer header.
    metrics_refresh_seconds: float = Field(default=5.0, ge=1.0, le=300.0)
    metrics_token: str = Field(default="")
    # Status, recording and transcription callbacks that arrive while the database does not
    # answer are kept here and replayed once it does: put it on a persistent volume.
    callback_spool_dir: Path = Field(default=Path("callback-spool"))
    # Rota calculations (ledgers, schedules, previews, the stored shifts' refresh) run in
    # this many worker processes at a lower CPU priority, so they neither hold the server's
    # GIL nor take its CPU from the webhooks; 0: in a thread of the server instead.
    rota_calc_processes: int = Field(default=1, ge=0, le=16)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if url.drivername == "sqlite":
            url = url.set(drivername="sqlite+aiosqlite")
        elif url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+asyncpg")
        if url.drivername not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"unsupported driver {url.drivername!r}; use sqlite+aiosqlite:///path.db "
                "or postgresql+asyncpg://user@host/db"
            )
        return url.render_as_string(hide_password=False)

    @field_validator("public_base_url")
    @classmethod
    def _check_public_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                "must be an absolute http(s) URL such as https://support.example.com "
                "(the URL Twilio uses to reach this service)"
            )
        if parts.query or parts.fragment:
            raise ValueError("must not contain a query or fragment")
        return value.rstrip("/")

    @field_validator("hold_music_url")
    @classmethod
    def _check_hold_music_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError("must be an absolute http(s) URL of an audio file Twilio can play")
        return value

    @field_validator("fallback_number")
    @classmethod
    def _check_fallback_number(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        return _e164(value)

    @field_validator("twilio_caller_id")
    @classmethod
    def _check_caller_id(cls, value: str) -> str:
        return _e164(value) if value else ""

    @field_validator("twilio_caller_ids")
    @classmethod
    def _check_caller_ids(cls, value: dict[str, str]) -> dict[str, str]:
        return {key: _e164(number) for key, number in value.items()}

    @field_validator("twilio_api_base_url")
    @classmethod
    def _check_api_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL such as https://api.twilio.com")
        return value.rstrip("/")

    @field_validator("default_region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("must be a two-letter region code such as US, GB, JP")
        return region

    @model_validator(mode="after")
    def _check_token(self) -> Settings:
        if self.twilio_auth_token.lower() in PLACEHOLDER_TOKENS:
            raise ValueError("TWILIO_AUTH_TOKEN is a placeholder; set the real auth token")
        return self

    @property
    def softphone_configured(self) -> bool:
        """Whether voice tokens can be issued (all four softphone settings are set)."""
        return all(
            (
                self.twilio_account_sid,
                self.twilio_api_key_sid,
                self.twilio_api_key_secret,
                self.twiml_app_sid,
            )
        )

    @property
    def secure_cookies(self) -> bool:
        """Console cookies carry Secure when the public URL is https."""
        return self.public_base_url.startswith("https://")

    @property
    def twilio_rest_configured(self) -> bool:
        """Whether Switchboard can call Twilio's REST API (account, key and secret set)."""
        return all((self.twilio_account_sid, self.twilio_api_key_sid, self.twilio_api_key_secret))

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


def _e164(value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError("must be a phone number in +E.164 form, e.g. +14155550100") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("is not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


class ConfigError(RuntimeError):
    """Raised at start-up with a readable description of every bad setting."""


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings, turning pydantic errors into one readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"  {field.upper()}: {err['msg']}")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()


def warn_if_insecure(settings: Settings, logger: logging.Logger) -> None:
    """Log loudly when Twilio signature checks are off or no token is set."""
    if not settings.twilio_signature_check:
        logger.warning(
            "TWILIO SIGNATURE CHECK IS DISABLED: anyone can post to /twilio/*. "
            "Use TWILIO_SIGNATURE_CHECK=false only for local development."
        )
    elif not settings.twilio_auth_token:
        logger.warning(
            "TWILIO_AUTH_TOKEN is not set: every /twilio/* request will be refused with 403."
        )
