"""Differential test: the shift calculator against the naive reference in ``reference.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.rota.calculator import (
    Rota,
    RotationVersion,
    SpecialistInfo,
    TeamRota,
    base_occurrences,
    final_schedule,
)

from .reference import RefOccurrence, instants_of, occurrences, transition_dates, wall_to_utc

ZONES = [
    "UTC",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/Dublin",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "Asia/Tokyo",
    "America/St_Johns",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/Santiago",
]
YEARS = range(2023, 2027)
TRANSITIONS = {(zone, year): transition_dates(zone, year) for zone in ZONES for year in YEARS}
QUARTER = timedelta(minutes=15)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
GRID = [time(h, m) for h in range(24) for m in (0, 15, 30, 45)]
DST_PRONE = [time(0), time(0, 30), time(1, 30), time(2), time(2, 15), time(2, 30), time(2, 45)]
DST_PRONE += [time(3), time(3, 30), time(3, 45), time(23), time(23, 30)]


def _odd_times(zone: str) -> list[time]:
    """Grid times that are nonexistent or ambiguous on one of the zone's transition dates."""
    tz = ZoneInfo(zone)
    days = {d for year in YEARS for d in TRANSITIONS[(zone, year)]}
    days |= {d - timedelta(days=1) for d in days}
    odd = {at for d in days for at in GRID if len(instants_of(datetime.combine(d, at), tz)) != 1}
    return sorted(odd) or DST_PRONE


ODD_TIMES = {zone: _odd_times(zone) for zone in ZONES}


@dataclass(frozen=True)
class Case:
    """One generated rotation version, query window and holiday set."""

    version: RotationVersion
    start: datetime
    end: datetime
    holidays: frozenset[date]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.sampled_from(YEARS))
    known = TRANSITIONS[(zone, year)]
    if known:
        pivot = draw(st.sampled_from(known))
    else:
        pivot = date(year, 1, 1) + timedelta(days=draw(st.integers(0, 364)))
    midnight = datetime.combine(pivot, time(0), tzinfo=UTC)
    start = midnight + QUARTER * draw(st.integers(-96 * 9, 96))
    end = start + QUARTER * draw(st.integers(1, 96 * 14))
    wall_times = st.one_of(
        st.sampled_from(ODD_TIMES[zone]), st.sampled_from(DST_PRONE), st.sampled_from(GRID)
    )
    start_at, end_at = draw(wall_times), draw(wall_times)
    # Effective bounds: open, anywhere near the window, or exactly at some day's shift start.
    near = st.integers(-96 * 12, 96 * 12).map(lambda n: start + QUARTER * n)
    snap = st.integers(-12, 12).map(
        lambda n: wall_to_utc(pivot + timedelta(days=n), start_at, zone)
    )
    effective_from = draw(st.one_of(st.just(EPOCH), near, snap))
    effective_until = draw(st.one_of(st.none(), near, snap))
    if effective_until is not None and effective_until < effective_from:
        effective_from, effective_until = effective_until, effective_from
    members = tuple(draw(st.lists(st.integers(1, 9), min_size=1, max_size=5, unique=True)))
    assignment: Literal["all", "turns"] = draw(st.sampled_from(["all", "turns"]))
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    if draw(st.booleans()):
        days |= {pivot.weekday()}
    version = RotationVersion(
        rotation_id=7,
        version=1,
        team="t",
        tz=zone,
        members=members,
        days=days,
        start=start_at,
        end=end_at,
        length_days=draw(st.integers(1, 8)),
        every_weeks=draw(st.integers(1, 3)),
        anchor=pivot + timedelta(days=draw(st.integers(-370, 10))),
        effective_from=effective_from,
        effective_until=effective_until,
        assignment=assignment,
        per_occurrence=draw(st.integers(1, len(members))),
        turn_offset=draw(st.integers(0, 10)),
        run_on_holidays=draw(st.booleans()),
    )
    holidays = draw(st.frozensets(st.integers(-12, 12), max_size=4))
    return Case(version, start, end, frozenset(pivot + timedelta(days=n) for n in holidays))


def single_rota(case: Case) -> Rota:
    v = case.version
    return Rota(
        teams={"t": TeamRota(slug="t", tz=v.tz, holidays=case.holidays)},
        specialists={m: SpecialistInfo(id=m, tz=v.tz) for m in v.members},
        rotations=(v,),
    )


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_calculator_matches_reference(case: Case) -> None:
    v = case.version
    expected = occurrences(v, case.start, case.end, case.holidays)

    got = base_occurrences(v, case.start, case.end, case.holidays)
    actual = sorted(RefOccurrence(o.local_date, o.index, o.start, o.end, o.members) for o in got)
    assert actual == expected

    shifts = final_schedule(single_rota(case), case.start, case.end)
    rows = [(s.specialist_id, s.start, s.end, s.local_date) for s in shifts]
    assert len(rows) == len(set(rows))
    assert set(rows) == {(m, o.start, o.end, o.local_date) for o in expected for m in o.members}
    index_by_date = {o.local_date: o.index for o in expected}
    assert all(s.source.occurrence == index_by_date[s.local_date] for s in shifts)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


# zone, spring day, nonexistent wall time -> UTC, fall day, ambiguous wall time -> UTC, DST size.
DST_TABLE = [
    ("America/Chicago", date(2024, 3, 10), time(2, 30), utc(2024, 3, 10, 8),
     date(2024, 11, 3), time(1, 30), utc(2024, 11, 3, 6, 30), 60),
    ("America/Los_Angeles", date(2024, 3, 10), time(2, 30), utc(2024, 3, 10, 10),
     date(2024, 11, 3), time(1, 30), utc(2024, 11, 3, 8, 30), 60),
    ("Europe/Dublin", date(2024, 3, 31), time(1, 30), utc(2024, 3, 31, 1),
     date(2024, 10, 27), time(1, 30), utc(2024, 10, 27, 0, 30), 60),
    ("Europe/London", date(2024, 3, 31), time(1, 30), utc(2024, 3, 31, 1),
     date(2024, 10, 27), time(1, 30), utc(2024, 10, 27, 0, 30), 60),
    ("Europe/Berlin", date(2024, 3, 31), time(2, 30), utc(2024, 3, 31, 1),
     date(2024, 10, 27), time(2, 30), utc(2024, 10, 27, 0, 30), 60),
    ("Australia/Lord_Howe", date(2024, 10, 6), time(2, 15), utc(2024, 10, 5, 15, 30),
     date(2024, 4, 7), time(1, 30), utc(2024, 4, 6, 14, 30), 30),
    ("Australia/Sydney", date(2024, 10, 6), time(2, 30), utc(2024, 10, 5, 16),
     date(2024, 4, 7), time(2, 30), utc(2024, 4, 6, 15, 30), 60),
    ("America/St_Johns", date(2024, 3, 10), time(2, 30), utc(2024, 3, 10, 5, 30),
     date(2024, 11, 3), time(1, 30), utc(2024, 11, 3, 4), 60),
    ("Pacific/Chatham", date(2024, 9, 29), time(3), utc(2024, 9, 28, 14),
     date(2024, 4, 7), time(3), utc(2024, 4, 6, 13, 15), 60),
    ("America/Santiago", date(2024, 9, 8), time(0, 30), utc(2024, 9, 8, 4),
     date(2024, 4, 6), time(23, 30), utc(2024, 4, 7, 2, 30), 60),
]  # fmt: skip


def daily(zone: str, day: date, start: time, end: time, length: int = 1) -> RotationVersion:
    return RotationVersion(
        rotation_id=1,
        version=1,
        team="t",
        tz=zone,
        members=(1,),
        days=frozenset({day.weekday()}),
        start=start,
        end=end,
        length_days=length,
        anchor=day,
        effective_from=EPOCH,
    )


def both(v: RotationVersion) -> list[RefOccurrence]:
    """Return the occurrences on the anchor date, asserting calculator and reference agree."""
    lo = datetime.combine(v.anchor, time(0), tzinfo=UTC) - timedelta(days=2)
    hi = lo + timedelta(days=4)
    got = [o for o in base_occurrences(v, lo, hi) if o.local_date == v.anchor]
    actual = [RefOccurrence(o.local_date, o.index, o.start, o.end, o.members) for o in got]
    expected = [o for o in occurrences(v, lo, hi, frozenset()) if o.local_date == v.anchor]
    assert actual == expected
    return actual


@pytest.mark.parametrize(
    ("zone", "spring", "gap_at", "gap_utc", "fall", "fold_at", "fold_utc", "size"),
    DST_TABLE,
    ids=[row[0] for row in DST_TABLE],
)
def test_dst_weekly_lengths_and_gap_and_fold(
    zone: str,
    spring: date,
    gap_at: time,
    gap_utc: datetime,
    fall: date,
    fold_at: time,
    fold_utc: datetime,
    size: int,
) -> None:
    # A weekly shift handing over at noon keeps its wall-clock times: 168 h -/+ the DST step.
    (short,) = both(daily(zone, spring - timedelta(days=3), time(12), time(12), length=7))
    assert short.end - short.start == timedelta(hours=168, minutes=-size)
    (long,) = both(daily(zone, fall - timedelta(days=3), time(12), time(12), length=7))
    assert long.end - long.start == timedelta(hours=168, minutes=size)
    # A nonexistent start moves to the end of the gap; an ambiguous one takes the first instant.
    (gap,) = both(daily(zone, spring, gap_at, time(12)))
    assert gap.start == gap_utc
    (fold,) = both(daily(zone, fall, fold_at, time(fold_at.hour, fold_at.minute + 15)))
    assert (fold.start, fold.end) == (fold_utc, fold_utc + timedelta(minutes=15))


@pytest.mark.parametrize(
    ("zone", "day", "start", "end"),
    [
        ("America/Chicago", date(2024, 3, 10), time(2), time(2, 30)),
        ("Australia/Lord_Howe", date(2024, 10, 6), time(2), time(2, 15)),
        ("America/Santiago", date(2024, 9, 8), time(0), time(0, 45)),
    ],
)
def test_shift_inside_a_gap_is_dropped(zone: str, day: date, start: time, end: time) -> None:
    assert both(daily(zone, day, start, end)) == []
