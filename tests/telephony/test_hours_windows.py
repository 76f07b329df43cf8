"""The `hours` step's coverage windows, read from a per-day cache, are the windows
`rule_windows` gives for the instant itself: across DST changes, half-hour DST
(Australia/Lord_Howe), Europe/Dublin's negative DST, overnight rules and public holidays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.closures.hours import LOOK_AHEAD, _merge, coverage_at
from app.rota.coverage import rule_windows
from app.rota.repository import TeamBrief, coverage_rules, team_holidays
from app.rota.schemas import WEEKDAYS

ZONES = ["Europe/Dublin", "Australia/Lord_Howe", "America/New_York", "Asia/Kolkata", "UTC"]
HOLIDAYS = [(None, None), ("IE", None), ("AU", "NSW"), ("US", "NY")]


def _direct(team: TeamBrief, now: datetime) -> list[tuple[datetime, datetime]]:
    """What the step computed for every call before the cache: the rules' windows for now."""
    end = now + LOOK_AHEAD
    holidays = team_holidays(team, range(now.year - 1, end.year + 2))
    windows = [
        w for rule in coverage_rules(team) for w in rule_windows(rule, team.tz, holidays, now, end)
    ]
    return _merge(windows)


hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30, 45]))
rules = st.lists(
    st.builds(
        lambda days, start, end: {"days": days, "start": start, "end": end, "min_staff": 1},
        st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True),
        hhmm,
        hhmm,
    ),
    min_size=1,
    max_size=3,
)
# Instants around the 2026 and 2027 DST changes of these zones, and anywhere in between.
changes = [
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Dublin springs forward
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Dublin falls back
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe: half an hour back
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe: half an hour forward
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York falls back
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # a year's end
]
instants = st.one_of(
    st.builds(
        lambda at, minutes: at + timedelta(minutes=minutes),
        st.sampled_from(changes),
        st.integers(-3 * 24 * 60, 3 * 24 * 60),
    ),
    st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)).map(lambda d: d.replace(tzinfo=UTC)),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ZONES), rules, st.sampled_from(HOLIDAYS), instants)
def test_cached_windows_are_the_rules_windows_for_the_instant(
    tz: str,
    coverage: list[dict[str, object]],
    holidays: tuple[str | None, str | None],
    now: datetime,
) -> None:
    team = TeamBrief("t", tz, coverage, *holidays)
    windows, holiday_set = coverage_at(team, now)
    assert list(windows) == _direct(team, now)
    assert holiday_set >= team_holidays(team, range(now.year - 1, now.year + 2))


def _mondays(start: str, end: str) -> TeamBrief:
    """A team in UTC covered on Mondays from `start` to `end`."""
    rule = {"days": ["mon"], "start": start, "end": end, "min_staff": 1}
    return TeamBrief("t", "UTC", [rule], None, None)


def test_an_edited_team_is_read_afresh_the_same_day() -> None:
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday
    early, late = _mondays("08:00", "12:00"), _mondays("14:00", "18:00")
    assert coverage_at(early, now)[0][0] == (now, datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    assert coverage_at(late, now)[0][0] == (
        datetime(2026, 12, 7, 14, 0, tzinfo=UTC),
        datetime(2026, 12, 7, 18, 0, tzinfo=UTC),
    )
