"""`PUT /v1/specialists:bulk`: create or update specialists by email or external reference.

All or nothing, like accounts' bulk upsert: every row is checked first (fields, duplicate
keys within the upload, unknown teams, a key matching two different people, leaving a team
whose rotation still lists the person) and every bad row is reported; only a clean upload
is written, each create or update audited, with the usual dry run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationFailed
from app.models.rota import Specialist, Team, TeamMember
from app.rota import repository
from app.rota.schemas import SpecialistIn, SpecialistOut
from app.rota.team_service import (
    _apply_specialist,
    _rotations_listing,
    new_token,
    specialist_out,
    specialist_view,
)
from app.rota.writes import RotaWrite

MAX_ROWS = 2000
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BulkSpecialistRow(SpecialistIn):
    """One row: a specialist's details, keyed by `email` and/or `external_ref`."""

    email: str | None = Field(default=None, max_length=320)
    external_ref: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not EMAIL_RE.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value.lower()


class BulkSpecialists(BaseModel):
    """Rows to create or update, all or nothing."""

    model_config = ConfigDict(extra="forbid")

    specialists: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_ROWS)


class BulkSpecialistsResult(BaseModel):
    """What the upload did."""

    created: int
    updated: int
    unchanged: int
    specialists: list[SpecialistOut]


@dataclass
class _Row:
    index: int
    data: BulkSpecialistRow
    existing: Specialist | None = None


def _error(index: int, field: str, message: str) -> dict[str, str]:
    return {"field": f"body.specialists[{index}].{field}", "message": message}


def _parse(rows: list[dict[str, Any]]) -> tuple[list[_Row], list[dict[str, str]]]:
    parsed: list[_Row] = []
    errors: list[dict[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(rows):
        try:
            row = BulkSpecialistRow.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "row"
                errors.append(_error(index, loc, str(err["msg"]).removeprefix("Value error, ")))
            continue
        if row.email is None and row.external_ref is None:
            errors.append(_error(index, "email", "give an email or an external_ref to match on"))
            continue
        duplicate = False
        for key, value in (("email", row.email), ("external_ref", row.external_ref)):
            if value is None:
                continue
            if (key, value) in seen:
                errors.append(_error(index, key, f"duplicates row {seen[(key, value)]}"))
                duplicate = True
            else:
                seen[(key, value)] = index
        if not duplicate:
            parsed.append(_Row(index, row))
    return parsed, errors


async def _match(session: AsyncSession, rows: list[_Row]) -> list[dict[str, str]]:
    """Find each row's specialist; a row whose two keys name two people is an error."""
    emails = [r.data.email for r in rows if r.data.email]
    refs = [r.data.external_ref for r in rows if r.data.external_ref]
    found = list(
        await session.scalars(
            select(Specialist).where(
                or_(func.lower(Specialist.email).in_(emails), Specialist.external_ref.in_(refs))
            )
        )
    )
    by_email = {s.email.lower(): s for s in found if s.email}
    by_ref = {s.external_ref: s for s in found if s.external_ref}
    errors: list[dict[str, str]] = []
    claimed: dict[int, int] = {}
    for row in rows:
        by_r = by_ref.get(row.data.external_ref) if row.data.external_ref else None
        by_e = by_email.get(row.data.email) if row.data.email else None
        if by_r is not None and by_e is not None and by_r.id != by_e.id:
            errors.append(
                _error(
                    row.index,
                    "email",
                    f"belongs to specialist {by_e.id}, but external_ref belongs to {by_r.id}",
                )
            )
            continue
        row.existing = by_r or by_e
        if row.existing is not None:
            if row.existing.id in claimed:
                errors.append(
                    _error(
                        row.index,
                        "email",
                        f"matches the same specialist as row {claimed[row.existing.id]}",
                    )
                )
                continue
            claimed[row.existing.id] = row.index
    return errors


async def _check_teams(
    session: AsyncSession, rows: list[_Row], write: RotaWrite
) -> tuple[dict[str, int], list[dict[str, str]]]:
    slugs = sorted({slug for r in rows for slug in r.data.teams})
    result = await session.execute(select(Team.slug, Team.id).where(Team.slug.in_(slugs)))
    team_ids = {slug: tid for slug, tid in result}
    errors: list[dict[str, str]] = []
    existing_ids = [r.existing.id for r in rows if r.existing is not None]
    current = await repository.specialist_teams(session, existing_ids)
    for row in rows:
        for pos, slug in enumerate(row.data.teams):
            if slug not in team_ids:
                errors.append(_error(row.index, f"teams.{pos}", f"team {slug!r} does not exist"))
        if row.existing is None:
            continue
        leaving = set(current.get(row.existing.id, [])) - set(row.data.teams)
        if not leaving:
            continue
        leaving_ids = set(await session.scalars(select(Team.id).where(Team.slug.in_(leaving))))
        blocking = await _rotations_listing(session, row.existing.id, leaving_ids, write.now)
        if blocking:
            errors.append(
                _error(
                    row.index,
                    "teams",
                    f"still in rotation(s) {', '.join(blocking)} of a team it would leave",
                )
            )
    return team_ids, errors


def _same(spec: Specialist, row: BulkSpecialistRow, teams: list[str]) -> bool:
    return (
        spec.name == row.name
        and spec.contact == row.contact
        and spec.tz == row.time_zone
        and list(spec.languages) == list(row.languages)
        and list(spec.skills) == list(row.skills)
        and spec.active == row.active
        and (row.email is None or spec.email == row.email)
        and (row.external_ref is None or spec.external_ref == row.external_ref)
        and sorted(teams) == sorted(dict.fromkeys(row.teams))
    )


async def bulk_upsert(
    session: AsyncSession, rows: list[dict[str, Any]], write: RotaWrite
) -> BulkSpecialistsResult:
    """Create or update specialists by email or external_ref; all or nothing."""
    parsed, errors = _parse(rows)
    errors += await _match(session, parsed)
    bad = {e["field"].split(".")[1] for e in errors}
    parsed = [r for r in parsed if f"specialists[{r.index}]" not in bad]
    team_ids, team_errors = await _check_teams(session, parsed, write)
    errors += team_errors
    if errors:
        count = len({e["field"].split(".")[1] for e in errors})
        raise ValidationFailed(
            f"{count} invalid row(s); nothing was written",
            errors=sorted(errors, key=lambda e: e["field"]),
        )
    current = await repository.specialist_teams(
        session, [r.existing.id for r in parsed if r.existing is not None]
    )
    created = updated = unchanged = 0
    people: list[Specialist] = []
    for row in parsed:
        data = row.data
        spec = row.existing
        if spec is not None and _same(spec, data, current.get(spec.id, [])):
            unchanged += 1
            people.append(spec)
            continue
        before = (await specialist_view(session, spec)).model_dump() if spec else None
        if spec is None:
            spec = Specialist(calendar_token=new_token(), created_at=write.now)
            session.add(spec)
            created += 1
        else:
            updated += 1
        _apply_specialist(spec, data)
        spec.email = data.email or spec.email
        spec.external_ref = data.external_ref or spec.external_ref
        spec.updated_at = write.now
        await session.flush()
        old_teams = set(current.get(spec.id, []))
        wanted = list(dict.fromkeys(data.teams))
        if set(wanted) != old_teams:
            await session.execute(delete(TeamMember).where(TeamMember.specialist_id == spec.id))
            session.add_all(TeamMember(team_id=team_ids[s], specialist_id=spec.id) for s in wanted)
            write.affected_teams |= old_teams | set(wanted)
        await session.flush()
        after = (await specialist_view(session, spec)).model_dump()
        action = "create" if before is None else "update"
        await write.audit(action, "specialist", spec.id, before, after)
        people.append(spec)
    teams = await repository.specialist_teams(session, [s.id for s in people])
    result = BulkSpecialistsResult(
        created=created,
        updated=updated,
        unchanged=unchanged,
        specialists=[specialist_out(s, teams.get(s.id, [])) for s in people],
    )
    await write.finish(result.model_dump(mode="json"))
    return result
