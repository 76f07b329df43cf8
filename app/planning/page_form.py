"""The planner form: its fields and defaults, and the form as the API's `PlanRequest`."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.core.errors import ValidationFailed
from app.planning.schemas import PlanRequest, PlanSettingsIn, PlanWeightsIn

DAYS = (
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
)
SETTINGS = tuple(n for n in PlanSettingsIn.model_fields if n != "time_limit_seconds")
WEIGHTS = tuple(PlanWeightsIn.model_fields)


def form_defaults(
    last: dict[str, Any] | None,
    start: date,
    members: list[tuple[int, str]],
    time_limit: float,
) -> dict[str, Any]:
    """The form's values: the team's last request's rules and wishes, for the next Monday."""
    request = PlanRequest.model_validate(last) if last else PlanRequest(start=start)
    values: dict[str, Any] = {"start": start.isoformat(), "weeks": str(request.weeks)}
    for name in SETTINGS:
        values[name] = str(getattr(request.settings, name))
    limit = request.settings.time_limit_seconds
    values["time_limit_seconds"] = f"{limit if limit is not None else time_limit:g}"
    for name in WEIGHTS:
        values[f"w_{name}"] = str(getattr(request.weights, name))
    wishes = {w.specialist_id: w for w in request.members}
    for pid, _ in members:
        wish = wishes.get(pid)
        values[f"unavailable_{pid}"] = list(wish.unavailable_days) if wish else []
        values[f"prefers_off_{pid}"] = list(wish.prefers_off) if wish else []
        values[f"weekend_{pid}"] = (wish.prefers_weekend_day or "") if wish else ""
        values[f"avoids_{pid}"] = list(wish.avoids_shifts) if wish else []
    return values


def _values(form: FormData, members: list[tuple[int, str]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in ("start", "weeks", "time_limit_seconds", *SETTINGS):
        values[key] = str(form.get(key) or "").strip()
    for name in WEIGHTS:
        values[f"w_{name}"] = str(form.get(f"w_{name}") or "").strip()
    for pid, _ in members:
        values[f"unavailable_{pid}"] = [str(v) for v in form.getlist(f"unavailable_{pid}")]
        values[f"prefers_off_{pid}"] = [str(v) for v in form.getlist(f"prefers_off_{pid}")]
        values[f"weekend_{pid}"] = str(form.get(f"weekend_{pid}") or "")
        values[f"avoids_{pid}"] = [str(v) for v in form.getlist(f"avoids_{pid}")]
    return values


_LABELS = {
    "start": "First Monday",
    "weeks": "Weeks",
    "weekend_days_per_week": "Weekend days per person per week",
    "max_consecutive_days": "Most days in a row",
    "max_hours_per_week": "Most hours per week",
    "min_rest_hours": "Rest between shifts (hours)",
    "target_days_per_week": "Days a week people usually work",
    "holiday_staff": "People needed on public holidays",
    "shift_hours": "Shift length (hours)",
    "time_limit_seconds": "Solver time limit (seconds)",
    "seed": "Random seed",
}


def _label(loc: tuple[Any, ...], members: dict[int, str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "members" and len(parts) > 1:
        return "People's wishes"
    name = parts[-1] if parts else "form"
    if parts and parts[0] == "weights":
        return f"Weight: {name.replace('_', ' ')}"
    return _LABELS.get(name, name.replace("_", " "))


def parse_form(
    form: FormData, members: list[tuple[int, str]], limit_max: float
) -> tuple[PlanRequest, dict[str, Any]]:
    """The posted form as a planning request; a 422 naming each field in the form's words.

    The values as typed travel with the error (`extra["values"]`) so the form comes back whole.
    """
    values = _values(form, members)
    body: dict[str, Any] = {
        "start": values["start"] or None,
        "weeks": values["weeks"] or 4,
        "settings": {k: values[k] for k in SETTINGS if values[k] != ""},
        "weights": {k: values[f"w_{k}"] for k in WEIGHTS if values[f"w_{k}"] != ""},
        "members": [],
    }
    if values["time_limit_seconds"]:
        body["settings"]["time_limit_seconds"] = values["time_limit_seconds"]
    for pid, _ in members:
        wish = {
            "specialist_id": pid,
            "unavailable_days": values[f"unavailable_{pid}"],
            "prefers_off": values[f"prefers_off_{pid}"],
            "avoids_shifts": values[f"avoids_{pid}"],
            "prefers_weekend_day": values[f"weekend_{pid}"] or None,
        }
        if (
            any(wish[k] for k in ("unavailable_days", "prefers_off", "avoids_shifts"))
            or (wish["prefers_weekend_day"])
        ):
            body["members"].append(wish)
    names = dict(members)
    try:
        data = PlanRequest.model_validate(body)
    except ValidationError as exc:
        errors = [
            {
                "field": _label(tuple(e.get("loc", ())), names),
                "message": str(e.get("msg", "invalid")).removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        raise ValidationFailed(
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
            values=values,
        ) from None
    limit = data.settings.time_limit_seconds
    if limit is not None and limit > limit_max:
        message = f"at most {limit_max:g} s here, so the page answers in time (the API allows more)"
        raise ValidationFailed(
            f"Solver time limit (seconds): {message}",
            errors=[{"field": _LABELS["time_limit_seconds"], "message": message}],
            values=values,
        )
    return data, values
