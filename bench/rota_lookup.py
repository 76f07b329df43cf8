"""Benchmark: `on-shift` lookup time with many specialists, teams and a year of rota history.

Builds a database (SQLite file by default, or BENCH_DATABASE_URL) with T teams of S/T
specialists, each team with a weekday rotation re-versioned every month for a year (the
history), a weekend turns rotation earning days off in lieu, and a few hundred overrides;
materialises the window and times `app.rota.lookup.on_shift` for random teams at random
instants inside the window (the indexed path) and outside it (the calculated path).

    .venv/bin/python -m bench.rota_lookup --specialists 1000 --teams 50
    .venv/bin/python -m bench.rota_lookup --grid     # 100/1,000/10,000 x 1/10/100 teams
    .venv/bin/python -m bench.rota_lookup --grid --reset --database-url postgresql+asyncpg://...

The grid prints a markdown table per data set and the growth of p50/p95/p99 from 1,000 to
10,000 specialists at each team count.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

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
from bench.dataset import reset_database, settle_database

ZONES = ["America/Los_Angeles", "Europe/Dublin", "Asia/Tokyo", "Europe/Berlin", "Australia/Sydney"]
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
GRID_SPECIALISTS = (100, 1000, 10000)
GRID_TEAMS = (1, 10, 100)
GRID_LOOKUPS = 300
GRID_CALCULATED = 3


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


@dataclass
class Result:
    """What one data set measured (milliseconds)."""

    specialists: int
    teams: int
    build_s: float
    materialise_s: float
    shifts: int
    indexed_ms: list[float]
    indexed_found: float  # average on shift (in English) per indexed lookup
    calculated_ms: list[float]
    calculated_found: float
    refresh_s: list[float] = field(default_factory=list)


async def _lookups(
    db: Database, teams: int, count: int, offset_days: int, rng: random.Random
) -> tuple[list[float], float]:
    """Milliseconds per lookup of a random team at a random instant of a week; avg found."""
    samples: list[float] = []
    found = 0
    for _ in range(count):
        team = f"team-{rng.randrange(teams):03d}"
        at = NOW + timedelta(days=offset_days, minutes=rng.randrange(7 * 24 * 60))
        async with db.transaction() as s:
            started = time.perf_counter()
            result = await on_shift(s, at, team=team, language="en")
            samples.append((time.perf_counter() - started) * 1000)
        found += len(result)
    return samples, found / max(1, count)


async def bench(
    url: str | None,
    specialists: int,
    teams: int,
    *,
    lookups: int,
    calculated: int,
    refreshes: int,
    reset: bool,
) -> Result:
    """Build one data set in the database at `url`, materialise it and time lookups."""
    async with fresh_database(url, reset=reset) as db:
        t0 = time.perf_counter()
        await build(db, specialists, teams, NOW)
        t1 = time.perf_counter()
        async with db.transaction() as s:
            count = await rematerialise(s, NOW)
        t2 = time.perf_counter()
        await settle_database(db)
        writes: list[float] = []
        for n in range(refreshes):
            async with db.transaction() as s:
                started = time.perf_counter()
                await rematerialise(s, NOW, teams={f"team-{n % teams:03d}"})
                writes.append(time.perf_counter() - started)
        rng = random.Random(1)
        await _lookups(db, teams, max(1, lookups // 10), 3, random.Random(2))  # warm up
        indexed, indexed_found = await _lookups(db, teams, lookups, 3, rng)
        slow, slow_found = await _lookups(db, teams, calculated, 120, rng)
        return Result(
            specialists,
            teams,
            t1 - t0,
            t2 - t1,
            count,
            indexed,
            indexed_found,
            slow,
            slow_found,
            writes,
        )


def database_options(parser: argparse.ArgumentParser) -> None:
    """--database-url and --reset, for `fresh_database`."""
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument(
        "--reset", action="store_true", help="empty the --database-url first (deletes its data)"
    )


@asynccontextmanager
async def fresh_database(url: str | None, *, reset: bool) -> AsyncIterator[Database]:
    """A migrated database without data for one data set, disposed of afterwards.

    At `url` (emptied first when `reset`), or without one in a temporary SQLite file that
    is deleted afterwards.
    """
    tmp = None if url else Path(tempfile.mkdtemp())
    if tmp is not None:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    assert url is not None
    try:
        if reset:
            await reset_database(url)
        await asyncio.to_thread(upgrade, url)
        db = Database.from_url(url)
        try:
            async with db.transaction() as s:
                if await s.scalar(select(func.count()).select_from(Specialist)):
                    raise SystemExit(f"{url} already holds data: pass --reset to empty it first")
            yield db
        finally:
            await db.dispose()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _stats(ms: list[float]) -> str:
    if not ms:
        return "n=0"
    return (
        f"n={len(ms)} p50 {_pct(ms, 0.5):.2f} ms "
        f"p95 {_pct(ms, 0.95):.2f} ms p99 {_pct(ms, 0.99):.2f} ms"
    )


def report(r: Result) -> None:
    """Print one data set's results."""
    print(f"data: {r.specialists} specialists, {r.teams} teams, a year of history")
    print(f"build {r.build_s:.2f} s; materialise {r.shifts} shifts in {r.materialise_s:.2f} s")
    if r.refresh_s:
        print(
            f"rota write, refresh of stored shifts: {statistics.median(r.refresh_s):.2f} s "
            f"(median of {len(r.refresh_s)})"
        )
    print(f"indexed (inside window): {_stats(r.indexed_ms)} (avg {r.indexed_found:.1f} on shift)")
    print(
        f"calculated (beyond window): {_stats(r.calculated_ms)} "
        f"(avg {r.calculated_found:.1f} on shift)"
    )


def grid_table(results: list[Result], kind: str, lookups: int) -> None:
    """The grid as a markdown table, and the growth from 1,000 to 10,000 per team count."""
    print(
        f"\n{kind}: `on_shift(team, language)` at a random instant of a week, {lookups} "
        f"indexed lookups per data set (inside the materialised window); calculated: "
        f"beyond it, from the rules; ms"
    )
    print()
    print("| specialists | teams | on shift (avg) | p50 | p95 | p99 | max | calculated p50 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        ms = r.indexed_ms
        calc = f"{statistics.median(r.calculated_ms):.1f}" if r.calculated_ms else "-"
        print(
            f"| {r.specialists:,} | {r.teams} | {r.indexed_found:.1f} | "
            f"{_pct(ms, 0.5):.2f} | {_pct(ms, 0.95):.2f} | {_pct(ms, 0.99):.2f} | "
            f"{max(ms):.2f} | {calc} |"
        )
    growth_table([(r.specialists, r.teams, r.indexed_ms) for r in results], "on-shift lookup")


def growth_table(cells: list[tuple[int, int, list[float]]], what: str) -> None:
    """Markdown: per team count, p50/p95/p99 at 10,000 over 1,000 specialists."""
    by = {(s, t): ms for s, t, ms in cells}
    rows = [t for t in sorted({t for _, t, _ in cells}) if (1000, t) in by and (10000, t) in by]
    if not rows:
        return
    print(f"\n{what}, growth from 1,000 to 10,000 specialists (target: p99 < 2 ms, x < 1.5)")
    print()
    print("| teams | p50 1k → 10k | p95 1k → 10k | p99 1k → 10k | p99 growth |")
    print("|---:|---:|---:|---:|---:|")
    for t in rows:
        small, large = by[(1000, t)], by[(10000, t)]
        cells_text = [f"{_pct(small, q):.2f} → {_pct(large, q):.2f}" for q in (0.5, 0.95, 0.99)]
        print(f"| {t} | {' | '.join(cells_text)} | {_pct(large, 0.99) / _pct(small, 0.99):.2f}x |")


async def run(args: argparse.Namespace) -> None:
    """One data set, or the grid."""
    combos = [(args.specialists, args.teams)]
    lookups = args.lookups or 500
    calculated = args.calculated if args.calculated is not None else max(1, lookups // 10)
    refreshes = 3
    if args.grid:
        combos = [(s, t) for s in GRID_SPECIALISTS for t in GRID_TEAMS if t <= s]
        lookups = args.lookups or GRID_LOOKUPS
        calculated = args.calculated if args.calculated is not None else GRID_CALCULATED
        refreshes = 0
        if args.database_url and not args.reset:
            raise SystemExit("--grid rebuilds the database for every size: pass --reset too")
    results = []
    for n, (specialists, teams) in enumerate(combos):
        result = await bench(
            args.database_url,
            specialists,
            teams,
            lookups=lookups,
            calculated=calculated,
            refreshes=refreshes,
            reset=args.reset or (args.grid and n > 0),
        )
        if args.grid:
            print(
                f"{specialists:>6} specialists {teams:>4} teams: build {result.build_s:5.1f} s, "
                f"materialise {result.materialise_s:5.1f} s",
                flush=True,
            )
        else:
            report(result)
        results.append(result)
    if args.grid:
        grid_table(results, (args.database_url or "sqlite").split("://", 1)[0], lookups)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--specialists", type=int, default=1000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument(
        "--lookups", type=int, default=0, help=f"default 500 ({GRID_LOOKUPS} with --grid)"
    )
    parser.add_argument(
        "--calculated",
        type=int,
        default=None,
        help=f"lookups beyond the window (default lookups/10; {GRID_CALCULATED} with --grid)",
    )
    parser.add_argument(
        "--grid",
        action="store_true",
        help=f"specialists in {GRID_SPECIALISTS} x teams in {GRID_TEAMS} (teams <= specialists)",
    )
    database_options(parser)
    args = parser.parse_args()
    if not args.grid and args.teams > args.specialists:
        parser.error("--teams must not exceed --specialists")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
