"""The demo rota of `switchboard seed`: five language teams, their people and rotations.

Written through the rota services (validation, audit entries by "seed", materialised
shifts refreshed) and idempotent: teams are keyed by slug, specialists by name and
rotations by team and name; whatever already exists is left as it is. Rotations start on
the Monday four weeks before now, so the demo has history (weekends worked, days off in
lieu taken) as well as a future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import Principal
from app.core.clock import Clock
from app.models.rota import Rotation, Specialist, Team
from app.rota import repository, rotation_service, team_service
from app.rota.schemas import LieuRuleName, RotationIn, SpecialistIn, TeamIn, Weekday
from app.rota.wallclock import local_date, local_midnight
from app.rota.writes import RotaWrite

SEED_PRINCIPAL = Principal(key_id=0, name="seed", role="admin", specialist_id=None)
HISTORY = timedelta(weeks=4)
MON_FRI: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
SAT_SUN: tuple[Weekday, ...] = ("sat", "sun")


def _rule(
    days: tuple[Weekday, ...], start: str, end: str, min_staff: int, language: str | None = None
) -> dict[str, Any]:
    return {
        "days": list(days),
        "start": start,
        "end": end,
        "min_staff": min_staff,
        "language": language,
    }


@dataclass(frozen=True)
class DemoTeam:
    """A demo team."""

    slug: str
    name: str
    tz: str
    languages: tuple[str, ...]
    holidays: tuple[str, str | None]
    coverage: tuple[dict[str, Any], ...]

    def payload(self) -> TeamIn:
        """The team as the API would receive it."""
        country, subdivision = self.holidays
        return TeamIn.model_validate(
            {
                "slug": self.slug,
                "name": self.name,
                "time_zone": self.tz,
                "languages": list(self.languages),
                "coverage": list(self.coverage),
                "holidays": {"country": country, "subdivision": subdivision},
            }
        )


@dataclass(frozen=True)
class DemoSpecialist:
    """A demo specialist."""

    name: str
    contact: str
    tz: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    teams: tuple[str, ...]

    def payload(self) -> SpecialistIn:
        """The specialist as the API would receive them."""
        return SpecialistIn(
            name=self.name,
            contact=self.contact,
            time_zone=self.tz,
            languages=list(self.languages),
            skills=list(self.skills),
            teams=list(self.teams),
        )


@dataclass(frozen=True)
class DemoRotation:
    """A demo rotation; members by name, in turn order."""

    team: str
    name: str
    members: tuple[str, ...]
    days: tuple[Weekday, ...]
    start: str
    end: str
    assignment: Literal["all", "turns"] = "all"
    earns_lieu: bool = False
    lieu_rule: LieuRuleName | None = None
    per_occurrence: int = 1

    def payload(self, member_ids: list[int], monday: date, tz: str) -> RotationIn:
        """The rotation as the API would receive it, counted from `monday`."""
        return RotationIn(
            team=self.team,
            name=self.name,
            members=member_ids,
            days=list(self.days),
            start=self.start,
            end=self.end,
            assignment=self.assignment,
            per_occurrence=self.per_occurrence,
            earns_lieu=self.earns_lieu,
            lieu_rule=self.lieu_rule,
            starts_on=monday,
            effective_from=local_midnight(monday, tz),
        )


DEMO_TEAMS = (
    DemoTeam(
        "support-en",
        "English support",
        "America/Los_Angeles",
        ("en",),
        ("US", "CA"),
        (_rule(MON_FRI, "08:00", "17:00", 2), _rule(SAT_SUN, "09:00", "17:00", 1)),
    ),
    DemoTeam(
        "support-ja",
        "Japanese support",
        "Asia/Tokyo",
        ("ja",),
        ("JP", None),
        (_rule(MON_FRI, "09:00", "18:00", 2),),
    ),
    DemoTeam(
        "support-fr",
        "French support",
        "Europe/Paris",
        ("fr",),
        ("FR", None),
        (_rule(MON_FRI, "09:00", "18:00", 2),),
    ),
    DemoTeam(
        "support-de",
        "German support",
        "Europe/Berlin",
        ("de",),
        ("DE", "BE"),
        (_rule(MON_FRI, "08:00", "17:00", 2),),
    ),
    DemoTeam(
        "paid-support",
        "Paid support (priority line)",
        "Europe/Dublin",
        ("en", "de", "fr"),
        ("IE", None),
        (
            _rule(MON_FRI, "07:00", "21:00", 1),
            _rule(MON_FRI, "09:00", "15:00", 1, "de"),
            _rule(MON_FRI, "13:00", "21:00", 1, "fr"),
            _rule(SAT_SUN, "09:00", "17:00", 1),
        ),
    ),
)

EN, JA, FR, DE, PAID = (t.slug for t in DEMO_TEAMS)

# A specialist who stands in for a second team.
ALSO_IN = {"Siobhán Murphy": (PAID,)}


def _people(team: str, *rows: tuple[str, str, str, str, str]) -> tuple[DemoSpecialist, ...]:
    """Rows of name, contact, time zone, languages and skills (space-separated)."""
    return tuple(
        DemoSpecialist(
            name,
            contact,
            tz,
            tuple(langs.split()),
            tuple(skills.split()),
            (team, *ALSO_IN.get(name, ())),
        )
        for name, contact, tz, langs, skills in rows
    )


DEMO_SPECIALISTS = (
    *_people(
        EN,
        ("Maya Patel", "+14155550101", "America/Los_Angeles", "en es", "payments general"),
        ("Jordan Reyes", "+13035550102", "America/Denver", "en", "billing general"),
        ("Chris Okafor", "client:chris.okafor", "America/Chicago", "en", "developers general"),
        # Works the Californian weekend from Dublin, and stands in on the paid line.
        ("Siobhán Murphy", "client:siobhan.murphy", "Europe/Dublin", "en ga", "payments billing"),
    ),
    *_people(
        JA,
        ("Yui Tanaka", "client:yui.tanaka", "Asia/Tokyo", "ja en", "payments"),
        ("Haruto Sato", "client:haruto.sato", "Asia/Tokyo", "ja", "billing general"),
        ("Aiko Yamamoto", "client:aiko.yamamoto", "Asia/Seoul", "ja ko", "developers"),
    ),
    *_people(
        FR,
        ("Camille Laurent", "client:camille.laurent", "Europe/Paris", "fr en", "payments general"),
        ("Julien Moreau", "client:julien.moreau", "Europe/Paris", "fr", "billing"),
        ("Léa Girard", "client:lea.girard", "Europe/Brussels", "fr nl", "developers general"),
        ("Thomas Roux", "client:thomas.roux", "Europe/Paris", "fr", "general"),
    ),
    *_people(
        DE,
        ("Lukas Becker", "client:lukas.becker", "Europe/Berlin", "de en", "payments billing"),
        ("Anna Schmidt", "client:anna.schmidt", "Europe/Berlin", "de", "general"),
        ("Jonas Weber", "client:jonas.weber", "Europe/Vienna", "de", "developers"),
        ("Sophie Wagner", "client:sophie.wagner", "Europe/Zurich", "de fr", "billing general"),
    ),
    *_people(
        PAID,
        ("Aoife Byrne", "client:aoife.byrne", "Europe/Dublin", "en de", "payments billing general"),
        ("Katrin Hoffmann", "client:katrin.hoffmann", "Europe/Berlin", "de en", "developers"),
        ("Niamh Kelly", "client:niamh.kelly", "Europe/Dublin", "en fr", "billing general"),
        ("Marc Dubois", "client:marc.dubois", "Europe/Paris", "fr en", "developers payments"),
    ),
)

DEMO_ROTATIONS = (
    DemoRotation(
        EN, "weekdays", ("Maya Patel", "Jordan Reyes", "Chris Okafor"), MON_FRI, "08:00", "17:00"
    ),
    DemoRotation(
        EN,
        "weekend",
        ("Maya Patel", "Jordan Reyes", "Chris Okafor", "Siobhán Murphy"),
        SAT_SUN,
        "09:00",
        "17:00",
        assignment="turns",
        earns_lieu=True,
        lieu_rule="most_staffed",
    ),
    DemoRotation(
        JA, "weekdays", ("Yui Tanaka", "Haruto Sato", "Aiko Yamamoto"), MON_FRI, "09:00", "18:00"
    ),
    DemoRotation(
        FR,
        "weekdays",
        ("Camille Laurent", "Julien Moreau", "Léa Girard", "Thomas Roux"),
        MON_FRI,
        "09:00",
        "18:00",
    ),
    DemoRotation(
        DE,
        "weekdays",
        ("Lukas Becker", "Anna Schmidt", "Jonas Weber", "Sophie Wagner"),
        MON_FRI,
        "08:00",
        "17:00",
    ),
    DemoRotation(PAID, "early", ("Aoife Byrne", "Katrin Hoffmann"), MON_FRI, "07:00", "15:00"),
    DemoRotation(PAID, "late", ("Niamh Kelly", "Marc Dubois"), MON_FRI, "13:00", "21:00"),
    # Alternating early and late people, so a Monday off in lieu never empties a shift.
    DemoRotation(
        PAID,
        "weekend",
        ("Aoife Byrne", "Niamh Kelly", "Katrin Hoffmann", "Marc Dubois"),
        SAT_SUN,
        "09:00",
        "17:00",
        assignment="turns",
        earns_lieu=True,
        lieu_rule="mon",
    ),
)


@dataclass(frozen=True)
class RotaSeedResult:
    """How many demo teams, specialists and rotations exist, and how many rows were new."""

    teams: int
    specialists: int
    rotations: int
    created: int


def history_monday(now: datetime, tz: str) -> date:
    """The Monday four weeks before the week of `now` (in the team's zone)."""
    today = local_date(now - HISTORY, tz)
    return today - timedelta(days=today.weekday())


def _write(session: AsyncSession, now: datetime) -> RotaWrite:
    return RotaWrite(session, SEED_PRINCIPAL, now, dry_run=False)


async def _specialist_ids(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Specialist.name, Specialist.id).order_by(Specialist.id))
    ids: dict[str, int] = {}
    for name, ident in rows:
        ids.setdefault(name, ident)
    return ids


async def _seed_rotation(
    session: AsyncSession, demo: DemoRotation, ids: dict[str, int], now: datetime
) -> bool:
    team: Team | None = await repository.team_by_slug(session, demo.team)
    if team is None:
        return False
    exists = await session.scalar(
        select(Rotation.id).where(Rotation.team_id == team.id, Rotation.name == demo.name)
    )
    if exists is not None:
        return False
    # Someone may have moved a demo person to another team since: leave them out.
    in_team = set((await repository.team_members(session, [team.id])).get(team.id, []))
    members = [ids[n] for n in demo.members if n in ids and ids[n] in in_team]
    if not members or (demo.assignment == "turns" and len(members) < demo.per_occurrence):
        return False
    payload = demo.payload(members, history_monday(now, team.tz), team.tz)
    await rotation_service.create_rotation(session, payload, _write(session, now), allow_past=True)
    return True


async def seed_rota(session: AsyncSession, clock: Clock) -> RotaSeedResult:
    """Create whatever of the demo rota is missing; returns what exists and what was new."""
    now = clock.now()
    created = 0
    for team in DEMO_TEAMS:
        if await repository.team_by_slug(session, team.slug) is None:
            await team_service.create_team(session, team.payload(), _write(session, now))
            created += 1
    ids = await _specialist_ids(session)
    for person in DEMO_SPECIALISTS:
        if person.name not in ids:
            row = await team_service.create_specialist(
                session, person.payload(), _write(session, now)
            )
            ids[person.name] = row.id
            created += 1
    for rotation in DEMO_ROTATIONS:
        created += int(await _seed_rotation(session, rotation, ids, now))
    team_ids = {
        slug: tid
        for slug, tid in await session.execute(
            select(Team.slug, Team.id).where(Team.slug.in_([t.slug for t in DEMO_TEAMS]))
        )
    }
    names = {
        (team_id, name)
        for team_id, name in await session.execute(
            select(Rotation.team_id, Rotation.name).where(
                Rotation.team_id.in_(list(team_ids.values()))
            )
        )
    }
    return RotaSeedResult(
        teams=len(team_ids),
        specialists=sum(1 for p in DEMO_SPECIALISTS if p.name in ids),
        rotations=sum(1 for r in DEMO_ROTATIONS if (team_ids.get(r.team), r.name) in names),
        created=created,
    )
