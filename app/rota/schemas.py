"""API schemas of the rota: teams, specialists, rotations, overrides, days off, queries."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holidays_lib
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from app.core.phone import InvalidPhoneNumber, to_e164
from app.core.types import AwareInstant, Day, DbId, JsonBool, JsonId, JsonInt

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
LieuRuleName = Literal["mon", "tue", "wed", "thu", "fri", "most_staffed"]
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")
SKILL_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_SHIFT_DAYS = 14
_ZONES = available_timezones()


def check_time_zone(value: str) -> str:
    """An IANA time zone name, or a clear error."""
    if value not in _ZONES:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Dublin)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone") from None
    return value


def check_hhmm(value: str) -> str:
    """A wall-clock time HH:MM from 00:00 to 23:59."""
    if not HHMM_RE.match(value):
        raise ValueError("must be a local time HH:MM from 00:00 to 23:59")
    return value


def check_languages(values: list[str]) -> list[str]:
    """Two- or three-letter language codes, de-duplicated."""
    for v in values:
        if not LANG_RE.match(v):
            raise ValueError(f"{v!r} is not a language code such as en, ja, fr, de")
    return list(dict.fromkeys(values))


def check_skills(values: list[str]) -> list[str]:
    """Lower-case skill names, de-duplicated."""
    for v in values:
        if not SKILL_RE.match(v):
            raise ValueError(f"{v!r} is not a skill name (lower-case letters, digits, - and _)")
    return list(dict.fromkeys(values))


def check_contact(value: str) -> str:
    """+E.164 number, client:NAME or sip:URI."""
    if value.startswith("client:"):
        if not re.fullmatch(r"client:[A-Za-z0-9_.-]{1,120}", value):
            raise ValueError("a Twilio Client identity is client: followed by letters or digits")
        return value
    if value.startswith("sip:"):
        if not re.fullmatch(r"sip:[^@\s]+@[A-Za-z0-9.-]+(:\d+)?(;[^\s]*)?", value):
            raise ValueError("a SIP URI looks like sip:alice@example.sip.twilio.com")
        return value
    if not value.startswith("+"):
        raise ValueError("must be a +E.164 number, client:NAME or sip:user@host")
    try:
        return to_e164(value)
    except InvalidPhoneNumber:
        raise ValueError(f"{value} is not a valid phone number") from None


TimeZone = Annotated[str, AfterValidator(check_time_zone)]
HHMM = Annotated[str, AfterValidator(check_hhmm)]
Languages = Annotated[list[str], AfterValidator(check_languages)]
Skills = Annotated[list[str], AfterValidator(check_skills)]
Contact = Annotated[str, AfterValidator(check_contact)]


class Strict(BaseModel):
    """Unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CoverageRuleIn(Strict):
    """Minimum staff during local hours on some days (end <= start runs past midnight)."""

    days: list[Weekday] = Field(min_length=1)
    start: HHMM
    end: HHMM
    min_staff: int = Field(ge=0, le=1000)
    language: str | None = None

    @field_validator("language")
    @classmethod
    def _lang(cls, v: str | None) -> str | None:
        return None if v is None else check_languages([v])[0]


class HolidayCalendar(Strict):
    """A public-holiday calendar from the `holidays` package."""

    country: str = Field(min_length=2, max_length=3)
    subdivision: str | None = Field(default=None, max_length=10)

    @model_validator(mode="after")
    def _known(self) -> HolidayCalendar:
        supported = holidays_lib.list_supported_countries()
        if self.country.upper() not in supported:
            raise ValueError(f"{self.country!r} is not a supported holiday country code")
        self.country = self.country.upper()
        subdivisions = supported[self.country]
        if self.subdivision is not None and self.subdivision not in subdivisions:
            raise ValueError(
                f"{self.subdivision!r} is not a subdivision of {self.country} "
                f"(known: {', '.join(subdivisions[:12])}{'…' if len(subdivisions) > 12 else ''})"
            )
        return self


class TeamIn(Strict):
    """A team to create or replace."""

    slug: str
    name: str = Field(min_length=1, max_length=200)
    time_zone: TimeZone
    languages: Languages = Field(default_factory=list)
    coverage: list[CoverageRuleIn] = Field(default_factory=list, max_length=100)
    holidays: HolidayCalendar | None = None

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_RE.match(v):
            raise ValueError("must be lower-case letters, digits and dashes, e.g. support-en")
        return v


class TeamReplace(TeamIn):
    """A team's new settings: the body GET returns is accepted as it is.

    Its read-only fields (id, members, calendar_url) are ignored when unchanged and named in
    a 422 when changed (members change through specialists' teams, the link by rotation).
    """

    id: JsonInt | None = None
    members: list[JsonInt] | None = None
    calendar_url: str | None = None


class TeamOut(BaseModel):
    """A team."""

    id: int
    slug: str
    name: str
    time_zone: str
    languages: list[str]
    coverage: list[CoverageRuleIn]
    holidays: HolidayCalendar | None
    members: list[int]
    calendar_url: str | None = Field(
        default=None, description="secret feed link; shown to admins, schedulers and its owner"
    )


class SpecialistIn(Strict):
    """A specialist to create or replace."""

    name: str = Field(min_length=1, max_length=200)
    contact: Contact
    time_zone: TimeZone
    languages: Languages = Field(min_length=1)
    skills: Skills = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    active: JsonBool = True


class SpecialistReplace(SpecialistIn):
    """A specialist's new details: the body GET returns is accepted as it is.

    Its read-only fields (id, calendar_url, and email and external_ref, which bulk imports
    set) are ignored when unchanged, named in a 422 when changed.
    """

    id: JsonInt | None = None
    calendar_url: str | None = None
    email: str | None = None
    external_ref: str | None = None


class SpecialistOut(BaseModel):
    """A specialist."""

    id: int
    name: str
    contact: str
    time_zone: str
    languages: list[str]
    skills: list[str]
    teams: list[str]
    active: bool
    calendar_url: str | None = Field(
        default=None, description="secret feed link; shown to admins, schedulers and its owner"
    )
    email: str | None = Field(default=None, description="key of bulk imports (lower case)")
    external_ref: str | None = Field(default=None, description="key of bulk imports")


class RotationRules(Strict):
    """The rules of a rotation (one version)."""

    members: list[JsonId] = Field(min_length=1, max_length=500)
    days: list[Weekday] = Field(min_length=1)
    start: HHMM
    end: HHMM
    length_days: JsonInt = Field(default=1, ge=1, le=MAX_SHIFT_DAYS)
    every_weeks: JsonInt = Field(default=1, ge=1, le=52)
    assignment: Literal["all", "turns"] = "all"
    per_occurrence: JsonInt = Field(default=1, ge=1)
    turn_offset: JsonInt = Field(default=0, ge=0)
    run_on_holidays: JsonBool = False
    earns_lieu: JsonBool = False
    lieu_rule: LieuRuleName | None = None
    effective_until: AwareInstant | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RotationRules:
        if len(set(self.members)) != len(self.members):
            raise ValueError("members must not repeat")
        if self.assignment == "turns" and self.per_occurrence > len(self.members):
            raise ValueError("per_occurrence cannot exceed the number of members")
        if self.assignment == "all" and self.per_occurrence != 1:
            raise ValueError("per_occurrence applies to assignment 'turns' only")
        if self.lieu_rule is not None and not self.earns_lieu:
            raise ValueError("lieu_rule needs earns_lieu: true")
        return self


class RotationIn(RotationRules):
    """A new rotation: its team, name, first rules and the date turns are counted from."""

    team: str
    name: str = Field(min_length=1, max_length=200)
    starts_on: Day | None = None
    effective_from: AwareInstant | None = None


class RotationUpdate(RotationRules):
    """New rules for a rotation from `effective_from` (default now); the past stays."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    effective_from: AwareInstant | None = None


class RotationVersionOut(RotationRules):
    """One version of a rotation's rules."""

    seq: int
    effective_from: datetime
    effective_until: datetime | None = None


class RotationOut(BaseModel):
    """A rotation with its current rules and its history of versions."""

    id: int
    team: str
    name: str
    starts_on: date
    current: RotationVersionOut | None
    versions: list[RotationVersionOut]


class OverrideIn(Strict):
    """A cover, swap, leave or extra."""

    kind: Literal["cover", "swap", "leave", "extra"]
    specialist_id: DbId
    substitute_id: DbId | None = None
    team: str | None = None
    start: AwareInstant
    end: AwareInstant
    swap_start: AwareInstant | None = None
    swap_end: AwareInstant | None = None
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _shape(self) -> OverrideIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.kind in ("cover", "swap"):
            if self.substitute_id is None:
                raise ValueError(f"a {self.kind} needs substitute_id")
            if self.substitute_id == self.specialist_id:
                raise ValueError("substitute_id must be someone else")
        elif self.substitute_id is not None:
            raise ValueError(f"a {self.kind} takes no substitute_id")
        if self.kind == "extra" and self.team is None:
            raise ValueError("an extra needs the team it works for")
        if self.kind == "swap":
            if self.swap_start is None or self.swap_end is None:
                raise ValueError("a swap needs swap_start and swap_end (the shift given back)")
            if self.swap_end <= self.swap_start:
                raise ValueError("swap_end must be after swap_start")
        elif self.swap_start is not None or self.swap_end is not None:
            raise ValueError("swap_start and swap_end belong to a swap")
        return self


class OverridePatch(Strict):
    """Change an override's window or reason."""

    start: AwareInstant | None = None
    end: AwareInstant | None = None
    reason: str | None = Field(default=None, max_length=500)


class OverrideOut(BaseModel):
    """An override (a swap shows as two covers sharing swap_group)."""

    id: int
    kind: str
    specialist_id: int
    substitute_id: int | None
    team: str | None
    start: datetime
    end: datetime
    reason: str | None
    swap_group: str | None


class DayOffIn(Strict):
    """A day off in lieu added by hand."""

    specialist_id: JsonId
    day: Day
    note: str | None = Field(default=None, max_length=500)


class DayOffMove(Strict):
    """Move a day off to another date."""

    day: Day


class DayOffOut(BaseModel):
    """A day off in lieu: automatic (earned by a shift) or added by hand."""

    id: str
    specialist_id: int
    day: date
    source: Literal["lieu", "manual"]
    earning_key: str | None
    moved: bool


class ShiftSourceOut(BaseModel):
    """Why a shift exists."""

    kind: str
    rotation_id: int | None = None
    rotation_name: str | None = None
    override_id: int | None = None
    covering_for: int | None = None


class ShiftOut(BaseModel):
    """One shift of the final schedule."""

    key: str
    specialist_id: int
    specialist_name: str
    team: str
    start: datetime
    end: datetime
    local_date: date
    source: ShiftSourceOut


class ScheduleOut(BaseModel):
    """The final schedule between two instants."""

    start: datetime
    end: datetime
    shifts: list[ShiftOut]
    days_off: list[DayOffOut]


class OnShiftOut(BaseModel):
    """Who is on shift at an instant and why."""

    at: datetime
    on_shift: list[ShiftOut]


class GapOut(BaseModel):
    """An interval in which a coverage rule has fewer staff than its minimum."""

    start: datetime
    end: datetime
    team: str
    staffed: int
    min_staff: int
    language: str | None
    rule_index: int


class FairnessOut(BaseModel):
    """Load per specialist over a range."""

    specialist_id: int
    specialist_name: str
    shifts: int
    hours: float
    weekend_days: int
    night_hours: float


class UnplacedOut(BaseModel):
    """A day off in lieu earned but not placed, and why."""

    day_off_id: str
    reason: str


class LedgerOut(BaseModel):
    """Days off in lieu per specialist."""

    specialist_id: int
    specialist_name: str
    earned: int
    taken: int
    cancelled: int
    outstanding: int
    weeks_without_weekend: list[date]
    unplaced: list[UnplacedOut] = Field(
        default_factory=list,
        description="days earned in the range that found no free weekday; move them by hand",
    )


class ScheduleChange(BaseModel):
    """What a dry-run write would change in the next four weeks."""

    dry_run: Literal[True] = True
    window_start: datetime
    window_end: datetime
    added: list[ShiftOut]
    removed: list[ShiftOut]
    days_off_added: list[DayOffOut]
    days_off_removed: list[DayOffOut]
    resource: dict[str, Any] | None = None


class AuditOut(BaseModel):
    """One audit entry."""

    id: int
    at: datetime
    actor: str
    action: str
    resource_type: str
    resource_id: str
    effective_from: datetime | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def weekday_numbers(days: list[str]) -> frozenset[int]:
    """API weekday names to 0=Monday..6=Sunday."""
    return frozenset(WEEKDAYS.index(d) for d in days)


def weekday_names(days: list[int] | frozenset[int]) -> list[str]:
    """0..6 to API weekday names, in week order."""
    return [WEEKDAYS[d] for d in sorted(days)]


def parse_hhmm(value: str) -> time:
    """HH:MM to a naive time."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
