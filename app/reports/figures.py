"""The figures of the call summary, folded call by call: pure, no database, no web.

Every figure is defined here once (and in docs/calls-and-reports.md):

- offered: every call counted (it started in the range).
- answered: calls with an answer time.
- abandoned_in_ivr / abandoned_in_queue: ended calls with outcome `abandoned`, split by
  whether they had reached routing (`routed_at`); `abandoned` is their sum.
- in_progress: calls that have not ended (an abandoned call has ended by definition).
- routed: calls that reached routing (rung specialists or queued).
- answered_within_threshold: routed calls answered at most `threshold` after routed_at.
- service_level: answered_within_threshold / routed (None when nothing was routed).
- average_speed_of_answer_seconds: mean of answered_at - routed_at over answered routed calls.
- average_handle_time_seconds: mean of ended_at - answered_at over answered, ended calls.
- voicemails / callbacks: calls with a recording / a callback number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Literal
from zoneinfo import ZoneInfo

GroupBy = Literal["team", "language", "topic", "tier", "specialist", "disposition", "hour", "day"]
GroupKey = str | int | date | datetime | None
_MICROSECOND = timedelta(microseconds=1)
_ZERO = timedelta(0)
_US_PER_SECOND = 1_000_000


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the summary needs to know about one call."""

    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    routed_at: datetime | None
    outcome: str | None
    has_voicemail: bool
    has_callback: bool
    team: str | None = None
    language: str | None = None
    topic: str | None = None
    specialist_id: int | None = None
    disposition: str | None = None
    tier: str | None = None  # the account's tier; None: not identified (or erased)


@dataclass(frozen=True, slots=True)
class Figures:
    """The summary figures of a set of calls."""

    offered: int
    answered: int
    abandoned: int
    abandoned_in_ivr: int
    abandoned_in_queue: int
    in_progress: int
    routed: int
    answered_within_threshold: int
    service_level: float | None
    average_speed_of_answer_seconds: float | None
    average_handle_time_seconds: float | None
    voicemails: int
    callbacks: int


def _round_half_up(value: Fraction, places: int) -> float:
    # Exact, so 12.25 s is 12.3 as a person computing by hand would write it (not 12.2).
    scale: int = 10**places
    return math.floor(value * scale + Fraction(1, 2)) / scale


def _mean_seconds(total_us: int, count: int) -> float | None:
    if count == 0:
        return None
    return _round_half_up(Fraction(total_us, count * _US_PER_SECOND), 1)


@dataclass(slots=True)
class Tally:
    """Running counts and sums of a group of calls; `figures()` turns them into the report."""

    threshold: timedelta
    offered: int = 0
    answered: int = 0
    abandoned_in_ivr: int = 0
    abandoned_in_queue: int = 0
    in_progress: int = 0
    routed: int = 0
    answered_within_threshold: int = 0
    voicemails: int = 0
    callbacks: int = 0
    # Sums in whole microseconds: exact, whatever the number of calls.
    waits: int = 0
    wait_us: int = 0
    handled: int = 0
    handle_us: int = 0

    def add(self, call: CallFacts) -> None:
        """Count one call."""
        self.offered += 1
        self.voicemails += call.has_voicemail
        self.callbacks += call.has_callback
        if call.ended_at is None:
            self.in_progress += 1
        elif call.outcome == "abandoned":
            if call.routed_at is None:
                self.abandoned_in_ivr += 1
            else:
                self.abandoned_in_queue += 1
        if call.routed_at is not None:
            self.routed += 1
        if call.answered_at is None:
            return
        self.answered += 1
        if call.routed_at is not None:
            # A clock step cannot make a wait negative.
            wait = max(call.answered_at - call.routed_at, _ZERO)
            self.waits += 1
            self.wait_us += wait // _MICROSECOND
            self.answered_within_threshold += wait <= self.threshold
        if call.ended_at is not None:
            self.handled += 1
            self.handle_us += max(call.ended_at - call.answered_at, _ZERO) // _MICROSECOND

    def absorb(self, other: Tally) -> None:
        """Count the calls of another tally too (every counter is a plain sum)."""
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> Figures:
        """The report figures of the calls counted so far."""
        level = (
            _round_half_up(Fraction(self.answered_within_threshold, self.routed), 4)
            if self.routed
            else None
        )
        return Figures(
            offered=self.offered,
            answered=self.answered,
            abandoned=self.abandoned_in_ivr + self.abandoned_in_queue,
            abandoned_in_ivr=self.abandoned_in_ivr,
            abandoned_in_queue=self.abandoned_in_queue,
            in_progress=self.in_progress,
            routed=self.routed,
            answered_within_threshold=self.answered_within_threshold,
            service_level=level,
            average_speed_of_answer_seconds=_mean_seconds(self.wait_us, self.waits),
            average_handle_time_seconds=_mean_seconds(self.handle_us, self.handled),
            voicemails=self.voicemails,
            callbacks=self.callbacks,
        )


_COUNTERS = tuple(f.name for f in fields(Tally) if f.name != "threshold")


def group_key(call: CallFacts, group_by: GroupBy, zone: ZoneInfo) -> GroupKey:
    """The group a call falls in: a value of the call, or its local hour or day in `zone`.

    An hour is keyed by its first instant in UTC, so the two 01:00 hours of a night when
    the clocks go back stay apart.
    """
    if group_by == "team":
        return call.team
    if group_by == "language":
        return call.language
    if group_by == "topic":
        return call.topic
    if group_by == "tier":
        return call.tier
    if group_by == "specialist":
        return call.specialist_id
    if group_by == "disposition":
        return call.disposition
    local = call.started_at.astimezone(zone)
    if group_by == "day":
        return local.date()
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def _order(key: GroupKey) -> tuple[bool, str | int | date | datetime]:
    # Keys of one grouping share a type; calls without a value come last.
    return (True, 0) if key is None else (False, key)


@dataclass(frozen=True, slots=True)
class Group:
    """One group's key and figures."""

    key: GroupKey
    figures: Figures


@dataclass(frozen=True, slots=True)
class Summary:
    """Figures per group (none when not grouped) and for all calls together."""

    groups: list[Group]
    total: Figures


@dataclass(slots=True)
class SummaryTally:
    """Tallies per group, fed one call at a time; the total is their sum."""

    threshold: timedelta
    group_by: GroupBy | None
    zone: ZoneInfo
    groups: dict[GroupKey, Tally] = field(default_factory=dict)

    def add(self, call: CallFacts) -> None:
        """Count one call in its group (the only one when not grouped)."""
        key = None if self.group_by is None else group_key(call, self.group_by, self.zone)
        tally = self.groups.get(key)
        if tally is None:
            tally = self.groups[key] = Tally(self.threshold)
        tally.add(call)

    def summary(self) -> Summary:
        """Groups in key order (no value last), then the total."""
        total = Tally(self.threshold)
        for tally in self.groups.values():
            total.absorb(tally)
        keys = sorted(self.groups, key=_order) if self.group_by is not None else []
        return Summary(
            groups=[Group(k, self.groups[k].figures()) for k in keys],
            total=total.figures(),
        )


def summarise(
    calls: Iterable[CallFacts],
    *,
    threshold: timedelta,
    group_by: GroupBy | None = None,
    zone: ZoneInfo | None = None,
) -> Summary:
    """The summary of some calls (the service streams rows through a SummaryTally instead)."""
    tally = SummaryTally(threshold, group_by, zone or ZoneInfo("UTC"))
    for call in calls:
        tally.add(call)
    return tally.summary()
