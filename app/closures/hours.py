"""Is the line open now, and if not, when does it open again? (the `hours` flow step)

A team is open inside its coverage rules' hours (a team without rules: while someone is on
shift), except on its public holidays and during closures. The line is open when any team
a call could reach is open; closed, it opens again at the earliest opening of those teams.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from app.closures import repository
from app.closures.repository import ClosureBrief
from app.rota.coverage import rule_windows
from app.rota.lookup import on_shift
from app.rota.repository import TeamBrief, coverage_rules, team_holidays
from app.rota.wallclock import local_date, zone

# How far ahead to look for the next opening (a long holiday season still fits).
LOOK_AHEAD = timedelta(days=21)


@dataclass(frozen=True)
class TeamHours:
    """One team's answer."""

    team: str
    open: bool
    tz: str | None = None
    holiday: bool = False
    opens_at: datetime | None = None  # aware, in the team's time zone
    messages: Mapping[str, str] = field(default_factory=dict)
    closure_id: int | None = None


@dataclass(frozen=True)
class LineHours:
    """The answer for a call: open, or closed with when it opens and why."""

    open: bool
    teams: tuple[TeamHours, ...]
    holiday: bool = False
    opens_at: datetime | None = None
    messages: Mapping[str, str] = field(default_factory=dict)


def _merge(windows: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(
    windows: Sequence[tuple[datetime, datetime]], closures: Sequence[ClosureBrief]
) -> list[tuple[datetime, datetime]]:
    out = _merge(windows)
    for closure in closures:
        cut: list[tuple[datetime, datetime]] = []
        for start, end in out:
            if closure.ends_at <= start or closure.starts_at >= end:
                cut.append((start, end))
                continue
            if start < closure.starts_at:
                cut.append((start, closure.starts_at))
            if closure.ends_at < end:
                cut.append((closure.ends_at, end))
        out = cut
    return out


def _closure_now(closures: Sequence[ClosureBrief], now: datetime) -> ClosureBrief | None:
    running = [c for c in closures if c.starts_at <= now < c.ends_at]
    return max(running, key=lambda c: (c.starts_at, c.id)) if running else None


Windows = tuple[tuple[datetime, datetime], ...]


@lru_cache(maxsize=256)
def _coverage_around(
    tz: str, coverage: str, country: str | None, subdivision: str | None, day: date
) -> tuple[Windows, frozenset[date]]:
    """A team's coverage windows (merged, in UTC) from the day before the UTC date `day`
    until LOOK_AHEAD after the day after it, and its holidays in the years around them.

    Every call in those days reads its hours from them: the windows of one instant (from it
    to LOOK_AHEAD later) are these, clipped, as `rule_windows` would give them for that
    instant (windows belong to local days, so reading more days first and clipping later
    changes nothing). Computed once per team configuration and day, not on every call: the
    key is the configuration itself, so an edited team is read afresh at once.
    """
    start = datetime.combine(day, time(), UTC) - timedelta(days=1)
    end = start + LOOK_AHEAD + timedelta(days=3)
    brief = TeamBrief("", tz, json.loads(coverage), country, subdivision)
    holidays = team_holidays(brief, range(start.year - 1, end.year + 2))
    windows = [
        w for rule in coverage_rules(brief) for w in rule_windows(rule, tz, holidays, start, end)
    ]
    return tuple(_merge(windows)), holidays


def coverage_at(team: TeamBrief, now: datetime) -> tuple[Windows, frozenset[date]]:
    """The team's coverage windows from `now` until LOOK_AHEAD later (merged, in UTC), as
    its rules' `rule_windows` give them, and its holidays around them."""
    coverage = json.dumps(team.coverage, sort_keys=True)
    key = (team.tz, coverage, team.holiday_country, team.holiday_subdivision)
    covered, holidays = _coverage_around(*key, now.astimezone(UTC).date())
    end = now + LOOK_AHEAD
    return tuple((max(a, now), min(b, end)) for a, b in covered if a < end and b > now), holidays


async def team_hours(session: AsyncSession, slug: str, now: datetime) -> TeamHours:
    """Whether one team is open at `now`, and when it opens next if not."""
    return (await line_hours(session, [slug], now)).teams[0]


async def _team_hours(
    session: AsyncSession,
    slug: str,
    team: TeamBrief | None,
    closures: Sequence[ClosureBrief],
    now: datetime,
) -> TeamHours:
    """One team's answer from its row and the closures that concern it (by start)."""
    if team is None:
        return TeamHours(slug, open=False)
    closure = _closure_now(closures, now)
    messages = dict(closure.messages) if closure else {}
    closure_id = closure.id if closure else None
    windows, holidays = coverage_at(team, now)
    holiday = local_date(now, team.tz) in holidays
    if not team.coverage:
        staffed = bool(await on_shift(session, now, team=slug))
        reopens = closure.ends_at.astimezone(zone(team.tz)) if closure else None
        return TeamHours(
            slug, staffed and closure is None, team.tz, holiday, reopens, messages, closure_id
        )
    open_windows = _subtract(windows, closures)
    is_open = any(start <= now < stop for start, stop in open_windows)
    upcoming = [start for start, _ in open_windows if start > now]
    opens_at = min(upcoming).astimezone(zone(team.tz)) if upcoming and not is_open else None
    return TeamHours(slug, is_open, team.tz, holiday, opens_at, messages, closure_id)


async def line_hours(
    session: AsyncSession,
    teams: Sequence[str],
    now: datetime,
    *,
    ahead: repository.HoursAhead | None = None,
) -> LineHours:
    """Open when any of the teams is open; otherwise the earliest reopening, said in the
    first team's time zone, the first team's holiday and the first closure message.

    `ahead`: the teams and closures read with the call, used when read for these teams at
    `now` (and told which teams were asked, for the next webhook to read ahead)."""
    slugs = list(dict.fromkeys(teams))
    end = now + LOOK_AHEAD
    read = None
    if ahead is not None:
        ahead.asked = tuple(slugs)
        read = ahead.briefs_for(ahead.asked, now, end)
    # One statement for the whole line, however many teams it overflows to.
    rows, closures = read or await repository.hours_briefs(session, slugs, now, end)
    found = tuple(
        [
            await _team_hours(
                session,
                slug,
                rows.get(slug),
                [c for c in closures if c.team is None or c.team == slug],
                now,
            )
            for slug in slugs
        ]
    )
    if any(t.open for t in found):
        return LineHours(True, found)
    first_tz = next((t.tz for t in found if t.tz), None)
    openings = [t.opens_at for t in found if t.opens_at is not None]
    opens_at = min(openings) if openings else None
    if opens_at is not None and first_tz is not None:
        opens_at = opens_at.astimezone(zone(first_tz))
    known = [t for t in found if t.tz is not None]
    holiday = bool(known) and known[0].holiday
    messages = next((t.messages for t in found if t.messages), {})
    return LineHours(False, found, holiday, opens_at, messages)
