"""iCalendar (RFC 5545) feeds of the final schedule, per specialist and per team.

A feed is reached by a secret link (the owner's ``calendar_token``), covers two weeks back
to six months ahead, and lists every final shift (covers, leave and days off applied) as
a UTC event whose UID is the shift's stable key, plus days off in lieu as all-day events.
A wrong token and an unknown feed give the same 404, so a link reveals nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.models.rota import Specialist, Team
from app.rota import repository
from app.rota.calculator import DayOff, Shift, days_off, final_schedule
from app.rota.repository import Snapshot
from app.rota.snapshot_work import calculate_on_snapshot
from app.rota.writes import day_off_id

FEED_PAST = timedelta(weeks=2)
# Six calendar months are at most 184 days (July to December).
FEED_AHEAD = timedelta(days=184)
REFRESH = timedelta(hours=1)
PRODID = "-//Switchboard//Rota calendar feed//EN"
UID_DOMAIN = "switchboard"
# Compared against when the feed does not exist, so both failures take the same path.
_NO_TOKEN = secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Feed:
    """A rendered feed: the iCalendar bytes and how many events it holds."""

    body: bytes
    events: int


def _not_found() -> NotFound:
    return NotFound("no calendar feed at this link (the link may have been replaced)")


def token_matches(presented: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a link's token with the feed's secret (None: no feed)."""
    same = secrets.compare_digest((presented or "").encode(), (expected or _NO_TOKEN).encode())
    return same and expected is not None


def _feed_id(text: str) -> int | None:
    # Ids are database integers: anything else (or out of range) is simply not a feed.
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    """The instants a feed covers: two weeks back to six months ahead."""
    return now - FEED_PAST, now + FEED_AHEAD


def _source_text(shift: Shift, snapshot: Snapshot) -> str:
    src = shift.source
    if src.kind == "extra":
        return "extra shift"
    if src.kind == "cover":
        return f"covering for {snapshot.specialist_names.get(shift.original_member, '?')}"
    if src.rotation_id is None:
        return "rotation"
    return snapshot.rotation_names.get(src.rotation_id, "rotation")


def _description(shift: Shift, snapshot: Snapshot) -> str:
    src = shift.source
    rotation = snapshot.rotation_names.get(src.rotation_id) if src.rotation_id else None
    if src.kind == "extra":
        first = "Extra shift"
    elif src.kind == "cover":
        covered = snapshot.specialist_names.get(shift.original_member, "?")
        first = f"Covering for {covered} (rotation {rotation or '?'})"
    else:
        first = f"Rotation: {rotation or '?'}"
    return f"{first}\nTeam: {shift.team}"


def shift_event(shift: Shift, snapshot: Snapshot, stamp: datetime, *, team_feed: bool) -> Event:
    """One final shift as a VEVENT (UTC times, UID from the shift's stable key)."""
    if team_feed:
        name = snapshot.specialist_names.get(shift.specialist_id, "?")
        summary = f"{name} — {shift.team}"
    else:
        summary = f"On shift: {shift.team} ({_source_text(shift, snapshot)})"
    event = Event()
    event.add("uid", f"{shift.key}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", shift.start)
    event.add("dtend", shift.end)
    event.add("summary", summary)
    event.add("description", _description(shift, snapshot))
    return event


def day_off_event(
    day_off: DayOff, ident: str, snapshot: Snapshot, stamp: datetime, *, team_feed: bool
) -> Event:
    """A day off in lieu as an all-day, transparent VEVENT."""
    summary = "Day off in lieu"
    if team_feed:
        summary += f" — {snapshot.specialist_names.get(day_off.specialist_id, '?')}"
    event = Event()
    event.add("uid", f"dayoff-{ident}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", day_off.day)
    event.add("dtend", day_off.day + timedelta(days=1))
    event.add("summary", summary)
    how = "added by a scheduler" if day_off.source == "manual" else "earned by a shift worked"
    event.add("description", f"Day off in lieu, {how}. No shifts this day.")
    event.add("transp", "TRANSPARENT")
    return event


def render_feed(
    *,
    name: str,
    tz: str,
    shifts: Iterable[Shift],
    offs: Iterable[DayOff],
    snapshot: Snapshot,
    stamp: datetime,
    team_feed: bool,
) -> Feed:
    """The iCalendar document of a feed."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    count = 0
    for shift in shifts:
        cal.add_component(shift_event(shift, snapshot, stamp, team_feed=team_feed))
        count += 1
    manual_ids: dict[tuple[int, date], int] = {
        (m.specialist_id, m.day): m.id for m in snapshot.rota.manual_days_off
    }
    for off in offs:
        ident = day_off_id(off, manual_ids)
        cal.add_component(day_off_event(off, ident, snapshot, stamp, team_feed=team_feed))
        count += 1
    return Feed(body=cal.to_ical(), events=count)


def _specialist_document(
    snapshot: Snapshot, spec_id: int, name: str, tz: str, now: datetime
) -> Feed:
    start, end = feed_window(now)
    return render_feed(
        name=f"Switchboard rota: {name}",
        tz=tz,
        shifts=final_schedule(snapshot.rota, start, end, specialist=spec_id),
        offs=days_off(snapshot.rota, start, end, specialist=spec_id),
        snapshot=snapshot,
        stamp=now,
        team_feed=False,
    )


def _team_document(
    snapshot: Snapshot, slug: str, name: str, tz: str, members: set[int], now: datetime
) -> Feed:
    start, end = feed_window(now)
    shifts = final_schedule(snapshot.rota, start, end, team=slug)
    members = members | {s.specialist_id for s in shifts}
    return render_feed(
        name=f"Switchboard rota: {name}",
        tz=tz,
        shifts=shifts,
        offs=[d for d in days_off(snapshot.rota, start, end) if d.specialist_id in members],
        snapshot=snapshot,
        stamp=now,
        team_feed=True,
    )


async def specialist_feed(
    session: AsyncSession, specialist_id: str, token: str | None, now: datetime
) -> Feed:
    """A specialist's feed: their shifts in every team and their days off; 404 if not theirs."""
    ident = _feed_id(specialist_id)
    spec = await session.get(Specialist, ident) if ident is not None else None
    if not token_matches(token, spec.calendar_token if spec else None) or spec is None:
        raise _not_found()
    # Months of shifts take a noticeable fraction of a second of pure Python: keep the
    # event loop (and the calls it routes) responsive meanwhile; the worker reads the rules.
    start, end = feed_window(now)
    return await calculate_on_snapshot(
        session, start, end, _specialist_document, spec.id, spec.name, spec.tz, now
    )


async def team_feed(session: AsyncSession, slug: str, token: str | None, now: datetime) -> Feed:
    """A team's feed: everyone's shifts for the team and its people's days off; 404 if wrong."""
    team: Team | None = await repository.team_by_slug(session, slug)
    if not token_matches(token, team.calendar_token if team else None) or team is None:
        raise _not_found()
    members = set((await repository.team_members(session, [team.id])).get(team.id, []))
    start, end = feed_window(now)
    return await calculate_on_snapshot(
        session, start, end, _team_document, team.slug, team.name, team.tz, members, now
    )
