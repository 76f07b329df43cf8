"""Coverage gaps: only inside coverage rules, understaffing, languages, holidays, DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest

from app.rota.calculator import coverage_gaps
from app.rota.coverage import Gap

from .helpers import cover, people, rota, rule, team, utc, version

A, B, C = 1, 2, 3
MON = (utc(2024, 3, 4), utc(2024, 3, 5))


def test_no_gap_outside_coverage_rules() -> None:
    # Nobody works at all, but coverage is only required 09-17 on weekdays.
    r = rota([], teams=[team(coverage=(rule(range(5), time(9), time(17), 1),))])
    assert coverage_gaps(r, "t", utc(2024, 3, 9), utc(2024, 3, 11)) == []  # weekend
    assert coverage_gaps(r, "t", utc(2024, 3, 4, 17), utc(2024, 3, 5, 9)) == []  # night


def test_gap_when_understaffed() -> None:
    coverage = (rule(range(5), time(9), time(17), 2),)
    early = version(rotation_id=1, members=(A,), start=time(8), end=time(13))
    late = version(rotation_id=2, members=(B,), start=time(12), end=time(18))
    r = rota([early, late], teams=[team(coverage=coverage)])
    assert coverage_gaps(r, "t", *MON) == [
        Gap(utc(2024, 3, 4, 9), utc(2024, 3, 4, 12), 0, 1, 2, None),
        Gap(utc(2024, 3, 4, 13), utc(2024, 3, 4, 17), 0, 1, 2, None),
    ]


def test_fully_staffed_has_no_gap_and_range_clips() -> None:
    coverage = (rule(range(5), time(9), time(17), 1),)
    r = rota([version(members=(A,), start=time(9), end=time(12))], teams=[team(coverage=coverage)])
    assert coverage_gaps(r, "t", *MON) == [
        Gap(utc(2024, 3, 4, 12), utc(2024, 3, 4, 17), 0, 0, 1, None)
    ]
    assert coverage_gaps(r, "t", utc(2024, 3, 4, 13), utc(2024, 3, 4, 14)) == [
        Gap(utc(2024, 3, 4, 13), utc(2024, 3, 4, 14), 0, 0, 1, None)
    ]


def test_language_rule_counts_speakers_only() -> None:
    coverage = (rule(range(5), time(9), time(17), 1), rule(range(5), time(9), time(17), 1, "ja"))
    staff = people(A, languages=frozenset({"en"})) | people(B, languages=frozenset({"en", "ja"}))
    shift = version(members=(A,))
    r = rota([shift], teams=[team(coverage=coverage)], specialists=staff)
    assert coverage_gaps(r, "t", *MON) == [
        Gap(utc(2024, 3, 4, 9), utc(2024, 3, 4, 17), 1, 0, 1, "ja")
    ]
    covered = replace(r, overrides=(cover(1, A, B, utc(2024, 3, 4, 12), utc(2024, 3, 4, 17)),))
    assert coverage_gaps(covered, "t", *MON) == [
        Gap(utc(2024, 3, 4, 9), utc(2024, 3, 4, 12), 1, 0, 1, "ja")
    ]


def test_same_person_twice_counts_once() -> None:
    coverage = (rule(range(5), time(9), time(17), 2),)
    twice = [version(rotation_id=1, members=(A,)), version(rotation_id=2, members=(A,))]
    r = rota(twice, teams=[team(coverage=coverage)])
    assert coverage_gaps(r, "t", *MON) == [
        Gap(utc(2024, 3, 4, 9), utc(2024, 3, 4, 17), 0, 1, 2, None)
    ]


def test_no_coverage_required_on_holidays() -> None:
    coverage = (rule(range(5), time(9), time(17), 1),)
    r = rota([], teams=[team(coverage=coverage, holidays=frozenset({date(2024, 3, 4)}))])
    assert coverage_gaps(r, "t", *MON) == []


def test_overnight_24h_windows_merge_across_midnight() -> None:
    coverage = (rule(range(7), time(0), time(0), 1),)
    r = rota([], teams=[team(coverage=coverage)])
    assert coverage_gaps(r, "t", utc(2024, 3, 4), utc(2024, 3, 7)) == [
        Gap(utc(2024, 3, 4), utc(2024, 3, 7), 0, 0, 1, None)
    ]


def test_coverage_follows_local_wall_clock_across_dst() -> None:
    coverage = (rule({6}, time(1), time(4), 1),)
    r = rota([], teams=[team(tz="America/Chicago", coverage=coverage)])
    # Spring forward: 01:00 CST (07:00Z) to 04:00 CDT (09:00Z), two real hours.
    assert coverage_gaps(r, "t", utc(2024, 3, 10), utc(2024, 3, 11)) == [
        Gap(utc(2024, 3, 10, 7), utc(2024, 3, 10, 9), 0, 0, 1, None)
    ]


def test_unknown_team() -> None:
    with pytest.raises(ValueError, match="unknown team"):
        coverage_gaps(rota([]), "nope", *MON)
