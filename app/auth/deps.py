"""Authentication and role checks as Annotated dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.service import Principal, authenticate
from app.core.deps import ClockDep, DbSession
from app.core.errors import Forbidden, Unauthorized

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="switchboard"'}


# Declares the scheme in the OpenAPI document (Swagger's Authorize button); the check is ours.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="An API key from `switchboard api-keys create` or POST /v1/api-keys",
)


async def current_principal(
    session: DbSession,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind `Authorization: Bearer <key>`; 401 when absent or invalid."""
    secret = credentials.credentials.strip() if credentials is not None else ""
    if not secret:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", headers=_CHALLENGE)
    principal = await authenticate(session, secret, now=clock.now())
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked", headers=_CHALLENGE)
    return principal


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only the given roles through (403 for the others)."""

    async def _check(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role not in roles:
            raise Forbidden(
                f"the {principal.role} role may not do this; it needs {' or '.join(roles)}"
            )
        return principal

    return _check


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
Admin = Annotated[Principal, Depends(require_role("admin"))]
# Who may read customer accounts and their history (SPEC 8).
AccountReader = Annotated[Principal, Depends(require_role("admin", "specialist"))]
AccountWriter = Annotated[Principal, Depends(require_role("admin"))]
NoteWriter = Annotated[Principal, Depends(require_role("admin", "specialist"))]
RotaReader = Annotated[Principal, Depends(require_role("admin", "scheduler", "specialist"))]
RotaWriter = Annotated[Principal, Depends(require_role("admin", "scheduler"))]
CallReader = Annotated[Principal, Depends(require_role("admin", "scheduler", "specialist"))]
ReportReader = Annotated[Principal, Depends(require_role("admin", "scheduler", "viewer"))]
