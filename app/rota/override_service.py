"""Overrides (cover, swap, leave, extra) and days off in lieu (move, cancel, add by hand)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.calc_pool import calculate
from app.core.db import end_transaction
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.types import EARLIEST, LATEST, MAX_DB_INT
from app.models.rota import LieuAdjustmentRow, ManualDayOffRow, OverrideRow, Specialist, Team
from app.rota import repository
from app.rota.calculator import DayOff, Override, days_off, final_schedule
from app.rota.component import connected_part
from app.rota.lieu import earning_key, earnings_from, parse_earning_key
from app.rota.materialise import rota_unchanged_since, rota_version
from app.rota.overrides import pre_lieu_shifts
from app.rota.schemas import DayOffIn, DayOffMove, OverrideIn, OverrideOut, OverridePatch
from app.rota.shifts import Shift
from app.rota.snapshot_work import (
    calculate_on_committed_snapshot,
    run_in_worker_session,
    shared_url,
)
from app.rota.wallclock import local_to_utc
from app.rota.writes import RotaWrite, etag, require_not_past, with_overrides


def override_out(row: OverrideRow, slugs: dict[int, str]) -> OverrideOut:
    """The API view of an override."""
    return OverrideOut(
        id=row.id,
        kind=row.kind,
        specialist_id=row.specialist_id,
        substitute_id=row.substitute_id,
        team=slugs.get(row.team_id) if row.team_id is not None else None,
        start=row.starts_at,
        end=row.ends_at,
        reason=row.reason,
        swap_group=row.swap_group,
    )


async def team_slugs(session: AsyncSession) -> dict[int, str]:
    """Team slug per id."""
    return {tid: slug for tid, slug in await session.execute(select(Team.id, Team.slug))}


async def get_override(session: AsyncSession, override_id: int) -> OverrideRow:
    """An override or 404."""
    row = await session.get(OverrideRow, override_id)
    if row is None:
        raise NotFound(f"override {override_id} does not exist")
    return row


async def _specialist(session: AsyncSession, sid: int, field: str) -> Specialist:
    spec = await session.get(Specialist, sid)
    if spec is None:
        raise ValidationFailed(
            f"specialist {sid} does not exist",
            errors=[{"field": field, "message": "no such specialist"}],
        )
    return spec


async def _affect(write: RotaWrite, session: AsyncSession, *specialist_ids: int) -> None:
    """Name the people an edit touches, and their teams, for the refresh and the preview."""
    teams = await repository.specialist_teams(session, list(specialist_ids))
    write.affected_teams |= {slug for slugs in teams.values() for slug in slugs}
    write.affected_specialists |= set(specialist_ids)


async def _check_no_overlapping_leave(
    session: AsyncSession, sid: int, start: datetime, end: datetime, ignore: int | None
) -> None:
    query = select(OverrideRow.id).where(
        OverrideRow.kind == "leave",
        OverrideRow.specialist_id == sid,
        and_(OverrideRow.starts_at < end, OverrideRow.ends_at > start),
    )
    if ignore is not None:
        query = query.where(OverrideRow.id != ignore)
    clash = await session.scalar(query.limit(1))
    if clash is not None:
        raise ValidationFailed(
            f"this leave overlaps leave {clash} of the same specialist; change that one instead",
            errors=[{"field": "body.start", "message": f"overlaps leave {clash}"}],
        )


async def _refuse_double_booking(
    session: AsyncSession, rows: list[OverrideRow], slugs: dict[int, str]
) -> None:
    """409 when a cover or extra (just flushed) puts someone on a shift they already work.

    The final schedule is calculated with the new rows in it: every shift they produce must
    not overlap another shift of the same person (their rotation, another cover or extra).
    The calculation worker reads the committed rules and adds the rows to them itself.
    """
    if not any(r.kind in ("cover", "extra") for r in rows):
        return
    new = tuple(_calculator_override(r, slugs) for r in rows)
    start = min(r.starts_at for r in rows)
    end = max(r.ends_at for r in rows)
    found = await calculate_on_committed_snapshot(
        session, start, end, double_booking, new, start, end
    )
    if found is not None:
        raise _double_booked(*found)


def _calculator_override(row: OverrideRow, slugs: dict[int, str]) -> Override:
    return Override(
        id=row.id,
        kind=row.kind,  # type: ignore[arg-type]  # checked by a constraint
        specialist_id=row.specialist_id,
        substitute_id=row.substitute_id,
        team=slugs.get(row.team_id) if row.team_id is not None else None,
        start=row.starts_at,
        end=row.ends_at,
    )


@dataclass(frozen=True)
class Precheck:
    """The double-booking check of a new override, made on the rules of `rota_version`."""

    rota_version: int
    conflict: tuple[Shift, Shift, dict[int, str]] | None


def _proposed(data: OverrideIn) -> tuple[Override, ...]:
    """The overrides `data` would create, with stand-in ids (negative: no row has one)."""
    if data.kind == "swap":
        assert data.substitute_id and data.swap_start and data.swap_end
        return (
            Override(
                -1, "cover", data.specialist_id, data.substitute_id, data.team, data.start, data.end
            ),
            Override(
                -2,
                "cover",
                data.substitute_id,
                data.specialist_id,
                data.team,
                data.swap_start,
                data.swap_end,
            ),
        )
    return (
        Override(
            -1, data.kind, data.specialist_id, data.substitute_id, data.team, data.start, data.end
        ),
    )


async def precheck_double_booking(session: AsyncSession, data: OverrideIn) -> Precheck | None:
    """Check a new cover, swap or extra against the committed rules, before the rota lock.

    For SQLite above all: the check (~50 ms at 1,000 specialists) would otherwise run while
    the request holds the database's write lock, which every webhook's write waits for.
    Ends the request's transaction (its connection goes back while the worker checks).
    None where there is nothing to check or no calculation worker; `create_override` then
    checks under the lock as before, and also when a rota write commits in between.
    """
    if data.kind not in ("cover", "swap", "extra"):
        return None
    url = shared_url(session.bind)
    if url is None:
        return None
    try:
        proposed = _proposed(data)
    except ValueError:
        return None  # not a valid override: the checks under the lock say why
    await end_transaction(session)
    return await calculate(_precheck_in_worker, url, proposed)


def _precheck_in_worker(url: str, proposed: tuple[Override, ...]) -> Precheck | None:
    start = min(o.start for o in proposed)
    end = max(o.end for o in proposed)

    async def read(session: AsyncSession) -> tuple[int | None, repository.Snapshot, int | None]:
        before = await rota_version(session)
        snapshot = await repository.load_snapshot(session, start, end)
        return before, snapshot, await rota_version(session)

    before, snapshot, after = run_in_worker_session(url, read)
    if before is None or before != after:
        return None  # a write committed while the rules were read: check under the lock
    conflict = double_booking(snapshot, proposed, start, end)
    if conflict is not None and (conflict[1].source.override_id or 0) < 0:
        return None  # clashes with another half of the same swap: named under the lock
    return Precheck(before, conflict)


def double_booking(
    snapshot: repository.Snapshot, new: tuple[Override, ...], start: datetime, end: datetime
) -> tuple[Shift, Shift, dict[int, str]] | None:
    """A shift of a new cover or extra and another shift of that person it overlaps (CPU).

    `new` replaces the snapshot's overrides of the same ids (the snapshot may hold their
    state before the edit, or none of them); only the people they involve are calculated.
    """
    rota = with_overrides(snapshot, new).rota
    people = {o.specialist_id for o in new} | {
        o.substitute_id for o in new if o.substitute_id is not None
    }
    shifts = final_schedule(connected_part(rota, (), people).rota, start, end)
    checked = {o.id for o in new if o.kind in ("cover", "extra")}
    for fresh in (s for s in shifts if s.source.override_id in checked):
        for other in shifts:
            if (
                other is not fresh
                and other.specialist_id == fresh.specialist_id
                and other.start < fresh.end
                and fresh.start < other.end
                and other.source.override_id != fresh.source.override_id
            ):
                return fresh, other, snapshot.specialist_names
    return None


def _double_booked(new: Shift, other: Shift, names: dict[int, str]) -> Conflict:
    who = names.get(new.specialist_id, f"specialist {new.specialist_id}")
    src = other.source
    if src.override_id is not None:
        what = f"{src.kind} override {src.override_id}"
    else:
        what = f"rotation {src.rotation_id}"
    window = f"{other.start.isoformat()} to {other.end.isoformat()}"
    return Conflict(
        f"{who} is already on shift for team {other.team!r} from {window} ({what}); "
        "a person cannot work two shifts at once",
        overlapping_shift={
            "specialist_id": other.specialist_id,
            "team": other.team,
            "start": other.start.isoformat(),
            "end": other.end.isoformat(),
            "source": src.kind,
            "rotation_id": src.rotation_id,
            "override_id": src.override_id,
        },
    )


async def create_override(
    session: AsyncSession,
    data: OverrideIn,
    write: RotaWrite,
    *,
    allow_past: bool,
    precheck: Precheck | None = None,
) -> list[OverrideRow]:
    """Create an override; a swap creates its two covers together.

    With a `precheck` (made before the rota lock was taken) the double-booking check under
    the lock is skipped when no rota write came in between.
    """
    require_not_past(data.start, write.now, allow_past, "body.start")
    if data.swap_start is not None:
        require_not_past(data.swap_start, write.now, allow_past, "body.swap_start")
    await _specialist(session, data.specialist_id, "body.specialist_id")
    if data.substitute_id is not None:
        await _specialist(session, data.substitute_id, "body.substitute_id")
    team_id = None
    if data.team is not None:
        team = await repository.team_by_slug(session, data.team)
        if team is None:
            raise ValidationFailed(
                f"team {data.team!r} does not exist",
                errors=[{"field": "body.team", "message": "no such team"}],
            )
        team_id = team.id
        worker = data.substitute_id if data.kind in ("cover", "swap") else data.specialist_id
        members = (await repository.team_members(session, [team.id])).get(team.id, [])
        if data.kind in ("cover", "swap", "extra") and worker not in members:
            field = "body.substitute_id" if data.kind != "extra" else "body.specialist_id"
            raise ValidationFailed(
                f"specialist {worker} is not a member of team {data.team!r}",
                errors=[{"field": field, "message": "not a member of the team"}],
            )
        # A swap's second half has the specialist work the substitute's shift for the team.
        if data.kind == "swap" and data.specialist_id not in members:
            raise ValidationFailed(
                f"specialist {data.specialist_id} is not a member of team {data.team!r}",
                errors=[{"field": "body.specialist_id", "message": "not a member of the team"}],
            )
    if data.kind == "leave":
        await _check_no_overlapping_leave(session, data.specialist_id, data.start, data.end, None)

    def row(kind: str, who: int, sub: int | None, start: datetime, end: datetime) -> OverrideRow:
        return OverrideRow(
            kind=kind,
            specialist_id=who,
            substitute_id=sub,
            team_id=team_id,
            starts_at=start,
            ends_at=end,
            reason=data.reason,
            swap_group=group,
            created_at=write.now,
            updated_at=write.now,
        )

    group = str(uuid.uuid4()) if data.kind == "swap" else None
    if data.kind == "swap":
        assert data.substitute_id and data.swap_start and data.swap_end
        rows = [
            row("cover", data.specialist_id, data.substitute_id, data.start, data.end),
            row("cover", data.substitute_id, data.specialist_id, data.swap_start, data.swap_end),
        ]
    else:
        rows = [row(data.kind, data.specialist_id, data.substitute_id, data.start, data.end)]
    session.add_all(rows)
    await session.flush()
    slugs = await team_slugs(session)
    if precheck is not None and await rota_unchanged_since(session, precheck.rota_version):
        if precheck.conflict is not None:
            raise _double_booked(*precheck.conflict)
    else:
        await _refuse_double_booking(session, rows, slugs)
    await _affect(
        write, session, data.specialist_id, *([data.substitute_id] if data.substitute_id else [])
    )
    write.added_overrides = tuple(_calculator_override(r, slugs) for r in rows)
    after = {"overrides": [override_out(r, slugs).model_dump() for r in rows]}
    for r in rows:
        await write.audit("create", "override", r.id, None, override_out(r, slugs).model_dump())
    await write.finish(after)
    return rows


async def patch_override(
    session: AsyncSession,
    row: OverrideRow,
    data: OverridePatch,
    write: RotaWrite,
    *,
    allow_past: bool,
) -> OverrideRow:
    """Change an override's window or reason."""
    slugs = await team_slugs(session)
    before = override_out(row, slugs).model_dump()
    start = data.start or row.starts_at
    end = data.end or row.ends_at
    if end <= start:
        raise ValidationFailed(
            "end must be after start", errors=[{"field": "body.end", "message": "not after start"}]
        )
    if start != row.starts_at:
        require_not_past(min(start, row.starts_at), write.now, allow_past, "body.start")
    if end != row.ends_at:
        require_not_past(min(end, row.ends_at), write.now, allow_past, "body.end")
    if row.kind == "leave":
        await _check_no_overlapping_leave(session, row.specialist_id, start, end, row.id)
    row.starts_at, row.ends_at = start, end
    if "reason" in data.model_fields_set:
        row.reason = data.reason
    row.updated_at = write.now
    await session.flush()
    await _refuse_double_booking(session, [row], slugs)
    await _affect(
        write, session, row.specialist_id, *([row.substitute_id] if row.substitute_id else [])
    )
    after = override_out(row, slugs).model_dump()
    await write.audit("update", "override", row.id, before, after)
    await write.finish(after)
    return row


async def cancel_override(
    session: AsyncSession, row: OverrideRow, write: RotaWrite, *, allow_past: bool
) -> OverrideRow | None:
    """Cancel an override (both halves of a swap).

    One that has not started is deleted; one under way ends now, so the part already
    worked stays recorded; one wholly in the past needs allow_past to be deleted.
    """
    rows = [row]
    if row.swap_group:
        rows = list(
            await session.scalars(
                select(OverrideRow).where(OverrideRow.swap_group == row.swap_group)
            )
        )
    slugs = await team_slugs(session)
    kept: OverrideRow | None = None
    for r in rows:
        before = override_out(r, slugs).model_dump()
        await _affect(
            write, session, r.specialist_id, *([r.substitute_id] if r.substitute_id else [])
        )
        if r.starts_at >= write.now or allow_past:
            await session.delete(r)
            await write.audit("delete", "override", r.id, before, None)
        elif r.ends_at > write.now:
            r.ends_at = write.now
            r.updated_at = write.now
            kept = r
            await write.audit("end", "override", r.id, before, override_out(r, slugs).model_dump())
        else:
            require_not_past(r.ends_at, write.now, allow_past, "override")
    await session.flush()
    await write.finish(override_out(kept, slugs).model_dump() if kept else None)
    return kept


# Days off in lieu ---------------------------------------------------------------------


def parse_day_off_id(day_off_id: str) -> tuple[str, str]:
    """Split lieu:<earning key> / manual:<id>; 404 for anything else."""
    kind, _, rest = day_off_id.partition(":")
    if kind == "lieu" and _is_earning_key(rest):
        return kind, rest
    if kind == "manual" and _is_db_id(rest):
        return kind, rest
    raise NotFound(f"day off {day_off_id!r} does not exist (ids look like lieu:... or manual:N)")


def day_end(day: date, tz: str) -> datetime:
    """The next local midnight after a date begins (23 or 25 hours later on DST days)."""
    return day_start(day + timedelta(days=1), tz)


def _is_db_id(text: str) -> bool:
    """An id as Switchboard writes it: ASCII digits, no leading zero, within the INTEGER range."""
    return (text.isascii() and text.isdigit() and text[0] != "0" and len(text) <= 10) and int(
        text
    ) <= MAX_DB_INT


def _is_earning_key(text: str) -> bool:
    """An earning key exactly as earning_key() writes it, on a date in the supported range."""
    parsed = parse_earning_key(text)
    if parsed is None or not text.isascii():
        return False
    rotation_id, day, member = parsed
    return (
        earning_key(rotation_id, day, member) == text
        and _is_db_id(str(rotation_id))
        and _is_db_id(str(member))
        and EARLIEST.date() <= day < LATEST.date()
    )


def day_start(day: date, tz: str) -> datetime:
    """Local midnight of a date as an instant."""
    return local_to_utc(day, time(0, 0), tz)


async def _lieu_row(session: AsyncSession, key: str) -> LieuAdjustmentRow | None:
    return await session.get(LieuAdjustmentRow, key)


async def _automatic_day_off(
    session: AsyncSession, key: str, earned_on: date
) -> tuple[bool, DayOff | None]:
    """Whether the earning exists, and its automatic day off where placed now (if placed)."""
    # It lands in the ISO week after the earning: within 14 days of it.
    start = datetime.combine(earned_on, time(0), tzinfo=UTC)
    end = start + timedelta(days=16)
    snapshot = await repository.load_snapshot(session, start, end)
    placed = next((d for d in days_off(snapshot.rota, start, end) if d.earning_key == key), None)
    if placed is not None:
        return True, placed
    # Not placed: a sixth earning of one week, or no such earning at all.
    around = (start - timedelta(days=2), start + timedelta(days=3))
    earnings = earnings_from(snapshot.rota, pre_lieu_shifts(snapshot.rota, *around))
    return any(e.key == key for e in earnings), None


async def day_off_etag(session: AsyncSession, day_off_id: str) -> str:
    """The current ETag of a day off."""
    kind, rest = parse_day_off_id(day_off_id)
    if kind == "lieu":
        adj = await _lieu_row(session, rest)
        if adj is None:
            parsed = parse_earning_key(rest)
            assert parsed is not None
            if not (await _automatic_day_off(session, rest, parsed[1]))[0]:
                raise NotFound(f"day off {day_off_id!r} does not exist")
        return etag("dayoff", day_off_id, adj.version if adj else 0)
    manual = await session.get(ManualDayOffRow, int(rest))
    if manual is None:
        raise NotFound(f"day off {day_off_id!r} does not exist")
    return etag("dayoff", day_off_id, manual.version)


async def add_day_off(
    session: AsyncSession, data: DayOffIn, write: RotaWrite, *, allow_past: bool
) -> ManualDayOffRow:
    """Add a day off in lieu by hand."""
    spec = await _specialist(session, data.specialist_id, "body.specialist_id")
    require_not_past(day_end(data.day, spec.tz), write.now, allow_past, "body.day")
    row = ManualDayOffRow(
        specialist_id=spec.id,
        day=data.day,
        note=data.note,
        created_at=write.now,
        updated_at=write.now,
    )
    session.add(row)
    await session.flush()
    await _affect(write, session, spec.id)
    after = {"id": f"manual:{row.id}", "specialist_id": spec.id, "day": row.day, "note": row.note}
    await write.audit("create", "day-off", f"manual:{row.id}", None, after)
    await write.finish(after)
    return row


async def move_or_cancel_day_off(
    session: AsyncSession,
    day_off_id: str,
    move: DayOffMove | None,
    write: RotaWrite,
    *,
    allow_past: bool,
) -> str:
    """Move a day off to another date (move given) or cancel it (move None); returns its id."""
    kind, rest = parse_day_off_id(day_off_id)
    if kind == "lieu":
        parsed = parse_earning_key(rest)
        assert parsed is not None
        _, earned_on, member = parsed
        adj = await _lieu_row(session, rest)
        if adj is None:
            exists, placed = await _automatic_day_off(session, rest, earned_on)
            if not exists:
                raise NotFound(f"day off {day_off_id!r} does not exist")
            current, owner = (placed.day, placed.specialist_id) if placed else (None, member)
        else:
            current, owner = adj.new_date, adj.specialist_id
        spec = await _specialist(session, owner, "path.id")
        if current is not None:
            # A day off already taken is history, like a manual one.
            require_not_past(day_end(current, spec.tz), write.now, allow_past, "path.id")
        before = {"id": day_off_id, "new_date": adj.new_date if adj else "as assigned"}
        if move is not None:
            require_not_past(day_start(move.day, spec.tz), write.now, allow_past, "body.day")
        if adj is None:
            adj = LieuAdjustmentRow(
                earning_key=rest,
                specialist_id=spec.id,
                new_date=move.day if move else None,
                created_at=write.now,
                updated_at=write.now,
            )
            session.add(adj)
        else:
            adj.new_date = move.day if move else None
            adj.updated_at = write.now
        after = {"id": day_off_id, "new_date": adj.new_date, "cancelled": move is None}
    else:
        manual = await session.get(ManualDayOffRow, int(rest))
        if manual is None:
            raise NotFound(f"day off {day_off_id!r} does not exist")
        spec = await _specialist(session, manual.specialist_id, "path.id")
        require_not_past(day_end(manual.day, spec.tz), write.now, allow_past, "path.id")
        before = {"id": day_off_id, "day": manual.day}
        if move is None:
            await session.delete(manual)
            after = None
        else:
            require_not_past(day_start(move.day, spec.tz), write.now, allow_past, "body.day")
            manual.day = move.day
            manual.updated_at = write.now
            after = {"id": day_off_id, "day": manual.day}
    await session.flush()
    await _affect(write, session, spec.id)
    await write.audit("cancel" if move is None else "move", "day-off", day_off_id, before, after)
    await write.finish(after)
    return day_off_id
