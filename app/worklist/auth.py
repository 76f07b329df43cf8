"""Who may use the work list (SPEC 8), as Annotated dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require_role
from app.auth.service import Principal

# Specialists work the list; schedulers read it and hand items out; viewers see reports only.
WorkReader = Annotated[Principal, Depends(require_role("admin", "scheduler", "specialist"))]
WorkClaimer = Annotated[Principal, Depends(require_role("admin", "scheduler", "specialist"))]
# Closing an item says how the customer was helped: the specialist who did it, or an admin.
WorkCompleter = Annotated[Principal, Depends(require_role("admin", "specialist"))]
