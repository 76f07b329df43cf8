"""What every rota write shares: If-Match, past-edit guard, dry-run preview, audit, refresh."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.core.calc_pool import calculate
from app.core.db import Database, after_commit
from app.core.errors import (
    DryRunOutcome,
    PreconditionFailed,
    PreconditionRequired,
    ValidationFailed,
)
from app.rota import audit
from app.rota.calculator import DayOff, Override, Shift, days_off, final_schedule
from app.rota.component import Part, connected_part
from app.rota.materialise import lock_window, refresh, rematerialise
from app.rota.repository import Snapshot, load_snapshot
from app.rota.schemas import DayOffOut, ScheduleChange, ShiftOut, ShiftSourceOut
from app.rota.snapshot_work import load_in_worker, shared_url

PREVIEW = timedelta(weeks=4)


def etag(kind: str, ident: object, version: int) -> str:
    """A weak ETag for a rota resource version."""
    return f'W/"{kind}-{ident}-v{version}"'


def check_if_match(if_match: str | None, current: str) -> None:
    """428 without If-Match, 412 when it is not the current ETag."""
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the ETag you read, so concurrent edits are not lost",
            current_etag=current,
        )
    presented = {t.strip() for t in if_match.split(",")}
    if "*" not in presented and current not in presented:
        raise PreconditionFailed(
            "the resource changed since you read it; fetch it again and retry",
            current_etag=current,
        )


def require_not_past(instant: datetime, now: datetime, allow_past: bool, field_name: str) -> None:
    """Refuse an edit that takes effect in the past unless explicitly asked for."""
    # A minute of slack for the client's clock and the request's travel time.
    if instant < now - timedelta(minutes=1) and not allow_past:
        raise ValidationFailed(
            f"{field_name} is in the past; add ?allow_past=true to change the recorded history",
            errors=[{"field": field_name, "message": "in the past (needs allow_past=true)"}],
        )


def require_aware_query(value: datetime | None, name: str) -> datetime | None:
    """A query instant must carry an offset (RFC 3339); 422 otherwise."""
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(
            f"{name} needs a UTC offset, e.g. 2026-03-29T01:30:00+01:00 or ...Z",
            errors=[{"field": f"query.{name}", "message": "RFC 3339 instant with an offset"}],
        )
    return value


def shift_out(shift: Shift, snapshot: Snapshot) -> ShiftOut:
    """A calculator shift as the API shows it."""
    src = shift.source
    return ShiftOut(
        key=shift.key,
        specialist_id=shift.specialist_id,
        specialist_name=snapshot.specialist_names.get(shift.specialist_id, "?"),
        team=shift.team,
        start=shift.start,
        end=shift.end,
        local_date=shift.local_date,
        source=ShiftSourceOut(
            kind=src.kind,
            rotation_id=src.rotation_id,
            rotation_name=snapshot.rotation_names.get(src.rotation_id)
            if src.rotation_id is not None
            else None,
            override_id=src.override_id,
            covering_for=src.covering_for,
        ),
    )


def day_off_id(day_off: DayOff, manual_ids: dict[tuple[int, date], int]) -> str:
    """The API id of a day off: lieu:<earning key> or manual:<row id>."""
    if day_off.earning_key is not None:
        return f"lieu:{day_off.earning_key}"
    return f"manual:{manual_ids.get((day_off.specialist_id, day_off.day), 0)}"


def day_off_out(day_off: DayOff, snapshot: Snapshot) -> DayOffOut:
    """A calculator day off as the API shows it."""
    manual_ids = {(m.specialist_id, m.day): m.id for m in snapshot.rota.manual_days_off}
    return DayOffOut(
        id=day_off_id(day_off, manual_ids),
        specialist_id=day_off.specialist_id,
        day=day_off.day,
        source=day_off.source,
        earning_key=day_off.earning_key,
        moved=day_off.moved,
    )


def preview_of(
    snapshot: Snapshot, start: datetime, end: datetime, part: Part | None = None
) -> tuple[list[ShiftOut], list[DayOffOut]]:
    """The final schedule and days off between two instants (of one part of the rota). CPU."""
    rota = part.rota if part is not None else snapshot.rota
    shifts = [shift_out(s, snapshot) for s in final_schedule(rota, start, end)]
    offs = [day_off_out(d, snapshot) for d in days_off(rota, start, end)]
    return shifts, offs


async def preview(
    session: AsyncSession, start: datetime, end: datetime
) -> tuple[list[ShiftOut], list[DayOffOut]]:
    """The final schedule and days off between two instants."""
    snapshot = await load_snapshot(session, start, end)
    return await calculate(preview_of, snapshot, start, end)


def with_overrides(snapshot: Snapshot, added: tuple[Override, ...]) -> Snapshot:
    """The snapshot with overrides added (or replaced, by id)."""
    ids = {o.id for o in added}
    kept = tuple(o for o in snapshot.rota.overrides if o.id not in ids)
    return replace(snapshot, rota=replace(snapshot.rota, overrides=kept + added))


def _shift_id(s: ShiftOut) -> tuple[Any, ...]:
    return (s.key, s.specialist_id, s.team, s.start, s.end)


def _day_id(d: DayOffOut) -> tuple[Any, ...]:
    return (d.id, d.specialist_id, d.day)


def schedule_change(
    before: Snapshot,
    after: Snapshot,
    start: datetime,
    end: datetime,
    teams: set[str],
    specialists: set[int],
    resource: dict[str, Any] | None,
) -> ScheduleChange:
    """What an edit changes between two instants, from the rules before and after. CPU.

    Only the part of the rota linked (before or after) to what the edit touched can change,
    so only that part is calculated; nothing touched means the whole rota.
    """
    whole = not teams and not specialists
    parts = (
        [None, None]
        if whole
        else [connected_part(s.rota, teams, specialists) for s in (before, after)]
    )
    if not whole:
        assert parts[0] is not None and parts[1] is not None
        teams = set(parts[0].teams | parts[1].teams)
        specialists = set(parts[0].specialists | parts[1].specialists)
        parts = [connected_part(s.rota, teams, specialists) for s in (before, after)]
    before_shifts, before_days = preview_of(before, start, end, parts[0])
    after_shifts, after_days = preview_of(after, start, end, parts[1])
    old = {_shift_id(s) for s in before_shifts}
    new = {_shift_id(s) for s in after_shifts}
    old_days = {_day_id(d) for d in before_days}
    new_days = {_day_id(d) for d in after_days}
    return ScheduleChange(
        window_start=start,
        window_end=end,
        added=[s for s in after_shifts if _shift_id(s) not in old],
        removed=[s for s in before_shifts if _shift_id(s) not in new],
        days_off_added=[d for d in after_days if _day_id(d) not in old_days],
        days_off_removed=[d for d in before_days if _day_id(d) not in new_days],
        resource=resource,
    )


@dataclass
class RotaWrite:
    """One rota write: preview (dry run) or commit, audit, then refresh the stored shifts.

    The request's transaction holds the rota lock only for the edit itself: a preview
    reads the rules before and after, rolls back, and calculates with nothing held; a
    real write commits, then refreshes the stored shifts of the part of the rota it
    touched without holding a connection while it calculates (`materialise.refresh`).
    With `refresh_after_commit` (a caller that owns the transaction: swaps, console pages,
    the CSV import) the same refresh runs once that transaction has committed
    (`app.core.db.after_commit`). Without either (CLI seeding, one transaction for many
    writes) the refresh happens inside the transaction instead.
    """

    session: AsyncSession
    principal: Principal
    now: datetime
    dry_run: bool
    db: Database | None = None
    refresh_after_commit: bool = False
    affected_teams: set[str] = field(default_factory=set)
    affected_specialists: set[int] = field(default_factory=set)
    # Set by an edit that only adds these overrides: a preview adds them to the rules
    # 'before' instead of reading the rules 'after' back while it holds the lock.
    added_overrides: tuple[Override, ...] | None = None
    _before: Snapshot | None = None
    _before_loading: asyncio.Future[Snapshot] | None = None

    async def start(self) -> RotaWrite:
        """Wait for other rota writes to finish; read the rules 'before' for a dry run.

        With a calculation worker, the worker reads them (committed, and the lock is ours
        now, so nobody changes them) while this request goes on with the edit.
        """
        await lock_window(self.session)
        if self.dry_run:
            url = shared_url(self.session.bind)
            if url is None:
                self._before = await load_snapshot(self.session, self.now, self.now + PREVIEW)
            else:
                self._before_loading = asyncio.ensure_future(
                    calculate(load_in_worker, url, self.now, self.now + PREVIEW)
                )
                # An edit refused before `finish` never reads it: nothing to report then.
                self._before_loading.add_done_callback(lambda f: f.cancelled() or f.exception())
        return self

    async def audit(
        self,
        action: str,
        resource_type: str,
        resource_id: str | int,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        effective_from: datetime | None = None,
    ) -> None:
        """Record the change in the audit log (rolled back with a dry run)."""
        await audit.record(
            self.session,
            principal=self.principal,
            at=self.now,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            before=before,
            after=after,
            effective_from=effective_from,
        )

    async def finish(self, resource: dict[str, Any] | None) -> None:
        """Dry run: roll back and raise the schedule change. Otherwise commit and refresh.

        After this the request's session has no transaction: nothing may use it.
        """
        await self.session.flush()
        if self.dry_run:
            # A request's own transaction (`db` given): the lock and the connection go back
            # as soon as nothing more is read in it (the request rolls back anyway). Without
            # `db` the caller owns the transaction and may read the edited state before
            # rolling it back (console previews).
            adding_only = self._before_loading is not None and self.added_overrides is not None
            if adding_only and self.db is not None:
                # Nothing to read back: "after" is "before" plus the new overrides. Should a
                # write commit before the worker reads "before", the change shown is still
                # this edit's, on the newer rules.
                await self.session.rollback()
            if self._before_loading is not None:
                self._before = await self._before_loading
            assert self._before is not None
            if adding_only:
                assert self.added_overrides is not None
                after = with_overrides(self._before, self.added_overrides)
            else:
                after = await load_snapshot(self.session, self.now, self.now + PREVIEW)
                if self.db is not None:
                    await self.session.rollback()
            change = await calculate(
                schedule_change,
                self._before,
                after,
                self.now,
                self.now + PREVIEW,
                set(self.affected_teams),
                set(self.affected_specialists),
                resource,
            )
            raise DryRunOutcome(change)
        teams = self.affected_teams or None
        if self.db is None and self.refresh_after_commit:
            parts, people = set(teams) if teams else None, set(self.affected_specialists)

            async def refresh_committed(db: Database) -> None:
                await refresh(db, self.now, teams=parts, specialists=people)

            after_commit(self.session, refresh_committed)
            return
        if self.db is None:
            await rematerialise(
                self.session, self.now, teams=teams, specialists=self.affected_specialists
            )
            return
        await self.session.commit()
        await refresh(self.db, self.now, teams=teams, specialists=self.affected_specialists)
