"""Jinja2 rendering for every console page: one environment, shared layout and components."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.web.nav import nav_for

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
_loader = FileSystemLoader([str(WEB_DIR / "templates")])
env = Environment(
    loader=_loader,
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# Pages may not be framed, and load scripts, styles and images from this app only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "style-src-attr 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def add_template_dir(path: Path) -> None:
    """Let a domain package's templates be found (put them in a sub-folder named after it)."""
    if str(path) not in _loader.searchpath:
        _loader.searchpath.append(str(path))


@cache
def _asset_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """The URL of a static asset with a content hash, so browsers never use a stale copy."""
    return f"/static/{name}?v={_asset_version(name)}"


env.globals["static_url"] = static_url
env.filters["zoneinfo"] = ZoneInfo


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page with the layout's context: who is signed in, their links, the CSRF token."""
    me = getattr(request.state, "signed_in", None)
    page: dict[str, Any] = {
        "request": request,
        "me": me,
        "nav": nav_for(me.role) if me is not None else [],
        "csrf_token": me.csrf_token if me is not None else "",
        "current_path": request.url.path,
    }
    page.update(context or {})
    html = env.get_template(template).render(page)
    return HTMLResponse(
        html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
    )
