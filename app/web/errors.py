"""Errors of the console's pages, answered with pages (not problem+json)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response


class PageError(Exception):
    """An error answered by a page."""


class SignInRequired(PageError):
    """No valid session: sign in, then come back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in required")
        self.next_path = next_path


class PageForbidden(PageError):
    """The signed-in role may not open this page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PageNotFound(PageError):
    """The page's subject (a team, a user) does not exist."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CsrfFailed(PageError):
    """A form arrived without the session's CSRF token."""


def safe_next(path: str | None) -> str:
    """A local path to go back to (never another site), or /."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def install_page_error_handlers(app: FastAPI) -> None:
    """Render the console's errors as pages."""
    from app.web.templating import render

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(safe_next(exc.next_path))}", status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden) -> Response:
        return render(
            request,
            "error.html",
            {"title": "Not for your role", "message": exc.message},
            status_code=403,
        )

    @app.exception_handler(PageNotFound)
    async def _not_found(request: Request, exc: PageNotFound) -> Response:
        return render(
            request, "error.html", {"title": "Not found", "message": exc.message}, status_code=404
        )

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return render(
            request,
            "error.html",
            {
                "title": "This form has expired",
                "message": "The form was not sent from a page of this session (it may be "
                "from before you signed in again). Go back, reload the page and send it again.",
            },
            status_code=403,
        )
