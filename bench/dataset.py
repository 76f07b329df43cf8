"""The realistic database the call-path load test runs against.

`build_dataset` migrates an empty database (SQLite or PostgreSQL) and fills it with

- 10,000 accounts, each with one or two valid phone numbers (unique, eight countries),
  Luhn-checked keypad account numbers, about 10% paid, a mix of preferred languages,
  and notes specialists left on them;
- 1,000 specialists in 50 teams: `support-en` and `paid-support` staffed around the clock
  by follow-the-sun groups (Asia-Pacific, Europe, Americas; everyone speaks English; each
  team `sun_share` of the specialists, 6% by default: 60 of 1,000, about 11 on shift at a
  time),
  `support-ja`, `support-fr`, `support-de`, `support-es` in office hours (every team
  the default flow routes to), and `team-NNN` teams of
  various zones; each with a year of rota history: rotations re-versioned every quarter
  (people joining, leaving, moving between early and late shifts), weekend turns that
  earn days off in lieu (some moved or cancelled by a scheduler, some added by hand),
  leave, covers, swaps and extra shifts, with their audit entries;
- a year of calls (about 50,000) through the default `support` flow with their status
  events, IVR path, ringing attempts, queue entries and work items, and the presence rows
  (idle since) those calls left;
- the materialised shift window around `now`, so `/v1/rota/on-shift` and routing use the
  indexed path, and an admin API key.

The load test calls at the real current time, so the build checks that `support-en` and
`paid-support` have English speakers with a dialable contact on shift in every hour of
the coming week, and that a routing decision finds candidates now and 6, 12, 18 hours on.

    .venv/bin/python -m bench.dataset --database-url sqlite+aiosqlite:////tmp/ds.db --reset
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.accounts.numbers import is_valid_account_number, luhn_check_digit
from app.auth.service import create_key
from app.core.db import Database
from app.core.phone import contact_kind
from app.core.schema import upgrade
from app.models import (
    Account,
    AccountNote,
    AccountPhone,
    AuditEntry,
    Base,
    Call,
    CallStatusEvent,
    CallStep,
    LieuAdjustmentRow,
    ManualDayOffRow,
    OverrideRow,
    QueueEntry,
    RingAttempt,
    Rotation,
    RotationVersionRow,
    Specialist,
    SpecialistPresence,
    Team,
    TeamMember,
    WorkItem,
)
from app.rota.lieu import earnings_from
from app.rota.lookup import on_shift
from app.rota.materialise import rematerialise
from app.rota.overrides import pre_lieu_shifts
from app.rota.repository import load_snapshot
from app.routing.decide import RouteRequest, consider

TO_NUMBER = "+14155550100"  # the support line the load test calls
FLOW = "support"
# Concurrent calls each hold two specialists (batch size 2) until their status callback:
# the round-the-clock teams should have at least this many on shift in every hour.
MIN_ON_SHIFT = 8
EN_TEAM = "support-en"
PAID_TEAM = "paid-support"
LANGUAGE_TEAMS = {  # language: (slug, zone, holiday country)
    "ja": ("support-ja", "Asia/Tokyo", "JP"),
    "fr": ("support-fr", "Europe/Paris", "FR"),
    "de": ("support-de", "Europe/Berlin", "DE"),
    "es": ("support-es", "America/Mexico_City", "MX"),
}
# Follow the sun, in the round-the-clock teams' zone (Europe/Dublin): each group works
# 8 hours of the day on weekdays and takes turns at weekends.
SUN_ZONE = "Europe/Dublin"
SUN_GROUPS = (
    ("apac", "00:00", "08:00", ("Asia/Tokyo", "Australia/Sydney", "Asia/Singapore")),
    ("emea", "08:00", "16:00", ("Europe/Dublin", "Europe/London", "Europe/Berlin")),
    ("amer", "16:00", "00:00", ("America/New_York", "America/Chicago", "America/Los_Angeles")),
)
SUN_SHARE = 0.06  # of all specialists, in each round-the-clock team
SUN_EXTRA_LANGUAGE = {"apac": "ja", "emea": "fr", "amer": "es"}
STD_ZONES = (
    ("America/Los_Angeles", "US", None),
    ("America/New_York", "US", None),
    ("Europe/Dublin", "IE", None),
    ("Europe/London", "GB", None),
    ("Europe/Berlin", "DE", None),
    ("Asia/Tokyo", "JP", None),
    ("Australia/Sydney", "AU", "NSW"),
    ("Asia/Singapore", "SG", None),
    ("America/Chicago", "US", None),
    ("Europe/Paris", "FR", None),
)
ZONE_REGION = {
    "America/Los_Angeles": "US",
    "America/New_York": "US",
    "America/Chicago": "US",
    "Europe/Dublin": "IE",
    "Europe/London": "GB",
    "Europe/Berlin": "DE",
    "Europe/Paris": "FR",
    "America/Mexico_City": "MX",
    "Asia/Tokyo": "JP",
    "Asia/Singapore": "SG",
    "Australia/Sydney": "AU",
}
REGION_ZONE = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "JP": "Asia/Tokyo",
    "AU": "Australia/Sydney",
    "SG": "Asia/Singapore",
}
# Where the customers are (weights) and the language most of them speak.
ACCOUNT_REGIONS = (
    ("US", "en", 36),
    ("GB", "en", 14),
    ("JP", "ja", 12),
    ("FR", "fr", 10),
    ("DE", "de", 10),
    ("AU", "en", 8),
    ("IE", "en", 5),
    ("CA", "en", 5),
)
# Prefixes (national significant number) whose remaining digits are random.
PHONE_PLANS: dict[str, tuple[tuple[str, int], ...]] = {
    "US": tuple((p, 10) for p in ("212", "415", "646", "312", "617", "206", "303", "512", "404")),
    "CA": (("416", 10), ("604", 10), ("514", 10)),
    "GB": (("7400", 10), ("7700", 10), ("7900", 10), ("20", 10), ("161", 10)),
    "IE": (("85", 9), ("86", 9), ("87", 9), ("1", 8)),
    "DE": (("151", 11), ("160", 10), ("170", 10), ("30", 10), ("89", 10)),
    "FR": (("6", 9), ("7", 9), ("1", 9), ("4", 9)),
    "JP": (("90", 10), ("80", 10), ("70", 10), ("3", 9), ("6", 9)),
    "AU": (("4", 9), ("2", 9), ("3", 9)),
    "SG": (("8", 8), ("9", 8), ("6", 8)),
    "MX": (("55", 10), ("33", 10), ("81", 10)),
}
WEEKDAYS = [0, 1, 2, 3, 4]
SKILLS = ("payments", "billing", "developers", "general")
TOPICS = (
    ("payments", "1", 35),
    ("billing", "2", 30),
    ("developers", "3", 15),
    ("general", "0", 20),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words(
    "Aoife Liam Sofia Noah Hana Ren Yuki Emma Lucas Mia Leon Chloe Jack Ava Oliver Zoe Ethan "
    "Lena Felix Clara Hugo Ines Kenji Aiko Sean Niamh Maya Omar Priya Arjun Grace Ivy"
)
LAST = _words(
    "Murphy Kelly Tanaka Sato Dubois Martin Muller Schmidt Smith Jones Garcia Chen Wong Brown "
    "Walsh Byrne Suzuki Ito Bernard Weber Fischer Nguyen Patel Silva Rossi Novak Berg Costa"
)
WORDS = _words(
    "Harbor Summit Maple Cedar Atlas Nova Blue Green Golden River Stone Bright North Coastal "
    "Urban Little Royal Swift Lotus Sakura Alpine Lumen Orbit Pixel Copper Silver Oak Pine"
)
TRADES = _words(
    "Bikes Bakery Coffee Books Studio Labs Logistics Apparel Dental Florist Garage Kitchens "
    "Media Outfitters Pharmacy Print Records Software Supplies Tailors Travel Wines Yoga"
)
SUFFIXES = ("", "", " Ltd", " LLC", " GmbH", " SARL", " KK", " & Co", " Pty Ltd")


class DatasetExists(RuntimeError):
    """The database already holds data and `reset` was not asked for."""


@dataclass(frozen=True)
class Dataset:
    """What was built: numbers to call from and to, and counts for the report."""

    database_url: str
    now: datetime
    to_number: str  # the number the load test calls (answered by the default flow)
    callers: list[str]  # E.164 numbers of accounts, each matching exactly one account
    paid_callers: list[str]  # the numbers of paid accounts (routed to paid-support)
    account_numbers: list[str]  # keypad account numbers (Luhn-valid)
    api_key: str  # an admin key for /v1 (the secret)
    counts: dict[str, int]
    # team -> min, median, max of English speakers on shift over each hour of the next week
    on_shift: dict[str, tuple[int, float, int]]
    # team -> candidates of a routing decision at now +0, +6, +12, +18 hours
    candidates: dict[str, list[int]]
    seconds: dict[str, float]  # build phases
    build_seconds: float
    size_bytes: int
    warnings: list[str] = field(default_factory=list)  # coverage the load test needs, missing


@dataclass
class _Team:
    id: int
    slug: str
    kind: str  # "sun" (round the clock), "lang" (office hours in a language), "std"
    tz: str
    languages: list[str]
    holiday: tuple[str, str | None] | None
    members: list[int] = field(default_factory=list)
    groups: list[tuple[str, str, str, list[int]]] = field(default_factory=list)


@dataclass
class _Person:
    id: int
    team: int  # index into the plan's teams
    group: str  # leave is capped per group so coverage holds
    tz: str
    name: str
    contact: str
    languages: list[str]
    skills: list[str]
    active: bool
    joined: datetime


class _Phones:
    """Unique, valid (per phonenumbers) E.164 numbers of a few countries."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def new(self, region: str) -> str:
        for _ in range(200):
            prefix, length = self.rng.choice(PHONE_PLANS[region])
            rest = "".join(self.rng.choice("0123456789") for _ in range(length - len(prefix)))
            code = phonenumbers.country_code_for_region(region)
            parsed = phonenumbers.parse(f"+{code}{prefix}{rest}", None)
            if not phonenumbers.is_valid_number(parsed):
                continue
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in self.used:
                self.used.add(e164)
                return str(e164)
        raise RuntimeError(f"could not make a valid {region} phone number")


def _local(day: date, hhmm: str, tz: str) -> datetime:
    """A local wall-clock time as a UTC instant (benchmark data: DST gaps do not matter)."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, clock_time(hours, minutes), ZoneInfo(tz)).astimezone(UTC)


def _weighted(rng: random.Random, options: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """One of the options, each weighted by its last element."""
    return rng.choices(options, weights=[o[-1] for o in options])[0]


# -- the people and their teams -------------------------------------------------------------


def _plan(
    specialists: int,
    teams: int,
    rng: random.Random,
    phones: _Phones,
    year_ago: datetime,
    sun_share: float = SUN_SHARE,
) -> tuple[list[_Team], list[_Person]]:
    """Teams with their sizes and members; round-the-clock teams are the biggest."""
    if teams < 3 + len(LANGUAGE_TEAMS):
        raise ValueError(
            f"teams must be at least {3 + len(LANGUAGE_TEAMS)} (support-en, paid-support, "
            "the language teams, one more)"
        )
    sun = max(6, 3 * round(specialists * sun_share / 3))  # 60 of 1,000: ~20 per 8-hour group
    lang = max(2, round(specialists * 0.02))
    rest = specialists - 2 * sun - len(LANGUAGE_TEAMS) * lang
    n_std = teams - 2 - len(LANGUAGE_TEAMS)
    if rest < 4 * n_std:
        raise ValueError(f"{specialists} specialists are too few for {teams} teams")
    plan = [
        _Team(1, EN_TEAM, "sun", SUN_ZONE, ["en"], None),
        _Team(2, PAID_TEAM, "sun", SUN_ZONE, ["en", "ja", "fr", "de"], None),
    ]
    for language, (slug, tz, country) in LANGUAGE_TEAMS.items():
        plan.append(_Team(len(plan) + 1, slug, "lang", tz, [language], (country, None)))
    for n in range(n_std):
        tz, country, subdivision = STD_ZONES[n % len(STD_ZONES)]
        plan.append(
            _Team(len(plan) + 1, f"team-{n:03d}", "std", tz, ["en"], (country, subdivision))
        )
    sizes = [sun, sun, *[lang] * len(LANGUAGE_TEAMS)] + [
        rest // n_std + (1 if n < rest % n_std else 0) for n in range(n_std)
    ]
    people: list[_Person] = []

    def person(team_index: int, group: str, tz: str, languages: list[str], active: bool) -> int:
        pid = len(people) + 1
        joined = year_ago - timedelta(days=rng.randrange(30, 1500))
        people.append(
            _Person(
                id=pid,
                team=team_index,
                group=group,
                tz=tz,
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                contact=phones.new(ZONE_REGION[tz]),
                languages=languages,
                skills=sorted(rng.sample(SKILLS, rng.randint(1, 3))),
                active=active,
                joined=joined,
            )
        )
        return pid

    for index, (team, size) in enumerate(zip(plan, sizes, strict=True)):
        if team.kind == "sun":
            per_group = size // 3
            for g, (gname, start, end, zones) in enumerate(SUN_GROUPS):
                count = per_group + (size - 3 * per_group if g == 0 else 0)
                ids = []
                for k in range(count):
                    extra = SUN_EXTRA_LANGUAGE[gname]
                    if team.slug == PAID_TEAM and gname == "emea":
                        extra = rng.choice(["fr", "de"])
                    languages = ["en", extra] if rng.random() < 0.3 else ["en"]
                    ids.append(person(index, f"{team.slug}:{gname}", zones[k % 3], languages, True))
                team.groups.append((gname, start, end, ids))
                team.members.extend(ids)
        elif team.kind == "lang":
            for _ in range(size):
                team.members.append(
                    person(index, team.slug, team.tz, [*team.languages, "en"], True)
                )
        else:
            # Every third team had someone leave half a year ago (inactive, still in history).
            leaver = index % 3 == 0
            for k in range(size):
                langs = ["en", "es"] if rng.random() < 0.1 else ["en"]
                active = not (leaver and k == size - 1)
                team.members.append(person(index, team.slug, team.tz, langs, active))
    return plan, people


# -- the rota rows --------------------------------------------------------------------------


@dataclass
class _Rows:
    """Rows per table, in insertion order."""

    tables: dict[Any, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: Any, row: dict[str, Any]) -> int:
        rows = self.tables[table]
        row.setdefault("id", len(rows) + 1)
        rows.append(row)
        return int(row["id"])


def _audit(
    rows: _Rows,
    at: datetime,
    action: str,
    kind: str,
    rid: int,
    after: dict[str, Any] | None,
    effective_from: datetime | None = None,
    before: dict[str, Any] | None = None,
) -> None:
    rows.add(
        AuditEntry,
        {
            "at": at,
            "actor": "scheduler:rota-office",
            "actor_key_id": None,
            "action": action,
            "resource_type": kind,
            "resource_id": str(rid),
            "effective_from": effective_from,
            "before": before,
            "after": after,
            "note": None,
        },
    )


def _rotation(
    rows: _Rows,
    team: _Team,
    anchor: date,
    bounds: list[datetime],
    name: str,
    specs: list[dict[str, Any]],
) -> None:
    """A rotation re-versioned at each of `bounds` (the last version still runs)."""
    rid = rows.add(
        Rotation,
        {
            "team_id": team.id,
            "name": name,
            "anchor": anchor,
            "version": len(bounds),
            "created_at": bounds[0] - timedelta(days=7),
            "updated_at": bounds[-1] - timedelta(days=7),
        },
    )
    before = None
    for q, start in enumerate(bounds):
        spec = {
            "length_days": 1,
            "every_weeks": 1,
            "per_occurrence": 1,
            "turn_offset": 0,
            "run_on_holidays": False,
            "earns_lieu": False,
            "lieu_rule": None,
            **specs[q],
        }
        created = start - timedelta(days=7)
        rows.add(
            RotationVersionRow,
            {
                "rotation_id": rid,
                "seq": q + 1,
                **spec,
                "effective_from": start,
                "effective_until": bounds[q + 1] if q + 1 < len(bounds) else None,
                "created_at": created,
            },
        )
        after = {"name": name, "members": spec["members"], "days": spec["days"]}
        action = "create" if q == 0 else "update"
        _audit(rows, created, action, "rotation", rid, after, start, before)
        before = after


def _rota(
    rows: _Rows, plan: list[_Team], people: list[_Person], now: datetime, rng: random.Random
) -> None:
    """Teams, specialists, memberships and a year of rotation versions."""
    year_ago = now - timedelta(days=365)
    for team in plan:
        coverage: list[dict[str, Any]]
        if team.kind == "sun":
            all_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            coverage = [
                {
                    "days": all_days,
                    "start": "00:00",
                    "end": "00:00",
                    "min_staff": 8,
                    "language": "en",
                }
            ]
        elif team.kind == "lang":
            coverage = [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "start": "09:00",
                    "end": "18:00",
                    "min_staff": 3,
                    "language": team.languages[0],
                }
            ]
        else:
            coverage = [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "start": "08:00",
                    "end": "18:00",
                    "min_staff": 2,
                    "language": None,
                }
            ]
        rows.add(
            Team,
            {
                "id": team.id,
                "slug": team.slug,
                "name": team.slug.replace("-", " ").title(),
                "tz": team.tz,
                "languages": team.languages,
                "coverage": coverage,
                "holiday_country": team.holiday[0] if team.holiday else None,
                "holiday_subdivision": team.holiday[1] if team.holiday else None,
                "calendar_token": f"{rng.getrandbits(128):032x}",
                "version": 1,
                "created_at": year_ago - timedelta(days=400),
                "updated_at": year_ago,
            },
        )
        _audit(rows, year_ago - timedelta(days=400), "create", "team", team.id, {"slug": team.slug})
    for p in people:
        rows.add(
            Specialist,
            {
                "id": p.id,
                "name": p.name,
                "contact": p.contact,
                "tz": p.tz,
                "languages": p.languages,
                "skills": p.skills,
                "active": p.active,
                "calendar_token": f"{rng.getrandbits(128):032x}",
                "version": 1,
                "created_at": p.joined,
                "updated_at": now - timedelta(days=180) if not p.active else p.joined,
            },
        )
        rows.tables[TeamMember].append({"team_id": plan[p.team].id, "specialist_id": p.id})
    # Quarterly versions: q0 from a year ago, q3 (current) from about three months ago.
    bounds = [year_ago + timedelta(days=91 * q) for q in range(4)]
    quarters = range(len(bounds))
    for index, team in enumerate(plan):
        local_year_ago = year_ago.astimezone(ZoneInfo(team.tz)).date()
        anchor = local_year_ago - timedelta(days=local_year_ago.weekday())

        def rotation(
            name: str, specs: list[dict[str, Any]], team: _Team = team, anchor: date = anchor
        ) -> None:
            _rotation(rows, team, anchor, bounds, name, specs)

        if team.kind == "sun":
            for gname, start, end, ids in team.groups:
                joiners = set(ids[-2:]) if len(ids) >= 6 else set()  # joined at the 2nd quarter
                for i in joiners:
                    rows.tables[Specialist][i - 1]["created_at"] = bounds[1] - timedelta(days=20)
                members = [ids if q else [i for i in ids if i not in joiners] for q in quarters]
                hours = {"start_time": start, "end_time": end, "run_on_holidays": True}
                weekdays = {"days": WEEKDAYS, "assignment": "all", **hours}
                rotation(f"{gname} weekdays", [{"members": m, **weekdays} for m in members])
                weekend = {
                    "days": [5, 6],
                    "assignment": "turns",
                    "earns_lieu": True,
                    "lieu_rule": "most_staffed",
                    **hours,
                }
                rotation(
                    f"{gname} weekend",
                    [
                        {
                            "members": m,
                            "per_occurrence": max(1, math.ceil(len(m) * (0.5 if q < 2 else 0.55))),
                            **weekend,
                        }
                        for q, m in enumerate(members)
                    ],
                )
        elif team.kind == "lang":
            ids = team.members
            rotation(
                "weekdays",
                [
                    {
                        "members": ids,
                        "days": WEEKDAYS,
                        "start_time": "09:00",
                        "end_time": "17:30" if q < 2 else "18:00",
                        "assignment": "all",
                    }
                    for q in quarters
                ],
            )
            saturday = {
                "members": ids,
                "days": [5],
                "start_time": "10:00",
                "end_time": "16:00",
                "assignment": "turns",
                "per_occurrence": max(1, len(ids) // 6),
                "earns_lieu": True,
                "lieu_rule": "mon" if team.slug == "support-ja" else "most_staffed",
            }
            rotation("saturday", [saturday for _ in quarters])
        else:
            active = [i for i in team.members if people[i - 1].active]
            order = []
            for q in quarters:
                ids = team.members if q < 2 else active  # the leaver left at the third quarter
                moved = (2 * q) % len(ids)  # people move between early and late shifts
                order.append(ids[moved:] + ids[:moved])
            for name, first, hours_by_q in (
                ("early", True, (("08:00", "16:00"), ("07:00", "15:00"))),
                ("late", False, (("12:00", "20:00"), ("11:00", "19:00"))),
            ):
                specs = []
                for q, ids in enumerate(order):
                    half = ids[: len(ids) // 2] if first else ids[len(ids) // 2 :]
                    begin, finish = hours_by_q[q >= 2]
                    specs.append(
                        {
                            "members": half,
                            "days": WEEKDAYS,
                            "start_time": begin,
                            "end_time": finish,
                            "assignment": "all",
                        }
                    )
                rotation(name, specs)
            rule = ("most_staffed", "fri", "mon")[index % 3]
            weekend = {
                "days": [5, 6],
                "start_time": "09:00",
                "end_time": "17:00",
                "assignment": "turns",
                "run_on_holidays": True,
                "earns_lieu": True,
                "lieu_rule": rule,
            }
            rotation(
                "weekend",
                [
                    {"members": ids, "per_occurrence": 1 if q < 2 else 2, **weekend}
                    for q, ids in enumerate(order)
                ],
            )
            if index % 5 == 0:  # an on-call week: Monday 19:00 to the next Monday 07:00
                on_call = {
                    "days": [0],
                    "start_time": "19:00",
                    "end_time": "07:00",
                    "length_days": 7,
                    "assignment": "turns",
                }
                rotation("on call", [{"members": ids, **on_call} for ids in order])


def _overrides(
    rows: _Rows, plan: list[_Team], people: list[_Person], now: datetime, rng: random.Random
) -> None:
    """Leave (capped per group so coverage holds), covers, swaps, extras, manual days off."""
    year_ago = now - timedelta(days=365)
    first_day = year_ago.date()
    span = (now + timedelta(days=56)).date() - first_day
    active = [p for p in people if p.active]
    taken: defaultdict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    mine: defaultdict[int, list[tuple[datetime, datetime]]] = defaultdict(list)

    def override(kind: str, who: _Person, start: datetime, end: datetime, **extra: Any) -> None:
        created = min(start, now) - timedelta(days=rng.randrange(1, 30))
        oid = rows.add(
            OverrideRow,
            {
                "kind": kind,
                "specialist_id": who.id,
                "substitute_id": extra.get("substitute_id"),
                "team_id": extra.get("team_id"),
                "starts_at": start,
                "ends_at": end,
                "reason": extra.get("reason"),
                "swap_group": extra.get("swap_group"),
                "version": 1,
                "created_at": created,
                "updated_at": created,
            },
        )
        _audit(rows, created, "create", "override", oid, {"kind": kind, "specialist": who.id})

    for p in active:
        cap = 2 if plan[p.team].kind == "sun" else 3
        for _ in range(rng.choice([1, 2, 2, 3, 3, 4])):
            for _try in range(10):
                day = first_day + timedelta(days=rng.randrange(span.days))
                length = rng.choice([1, 1, 2, 3, 5, 5, 7, 10, 14])
                start = _local(day, "00:00", p.tz)
                end = _local(day + timedelta(days=length), "00:00", p.tz)
                overlapping = [1 for s, e in taken[p.group] if s < end and e > start]
                if len(overlapping) < cap and not any(s < end and e > start for s, e in mine[p.id]):
                    taken[p.group].append((start, end))
                    mine[p.id].append((start, end))
                    reason = rng.choice(["annual leave", "annual leave", "sick", "training"])
                    override("leave", p, start, end, reason=reason)
                    break
    by_team: defaultdict[int, list[_Person]] = defaultdict(list)
    for p in active:
        by_team[p.team].append(p)

    def weekday_in_range() -> date:
        while True:
            day = first_day + timedelta(days=rng.randrange(span.days))
            if day.weekday() < 5:
                return day

    for index, members in by_team.items():
        team = plan[index]
        for _ in range(len(members) // 3):  # covers: someone takes a colleague's day
            a, b = rng.sample(members, 2)
            if team.kind == "sun" and a.group == b.group:
                continue
            day = weekday_in_range()
            start = _local(day, "00:00", team.tz)
            end = _local(day + timedelta(days=1), "00:00", team.tz)
            override("cover", a, start, end, substitute_id=b.id, team_id=team.id, reason="cover")
        if team.kind != "std":
            continue
        for _ in range(2):  # swaps: two covers made together
            a, b = rng.sample(members, 2)
            d1 = weekday_in_range()
            d2 = d1 + timedelta(days=rng.choice([1, 2, 7, 8]))
            group = str(uuid.UUID(int=rng.getrandbits(128)))
            for who, sub, day in ((a, b, d1), (b, a, d2)):
                start = _local(day, "00:00", team.tz)
                end = _local(day + timedelta(days=1), "00:00", team.tz)
                override(
                    "cover", who, start, end, substitute_id=sub.id, team_id=team.id,
                    reason="swap", swap_group=group,
                )  # fmt: skip
        for _ in range(6):  # extras: a Saturday morning during a busy week
            who = rng.choice(members)
            day = first_day + timedelta(days=rng.randrange(span.days))
            day += timedelta(days=(5 - day.weekday()) % 7)
            start, end = _local(day, "10:00", team.tz), _local(day, "14:00", team.tz)
            override("extra", who, start, end, team_id=team.id, reason="busy week")
        for _ in range(4):  # days off in lieu a scheduler added by hand
            who = rng.choice(members)
            day = weekday_in_range()
            created = min(_local(day, "00:00", who.tz), now) - timedelta(days=10)
            rows.add(
                ManualDayOffRow,
                {
                    "specialist_id": who.id,
                    "day": day,
                    "note": "worked a public holiday",
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                },
            )


async def _lieu_adjustments(
    session: AsyncSession, now: datetime, rng: random.Random, rows: _Rows
) -> None:
    """Move or cancel some automatic days off in lieu of the past (real earning keys)."""
    start = now - timedelta(days=150)
    end = start + timedelta(days=28)
    snapshot = await load_snapshot(session, start, end)
    rota = snapshot.rota
    earnings = await asyncio.to_thread(
        lambda: earnings_from(rota, pre_lieu_shifts(rota, start, end))
    )
    for earning in earnings:
        roll = rng.random()
        if roll > 0.08:
            continue
        monday = earning.local_date + timedelta(days=7 - earning.local_date.weekday())
        new_date = None if roll < 0.03 else monday + timedelta(days=rng.randrange(5))
        rows.add(
            LieuAdjustmentRow,
            {
                "earning_key": earning.key,
                "specialist_id": earning.specialist_id,
                "new_date": new_date,
                "version": 1,
                "created_at": earning.start,
                "updated_at": earning.start,
            },
        )


# -- accounts -------------------------------------------------------------------------------


def _accounts(
    rows: _Rows, count: int, now: datetime, rng: random.Random, phones: _Phones
) -> list[tuple[int, str, str, str, list[str]]]:
    """Accounts with phones; returns (id, tier, language, region, phones) per account."""
    out = []
    payloads = rng.sample(range(100_000, 1_000_000), count)
    for n in range(count):
        region, language, _ = _weighted(rng, ACCOUNT_REGIONS)
        if rng.random() < 0.1:
            language = "en"
        preferred = None if rng.random() < 0.1 else language
        tier = "paid" if rng.random() < 0.1 else "standard"
        created = now - timedelta(days=rng.randrange(30, 2000), seconds=rng.randrange(86400))
        numbers = [phones.new(region) for _ in range(1 if rng.random() < 0.55 else 2)]
        payload = str(payloads[n])
        aid = rows.add(
            Account,
            {
                "id": n + 1,
                "number": payload + luhn_check_digit(payload),
                "name": f"{rng.choice(WORDS)} {rng.choice(TRADES)}{rng.choice(SUFFIXES)}",
                "tier": tier,
                "preferred_language": preferred,
                "external_ref": f"crm-{n + 1:07d}" if rng.random() < 0.7 else None,
                "created_at": created,
                "updated_at": created + timedelta(days=rng.randrange(30)),
                "version": 1,
            },
        )
        for position, e164 in enumerate(numbers):
            rows.tables[AccountPhone].append(
                {"account_id": aid, "e164": e164, "position": position}
            )
        out.append((aid, tier, language, region, numbers))
    return out


# -- a year of calls ------------------------------------------------------------------------


OUTCOMES = (("answered", 78), ("voicemail", 8), ("callback", 4), ("abandoned", 7), ("ended", 3))
NOTES = (
    "Payout delayed by bank holiday; explained timeline.",
    "Asked about invoice VAT lines; sent a copy.",
    "API key rotated on request.",
    "Refund issued for a duplicate charge.",
    "Wants a call back next week about the plan change.",
)


def _sid(rng: random.Random, prefix: str = "CA") -> str:
    return f"{prefix}{rng.getrandbits(128):032x}"


def _calls(
    rows: _Rows,
    count: int,
    accounts: list[tuple[int, str, str, str, list[str]]],
    plan: list[_Team],
    people: list[_Person],
    now: datetime,
    rng: random.Random,
    phones: _Phones,
) -> None:
    """A year of calls through the support flow, with everything they leave behind."""
    year_ago = now - timedelta(days=365)
    by_slug = {t.slug: t for t in plan}
    contact = {p.id: p.contact for p in people}
    is_active = {p.id: p.active for p in people}
    group_ids = {
        (t.slug, g): [i for i in ids if is_active[i]] for t in plan for g, _, _, ids in t.groups
    }
    team_ids = {t.slug: [i for i in t.members if is_active[i]] for t in plan}
    strangers = [(phones.new(r), r) for r, _, _ in ACCOUNT_REGIONS for _ in range(200)]
    weights = [1.0 / (rank + 1) ** 0.7 for rank in range(len(accounts))]
    rng.shuffle(weights)
    picked = rng.choices(range(len(accounts)), weights=weights, k=count)
    dublin = ZoneInfo(SUN_ZONE)
    zones = {region: ZoneInfo(tz) for region, tz in REGION_ZONE.items()}
    idle: dict[int, datetime] = {}
    steps, events, attempts = rows.tables[CallStep], rows.tables[CallStatusEvent], []
    queue, work, notes = rows.tables[QueueEntry], rows.tables[WorkItem], rows.tables[AccountNote]
    # (started, account index or -1 for a number without account, caller, tie-break)
    arrivals: list[tuple[datetime, int, str, int]] = []
    for n in range(count):
        if rng.random() < 0.85:
            index = picked[n]
            region, caller = accounts[index][3], rng.choice(accounts[index][4])
        else:
            index = -1
            caller, region = rng.choice(strangers)
        # Mostly in the caller's business hours.
        while True:
            started = year_ago + timedelta(seconds=rng.randrange(365 * 86400 - 3600))
            local = started.astimezone(zones[region])
            busy = 8 <= local.hour < 19 and local.weekday() < 5
            if rng.random() < (1.0 if busy else 0.12):
                break
        arrivals.append((started, index, caller, n))
    arrivals.sort()  # ids in order of time, as a live system assigns them
    for n, (started, index, caller, _) in enumerate(arrivals):
        known = index >= 0
        aid, tier, language = accounts[index][:3] if known else (0, "standard", "en")
        language = language if rng.random() < 0.9 else "en"
        topic, digit, _ = _weighted(rng, TOPICS)
        digit_language = {"en": "1", "ja": "2", "fr": "3", "de": "4"}[language]
        if tier == "paid":
            team = PAID_TEAM
        elif language == "en":
            team = EN_TEAM
        else:
            lang_team = by_slug[LANGUAGE_TEAMS[language][0]]
            local = started.astimezone(ZoneInfo(lang_team.tz))
            open_now = local.weekday() < 5 and 9 <= local.hour < 18
            team = lang_team.slug if open_now else EN_TEAM  # overflow
        team_plan = by_slug[team]
        if team_plan.kind == "sun":
            hour = started.astimezone(dublin).hour
            group = SUN_GROUPS[0 if hour < 8 else 1 if hour < 16 else 2][0]
            staff = group_ids[(team, group)]
        else:
            staff = team_ids[team]
        outcome = _weighted(rng, OUTCOMES)[0]
        cid = n + 1
        at = started
        path: list[tuple[str, str | None]] = [
            ("welcome", None),
            ("choose_language", None),
            ("choose_language", digit_language),
            ("identify", None),
        ]
        if known:
            path.append(("identify", f"account {aid}"))
        elif rng.random() < 0.5:
            path += [("identify", "no account found"), ("identify", "no input")]
        else:
            path.append(("identify", "no account found"))
        call: dict[str, Any] = {
            "id": cid,
            "sid": _sid(rng),
            "from_number": caller,
            "to_number": TO_NUMBER,
            "account_id": aid or None,
            "flow": FLOW,
            "language": language,
            "topic": None,
            "team": None,
            "status": "completed",
            "status_seq": 2,
            "outcome": outcome,
            "started_at": started,
            "answered_at": None,
            "ended_at": None,
            "duration": None,
            "answered_by_id": None,
            "voicemail_url": None,
            "voicemail_duration": None,
            "voicemail_transcription": None,
            "callback_number": None,
            "routed_at": None,
            "created_at": started,
            "updated_at": started,
        }
        routed = outcome != "ended" and not (outcome == "abandoned" and rng.random() < 0.5)
        if outcome == "ended" or routed:
            path += [("topic", None), ("topic", digit)]
            call["topic"] = topic
        at += timedelta(seconds=rng.randrange(25, 60))
        batches: list[tuple[datetime, list[int], str]] = []
        end = at
        if routed:
            call["routed_at"] = at
            call["team"] = team
            path.append(("connect", None))
            waited = timedelta(seconds=rng.randrange(20, 240)) if rng.random() < 0.15 else None
            if outcome == "answered":
                if waited:
                    at += waited
                rounds = 1 if rng.random() < 0.8 else 2
                for b in range(rounds):
                    people_rung = rng.sample(staff, min(2, len(staff)))
                    result = "accepted" if b == rounds - 1 else "no-answer"
                    batches.append((at, people_rung, result))
                    if result == "no-answer":
                        path.append(("connect", f"{team}: no_answer"))
                    at += timedelta(seconds=rng.randrange(5, 20) if result == "accepted" else 22)
                talk = timedelta(seconds=int(rng.expovariate(1 / 420)) + 30)
                winner = batches[-1][1][0]
                call.update(answered_at=at, answered_by_id=winner, outcome="answered", status_seq=2)
                path.append(("connect", f"{team}: answered by {winner}"))
                end = at + talk
                idle[winner] = max(idle.get(winner, end), end)
                if known and rng.random() < 0.3:
                    notes.append(
                        {
                            "account_id": aid,
                            "author": people[winner - 1].name,
                            "author_key_id": None,
                            "body": rng.choice(NOTES),
                            "created_at": end + timedelta(minutes=2),
                        }
                    )
            elif outcome in ("voicemail", "callback"):
                if rng.random() < 0.7:
                    batches.append((at, rng.sample(staff, min(2, len(staff))), "no-answer"))
                    path.append(("connect", f"{team}: no_answer"))
                    at += timedelta(seconds=22)
                waited = waited or timedelta(seconds=rng.randrange(30, 300))
                at += waited
                if outcome == "voicemail":
                    length = rng.randrange(8, 120)
                    url = f"https://api.twilio.com/recordings/{_sid(rng, 'RE')}"
                    path += [
                        ("connect", f"{team}: queue_timeout"),
                        ("voicemail", None),
                        ("voicemail", f"recording {url} ({length} s)"),
                        ("goodbye", None),
                    ]
                    call.update(
                        voicemail_url=url,
                        voicemail_duration=length,
                        voicemail_transcription="Hi, please call me back about my payout.",
                    )
                    end = at + timedelta(seconds=length + 5)
                else:
                    path += [
                        ("connect", f"{team}: callback_requested"),
                        ("take_callback", None),
                        ("take_callback", "1"),
                        ("end_call", None),
                    ]
                    call["callback_number"] = caller
                    end = at + timedelta(seconds=15)
            else:  # abandoned while ringing or waiting
                batches.append((at, rng.sample(staff, min(2, len(staff))), "canceled"))
                end = at + timedelta(seconds=rng.randrange(3, 25))
            if waited:
                result = {"answered": "connected", "voicemail": "timeout"}.get(outcome, outcome)
                queue.append(
                    {
                        "call_id": cid,
                        "team": team,
                        "language": language,
                        "skill": topic,
                        "priority": 1 if tier == "paid" else 0,
                        "enqueued_at": call["routed_at"],
                        "deadline": call["routed_at"] + timedelta(seconds=300),
                        "state": "left",
                        "announced_at": call["routed_at"],
                        "left_at": call["routed_at"] + waited,
                        "result": result,
                        "updated_at": call["routed_at"] + waited,
                    }
                )
            if outcome in ("voicemail", "callback"):
                done = end < now - timedelta(days=2) or rng.random() < 0.5
                claimer = rng.choice(staff)
                work.append(
                    {
                        "kind": outcome,
                        "call_id": cid,
                        "account_id": aid or None,
                        "team": team,
                        "language": language,
                        "number": caller,
                        "status": "done" if done else "open",
                        "claimed_by_id": claimer if done else None,
                        "claimed_at": end + timedelta(hours=1) if done else None,
                        "completed_at": end + timedelta(hours=2) if done else None,
                        "outcome": rng.choice(["resolved", "resolved", "no_answer"])
                        if done
                        else None,
                        "note": None,
                        "version": 1,
                        "created_at": end,
                        "updated_at": end + timedelta(hours=2) if done else end,
                    }
                )
        else:
            end = at + timedelta(seconds=rng.randrange(5, 30))
        for batch, (rung_at, ids, result) in enumerate(batches, start=1):
            for k, sid in enumerate(ids):
                res = result if result != "accepted" else ("accepted" if k == 0 else "canceled")
                attempts.append(
                    {
                        "call_id": cid,
                        "specialist_id": sid,
                        "team": team,
                        "batch": batch,
                        "contact": contact[sid],
                        "rung_at": rung_at,
                        "ended_at": end if res == "accepted" else rung_at + timedelta(seconds=20),
                        "result": res,
                        "leg_sid": _sid(rng) if res in ("accepted", "canceled") else None,
                    }
                )
        call.update(
            ended_at=end,
            duration=int((end - started).total_seconds()),
            updated_at=end + timedelta(seconds=1),
        )
        step_at = started
        for seq, (step, heard) in enumerate(path):
            steps.append({"call_id": cid, "seq": seq, "step": step, "input": heard, "at": step_at})
            step_at += timedelta(seconds=3 if heard is None else 1)
        for seq, status in enumerate(("ringing", "in-progress", "completed")):
            at_ = (started, started + timedelta(seconds=1), end)[seq]
            events.append(
                {
                    "call_id": cid,
                    "status": status,
                    "sequence": seq,
                    "at": at_,
                    "received_at": at_ + timedelta(milliseconds=rng.randrange(50, 900)),
                }
            )
        rows.tables[Call].append(call)
    rows.tables[RingAttempt] = attempts
    for table in (CallStatusEvent, RingAttempt, QueueEntry, WorkItem, AccountNote):
        for i, row in enumerate(rows.tables[table], start=1):
            row["id"] = i
    for sid, since in sorted(idle.items()):
        rows.tables[SpecialistPresence].append(
            {
                "specialist_id": sid,
                "state": "free",
                "call_id": None,
                "attempt_id": None,
                "held_until": None,
                "idle_since": since,
                "updated_at": since,
            }
        )


# -- building -------------------------------------------------------------------------------


INSERT_PHASES: tuple[tuple[str, tuple[type[Base], ...]], ...] = (
    (
        "rota",
        (
            Team,
            Specialist,
            TeamMember,
            Rotation,
            RotationVersionRow,
            OverrideRow,
            ManualDayOffRow,
            AuditEntry,
        ),
    ),
    ("accounts", (Account, AccountPhone, AccountNote)),
    (
        "calls",
        (Call, CallStatusEvent, CallStep, RingAttempt, QueueEntry, WorkItem, SpecialistPresence),
    ),
)


async def _insert(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Core executemany on the model's table.

    Not `insert(Model)`: the ORM's bulk insert leaves out None values, so rows that differ
    in which columns are None break the batch into one statement per run of alike rows.
    """
    table = Base.metadata.tables[model.__tablename__]
    for i in range(0, len(rows), 5000):
        await session.execute(insert(table), rows[i : i + 5000])


def _delete_sqlite(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)


async def reset_database(url: str) -> None:
    """Drop everything: delete the SQLite file, or recreate PostgreSQL's public schema."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            await asyncio.to_thread(_delete_sqlite, parsed.database)
        return
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def settle_database(db: Database) -> None:
    """Leave a freshly built database as a long-running one would be before measuring.

    SQLite: the WAL checkpointed into the file. PostgreSQL: VACUUM (ANALYZE), so that the
    planner has statistics, the visibility map is set, and autovacuum, woken by the bulk
    inserts, does not run beside the measurements (it did: a lookup's p50 moved from 1.4 to
    3.3 ms between two runs on the same data).
    """
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM (ANALYZE)")


async def database_size(db: Database) -> int:
    """Bytes on disk: the SQLite file (with its WAL) or pg_database_size."""
    async with db.transaction() as s:
        if db.is_sqlite:
            path = Path(db.engine.url.database or "")
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        return int(await s.scalar(text("SELECT pg_database_size(current_database())")) or 0)


async def _fix_sequences(session: AsyncSession) -> None:
    """Rows went in with explicit ids: move PostgreSQL's sequences past them."""
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key:
            name = table.name
            await session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) FROM {name}")
            )


async def coverage(
    db: Database, now: datetime, teams: Sequence[str], hours: int = 168
) -> dict[str, list[int]]:
    """English speakers with a dialable contact on shift in each team, every hour from now."""
    out: dict[str, list[int]] = {}
    async with db.transaction() as s:
        for team in teams:
            counts = []
            for h in range(hours):
                found = await on_shift(s, now + timedelta(hours=h), team=team, language="en")
                counts.append(
                    len({o.specialist_id for o in found if contact_kind(o.contact) == "number"})
                )
            out[team] = counts
    return out


async def decisions(db: Database, now: datetime, teams: Sequence[str]) -> dict[str, list[int]]:
    """Candidates of a routing decision (English, payments) at now +0, +6, +12, +18 hours."""
    out: dict[str, list[int]] = {}
    async with db.transaction() as s:
        for team in teams:
            out[team] = []
            for h in (0, 6, 12, 18):
                request = RouteRequest(team, "en", skill="payments", tier="standard", batch_size=2)
                decision = await consider(s, request, now=now + timedelta(hours=h))
                out[team].append(len(decision.candidates))
    return out


async def build_dataset(
    database_url: str,
    *,
    accounts: int = 10_000,
    specialists: int = 1_000,
    teams: int = 50,
    now: datetime | None = None,
    calls: int = 50_000,
    reset: bool = False,
    seed: int = 2026,
    sun_share: float = SUN_SHARE,
) -> Dataset:
    """Migrate the database and fill it (see the module docstring); `reset` drops all first.

    Without `reset`, a database that already holds accounts, teams or calls is refused
    (DatasetExists). `now` (default: the current time) is the end of the year of history
    and the centre of the materialised shift window.
    """
    started = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    rng = random.Random(seed)
    seconds: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        seconds[name] = time.perf_counter() - mark
        mark = time.perf_counter()

    if reset:
        await reset_database(database_url)
    await asyncio.to_thread(upgrade, database_url)
    db = Database.from_url(database_url)
    try:
        async with db.transaction() as s:
            for name in ("accounts", "teams", "specialists", "calls"):
                if await s.scalar(select(func.count()).select_from(Base.metadata.tables[name])):
                    raise DatasetExists(
                        f"{database_url} already holds {name}: "
                        "pass reset=True (--reset) to drop everything first"
                    )
        lap("migrate")
        phones = _Phones(rng)
        year_ago = now - timedelta(days=365)
        plan, people = _plan(specialists, teams, rng, phones, year_ago, sun_share)
        rows = _Rows()
        _rota(rows, plan, people, now, rng)
        _overrides(rows, plan, people, now, rng)
        account_rows = _accounts(rows, accounts, now, rng, phones)
        _calls(rows, calls, account_rows, plan, people, now, rng, phones)
        audit = sorted(rows.tables[AuditEntry], key=lambda row: row["at"])
        for i, row in enumerate(audit, start=1):
            row["id"] = i  # ids in order of time, as a live system assigns them
        rows.tables[AuditEntry] = audit
        lap("generate")
        for phase, tables in INSERT_PHASES:
            async with db.transaction() as s:
                for table in tables:
                    await _insert(s, table, rows.tables[table])
            lap(f"insert {phase}")
        async with db.transaction() as s:
            await _lieu_adjustments(s, now, rng, rows)
            await _insert(s, LieuAdjustmentRow, rows.tables[LieuAdjustmentRow])
        lap("lieu adjustments")
        async with db.transaction() as s:
            shifts = await rematerialise(s, now)
            _, api_key = await create_key(s, name="bench", role="admin", now=now)
            if not db.is_sqlite:
                await _fix_sequences(s)
        lap("materialise")
        await settle_database(db)
        lap("analyze")
        size = await database_size(db)
        hourly = await coverage(db, now, (EN_TEAM, PAID_TEAM))
        candidates = await decisions(db, now, (EN_TEAM, PAID_TEAM))
        lap("verify")
    finally:
        await db.dispose()
    counts = {
        getattr(table, "__tablename__", str(table)): len(found)
        for table, found in rows.tables.items()
    }
    counts["shift_instances"] = shifts
    callers = [e for _, _, _, _, numbers in account_rows for e in numbers]
    paid = [e for _, tier, _, _, numbers in account_rows if tier == "paid" for e in numbers]
    numbers = [str(r["number"]) for r in rows.tables[Account]]
    if not all(is_valid_account_number(n) for n in numbers):
        raise RuntimeError("an account number fails its Luhn check")
    warnings = [
        f"{team}: only {min(c)} English speakers on shift in some hour of the next week"
        for team, c in hourly.items()
        if min(c) < MIN_ON_SHIFT
    ] + [
        f"{team}: a routing decision found no candidates at +{6 * i} h"
        for team, found in candidates.items()
        for i, n in enumerate(found)
        if n == 0
    ]
    return Dataset(
        database_url=database_url,
        now=now,
        to_number=TO_NUMBER,
        callers=callers,
        paid_callers=paid,
        account_numbers=numbers,
        api_key=api_key,
        counts=counts,
        on_shift={team: (min(c), statistics.median(c), max(c)) for team, c in hourly.items()},
        candidates=candidates,
        seconds=seconds,
        build_seconds=time.perf_counter() - started,
        size_bytes=size,
        warnings=warnings,
    )


def report(ds: Dataset) -> None:
    """Print what was built."""
    kind = ds.database_url.split("://", 1)[0]
    print(f"database: {kind}, {ds.size_bytes / 1e6:.1f} MB; now = {ds.now.isoformat()}")
    print(f"built in {ds.build_seconds:.1f} s (" + ", ".join(
        f"{k} {v:.1f}" for k, v in ds.seconds.items()
    ) + ")")  # fmt: skip
    width = max(len(k) for k in ds.counts)
    for name, n in ds.counts.items():
        print(f"  {name:<{width}} {n:>9,}")
    print(
        f"callers: {len(ds.callers):,} numbers ({len(ds.paid_callers):,} paid); to {ds.to_number}"
    )
    for team, (low, median, high) in ds.on_shift.items():
        print(
            f"{team}: English speakers on shift, each hour of the next 7 days: "
            f"min {low}, median {median:g}, max {high}; routing candidates at "
            f"+0/+6/+12/+18 h: {'/'.join(map(str, ds.candidates[team]))}"
        )
    for warning in ds.warnings:
        print(f"WARNING: {warning}")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_url = f"sqlite+aiosqlite:////tmp/bench-dataset-{os.getpid()}.db"
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--specialists", type=int, default=1_000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument(
        "--sun-share",
        type=float,
        default=SUN_SHARE,
        help="share of the specialists in each round-the-clock team (default %(default)s)",
    )
    parser.add_argument(
        "--now", type=datetime.fromisoformat, default=None, help="ISO instant (default: now)"
    )
    parser.add_argument("--reset", action="store_true", help="drop everything in the database")
    parser.add_argument("--print-caller", action="store_true", help="print one caller number")
    args = parser.parse_args()
    ds = asyncio.run(
        build_dataset(
            args.database_url,
            accounts=args.accounts,
            specialists=args.specialists,
            teams=args.teams,
            now=args.now,
            calls=args.calls,
            reset=args.reset,
            sun_share=args.sun_share,
        )
    )
    report(ds)
    if args.print_caller:
        print(f"caller: {ds.callers[0]}  paid caller: {ds.paid_callers[0]}  api key: {ds.api_key}")


if __name__ == "__main__":
    main()
