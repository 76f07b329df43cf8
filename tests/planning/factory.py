"""Random small planning problems for the planner's tests (hypothesis strategies)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import strategies as st

from app.planning.problem import Member, PlanProblem, PlanSettings, ShiftTemplate, Unavailable
from app.rota.rules import CoverageRule

# Zones with awkward DST (half-hour Lord Howe, Dublin's negative DST) and none.
ZONES = ["Australia/Lord_Howe", "Europe/Dublin", "America/Chicago", "Asia/Tokyo", "UTC"]
# Mondays of weeks with a DST change in one of those zones, and a quiet one.
MONDAYS = [
    date(2026, 3, 2),  # Chicago springs forward on 8 March
    date(2026, 3, 23),  # Dublin springs forward on 29 March
    date(2026, 3, 30),  # Lord Howe falls back on 5 April
    date(2026, 9, 28),  # Lord Howe springs forward on 4 October
    date(2026, 10, 19),  # Dublin falls back on 25 October
    date(2026, 10, 26),  # Chicago falls back on 1 November
    date(2026, 6, 15),
]
LANGUAGES = ["en", "ja", "fr"]

wall_hours = st.integers(0, 23).map(lambda h: time(h))


@st.composite
def coverage_rules(draw: st.DrawFn, *, staff: int) -> tuple[CoverageRule, ...]:
    rules = []
    for _ in range(draw(st.integers(1, 3))):
        start = draw(wall_hours)
        length = draw(st.integers(2, 10))
        end = time((start.hour + length) % 24)
        days = draw(st.frozensets(st.integers(0, 6), min_size=1))
        language = draw(st.sampled_from([None, None, *LANGUAGES]))
        rules.append(CoverageRule(days, start, end, draw(st.integers(1, staff)), language))
    # Weekends need an opening, or nobody could work a weekend day.
    rules.append(CoverageRule(frozenset({5, 6}), time(9), time(17), 1))
    return tuple(rules)


@st.composite
def members(draw: st.DrawFn, count: int, start: date, weeks: int) -> tuple[Member, ...]:
    people = []
    for pid in range(1, count + 1):
        langs = draw(st.frozensets(st.sampled_from(LANGUAGES), min_size=1, max_size=2))
        people.append(
            Member(
                id=pid,
                languages=langs,
                unavailable_weekdays=draw(st.frozensets(st.integers(0, 6), max_size=2)),
                prefers_off=draw(st.frozensets(st.integers(0, 6), max_size=2)),
                prefers_weekend_day=draw(st.sampled_from([None, 5, 6])),
                history_saturdays=draw(st.integers(0, 3)),
                history_sundays=draw(st.integers(0, 3)),
                streak_before=draw(st.integers(0, 6)),
                last_shift_end=draw(
                    st.sampled_from(
                        [None, datetime.combine(start, time(0), tzinfo=UTC) - timedelta(hours=2)]
                    )
                ),
            )
        )
    return tuple(people)


@st.composite
def problems(
    draw: st.DrawFn, *, max_members: int = 6, max_weeks: int = 2, time_limit: float = 20.0
) -> PlanProblem:
    """A small random team and period; often feasible, sometimes not."""
    tz = draw(st.sampled_from(ZONES))
    start = draw(st.sampled_from(MONDAYS))
    weeks = draw(st.integers(1, max_weeks))
    count = draw(st.integers(2, max_members))
    people = draw(members(count, start, weeks))
    leave = []
    for _ in range(draw(st.integers(0, 2))):
        who = draw(st.integers(1, count))
        day = start + timedelta(days=draw(st.integers(0, 7 * weeks - 1)))
        begins = datetime.combine(day, time(draw(st.integers(0, 23))), tzinfo=UTC)
        leave.append(Unavailable(who, begins, begins + timedelta(hours=draw(st.integers(4, 60)))))
    holidays = draw(
        st.frozensets(
            st.integers(0, 7 * weeks - 1).map(lambda k: start + timedelta(days=k)), max_size=2
        )
    )
    days_off = draw(
        st.frozensets(
            st.tuples(
                st.integers(1, count),
                st.integers(0, 7 * weeks - 1).map(lambda k: start + timedelta(days=k)),
            ),
            max_size=2,
        )
    )
    settings = PlanSettings(
        weekend_days_per_week=draw(st.integers(0, 2)),
        max_consecutive_days=draw(st.integers(3, 6)),
        max_hours_per_week=draw(st.sampled_from([24, 32, 40, 48])),
        min_rest_hours=draw(st.sampled_from([0, 8, 11, 12])),
        holiday_staff=draw(st.sampled_from([0, 0, 1])),
        shift_hours=draw(st.sampled_from([6, 8, 10])),
        time_limit_s=time_limit,
        workers=1,
    )
    templates: tuple[ShiftTemplate, ...] = ()
    if draw(st.booleans()):
        templates = (
            ShiftTemplate("night", time(22), time(6)),
            ShiftTemplate("day", time(9), time(17)),
        )
    return PlanProblem(
        team="t",
        tz=tz,
        start=start,
        weeks=weeks,
        members=people,
        coverage=draw(coverage_rules(staff=max(1, count // 3))),
        holidays=holidays,
        templates=templates,
        unavailable=tuple(leave),
        days_off=days_off,
        settings=settings,
    )
