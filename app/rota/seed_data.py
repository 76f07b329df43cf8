"""The demo organisation of `switchboard seed`: a support team per office, people, rotations.

Offices in the US, Mexico City, the UK, Ireland (the paid priority line), Germany, France,
Japan, Singapore and Australia, each team with its own time zone and public holidays, so
the English line is covered round the clock on weekdays (Sydney, Singapore, London, then
California). The standing rotations of the two teams open at weekends have two crews in
alternate weeks (`every_weeks: 2`, "all" members); the seed then has the planner make
their first 12 weeks (`app/planning/demo.py`), so every member works a weekend day every
week and takes a weekday off in lieu, and the lieu ledger shows no week without a weekend.
Weekday teams have enough people that those days off never open a coverage gap.

Specialists and rotations keep their order across releases (ids 1-19 and rotations 1-8 are
what they always were): docs and examples refer to them by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from app.rota.schemas import LieuRuleName, RotationIn, SpecialistIn, TeamIn, Weekday
from app.rota.wallclock import local_midnight

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
    earns_lieu: bool = False
    lieu_rule: LieuRuleName | None = None
    every_weeks: int = 1
    # Weeks after the first Monday of the demo's history that the rotation begins.
    first_week: int = 0
    assignment: Literal["all", "turns"] = "all"

    def payload(self, member_ids: list[int], monday: date, tz: str) -> RotationIn:
        """The rotation as the API would receive it, counted from `monday` (+ first_week)."""
        starts_on = monday + timedelta(weeks=self.first_week)
        return RotationIn(
            team=self.team,
            name=self.name,
            members=member_ids,
            days=list(self.days),
            start=self.start,
            end=self.end,
            assignment=self.assignment,
            every_weeks=self.every_weeks,
            earns_lieu=self.earns_lieu,
            lieu_rule=self.lieu_rule,
            starts_on=starts_on,
            effective_from=local_midnight(starts_on, tz),
        )


def _weekend_crews(
    team: str, crew_a: tuple[str, ...], crew_b: tuple[str, ...], start: str, end: str
) -> tuple[DemoRotation, DemoRotation]:
    """Two crews working alternate weekends, each day earning a weekday off in lieu."""
    return (
        DemoRotation(
            team, "weekend-a", crew_a, SAT_SUN, start, end, True, "most_staffed", every_weeks=2
        ),
        DemoRotation(
            team,
            "weekend-b",
            crew_b,
            SAT_SUN,
            start,
            end,
            True,
            "most_staffed",
            every_weeks=2,
            first_week=1,
        ),
    )


EN, JA, FR, DE, PAID = "support-en", "support-ja", "support-fr", "support-de", "paid-support"
ES, UK, SG, AU = "support-es", "support-uk", "support-sg", "support-au"

DEMO_TEAMS = (
    DemoTeam(
        EN,
        "US support",
        "America/Los_Angeles",
        ("en",),
        ("US", "CA"),
        (_rule(MON_FRI, "08:00", "17:00", 2), _rule(SAT_SUN, "09:00", "17:00", 1)),
    ),
    DemoTeam(
        JA,
        "Japanese support",
        "Asia/Tokyo",
        ("ja",),
        ("JP", None),
        (_rule(MON_FRI, "09:00", "18:00", 2),),
    ),
    DemoTeam(
        FR,
        "French support",
        "Europe/Paris",
        ("fr",),
        ("FR", None),
        (_rule(MON_FRI, "09:00", "18:00", 2),),
    ),
    DemoTeam(
        DE,
        "German support",
        "Europe/Berlin",
        ("de",),
        ("DE", "BE"),
        (_rule(MON_FRI, "08:00", "17:00", 2),),
    ),
    DemoTeam(
        PAID,
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
    DemoTeam(
        ES,
        "Mexico City support",
        "America/Mexico_City",
        ("es",),
        ("MX", None),
        (_rule(MON_FRI, "09:00", "18:00", 2),),
    ),
    DemoTeam(
        UK,
        "UK support",
        "Europe/London",
        ("en",),
        ("GB", "ENG"),
        (_rule(MON_FRI, "09:00", "17:30", 2),),
    ),
    DemoTeam(
        SG,
        "Singapore support",
        "Asia/Singapore",
        ("en",),
        ("SG", None),
        (_rule(MON_FRI, "09:00", "18:00", 2),),
    ),
    DemoTeam(
        AU,
        "Australia support",
        "Australia/Sydney",
        ("en",),
        ("AU", "NSW"),
        (_rule(MON_FRI, "08:00", "17:00", 2),),
    ),
)

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
        # Works Californian weekends from Dublin, and stands in on the paid line.
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
    # From here on: the offices added later (ids 20 and up).
    *_people(
        EN,
        ("Emily Chen", "client:emily.chen", "America/Los_Angeles", "en zh", "billing developers"),
    ),
    *_people(
        ES,
        (
            "Sofía Hernández",
            "client:sofia.hernandez",
            "America/Mexico_City",
            "es en",
            "payments general",
        ),
        ("Diego Ramírez", "client:diego.ramirez", "America/Mexico_City", "es", "billing general"),
        ("Valeria Cruz", "client:valeria.cruz", "America/Monterrey", "es en", "developers general"),
        ("Mateo Flores", "client:mateo.flores", "America/Mexico_City", "es", "billing payments"),
    ),
    *_people(
        UK,
        ("Oliver Bennett", "client:oliver.bennett", "Europe/London", "en", "payments billing"),
        ("Priya Shah", "client:priya.shah", "Europe/London", "en gu", "developers general"),
        ("Hannah Clarke", "client:hannah.clarke", "Europe/London", "en cy", "billing general"),
    ),
    *_people(
        SG,
        ("Tan Wei Ling", "client:tan.weiling", "Asia/Singapore", "en zh", "payments general"),
        ("Arjun Nair", "client:arjun.nair", "Asia/Singapore", "en ta", "developers billing"),
        ("Nur Aisyah", "client:nur.aisyah", "Asia/Kuala_Lumpur", "en ms", "billing general"),
    ),
    *_people(
        AU,
        (
            "Charlotte Nguyen",
            "client:charlotte.nguyen",
            "Australia/Sydney",
            "en vi",
            "payments general",
        ),
        ("Jack Wilson", "client:jack.wilson", "Australia/Brisbane", "en", "developers billing"),
        ("Mia Thompson", "client:mia.thompson", "Australia/Sydney", "en", "billing general"),
    ),
)

_EN_CREWS = _weekend_crews(
    EN, ("Maya Patel", "Siobhán Murphy"), ("Jordan Reyes", "Emily Chen"), "09:00", "17:00"
)
# Each crew has an early and a late person, so their weekdays off never empty a shift.
_PAID_CREWS = _weekend_crews(
    PAID, ("Aoife Byrne", "Niamh Kelly"), ("Katrin Hoffmann", "Marc Dubois"), "09:00", "17:00"
)

DEMO_ROTATIONS = (
    DemoRotation(
        EN,
        "weekdays",
        ("Maya Patel", "Jordan Reyes", "Chris Okafor", "Emily Chen"),
        MON_FRI,
        "08:00",
        "17:00",
    ),
    _EN_CREWS[0],
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
    _PAID_CREWS[0],
    _EN_CREWS[1],
    _PAID_CREWS[1],
    DemoRotation(
        ES,
        "weekdays",
        ("Sofía Hernández", "Diego Ramírez", "Valeria Cruz", "Mateo Flores"),
        MON_FRI,
        "09:00",
        "18:00",
    ),
    DemoRotation(
        UK, "weekdays", ("Oliver Bennett", "Priya Shah", "Hannah Clarke"), MON_FRI, "09:00", "17:30"
    ),
    DemoRotation(
        SG, "weekdays", ("Tan Wei Ling", "Arjun Nair", "Nur Aisyah"), MON_FRI, "09:00", "18:00"
    ),
    DemoRotation(
        AU,
        "weekdays",
        ("Charlotte Nguyen", "Jack Wilson", "Mia Thompson"),
        MON_FRI,
        "08:00",
        "17:00",
    ),
)
