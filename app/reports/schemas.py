"""API schemas of the call summary report, and its CSV form."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from app.reports.figures import GroupBy, GroupKey, Summary


class FiguresOut(BaseModel):
    """The figures of a set of calls (see docs/calls-and-reports.md)."""

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


FIGURE_FIELDS = tuple(FiguresOut.model_fields)


class _Key(BaseModel):
    group: str | int | None


class _SpecialistKey(BaseModel):
    group: int | None
    name: str | None


# Key fields first: pydantic lists the fields of the last base first.
class GroupOut(FiguresOut, _Key):
    """One group: its key (team, language, topic, local hour or day; null: no value)."""


class SpecialistGroupOut(FiguresOut, _SpecialistKey):
    """One specialist's calls: their id and name (null: answered by nobody known)."""


class SummaryOut(BaseModel):
    """The summary of the calls that started in [start, end)."""

    start: datetime
    end: datetime
    tz: str
    threshold_seconds: int
    group_by: GroupBy | None
    groups: list[SpecialistGroupOut | GroupOut]
    total: FiguresOut


def _key_out(key: GroupKey, zone: ZoneInfo) -> str | int | None:
    if isinstance(key, datetime):  # an hour, keyed by its first instant in UTC
        return key.astimezone(zone).isoformat()
    if isinstance(key, date):
        return key.isoformat()
    return key


def summary_out(
    summary: Summary,
    *,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    threshold_seconds: int,
    group_by: GroupBy | None,
    names: dict[int, str],
) -> SummaryOut:
    """The report as the API shows it."""
    groups: list[SpecialistGroupOut | GroupOut] = []
    for group in summary.groups:
        if group_by == "specialist":
            sid = group.key if isinstance(group.key, int) else None
            name = names.get(sid) if sid is not None else None
            figures = {"group": sid, "name": name, **asdict(group.figures)}
            groups.append(SpecialistGroupOut.model_validate(figures))
        else:
            figures = {"group": _key_out(group.key, zone), **asdict(group.figures)}
            groups.append(GroupOut.model_validate(figures))
    return SummaryOut(
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        tz=zone.key,
        threshold_seconds=threshold_seconds,
        group_by=group_by,
        groups=groups,
        total=FiguresOut.model_validate(asdict(summary.total)),
    )


def _cell(value: object) -> object:
    if value is None:
        return ""
    # A spreadsheet runs a cell that starts like a formula; names and topics are text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def summary_csv(out: SummaryOut) -> str:
    """The report as CSV: a header, one row per group, then a `total` row."""
    key_columns = ["group", "name"] if out.group_by == "specialist" else ["group"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*key_columns, *FIGURE_FIELDS])
    for group in out.groups:
        row = group.model_dump()
        writer.writerow([_cell(row[c]) for c in (*key_columns, *FIGURE_FIELDS)])
    total = out.total.model_dump()
    padding = [""] * (len(key_columns) - 1)
    writer.writerow(["total", *padding, *(_cell(total[c]) for c in FIGURE_FIELDS)])
    return buffer.getvalue()
