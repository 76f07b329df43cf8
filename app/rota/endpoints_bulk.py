"""`PUT /v1/specialists:bulk`: specialists from an HR system or a spreadsheet."""

from __future__ import annotations

from fastapi import APIRouter

from app.rota.bulk_specialists import BulkSpecialists, BulkSpecialistsResult, bulk_upsert
from app.rota.deps import Write
from app.rota.schemas import ScheduleChange

router = APIRouter(tags=["rota"])


@router.put(
    "/v1/specialists:bulk",
    response_model=BulkSpecialistsResult,
    responses={200: {"model": BulkSpecialistsResult | ScheduleChange}},
)
async def bulk_upsert_specialists(body: BulkSpecialists, write: Write) -> BulkSpecialistsResult:
    """Create or update specialists by email or external_ref, with their teams.

    All or nothing: every bad row is reported (422) and nothing is written. Each change is
    audited; `?dry_run=true` answers the change to the next 4 weeks without saving it.
    """
    return await bulk_upsert(write.session, body.specialists, write)
