"""Overrides on top of rotation shifts: covers, then extras, then leave.

- cover (A -> B, window, optional team): the part of each of A's *rotation* shifts inside
  the window (only the cover's team when it names one) becomes B's, source kind "cover",
  ``covering_for`` A; the parts outside stay A's, so a partial cover splits the shift.
  Covers apply to rotation shifts only, never to other covers: a swap (two covers made
  together) then exchanges shifts instead of handing them back. Where two covers of A
  overlap, the one with the higher override id (the later one) wins.
- extra: the specialist works [start, end) for the override's team.
- leave (A, window, optional team): any part of any of A's shifts (rotation, cover or
  extra; only the leave's team when it names one) inside the window is cut out.
- Finally shifts of inactive or unknown specialists are dropped: a cover still hands an
  inactive person's shift to an active substitute.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

from app.rota.occurrences import rotation_shifts
from app.rota.rules import Override, Rota
from app.rota.shifts import Shift, ShiftSource
from app.rota.wallclock import local_date, require_aware

__all__ = ["pre_lieu_shifts"]


def _applies(override: Override, shift: Shift) -> bool:
    return (
        (override.team is None or override.team == shift.team)
        and override.start < shift.end
        and override.end > shift.start
    )


def _apply_covers(shift: Shift, covers: Sequence[Override]) -> list[Shift]:
    relevant = [c for c in covers if _applies(c, shift)]
    if not relevant:
        return [shift]
    cuts = {shift.start, shift.end}
    for cover in relevant:
        cuts.update(t for t in (cover.start, cover.end) if shift.start < t < shift.end)
    points = sorted(cuts)
    # Consecutive segments with the same holder become one piece.
    pieces: list[tuple[datetime, datetime, Override | None]] = []
    for seg_start, seg_end in pairwise(points):
        holders = [c for c in relevant if c.start <= seg_start and c.end >= seg_end]
        holder = max(holders, key=lambda c: c.id) if holders else None
        if pieces and pieces[-1][2] is holder:
            pieces[-1] = (pieces[-1][0], seg_end, holder)
        else:
            pieces.append((seg_start, seg_end, holder))
    result: list[Shift] = []
    for piece_start, piece_end, taker in pieces:
        if taker is None or taker.substitute_id is None:
            result.append(dataclasses.replace(shift, start=piece_start, end=piece_end))
            continue
        source = ShiftSource(
            kind="cover",
            rotation_id=shift.source.rotation_id,
            version=shift.source.version,
            override_id=taker.id,
            occurrence=shift.source.occurrence,
            covering_for=shift.specialist_id,
        )
        result.append(
            Shift(taker.substitute_id, shift.team, piece_start, piece_end, shift.local_date, source)
        )
    return result


def _cut_leave(shift: Shift, leaves: Sequence[Override]) -> list[Shift]:
    pieces = [(shift.start, shift.end)]
    for leave in leaves:
        if not _applies(leave, shift):
            continue
        kept: list[tuple[datetime, datetime]] = []
        for piece_start, piece_end in pieces:
            if leave.start > piece_start:
                kept.append((piece_start, min(piece_end, leave.start)))
            if leave.end < piece_end:
                kept.append((max(piece_start, leave.end), piece_end))
        pieces = [(a, b) for a, b in kept if a < b]
    if pieces == [(shift.start, shift.end)]:
        return [shift]
    return [dataclasses.replace(shift, start=a, end=b) for a, b in pieces]


def _utc(override: Override) -> Override:
    return dataclasses.replace(
        override,
        start=require_aware(override.start, "override start"),
        end=require_aware(override.end, "override end"),
    )


def pre_lieu_shifts(rota: Rota, start: datetime, end: datetime) -> list[Shift]:
    """Return shifts after overrides (before lieu) of occurrences/extras overlapping range."""
    # Shifts stay whole: every piece of each occurrence overlapping [start, end) is
    # returned, even pieces outside the range, so no result depends on the range asked.
    covers: defaultdict[int, list[Override]] = defaultdict(list)
    leaves: defaultdict[int, list[Override]] = defaultdict(list)
    extras: list[Override] = []
    for raw in rota.overrides:
        override = _utc(raw)
        if override.kind == "cover":
            covers[override.specialist_id].append(override)
        elif override.kind == "leave":
            leaves[override.specialist_id].append(override)
        elif override.start < end and override.end > start:
            extras.append(override)

    shifts: list[Shift] = []
    for shift in rotation_shifts(rota, start, end):
        shifts.extend(_apply_covers(shift, covers.get(shift.specialist_id, ())))
    for extra in extras:
        team = extra.team or ""
        source = ShiftSource(kind="extra", override_id=extra.id)
        day = local_date(extra.start, rota.team_tz(team))
        shifts.append(Shift(extra.specialist_id, team, extra.start, extra.end, day, source))

    final: list[Shift] = []
    for shift in shifts:
        if rota.is_active(shift.specialist_id):
            final.extend(_cut_leave(shift, leaves.get(shift.specialist_id, ())))
    return final
