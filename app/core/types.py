"""Value types shared by API schemas and parameters."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

# Primary keys are 32-bit integers on PostgreSQL; a larger number is bad input, not a 500.
MAX_DB_INT = 2_147_483_647
DbId = Annotated[int, Ge(1), Le(MAX_DB_INT)]
