"""Benchmark: `on-shift` lookup time with many specialists, teams and a year of rota history.

Builds a database (SQLite file by default, or BENCH_DATABASE_URL) with T teams of S/T
specialists, each team with a weekday rotation re-versioned every month for a year (the
history), a weekend turns rotation earning days off in lieu, and a few hundred overrides;
materialises the window and times `app.rota.lookup.on_shift` for random teams at random
instants inside the window (the indexed path) and outside it (the calculated path).

    .venv/bin/python -m bench.rota_lookup --specialists 1000 --teams 50
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from app.core.db import Database
from app.core.schema import upgrade
from app.models.rota import (
    OverrideRow,
    Rotation,
    RotationVersionRow,
    Specialist,
    Team,
    TeamMember,
)
from app.rota.lookup import on_shift
from app.rota.materialise import rematerialise

ZONES = ["America/Los_Angeles", "Europe/Dublin", "Asia/Tokyo", "Europe/Berlin", "Australia/Sydney"]


async def build(db: Database, specialists: int, teams: int, now: datetime) -> None:
    """Insert the rota data set."""
    year_ago = now - timedelta(days=365)
    anchor = (year_ago - timedelta(days=year_ago.weekday())).date()
    per_team = specialists // teams
    async with db.transaction() as s:
        await s.execute(
            insert(Team),
            [
                {
                    "id": t + 1,
                    "slug": f"team-{t:03d}",
                    "name": f"Team {t}",
                    "tz": ZONES[t % len(ZONES)],
                    "languages": ["en"],
                    "coverage": [
                        {
                            "days": ["mon", "tue", "wed", "thu", "fri"],
                            "start": "08:00",
                            "end": "18:00",
                            "min_staff": 2,
                            "language": None,
                        }
                    ],
                    "holiday_country": None,
                    "holiday_subdivision": None,
                    "calendar_token": f"t{t}",
                    "version": 1,
                    "created_at": year_ago,
                    "updated_at": year_ago,
                }
                for t in range(teams)
            ],
        )
        await s.execute(
            insert(Specialist),
            [
                {
                    "id": i + 1,
                    "name": f"Specialist {i}",
                    "contact": f"+1415555{i % 10000:04d}",
                    "tz": ZONES[i % len(ZONES)],
                    "languages": ["en", "fr"] if i % 3 else ["en"],
                    "skills": ["payments"] if i % 2 else ["billing"],
                    "active": True,
                    "calendar_token": f"s{i}",
                    "version": 1,
                    "created_at": year_ago,
                    "updated_at": year_ago,
                }
                for i in range(specialists)
            ],
        )
        await s.execute(
            insert(TeamMember),
            [
                {"team_id": (i // per_team) % teams + 1, "specialist_id": i + 1}
                for i in range(specialists)
            ],
        )
        rotations, versions, overrides = [], [], []
        rid = vid = 0
        for t in range(teams):
            members = [t * per_team + k + 1 for k in range(per_team)]
            rid += 1
            rotations.append(
                {
                    "id": rid,
                    "team_id": t + 1,
                    "name": "weekdays",
                    "anchor": anchor,
                    "version": 1,
                    "created_at": year_ago,
                    "updated_at": year_ago,
                }
            )
            # A year of history: the weekday rotation was re-versioned every month.
            for month in range(13):
                vid += 1
                start = year_ago + timedelta(days=30 * month)
                until = year_ago + timedelta(days=30 * (month + 1)) if month < 12 else None
                versions.append(
                    {
                        "id": vid,
                        "rotation_id": rid,
                        "seq": month + 1,
                        "members": members[: per_team // 2 + month % 2],
                        "days": [0, 1, 2, 3, 4],
                        "start_time": "08:00",
                        "end_time": "16:00",
                        "length_days": 1,
                        "every_weeks": 1,
                        "assignment": "all",
                        "per_occurrence": 1,
                        "turn_offset": 0,
                        "run_on_holidays": False,
                        "earns_lieu": False,
                        "lieu_rule": None,
                        "effective_from": start,
                        "effective_until": until,
                        "created_at": start,
                    }
                )
            rid += 1
            rotations.append(
                {
                    "id": rid,
                    "team_id": t + 1,
                    "name": "weekend",
                    "anchor": anchor,
                    "version": 1,
                    "created_at": year_ago,
                    "updated_at": year_ago,
                }
            )
            vid += 1
            versions.append(
                {
                    "id": vid,
                    "rotation_id": rid,
                    "seq": 1,
                    "members": members[per_team // 2 :],
                    "days": [5, 6],
                    "start_time": "09:00",
                    "end_time": "17:00",
                    "length_days": 1,
                    "every_weeks": 1,
                    "assignment": "turns",
                    "per_occurrence": 1,
                    "turn_offset": 0,
                    "run_on_holidays": True,
                    "earns_lieu": True,
                    "lieu_rule": "most_staffed",
                    "effective_from": year_ago,
                    "effective_until": None,
                    "created_at": year_ago,
                }
            )
        rng = random.Random(7)
        for n in range(specialists // 2):
            who = rng.randrange(specialists) + 1
            start = year_ago + timedelta(days=rng.randrange(400), hours=rng.randrange(24))
            overrides.append(
                {
                    "id": n + 1,
                    "kind": "leave",
                    "specialist_id": who,
                    "substitute_id": None,
                    "team_id": None,
                    "starts_at": start,
                    "ends_at": start + timedelta(days=2),
                    "reason": "bench",
                    "swap_group": None,
                    "version": 1,
                    "created_at": start,
                    "updated_at": start,
                }
            )
        await s.execute(insert(Rotation), rotations)
        await s.execute(insert(RotationVersionRow), versions)
        await s.execute(insert(OverrideRow), overrides)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> None:
    """Build, materialise, time."""
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    url = args.database_url
    if not url:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database.from_url(url)
    try:
        t0 = time.perf_counter()
        await build(db, args.specialists, args.teams, now)
        t1 = time.perf_counter()
        async with db.transaction() as s:
            count = await rematerialise(s, now)
        t2 = time.perf_counter()
        print(f"data: {args.specialists} specialists, {args.teams} teams, a year of history")
        print(f"build {t1 - t0:.2f} s; materialise {count} shifts in {t2 - t1:.2f} s")
        writes: list[float] = []
        for n in range(3):
            async with db.transaction() as s:
                started = time.perf_counter()
                await rematerialise(s, now, teams={f"team-{n:03d}"})
                writes.append(time.perf_counter() - started)
        print(
            f"rota write, refresh of stored shifts: {statistics.median(writes):.2f} s (median of 3)"
        )
        rng = random.Random(1)
        for label, offset_days in (
            ("indexed (inside window)", 3),
            ("calculated (beyond window)", 120),
        ):
            samples: list[float] = []
            found = 0
            for _ in range(args.lookups):
                team = f"team-{rng.randrange(args.teams):03d}"
                at = now + timedelta(days=offset_days, minutes=rng.randrange(7 * 24 * 60))
                async with db.transaction() as s:
                    started = time.perf_counter()
                    result = await on_shift(s, at, team=team, language="en")
                    samples.append((time.perf_counter() - started) * 1000)
                found += len(result)
                if offset_days > 100 and len(samples) >= args.lookups // 10:
                    break
            print(
                f"{label}: n={len(samples)} p50 {statistics.median(samples):.2f} ms "
                f"p95 {_pct(samples, 0.95):.2f} ms p99 {_pct(samples, 0.99):.2f} ms "
                f"(avg {found / len(samples):.1f} on shift)"
            )
    finally:
        await db.dispose()


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--specialists", type=int, default=1000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--database-url", default="")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
