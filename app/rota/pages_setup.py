"""The scheduler's set-up pages: rotations, people, team settings; each previews, then applies.

Each form carries the ETag of what it edits, as the API's If-Match: a stale edit is the
API's 412, and the page then shows the current state with the form as typed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationFailed
from app.rota import queries_view, repository, rotation_service, team_service
from app.rota.page_forms import EditPage, form_values, parse_local
from app.rota.page_writes import Action, Check
from app.rota.schemas import (
    WEEKDAYS,
    CoverageRuleIn,
    RotationIn,
    RotationUpdate,
    SpecialistIn,
    TeamIn,
)
from app.rota.wallclock import local_date
from app.rota.writes import check_if_match, etag
from app.web.deps import CheckedForm, SchedulerUser
from app.web.errors import PageNotFound
from app.web.pages import clock_of, db_of
from app.web.sessions import SignedIn

router = APIRouter(include_in_schema=False)
LIEU_RULES = [("", "no rule (most staffed weekday)"), ("most_staffed", "most staffed weekday")] + [
    (d, f"every {d}") for d in WEEKDAYS[:5]
]


async def _team(request: Request, slug: str) -> dict[str, Any]:
    """The team's settings, members and rotations as the pages show them."""
    now = clock_of(request).now()
    async with db_of(request).transaction() as session:
        team = await repository.team_by_slug(session, slug)
        if team is None:
            raise PageNotFound(f"There is no team {slug!r}.")
        view = await team_service.team_view(session, team)
        people = [
            await team_service.specialist_view(
                session, await team_service.get_specialist(session, i)
            )
            for i in view.members
        ]
        people.sort(key=lambda p: p.name.casefold())
        spec_etags = {
            p.id: etag(
                "specialist", p.id, (await team_service.get_specialist(session, p.id)).version
            )
            for p in people
        }
        rotations = []
        for row in await queries_view.team_rotations(session, team.id):
            rotations.append(
                (
                    await rotation_service.rotation_view(session, row, now),
                    etag("rotation", row.id, row.version),
                )
            )
        return {
            "team": view,
            "team_etag": etag("team", team.slug, team.version),
            "team_name": team.name,
            "tz": team.tz,
            "people": people,
            "spec_etags": spec_etags,
            "members": [(p.id, p.name) for p in people],
            "rotations": rotations,
        }


def _page(
    request: Request,
    me: SignedIn,
    slug: str,
    facts: dict[str, Any],
    template: str,
    extra: dict[str, Any] | None = None,
) -> EditPage:
    async def load() -> dict[str, Any]:
        fresh = await _team(request, slug)
        fresh.update(extra or {})
        return fresh

    return EditPage(
        request=request,
        me=me,
        team_slug=slug,
        team_tz=facts["tz"],
        template=template,
        names=dict(facts["members"]),
        load=load,
        stale_state=load,
    )


def _done(slug: str, message: str) -> str:
    return f"/rota/{slug}?done={quote(message)}"


# Rotations ---------------------------------------------------------------------------------


@router.get("/rota/{slug}/rotations")
async def rotations_page(request: Request, slug: str, me: SchedulerUser) -> Response:
    """The team's rotations with their rules in force."""
    facts = await _team(request, slug)
    page = _page(request, me, slug, facts, "rota/rotations.html")
    return await page.show({})


def _rotation_values(rules: Any, tz: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "members[]": [str(m) for m in rules.members],
        **{f"order_{m}": str(i + 1) for i, m in enumerate(rules.members)},
        "days[]": list(rules.days),
        "start": rules.start,
        "end": rules.end,
        "length_days": str(rules.length_days),
        "every_weeks": str(rules.every_weeks),
        "assignment": rules.assignment,
        "per_occurrence": str(rules.per_occurrence),
        "earns_lieu": "on" if rules.earns_lieu else "",
        "lieu_rule": rules.lieu_rule or "",
        "run_on_holidays": "on" if rules.run_on_holidays else "",
    }


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list) else [str(value)]


def _number(text: Any, default: int) -> Any:
    """A form's number as an int; anything else as typed, for the validation to name."""
    if text in (None, ""):
        return default
    digits = str(text).strip()
    return int(digits) if digits.isascii() and digits.isdigit() else text


def _rules(values: dict[str, Any], tz: str) -> dict[str, Any]:
    members = _as_list(values.get("members[]"))

    def position(m: str) -> tuple[int, str]:
        text = str(values.get(f"order_{m}", "")).strip()
        return (int(text) if text.isdigit() else 999, m)

    data: dict[str, Any] = {
        "members": [int(m) for m in sorted(members, key=position) if m.isdigit()],
        "days": _as_list(values.get("days[]")),
        "start": values.get("start", ""),
        "end": values.get("end", ""),
        "length_days": _number(values.get("length_days"), 1),
        "every_weeks": _number(values.get("every_weeks"), 1),
        "assignment": values.get("assignment") or "all",
        "per_occurrence": _number(values.get("per_occurrence"), 1),
        "earns_lieu": values.get("earns_lieu") == "on",
        "lieu_rule": values.get("lieu_rule") or None,
        "run_on_holidays": values.get("run_on_holidays") == "on",
    }
    if values.get("effective_date"):
        data["effective_from"] = parse_local(
            values["effective_date"], values.get("effective_time") or "00:00", tz, "effective_from"
        )
    return data


@router.get("/rota/{slug}/rotations/new")
async def new_rotation_form(request: Request, slug: str, me: SchedulerUser) -> Response:
    """A form for a new rotation of the team."""
    facts = await _team(request, slug)
    today = local_date(clock_of(request).now(), facts["tz"])
    monday = today - timedelta(days=today.weekday())
    values = {
        "days[]": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "17:00",
        "length_days": "1",
        "every_weeks": "1",
        "assignment": "all",
        "per_occurrence": "1",
        "starts_on": monday.isoformat(),
    }
    page = _page(request, me, slug, facts, "rota/edit_rotation.html", {"rotation": None})
    return await page.show(values)


@router.post("/rota/{slug}/rotations/new")
async def new_rotation_submit(
    request: Request, slug: str, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Preview or create a rotation."""
    facts = await _team(request, slug)
    values = form_values(form)
    page = _page(request, me, slug, facts, "rota/edit_rotation.html", {"rotation": None})
    allow_past = values.get("allow_past") == "on"

    def build() -> tuple[Action, Check | None]:
        body = RotationIn.model_validate(
            {
                **_rules(values, facts["tz"]),
                "team": slug,
                "name": values.get("name", ""),
                "starts_on": values.get("starts_on") or None,
            }
        )

        async def action(session: AsyncSession, write: Any) -> Any:
            return await rotation_service.create_rotation(
                session, body, write, allow_past=allow_past
            )

        return action, None

    name = values.get("name", "")
    return await page.answer(
        values, build, done_url=lambda: _done(slug, f"Rotation {name} created.")
    )


@router.get("/rota/{slug}/rotations/{rotation_id}")
async def rotation_form(
    request: Request, slug: str, rotation_id: int, me: SchedulerUser
) -> Response:
    """The rotation's rules in force, to change from a given instant."""
    facts = await _team(request, slug)
    found = [(r, tag) for r, tag in facts["rotations"] if r.id == rotation_id]
    if not found:
        raise PageNotFound(f"Team {slug} has no rotation {rotation_id}.")
    rotation, tag = found[0]
    rules = rotation.current or (rotation.versions[-1] if rotation.versions else None)
    values = (
        _rotation_values(rules, facts["tz"], rotation.name) if rules else {"name": rotation.name}
    )
    values["etag"] = tag
    page = _page(request, me, slug, facts, "rota/edit_rotation.html", {"rotation": rotation})
    return await page.show(values)


@router.post("/rota/{slug}/rotations/{rotation_id}")
async def rotation_submit(
    request: Request, slug: str, rotation_id: int, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Preview or apply new rules for the rotation (If-Match: the form's ETag)."""
    facts = await _team(request, slug)
    found = [r for r, _ in facts["rotations"] if r.id == rotation_id]
    if not found:
        raise PageNotFound(f"Team {slug} has no rotation {rotation_id}.")
    values = form_values(form)
    page = _page(request, me, slug, facts, "rota/edit_rotation.html", {"rotation": found[0]})
    allow_past = values.get("allow_past") == "on"

    def build() -> tuple[Action, Check | None]:
        body = RotationUpdate.model_validate(
            {**_rules(values, facts["tz"]), "name": values.get("name") or None}
        )

        async def check(session: AsyncSession) -> None:
            rotation = await rotation_service.get_rotation(session, rotation_id)
            check_if_match(
                values.get("etag") or "", etag("rotation", rotation.id, rotation.version)
            )

        async def action(session: AsyncSession, write: Any) -> Any:
            rotation = await rotation_service.get_rotation(session, rotation_id)
            return await rotation_service.change_rotation(
                session, rotation, body, write, allow_past=allow_past
            )

        return action, check

    return await page.answer(
        values, build, done_url=lambda: _done(slug, f"Rotation {found[0].name} changed.")
    )


# People ------------------------------------------------------------------------------------


@router.get("/rota/{slug}/people")
async def people_page(request: Request, slug: str, me: SchedulerUser) -> Response:
    """The team's people, a form to add one, and a way to deactivate or reactivate."""
    facts = await _team(request, slug)
    page = _page(request, me, slug, facts, "rota/people.html")
    team = facts["team"]
    return await page.show({"time_zone": facts["tz"], "languages": " ".join(team.languages)})


def _split(text: Any) -> list[str]:
    return [p for p in str(text or "").replace(",", " ").split() if p]


@router.post("/rota/{slug}/people")
async def add_person(request: Request, slug: str, me: SchedulerUser, form: CheckedForm) -> Response:
    """Preview or add a specialist to the team."""
    facts = await _team(request, slug)
    values = form_values(form)
    page = _page(request, me, slug, facts, "rota/people.html")

    def build() -> tuple[Action, Check | None]:
        body = SpecialistIn.model_validate(
            {
                "name": values.get("name", ""),
                "contact": values.get("contact", ""),
                "time_zone": values.get("time_zone", ""),
                "languages": _split(values.get("languages")),
                "skills": _split(values.get("skills")),
                "teams": [slug],
            }
        )

        async def action(session: AsyncSession, write: Any) -> Any:
            return await team_service.create_specialist(session, body, write)

        return action, None

    name = values.get("name", "")
    return await page.answer(values, build, done_url=lambda: _done(slug, f"{name} added."))


@router.post("/rota/{slug}/people/{specialist_id}/active")
async def set_person_active(
    request: Request, slug: str, specialist_id: int, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Preview or apply deactivating (or reactivating) a specialist (If-Match: the form's ETag)."""
    facts = await _team(request, slug)
    person = next((p for p in facts["people"] if p.id == specialist_id), None)
    if person is None:
        raise PageNotFound(f"Team {slug} has no specialist {specialist_id}.")
    values = form_values(form)
    active = values.get("active") == "true"
    page = _page(request, me, slug, facts, "rota/people.html", {"target": person})

    def build() -> tuple[Action, Check | None]:
        async def check(session: AsyncSession) -> None:
            spec = await team_service.get_specialist(session, specialist_id)
            check_if_match(values.get("etag") or "", etag("specialist", spec.id, spec.version))

        async def action(session: AsyncSession, write: Any) -> Any:
            spec = await team_service.get_specialist(session, specialist_id)
            now = await team_service.specialist_view(session, spec)
            body = SpecialistIn(
                name=now.name,
                contact=now.contact,
                time_zone=now.time_zone,
                languages=now.languages,
                skills=now.skills,
                teams=now.teams,
                active=active,
            )
            return await team_service.replace_specialist(session, spec, body, write)

        return action, check

    state = "reactivated" if active else "deactivated"
    values.setdefault("time_zone", facts["tz"])
    return await page.answer(values, build, done_url=lambda: _done(slug, f"{person.name} {state}."))


# Team settings ---------------------------------------------------------------------------


def rule_line(rule: CoverageRuleIn) -> str:
    """A coverage rule as one line of the settings form: `mon tue 09:00-17:00 2 [ja]`."""
    days = " ".join(rule.days)
    if list(rule.days) == list(WEEKDAYS[:5]):
        days = "mon-fri"
    elif list(rule.days) == ["sat", "sun"]:
        days = "sat-sun"
    elif list(rule.days) == list(WEEKDAYS):
        days = "mon-sun"
    lang = f" {rule.language}" if rule.language else ""
    return f"{days} {rule.start}-{rule.end} {rule.min_staff}{lang}"


def parse_rules(text: str) -> list[dict[str, Any]]:
    """Coverage lines (`mon-fri 09:00-18:00 2`, `sat sun 10:00-14:00 1 ja`) as API rules."""
    rules: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        days: list[str] = []
        rest: list[str] = []
        for part in parts:
            if rest or ("-" in part and ":" in part):
                rest.append(part)
                continue
            for token in part.split(","):
                if "-" in token:
                    first, _, last = token.partition("-")
                    if first in WEEKDAYS and last in WEEKDAYS:
                        a, b = WEEKDAYS.index(first), WEEKDAYS.index(last)
                        days += list(WEEKDAYS[a : b + 1])
                        continue
                days.append(token)
        if len(rest) not in (2, 3) or "-" not in rest[0]:
            raise ValidationFailed(
                f"coverage line {number}: write it as `mon-fri 09:00-18:00 2` (days, hours, "
                "minimum staff, optionally a language)",
                errors=[
                    {"field": f"coverage line {number}", "message": "days hours minimum [language]"}
                ],
            )
        start, _, end = rest[0].partition("-")
        rules.append(
            {
                "days": days,
                "start": start,
                "end": end,
                "min_staff": rest[1],
                "language": rest[2] if len(rest) == 3 else None,
            }
        )
    return rules


def _settings_values(team: Any, tag: str) -> dict[str, Any]:
    return {
        "name": team.name,
        "time_zone": team.time_zone,
        "languages": " ".join(team.languages),
        "holiday_country": team.holidays.country if team.holidays else "",
        "holiday_subdivision": (team.holidays.subdivision or "") if team.holidays else "",
        "coverage": "\n".join(rule_line(r) for r in team.coverage),
        "etag": tag,
    }


@router.get("/rota/{slug}/settings")
async def settings_form(request: Request, slug: str, me: SchedulerUser) -> Response:
    """The team's name, zone, languages, holidays and coverage rules."""
    facts = await _team(request, slug)
    page = _page(request, me, slug, facts, "rota/settings.html")
    return await page.show(_settings_values(facts["team"], facts["team_etag"]))


@router.post("/rota/{slug}/settings")
async def settings_submit(
    request: Request, slug: str, me: SchedulerUser, form: CheckedForm
) -> Response:
    """Preview or apply new team settings (If-Match: the form's ETag)."""
    facts = await _team(request, slug)
    values = form_values(form)
    page = _page(request, me, slug, facts, "rota/settings.html")

    def build() -> tuple[Action, Check | None]:
        country = str(values.get("holiday_country", "")).strip()
        body = TeamIn.model_validate(
            {
                "slug": slug,
                "name": values.get("name", ""),
                "time_zone": values.get("time_zone", ""),
                "languages": _split(values.get("languages")),
                "coverage": parse_rules(str(values.get("coverage", ""))),
                "holidays": {
                    "country": country,
                    "subdivision": str(values.get("holiday_subdivision", "")).strip() or None,
                }
                if country
                else None,
            }
        )

        async def check(session: AsyncSession) -> None:
            team = await team_service.get_team(session, slug)
            check_if_match(values.get("etag") or "", etag("team", team.slug, team.version))

        async def action(session: AsyncSession, write: Any) -> Any:
            team = await team_service.get_team(session, slug)
            return await team_service.replace_team(session, team, body, write)

        return action, check

    return await page.answer(values, build, done_url=lambda: _done(slug, "Team settings saved."))
