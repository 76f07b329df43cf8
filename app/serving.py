"""What `switchboard serve` works out before serving: the default public URL, the banner."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import FastAPI
from starlette.routing import NoMatchFound

from app.config import Settings

WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def app_version() -> str:
    """The installed version of Switchboard."""
    try:
        return version("switchboard")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


def local_url(host: str, port: int) -> str:
    """The URL this machine reaches the server at (a wildcard address becomes loopback)."""
    host = WILDCARDS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def serving_settings(settings: Settings, host: str, port: int) -> Settings:
    """Settings for serving on host:port: PUBLIC_BASE_URL defaults to that address."""
    if "public_base_url" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"public_base_url": local_url(host, port)})


def command_name() -> str:
    """How to run the command here: the checkout's `.venv/bin/switchboard`, else from PATH."""
    local = Path(".venv/bin/switchboard")
    return str(local) if local.exists() else "switchboard"


def _serves(app: FastAPI, endpoint: str) -> bool:
    """Whether the app has a route named `endpoint` (included routers are searched too)."""
    try:
        app.url_path_for(endpoint)
    except NoMatchFound:
        return False
    return True


def startup_banner(
    settings: Settings, app: FastAPI, host: str, port: int, commands: frozenset[str] = frozenset()
) -> list[str]:
    """Where to go once the service is up (printed in text log mode)."""
    here = local_url(host, port)
    lines = [
        f"Switchboard {app_version()} starting on {here}",
        f"  API docs:        {here}/docs  (ReDoc: {here}/redoc)",
    ]
    if _serves(app, "login_form"):  # the console's sign-in page
        lines.append(f"  console:         {here}/  (sign in at {here}/login)")
    if "users" in commands:
        lines.append(f"  first user:      {command_name()} users create --help")
    lines += [
        f"  first API key:   {command_name()} api-keys create --role admin --name NAME",
        f"  Twilio webhooks: {settings.public_base_url}/twilio/voice  (PUBLIC_BASE_URL)",
    ]
    return lines
