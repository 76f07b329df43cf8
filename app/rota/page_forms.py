"""What the rota's edit pages share: reading form input, running preview or apply, wording.

A page posts `action=preview` (the API's dry run, rolled back) or `action=apply` (the write).
Either way the typed input comes back in `values` so that nothing the scheduler typed is
lost: on a validation error (422) and on a stale edit (412), which also shows the team's
current state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from app.core.errors import AppError, PreconditionFailed, ValidationFailed
from app.rota.calculator import Gap
from app.rota.page_writes import Action, Check, Preview, apply_edit, preview_edit
from app.rota.schemas import DayOffOut, ShiftOut
from app.rota.wallclock import local_to_utc
from app.web.deps import acting_as
from app.web.pages import clock_of, db_of
from app.web.sessions import SignedIn
from app.web.templating import render


def form_values(form: FormData) -> dict[str, Any]:
    """The typed input, as strings (lists for repeated fields), without the CSRF token."""
    values: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        items = [str(v) for v in form.getlist(key)]
        values[key] = items if len(items) > 1 or key.endswith("[]") else items[0]
    return values


def validation_failed(exc: ValidationError, prefix: str = "") -> ValidationFailed:
    """A pydantic error as the API's 422 (field and message per problem)."""
    errors = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        errors.append({"field": f"{prefix}{loc}" or "form", "message": msg})
    return ValidationFailed(
        "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors),
        errors=errors,
    )


def parse_local(day_text: str, time_text: str, tz: str, field_name: str) -> datetime:
    """A local date and time in `tz` as a UTC instant (DST: gaps move on, folds take the first)."""
    try:
        day = date.fromisoformat(day_text)
        hours, minutes = (int(p) for p in time_text.split(":")[:2])
        at = time(hours, minutes)
    except ValueError:
        raise ValidationFailed(
            f"{field_name}: give a date (YYYY-MM-DD) and a time (HH:MM)",
            errors=[{"field": field_name, "message": "date and time needed"}],
        ) from None
    return local_to_utc(day, at, tz)


def local_parts(instant: datetime | None, tz: str) -> tuple[str, str]:
    """An instant as local date and time strings for a form."""
    if instant is None:
        return "", ""
    local = instant.astimezone(ZoneInfo(tz))
    return local.date().isoformat(), local.strftime("%H:%M")


def parse_instant(text: str | None) -> datetime | None:
    """An ISO instant from a query string, or None."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else None


@dataclass(frozen=True)
class Words:
    """A preview in a scheduler's words."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    days_added: list[str] = field(default_factory=list)
    days_removed: list[str] = field(default_factory=list)
    gaps_opened: list[str] = field(default_factory=list)
    gaps_closed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when the edit changes nothing in the next four weeks."""
        return not (self.added or self.removed or self.days_added or self.days_removed)


def when(start: datetime, end: datetime, tz: str) -> str:
    zone = ZoneInfo(tz)
    a, b = start.astimezone(zone), end.astimezone(zone)
    tail = b.strftime("%H:%M") if b.date() == a.date() else b.strftime("%a %-d %b %H:%M")
    return f"{a.strftime('%a %-d %b %H:%M')}–{tail}"


def _shift(s: ShiftOut, tz: str, names: dict[int, str]) -> str:
    why = s.source.rotation_name or s.source.kind
    if s.source.covering_for is not None:
        why = f"covering {names.get(s.source.covering_for, '?')}"
    elif s.source.kind == "extra":
        why = "extra shift"
    return f"{s.specialist_name}: {when(s.start, s.end, tz)} ({why}, {s.team})"


def _day(d: DayOffOut, names: dict[int, str]) -> str:
    what = "day off in lieu" if d.source == "lieu" else "day off (by hand)"
    return f"{names.get(d.specialist_id, '?')}: {what} on {d.day.strftime('%a %-d %b')}"


def _gap(g: Gap, tz: str) -> str:
    who = f"{g.staffed} of {g.min_staff} on shift"
    if g.language:
        who += f", {g.language} speakers"
    return f"{when(g.start, g.end, tz)} ({who})"


def in_words(preview: Preview, tz: str, names: dict[int, str]) -> Words:
    """Describe a preview with local times of the team's zone."""
    change = preview.change
    return Words(
        added=[_shift(s, tz, names) for s in change.added],
        removed=[_shift(s, tz, names) for s in change.removed],
        days_added=[_day(d, names) for d in change.days_off_added],
        days_removed=[_day(d, names) for d in change.days_off_removed],
        gaps_opened=[_gap(g, tz) for g in preview.gaps_opened],
        gaps_closed=[_gap(g, tz) for g in preview.gaps_closed],
    )


Context = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class EditPage:
    """One edit page: its template, how to build its context, and where to go when applied."""

    request: Request
    me: SignedIn
    team_slug: str
    team_tz: str
    template: str
    names: dict[int, str]
    load: Context
    stale_state: Context | None = None
    summary: Callable[[], str] | None = None

    async def answer(
        self,
        values: dict[str, Any],
        build: Callable[[], tuple[Action, Check | None]],
        *,
        done_url: Callable[[], str],
    ) -> Response:
        """Preview or apply the edit the form describes; errors keep the form as typed."""
        now = clock_of(self.request).now()
        db = db_of(self.request)
        principal = acting_as(self.me)
        try:
            try:
                action, check = build()
            except ValidationError as exc:
                raise validation_failed(exc) from None
            if values.get("action") == "apply":
                await apply_edit(db, principal, now, action, check)
                return RedirectResponse(done_url(), status_code=303)
            preview = await preview_edit(db, principal, now, self.team_slug, action, check)
        except PreconditionFailed as exc:
            extra = await self.stale_state() if self.stale_state else {}
            return await self.show(values, stale=exc, status_code=412, **extra)
        except AppError as exc:
            return await self.show(values, error=exc, status_code=exc.status)
        words = in_words(preview, self.team_tz, self.names)
        summary = self.summary() if self.summary else None
        return await self.show(values, preview=words, summary=summary)

    async def show(
        self,
        values: dict[str, Any],
        *,
        error: AppError | None = None,
        stale: AppError | None = None,
        preview: Words | None = None,
        status_code: int = 200,
        **extra: Any,
    ) -> Response:
        """Render the edit page with the form's values and the current state of the team."""
        context = await self.load()
        context.update(summary=None, current=None)
        context.update(
            values=values,
            error=error,
            stale=stale,
            preview=preview,
            slug=self.team_slug,
            team_tz=self.team_tz,
            **extra,
        )
        return render(self.request, self.template, context, status_code=status_code)


def week_of(instant: datetime | None, tz: str) -> str:
    """The Monday (YYYY-MM-DD) of the local week of an instant, for a calendar link."""
    if instant is None:
        return ""
    day = instant.astimezone(ZoneInfo(tz)).date()
    return (day - timedelta(days=day.weekday())).isoformat()
