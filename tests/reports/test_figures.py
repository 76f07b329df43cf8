"""The pure figures: edge cases of the definitions, rounding, local hours across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.reports.figures import CallFacts, summarise

T0 = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
MINUTE = timedelta(seconds=60)


def facts(
    started: datetime = T0,
    *,
    routed: float | None = None,
    answered: float | None = None,
    ended: float | None = None,
    outcome: str | None = None,
) -> CallFacts:
    """A call; routed/answered/ended are seconds after `started`."""

    def after(seconds: float | None) -> datetime | None:
        return None if seconds is None else started + timedelta(seconds=seconds)

    return CallFacts(
        started_at=started,
        routed_at=after(routed),
        answered_at=after(answered),
        ended_at=after(ended),
        outcome=outcome,
        has_voicemail=False,
        has_callback=False,
    )


def test_nothing_to_average_is_null() -> None:
    total = summarise([], threshold=MINUTE).total
    assert total.offered == 0
    assert total.service_level is None
    assert total.average_speed_of_answer_seconds is None
    assert total.average_handle_time_seconds is None


def test_means_round_half_up_to_a_tenth() -> None:
    three = [facts(routed=0, answered=s) for s in (1, 1, 2)]  # 4/3
    assert summarise(three, threshold=MINUTE).total.average_speed_of_answer_seconds == 1.3
    # 12.25 exactly: half up gives 12.3 where Python's round() would give 12.2.
    halves = [facts(routed=0, answered=s) for s in (12.2, 12.3)]
    assert summarise(halves, threshold=MINUTE).total.average_speed_of_answer_seconds == 12.3
    handles = [facts(answered=0, ended=s) for s in (0.1, 0.04)]  # 0.07
    assert summarise(handles, threshold=MINUTE).total.average_handle_time_seconds == 0.1


def test_answers_without_routing_stay_out_of_service_level_and_speed() -> None:
    calls = [
        facts(answered=5, ended=65, outcome="answered"),  # e.g. straight to a number
        facts(routed=10, answered=100, ended=160, outcome="answered"),
    ]
    total = summarise(calls, threshold=MINUTE).total
    assert (total.answered, total.routed, total.answered_within_threshold) == (2, 1, 0)
    assert total.service_level == 0.0
    assert total.average_speed_of_answer_seconds == 90.0
    assert total.average_handle_time_seconds == 60.0


def test_threshold_is_inclusive_and_waits_never_negative() -> None:
    calls = [
        facts(routed=10, answered=70, ended=80),  # exactly 60 s
        facts(routed=10, answered=70.001, ended=80),  # just over
        facts(routed=10, answered=9, ended=80),  # answer stamped before routing: 0 s
    ]
    total = summarise(calls, threshold=MINUTE).total
    assert total.answered_within_threshold == 2
    assert total.service_level == 0.6667
    assert total.average_speed_of_answer_seconds == 40.0  # (60 + 60.001 + 0) / 3


def test_abandoned_needs_an_end_and_splits_on_routing() -> None:
    calls = [
        facts(ended=20, outcome="abandoned"),
        facts(routed=30, ended=40, outcome="abandoned"),
        facts(routed=30, outcome="abandoned"),  # hang-up seen, end not yet: in progress
        facts(routed=30, ended=90, outcome="voicemail"),
    ]
    total = summarise(calls, threshold=MINUTE).total
    assert (total.abandoned, total.abandoned_in_ivr, total.abandoned_in_queue) == (2, 1, 1)
    assert (total.in_progress, total.routed) == (1, 3)


def test_local_hours_across_the_autumn_clock_change() -> None:
    # New York, 2026-11-01: 01:00-02:00 happens twice (EDT, then EST).
    new_york = ZoneInfo("America/New_York")
    starts = [T0 + timedelta(minutes=m) for m in (0, 30, 60, 90, 120)]  # 05:00Z .. 07:00Z
    hours = summarise(
        [facts(s) for s in starts],
        threshold=MINUTE,
        group_by="hour",
        zone=new_york,
    )
    keyed = []
    for group in hours.groups:
        assert isinstance(group.key, datetime)
        keyed.append((group.key.astimezone(new_york).isoformat(), group.figures.offered))
    assert keyed == [
        ("2026-11-01T01:00:00-04:00", 2),
        ("2026-11-01T01:00:00-05:00", 2),
        ("2026-11-01T02:00:00-05:00", 1),
    ]
    days = summarise(
        [facts(s) for s in starts], threshold=MINUTE, group_by="day", zone=ZoneInfo("Asia/Kolkata")
    )
    assert [(str(g.key), g.figures.offered) for g in days.groups] == [("2026-11-01", 5)]


def test_half_hour_zones_cut_hours_at_local_boundaries() -> None:
    # Kolkata is UTC+05:30: 05:00Z and 05:29Z are 10:30 and 10:59 there, 05:30Z is 11:00.
    starts = [T0, T0 + timedelta(minutes=29), T0 + timedelta(minutes=30)]
    hours = summarise(
        [facts(s) for s in starts],
        threshold=MINUTE,
        group_by="hour",
        zone=ZoneInfo("Asia/Kolkata"),
    )
    assert [(g.key, g.figures.offered) for g in hours.groups] == [
        (datetime(2026, 11, 1, 4, 30, tzinfo=UTC), 2),
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), 1),
    ]
