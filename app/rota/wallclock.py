"""Wall-clock rota times to UTC instants.

Rules (SPEC 6, "Time rules"):

- a local time that does not exist (spring-forward gap) moves to the first instant after
  the gap: 02:30 on the America/Chicago spring-forward day is 03:00 CDT (08:00Z);
- an ambiguous local time (fall back) takes its first occurrence (``fold=0``).

The resulting mapping from wall-clock to UTC never goes backwards, so a shift whose local
end is after its local start never ends before it starts (it can become empty when both
ends fall in the same gap).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "DATE_SLACK",
    "local_date",
    "local_midnight",
    "local_to_utc",
    "require_aware",
    "utc_day_start",
    "zone",
]

# Any local date lies within this distance of the same UTC date (offsets are at most
# +-14 h, plus one skipped calendar day at most): search windows pad by it.
DATE_SLACK = timedelta(days=2)


@cache
def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone called ``name``."""
    # ZoneInfo's own cache keeps only the 8 zones used last strongly: a rota of more zones
    # read their files again and again (a third of a snapshot's loading time at 50 teams).
    return ZoneInfo(name)


def require_aware(value: datetime, what: str) -> datetime:
    """Return ``value`` in UTC, refusing naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


@lru_cache(maxsize=1 << 16)
def _local_to_utc(day: date, at: time, tz_name: str) -> datetime:
    tz = zone(tz_name)
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        # Exists; for an ambiguous time fold=0 already is the first occurrence.
        return first
    # In a gap fold=0 reads the time with the offset before the transition (a UTC instant
    # after it) and fold=1 with the offset after it (an instant before it): the
    # transition, i.e. the first instant after the gap, lies in between.
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = sorted((first, second))
    after = hi.astimezone(tz).utcoffset()
    lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp())
    # tzdata transitions fall on whole seconds.
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == after:
            hi_s = mid
        else:
            lo_s = mid
    return datetime.fromtimestamp(hi_s, UTC)


def local_to_utc(day: date, at: time, tz_name: str) -> datetime:
    """Return the UTC instant of wall-clock ``at`` on ``day`` in ``tz_name`` (gap/fold rules)."""
    return _local_to_utc(day, at, tz_name)


def local_midnight(day: date, tz_name: str) -> datetime:
    """Return the UTC instant at which local ``day`` begins in ``tz_name``."""
    return _local_to_utc(day, time(0), tz_name)


def local_date(instant: datetime, tz_name: str) -> date:
    """Return the local calendar date of ``instant`` in ``tz_name``."""
    return instant.astimezone(zone(tz_name)).date()


def utc_day_start(day: date) -> datetime:
    """Return midnight UTC of ``day`` (used for generous search windows, not for rules)."""
    return datetime.combine(day, time(0), tzinfo=UTC)
