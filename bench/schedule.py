"""Benchmark: rendering one team's final schedule for 4 weeks, and how it grows with the data.

For each data set (the rota of `bench.rota_lookup`: T teams of S/T specialists, a weekday
rotation re-versioned every month for a year, weekend turns earning days off in lieu,
leave), it times the `/v1/rota/schedule` handler (app.rota.endpoints_queries.schedule:
load the rota snapshot, calculate the final shifts and days off, build the response)
plus the JSON encoding of its response, for a random team and a random 4-week range from
twelve weeks before the data set's `now` to four weeks after it. It also times the two
parts on their own: loading the snapshot from the database, and the calculation.

    .venv/bin/python -m bench.schedule            # 100/1,000/10,000 specialists at 10 teams,
                                                  # and 1/10/100 teams at 1,000 specialists
    .venv/bin/python -m bench.schedule --grid     # every combination (about 5 minutes)
    .venv/bin/python -m bench.schedule --database-url postgresql+asyncpg://...  [--reset]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.auth.service import Principal
from app.core.db import Database
from app.rota.calculator import days_off, final_schedule
from app.rota.endpoints_queries import schedule
from app.rota.repository import load_snapshot
from bench.dataset import database_size
from bench.rota_lookup import _pct, build, database_options, fresh_database

NOW = datetime.fromisoformat("2026-11-20T15:00:00+00:00")  # as bench.rota_lookup
RANGE = timedelta(weeks=4)
GRID_SPECIALISTS = (100, 1_000, 10_000)
GRID_TEAMS = (1, 10, 100)
DEFAULT_COMBOS = ((100, 10), (1_000, 10), (10_000, 10), (1_000, 1), (1_000, 100))
PRINCIPAL = Principal(key_id=0, name="bench", role="scheduler", specialist_id=None)


@dataclass
class Result:
    """Timings of one data set, in milliseconds."""

    specialists: int
    teams: int
    build_s: float
    size_bytes: int
    render_ms: list[float] = field(default_factory=list)  # handler + JSON
    handler_ms: list[float] = field(default_factory=list)
    json_ms: list[float] = field(default_factory=list)
    snapshot_ms: list[float] = field(default_factory=list)
    calculate_ms: list[float] = field(default_factory=list)
    shifts: list[int] = field(default_factory=list)
    days_off: list[int] = field(default_factory=list)
    body_bytes: list[int] = field(default_factory=list)


def _ranges(teams: int, count: int) -> list[tuple[str, datetime, datetime]]:
    """(team, start, end): random teams, 4 weeks from a random day in [-12, +4] weeks."""
    rng = random.Random(5)
    day = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for _ in range(count):
        start = day + timedelta(days=rng.randrange(-12 * 7, 4 * 7))
        out.append((f"team-{rng.randrange(teams):03d}", start, start + RANGE))
    return out


async def measure(db: Database, result: Result, runs: int, budget_s: float) -> None:
    """Render schedules until `runs` are done or the time budget is spent (at least 5)."""
    picks = _ranges(result.teams, runs + 2)
    for team, start, end in picks[:2]:  # warm up: pool, caches, imports
        async with db.transaction() as s:
            await schedule(s, PRINCIPAL, start, end, team=team, specialist=None)
    began = time.perf_counter()
    for n, (team, start, end) in enumerate(picks[2:]):
        if n >= 5 and time.perf_counter() - began > budget_s:
            break
        async with db.transaction() as s:
            t0 = time.perf_counter()
            out = await schedule(s, PRINCIPAL, start, end, team=team, specialist=None)
            t1 = time.perf_counter()
            body = out.model_dump_json()
            t2 = time.perf_counter()
        result.handler_ms.append((t1 - t0) * 1000)
        result.json_ms.append((t2 - t1) * 1000)
        result.render_ms.append((t2 - t0) * 1000)
        result.shifts.append(len(out.shifts))
        result.days_off.append(len(out.days_off))
        result.body_bytes.append(len(body))
    # The parts on their own, a few times: what the handler spends its time on.
    for team, start, end in picks[2 : 2 + max(3, min(10, len(result.render_ms)))]:
        async with db.transaction() as s:
            t0 = time.perf_counter()
            snapshot = await load_snapshot(s, start, end)
            t1 = time.perf_counter()
        final_schedule(snapshot.rota, start, end, team=team)
        days_off(snapshot.rota, start, end)
        t2 = time.perf_counter()
        result.snapshot_ms.append((t1 - t0) * 1000)
        result.calculate_ms.append((t2 - t1) * 1000)


async def bench(
    url: str | None, specialists: int, teams: int, runs: int, budget_s: float, *, reset: bool
) -> Result:
    """Build one data set in the database at `url` and time schedule renders on it."""
    async with fresh_database(url, reset=reset) as db:
        t0 = time.perf_counter()
        await build(db, specialists, teams, NOW)
        size = await database_size(db)
        result = Result(specialists, teams, time.perf_counter() - t0, size)
        await measure(db, result, runs, budget_s)
        return result


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def table(results: list[Result], kind: str) -> None:
    """Print the results as a markdown table, then the growth ratios."""
    print(
        f"\n{kind}: `/v1/rota/schedule` for one team, 4 weeks, a year of rota history; "
        "ms; render = handler (snapshot + calculation + response model) + JSON encoding\n"
    )
    print(
        "| specialists | teams | per team | shifts | days off | n | render p50 | p95 | p99 "
        "| snapshot p50 | calculation p50 | JSON p50 |"
    )
    print("|" + "---:|" * 12)
    for r in results:
        print(
            f"| {r.specialists:,} | {r.teams} | {r.specialists // r.teams:,} "
            f"| {statistics.mean(r.shifts):,.0f} | {statistics.mean(r.days_off):,.0f} "
            f"| {len(r.render_ms)} | {_ms(_pct(r.render_ms, 0.5))} "
            f"| {_ms(_pct(r.render_ms, 0.95))} | {_ms(_pct(r.render_ms, 0.99))} "
            f"| {_ms(statistics.median(r.snapshot_ms))} "
            f"| {_ms(statistics.median(r.calculate_ms))} | {_ms(_pct(r.json_ms, 0.5))} |"
        )
    by_size = {(r.specialists, r.teams): r for r in results}
    lines = []
    for teams in sorted({r.teams for r in results}):
        sizes = sorted(s for s, t in by_size if t == teams)
        for a, b in itertools.pairwise(sizes):
            lines.append(_growth(by_size[(a, teams)], by_size[(b, teams)], f"{teams} teams"))
    for specialists in sorted({r.specialists for r in results}):
        counts = sorted(t for s, t in by_size if s == specialists)
        for a, b in itertools.pairwise(counts):
            lines.append(
                _growth(
                    by_size[(specialists, a)],
                    by_size[(specialists, b)],
                    f"{specialists:,} specialists",
                )
            )
    if lines:
        print("\ngrowth of render p50 (and of the team's shifts rendered):")
        for line in lines:
            print(f"- {line}")


def _growth(a: Result, b: Result, fixed: str) -> str:
    change = (
        f"{a.specialists:,} -> {b.specialists:,} specialists"
        if a.specialists != b.specialists
        else f"{a.teams} -> {b.teams} teams"
    )
    ratio = statistics.median(b.render_ms) / statistics.median(a.render_ms)
    shifts = statistics.mean(b.shifts) / max(1.0, statistics.mean(a.shifts))
    return f"{change} at {fixed}: x{ratio:.2f} (shifts x{shifts:.2f})"


async def run(args: argparse.Namespace) -> None:
    """The default series or the grid, each data set in a fresh database."""
    combos = [(s, t) for s in GRID_SPECIALISTS for t in GRID_TEAMS] if args.grid else []
    combos = combos or list(DEFAULT_COMBOS)
    if args.specialists:
        combos = [(args.specialists, args.teams or 10)]
    results = []
    for n, (specialists, teams) in enumerate(combos):
        result = await bench(
            args.database_url,
            specialists,
            teams,
            args.runs,
            args.budget,
            reset=args.reset or n > 0,
        )
        print(
            f"{specialists:>6} specialists {teams:>4} teams: build {result.build_s:5.1f} s, "
            f"{result.size_bytes / 1e6:.1f} MB, {len(result.render_ms)} renders, "
            f"p50 {_pct(result.render_ms, 0.5):,.1f} ms",
            flush=True,
        )
        results.append(result)
    table(results, (args.database_url or "sqlite").split("://", 1)[0])


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--grid", action="store_true", help="every combination of 100/1,000/10,000 x 1/10/100"
    )
    parser.add_argument("--specialists", type=int, default=0, help="one data set of this size")
    parser.add_argument("--teams", type=int, default=0, help="with --specialists (default 10)")
    parser.add_argument("--runs", type=int, default=30, help="renders per data set (default 30)")
    parser.add_argument(
        "--budget", type=float, default=10.0, help="seconds of renders per data set (min 5 runs)"
    )
    database_options(parser)
    args = parser.parse_args()
    if args.teams and args.specialists and args.teams > args.specialists:
        parser.error("--teams must not exceed --specialists")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
