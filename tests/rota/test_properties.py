"""Property tests of the shift calculator (hypothesis)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Literal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.rota.calculator import base_occurrences, days_off, final_schedule
from app.rota.occurrences import assigned_members
from app.rota.rules import LieuRule, ManualDayOff, Override, Rota, RotationVersion

from .helpers import people, rota, rule, team, utc, version

ZONES = [
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "America/Chicago",
    "Australia/Sydney",
    "Asia/Tokyo",
    "UTC",
]
# Days around DST changes in the zones above, plus quiet ones.
AROUND = [
    date(2024, 3, 10),
    date(2024, 3, 31),
    date(2024, 4, 7),
    date(2024, 10, 6),
    date(2024, 10, 27),
    date(2024, 11, 3),
    date(2025, 3, 9),
    date(2025, 6, 15),
]

KINDS: tuple[Literal["cover", "leave", "extra"], ...] = ("cover", "leave", "extra")

zones = st.sampled_from(ZONES)
wall_times = st.builds(
    time,
    st.integers(0, 23),
    st.sampled_from([0, 0, 15, 30, 45, 59]),
)
weekday_sets = st.frozensets(st.integers(0, 6), min_size=1)


@st.composite
def near_dst(draw: st.DrawFn) -> datetime:
    day = draw(st.sampled_from(AROUND)) + timedelta(days=draw(st.integers(-10, 10)))
    return utc(day.year, day.month, day.day, draw(st.integers(0, 23)))


@st.composite
def versions(draw: st.DrawFn, *, assignment: str = "all") -> RotationVersion:
    members = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=5, unique=True)))
    per = draw(st.integers(1, len(members)))
    return version(
        tz=draw(zones),
        members=members,
        days=draw(weekday_sets),
        start=draw(wall_times),
        end=draw(wall_times),
        length_days=draw(st.integers(1, 8)),
        every_weeks=draw(st.integers(1, 3)),
        anchor=date(2023, 12, 25) + timedelta(days=draw(st.integers(0, 120))),
        assignment=assignment,
        per_occurrence=per,
        turn_offset=draw(st.integers(0, 7)),
    )


@settings(max_examples=150, deadline=None)
@given(versions(), near_dst(), st.integers(1, 20))
def test_no_shift_ends_before_it_starts(v: RotationVersion, start: datetime, days: int) -> None:
    for occ in base_occurrences(v, start, start + timedelta(days=days)):
        assert occ.end > occ.start
        assert occ.start.utcoffset() == timedelta(0)
        # Wall-clock length stays within a DST change (<= 1 h here) of the nominal length.
        nominal = datetime.combine(date.min, v.end) - datetime.combine(date.min, v.start)
        days_long = v.length_days - 1 + (1 if v.end <= v.start else 0)
        nominal += timedelta(days=days_long)
        assert abs((occ.end - occ.start) - nominal) <= timedelta(hours=1)


@settings(max_examples=100, deadline=None)
@given(versions(assignment="turns"), near_dst(), st.integers(7, 120))
def test_turns_hand_out_occurrences_evenly(v: RotationVersion, start: datetime, days: int) -> None:
    occs = base_occurrences(v, start, start + timedelta(days=days))
    assume(len(occs) > 0)
    for occ in occs:
        assert len(occ.members) == v.per_occurrence
        assert occ.members == assigned_members(v, occ.index)
    indexes = [o.index for o in occs]
    # Occurrences in a range are consecutive (unless one fell wholly into a DST gap).
    assume(indexes == list(range(indexes[0], indexes[0] + len(indexes))))
    counts = Counter(m for occ in occs for m in occ.members)
    totals = [counts[m] for m in v.members]
    assert max(totals) - min(totals) <= 1
    slots = len(occs) * v.per_occurrence
    if slots % len(v.members) == 0:  # whole cycles: everyone equally
        assert len(set(totals)) == 1


@st.composite
def rotas(draw: st.DrawFn) -> tuple[Rota, datetime]:
    start = draw(near_dst())
    start = start.replace(hour=0)
    team_tz = draw(zones)
    anchor_sat = date(2023, 12, 30)
    weekdays = version(
        rotation_id=1,
        tz=team_tz,
        members=(1, 2, 3),
        days=frozenset(range(5)),
        start=draw(wall_times),
        end=draw(wall_times),
    )
    lieu_rule = draw(
        st.sampled_from([LieuRule.most_staffed(), LieuRule.fixed(0), LieuRule.fixed(3)])
    )
    edit_at = start + timedelta(hours=draw(st.integers(0, 24 * 21)))
    weekend_old = version(
        rotation_id=2,
        tz=team_tz,
        members=(1, 2, 3, 4),
        days=frozenset({5, 6}),
        start=draw(wall_times),
        end=draw(wall_times),
        anchor=anchor_sat,
        assignment="turns",
        earns_lieu=True,
        lieu_rule=lieu_rule,
        effective_until=edit_at,
    )
    weekend_new = version(
        rotation_id=2,
        version=2,
        tz=team_tz,
        members=(4, 3, 2),
        days=frozenset({5, 6}),
        start=draw(wall_times),
        end=draw(wall_times),
        length_days=draw(st.integers(1, 2)),
        anchor=anchor_sat,
        assignment="turns",
        earns_lieu=True,
        lieu_rule=lieu_rule,
        effective_from=edit_at,
    )
    other_team = version(rotation_id=3, team="u", tz=draw(zones), members=(2, 4),
                         days=draw(weekday_sets), start=draw(wall_times), end=draw(wall_times),
                         earns_lieu=draw(st.booleans()))  # fmt: skip

    def window() -> tuple[datetime, datetime]:
        begin = start + timedelta(hours=draw(st.integers(-48, 24 * 23)))
        return begin, begin + timedelta(hours=draw(st.integers(1, 72)))

    overrides = []
    for oid in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(KINDS))
        person = draw(st.integers(1, 4))
        substitute = draw(st.integers(1, 4)) if kind == "cover" else None
        where = draw(st.sampled_from([None, "t", "u"])) if kind != "extra" else "t"
        overrides.append(Override(oid + 1, kind, person, substitute, where, *window()))

    adjustments: dict[str, date | None] = {}
    for _ in range(draw(st.integers(0, 3))):
        saturday = start.date() - timedelta(days=(start.weekday() - 5) % 7)
        earned_on = saturday + timedelta(days=draw(st.sampled_from([-7, -6, 0, 1, 7, 8])))
        key = f"2:{earned_on.isoformat()}:{draw(st.integers(1, 4))}"
        moved = start.date() + timedelta(days=draw(st.integers(-3, 24)))
        adjustments[key] = draw(st.sampled_from([None, moved]))
    manual = [
        ManualDayOff(
            i, draw(st.integers(1, 4)), start.date() + timedelta(days=draw(st.integers(0, 21)))
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    staff = {i: people(i, tz=draw(zones))[i] for i in range(1, 5)}
    coverage = (
        rule(draw(weekday_sets), time(9), time(17), draw(st.integers(0, 3))),
        rule(draw(weekday_sets), time(12), time(20), draw(st.integers(0, 3))),
    )
    built = rota(
        [weekdays, weekend_old, weekend_new, other_team],
        teams=[team("t", team_tz, coverage=coverage), team("u", "UTC")],
        specialists=staff,
        overrides=overrides,
        lieu_adjustments=adjustments,
        manual_days_off=manual,
    )
    return built, start


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rotas())
def test_schedule_same_at_once_or_day_by_day(case: tuple[Rota, datetime]) -> None:
    r, start = case
    days = 21
    whole = final_schedule(r, start, start + timedelta(days=days))
    by_day: dict[str, object] = {}
    offs: set[object] = set()
    for i in range(days):
        day_start = start + timedelta(days=i)
        for shift in final_schedule(r, day_start, day_start + timedelta(days=1)):
            by_day.setdefault(shift.key, shift)
        offs.update(days_off(r, day_start, day_start + timedelta(days=1)))
    assert len({s.key for s in whole}) == len(whole)
    assert {s.key: s for s in whole} == by_day
    assert set(days_off(r, start, start + timedelta(days=days))) == offs
