"""Benchmark: one routing decision with many specialists, teams and a year of rota history.

Builds the rota of `bench.rota_lookup` (T teams of S/T specialists, a year of rotation
history, weekend turns, overrides; the window materialised), then adds the routing state
a live system has: a call history with ringing attempts, presence rows (about 20% of the
specialists busy on a call with a lease beyond every instant measured, a few stale
reservations whose lease has run out, some never rung), and a few callers waiting in the
queues of about a tenth of the teams. Each decision is for a random team at a random
instant inside one of its shifts during the week after the build time, and measures:

- `consider`: the read-only decision (who is on shift, idle since, busy, held for the queue,
  ringing order), as `/v1/routing/explain` and `switchboard simulate` run it;
- `route_live`: the live decision of the webhook driver for a new call: `consider`, then
  reserving the first candidates (or queueing the call). Each runs in its own transaction
  that first inserts the Call row (not timed) and is rolled back afterwards, so nobody
  stays reserved.

    .venv/bin/python -m bench.routing --specialists 1000 --teams 50
    .venv/bin/python -m bench.routing --grid
    .venv/bin/python -m bench.routing --specialists 100 --teams 1 --waiting 800
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, select, text

from app.calls.service import open_call
from app.core.db import Database
from app.core.sqlite_driver import statements_on_loop
from app.models.call import Call, RingAttempt
from app.models.rota import ShiftInstance, Team
from app.models.routing import QueueEntry, SpecialistPresence
from app.rota.materialise import rematerialise
from app.routing.decide import RouteRequest, consider
from app.routing.dispatch import Nobody, Ring, Wait, route_live
from bench.dataset import database_size, settle_database
from bench.rota_lookup import _pct, build, database_options, fresh_database, growth_table

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # as bench.rota_lookup
BUSY_SHARE = 0.20
STALE_SHARE = 0.02  # 'ringing' rows whose lease ran out: free again
IDLE_SHARE = 0.50  # free rows with an idle_since; the rest have no presence row yet
HISTORY_CALLS_PER_SPECIALIST = 3
GRID_SPECIALISTS = (100, 1000, 10000)
GRID_TEAMS = (1, 10, 100)
GRID_ITERATIONS = 300
WAITING: int | None = None  # --waiting: callers in each queue that has any


@dataclass
class Result:
    """What one data set measured."""

    specialists: int
    teams: int
    build_s: float
    shifts: int
    size_bytes: int
    counts: dict[str, int]
    consider_ms: list[float]
    live_ms: list[float]
    on_shift: float
    candidates: float
    outcomes: Counter[str]
    queries: dict[str, list[float]] = field(default_factory=dict)


def _team_of(i: int, specialists: int, teams: int) -> int:
    """0-based team of 0-based specialist i, as bench.rota_lookup.build assigns them."""
    return (i // (specialists // teams)) % teams


async def populate(db: Database, specialists: int, teams: int, now: datetime) -> dict[str, int]:
    """Add call history, presence and waiting callers to a built rota; returns row counts."""
    rng = random.Random(11)
    year_ago = now - timedelta(days=365)
    slug = [f"team-{t:03d}" for t in range(teams)]
    calls: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []

    def add_call(team: int, status: str, started: datetime, outcome: str | None) -> int:
        cid = len(calls) + 1
        calls.append(
            {
                "id": cid,
                "sid": f"CAbench{cid:010d}",
                "from_number": f"+1212555{cid % 10000:04d}",
                "to_number": "+14155550100",
                "language": "en",
                "team": slug[team],
                "status": status,
                "outcome": outcome,
                "started_at": started,
                "routed_at": started + timedelta(seconds=20),
                "created_at": started,
                "updated_at": started,
            }
        )
        return cid

    def add_attempt(cid: int, sid: int, team: int, at: datetime, result: str) -> None:
        attempts.append(
            {
                "id": len(attempts) + 1,
                "call_id": cid,
                "specialist_id": sid + 1,
                "team": slug[team],
                "batch": 1,
                "contact": f"+1415555{sid % 10000:04d}",
                "rung_at": at,
                "ended_at": None if result == "accepted" else at + timedelta(seconds=20),
                "result": result,
            }
        )

    # A year of answered calls, one accepted attempt each, in time order.
    history = sorted(
        (year_ago + timedelta(seconds=rng.randrange(365 * 86400)), rng.randrange(specialists))
        for _ in range(specialists * HISTORY_CALLS_PER_SPECIALIST)
    )
    for started, sid in history:
        team = _team_of(sid, specialists, teams)
        cid = add_call(team, "completed", started, "answered")
        add_attempt(cid, sid, team, started + timedelta(seconds=20), "accepted")
    # Presence: busy on a call (lease beyond the measured week), stale, idle, no row yet.
    presence: list[dict[str, Any]] = []
    everyone = list(range(specialists))
    rng.shuffle(everyone)
    n_busy, n_stale = int(specialists * BUSY_SHARE), int(specialists * STALE_SHARE)
    n_idle = int(specialists * IDLE_SHARE)
    for k, sid in enumerate(everyone[: n_busy + n_stale + n_idle]):
        idle = now - timedelta(minutes=rng.randrange(1, 7 * 24 * 60))
        row = {
            "specialist_id": sid + 1,
            "state": "free",
            "call_id": None,
            "attempt_id": None,
            "held_until": None,
            "idle_since": idle,
            "updated_at": idle,
        }
        if k < n_busy:
            team = _team_of(sid, specialists, teams)
            started = now - timedelta(minutes=rng.randrange(1, 30))
            cid = add_call(team, "in-progress", started, None)
            add_attempt(cid, sid, team, started + timedelta(seconds=20), "accepted")
            row.update(
                state="busy",
                call_id=cid,
                attempt_id=len(attempts),
                held_until=now + timedelta(days=30),
                updated_at=started,
            )
        elif k < n_busy + n_stale:
            row.update(state="ringing", held_until=now - timedelta(hours=1))
        presence.append(row)
    # Callers waiting in the queues of about a tenth of the teams (1-3 each, or --waiting).
    queue: list[dict[str, Any]] = []
    for team in rng.sample(range(teams), max(1, teams // 10)):
        for _ in range(WAITING or rng.randint(1, 3)):
            since = now - timedelta(seconds=rng.randrange(30, 600))
            cid = add_call(team, "in-progress", since - timedelta(seconds=20), None)
            if rng.random() < 0.5:  # offered to someone who did not answer
                members = [i for i in range(specialists) if _team_of(i, specialists, teams) == team]
                add_attempt(cid, rng.choice(members), team, since, "no-answer")
            queue.append(
                {
                    "id": len(queue) + 1,
                    "call_id": cid,
                    "team": slug[team],
                    "language": rng.choice(["en", "en", "fr"]),
                    "skill": None,
                    "priority": rng.choice([0, 0, 1]),
                    "enqueued_at": since,
                    "deadline": now + timedelta(days=30),
                    "state": "waiting",
                    "announced_at": since,
                    "left_at": None,
                    "result": None,
                    "updated_at": since,
                }
            )
    async with db.transaction() as s:
        for table, rows in (
            (Call, calls),
            (RingAttempt, attempts),
            (SpecialistPresence, presence),
            (QueueEntry, queue),
        ):
            for i in range(0, len(rows), 2000):
                await s.execute(insert(table), rows[i : i + 2000])
        if s.get_bind().dialect.name == "postgresql":
            # Explicit ids do not advance the sequences the code under test inserts with.
            for name in ("calls", "call_attempts", "call_queue"):
                sequence = f"pg_get_serial_sequence('{name}', 'id')"
                await s.execute(text(f"SELECT setval({sequence}, max(id)) FROM {name}"))
    return {
        "calls": len(calls),
        "attempts": len(attempts),
        "busy": n_busy,
        "stale": n_stale,
        "no_presence_row": specialists - len(presence),
        "waiting": len(queue),
    }


async def instants(db: Database, count: int, now: datetime) -> list[tuple[str, datetime]]:
    """Random (team, instant) pairs, each inside a shift of that team in the coming week."""
    rng = random.Random(1)
    async with db.transaction() as s:
        slots = list(
            await s.execute(
                select(Team.slug, ShiftInstance.starts_at, ShiftInstance.ends_at)
                .join(Team, Team.id == ShiftInstance.team_id)
                .where(
                    ShiftInstance.starts_at >= now,
                    ShiftInstance.starts_at < now + timedelta(days=7),
                )
                .distinct()
                .order_by(Team.slug, ShiftInstance.starts_at, ShiftInstance.ends_at)
            )
        )
    out = []
    for _ in range(count):
        team, starts, ends = rng.choice(slots)
        seconds = int((ends - starts).total_seconds())
        out.append((team, starts + timedelta(seconds=rng.randrange(max(1, seconds)))))
    return out


def _request(team: str) -> RouteRequest:
    return RouteRequest(team, "en", skill="payments", tier="standard", batch_size=2)


async def time_consider(
    db: Database, picks: list[tuple[str, datetime]]
) -> tuple[list[float], float, float]:
    """Milliseconds per read-only decision; average on shift and candidates."""
    samples: list[float] = []
    on_shift = candidates = 0
    for team, at in picks:
        async with db.transaction() as s:
            started = time.perf_counter()
            decision = await consider(s, _request(team), now=at, call_id=None, exclude=())
            samples.append((time.perf_counter() - started) * 1000)
        on_shift += len(decision.considered)
        candidates += len(decision.candidates)
    return samples, on_shift / len(picks), candidates / len(picks)


# route_live's transaction plans as a webhook's does (`Database.webhook_transaction`).
GENERIC_PLANS = True


async def time_route_live(
    db: Database,
    picks: list[tuple[str, datetime]],
    queries: dict[str, list[float]] | None = None,
) -> tuple[list[float], Counter[str]]:
    """Milliseconds per live decision for a new call (rolled back); outcome counts.

    With `queries`, also the milliseconds of each SQL statement route_live runs.
    """
    samples: list[float] = []
    outcomes: Counter[str] = Counter()
    for n, (team, at) in enumerate(picks):
        async with db.sessionmaker() as s:
            try:
                if GENERIC_PLANS and not db.is_sqlite:  # as a webhook's transaction plans
                    await s.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
                call = open_call(
                    s,
                    sid=f"CAlive{n:010d}",
                    from_number="+12125550100",
                    to_number="+14155550100",
                    status="in-progress",
                    now=at,
                )
                await s.flush()
                # As the webhook runs it: on SQLite its statements run on the event loop.
                with (
                    query_times(db, queries) if queries is not None else nullcontext(),
                    statements_on_loop(),
                ):
                    started = time.perf_counter()
                    choice = await route_live(
                        s,
                        _request(team),
                        call=call,
                        now=at,
                        exclude=(),
                        ring_timeout=20,
                        max_wait=300,
                    )
                    samples.append((time.perf_counter() - started) * 1000)
            finally:
                await s.rollback()
        if isinstance(choice, Ring):
            outcomes[f"ring {len(choice.people)}"] += 1
        elif isinstance(choice, Wait):
            outcomes["wait"] += 1
        elif isinstance(choice, Nobody):
            outcomes["nobody"] += 1
    return samples, outcomes


_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def _label(statement: str) -> str:
    """A short name for a SQL statement: verb, table, selected columns, FOR UPDATE."""
    flat = " ".join(statement.split())
    verb = flat.split(" ", 1)[0].upper()
    found = _TABLE.search(flat)
    label = f"{verb} {found.group(1) if found else '?'}"
    if verb == "SELECT":
        columns = flat[7 : flat.upper().find(" FROM ")]
        names = [c.strip().split(".")[-1].split(" ")[-1] for c in columns.split(",")]
        hint = ",".join(names[:3]) + (",..." if len(names) > 3 else "")
        label += f" ({hint[:40]})"
        if "FOR UPDATE" in flat.upper():
            label += " FOR UPDATE"
    return label


@contextmanager
def query_times(db: Database, into: dict[str, list[float]]) -> Iterator[None]:
    """Collect milliseconds per statement label while the block runs."""
    engine = db.engine.sync_engine

    def before(conn: Any, _c: Any, statement: str, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, _c: Any, statement: str, *_: Any) -> None:
        ms = (time.perf_counter() - conn.info.pop("bench_started")) * 1000
        into.setdefault(_label(statement), []).append(ms)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


async def bench(
    url: str | None, specialists: int, teams: int, iterations: int, *, reset: bool, breakdown: bool
) -> Result:
    """Build one data set in the database at `url` and time decisions on it."""
    async with fresh_database(url, reset=reset) as db:
        t0 = time.perf_counter()
        await build(db, specialists, teams, NOW)
        async with db.transaction() as s:
            shifts = await rematerialise(s, NOW)
        counts = await populate(db, specialists, teams, NOW)
        build_s = time.perf_counter() - t0
        await settle_database(db)
        size = await database_size(db)
        picks = await instants(db, iterations, NOW)
        warm = picks[: max(1, iterations // 10)]
        await time_consider(db, warm)  # warm caches, pool, prepared statements
        await time_route_live(db, warm)
        # As `switchboard serve` does once started: what lives as long as the process (here
        # also the data set's build) stays out of the collector's full collections.
        gc.collect()
        gc.freeze()
        consider_ms, on_shift, candidates = await time_consider(db, picks)
        queries: dict[str, list[float]] = {}
        live_ms, outcomes = await time_route_live(db, picks, queries if breakdown else None)
        return Result(
            specialists,
            teams,
            build_s,
            shifts,
            size,
            counts,
            consider_ms,
            live_ms,
            on_shift,
            candidates,
            outcomes,
            queries,
        )


def _stats(ms: list[float]) -> str:
    return (
        f"p50 {_pct(ms, 0.50):7.2f}  p95 {_pct(ms, 0.95):7.2f}  "
        f"p99 {_pct(ms, 0.99):7.2f}  max {max(ms):7.2f} ms"
    )


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def report(r: Result, url: str) -> None:
    """Print one data set's results."""
    c = r.counts
    print(f"database: {url.split('://', 1)[0]}, {_mb(r.size_bytes)}")
    print(
        f"data: {r.specialists} specialists, {r.teams} teams, a year of rota history; "
        f"{r.shifts} stored shifts; {c['calls']} calls, {c['attempts']} ringing attempts; "
        f"{c['busy']} busy, {c['stale']} stale reservations, {c['no_presence_row']} without "
        f"presence row; {c['waiting']} callers waiting"
    )
    print(f"build {r.build_s:.2f} s")
    n = len(r.consider_ms)
    print(
        f"each decision: a random team at a random instant in one of its shifts; "
        f"avg {r.on_shift:.1f} on shift, {r.candidates:.1f} candidates"
    )
    print(f"consider   (read only)          n={n}  {_stats(r.consider_ms)}")
    print(f"route_live (consider + reserve) n={n}  {_stats(r.live_ms)}")
    print("route_live outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items())))
    if r.queries:
        print("route_live statements (per decision: calls, avg ms; total share):")
        total = sum(sum(v) for v in r.queries.values())
        for label, ms in sorted(r.queries.items(), key=lambda kv: -sum(kv[1])):
            print(
                f"  {len(ms) / n:5.2f} x {sum(ms) / len(ms):6.3f} ms  "
                f"{100 * sum(ms) / total:5.1f}%  {label}"
            )


async def run(args: argparse.Namespace) -> None:
    """One data set, or the grid."""
    combos = [(args.specialists, args.teams)]
    iterations = args.iterations or 500
    if args.grid:
        combos = [(s, t) for s in GRID_SPECIALISTS for t in GRID_TEAMS if t <= s]
        iterations = args.iterations or GRID_ITERATIONS
        if args.database_url and not args.reset:
            raise SystemExit("--grid rebuilds the database for every size: pass --reset too")
    results = []
    for n, (specialists, teams) in enumerate(combos):
        result = await bench(
            args.database_url,
            specialists,
            teams,
            iterations,
            reset=args.reset or (args.grid and n > 0),
            breakdown=args.breakdown,
        )
        if args.grid:
            print(
                f"{specialists:>6} specialists {teams:>4} teams: build {result.build_s:5.1f} s, "
                f"{_mb(result.size_bytes)}",
                flush=True,
            )
        else:
            report(result, args.database_url or "sqlite")
        results.append(result)
    if args.grid:
        grid_table(results, (args.database_url or "sqlite").split("://", 1)[0], iterations)


def grid_table(results: list[Result], kind: str, iterations: int) -> None:
    """The grid as a markdown table, and the growth from 1,000 to 10,000 per team count."""
    print(
        f"\n{kind}, {iterations} decisions each, full year of rota history; ms (on shift, "
        f"candidates: averages per decision; wait: share of route_live that queued the call)"
    )
    print()
    print(
        "| specialists | teams | size | on shift | cand | wait "
        "| consider p50 | p95 | p99 | max | route_live p50 | p95 | p99 | max |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        c, live = r.consider_ms, r.live_ms
        print(
            f"| {r.specialists:,} | {r.teams} | {_mb(r.size_bytes)} | {r.on_shift:.1f} | "
            f"{r.candidates:.1f} | {r.outcomes['wait'] / len(live):.0%} | "
            f"{_pct(c, 0.5):.2f} | {_pct(c, 0.95):.2f} | {_pct(c, 0.99):.2f} | {max(c):.2f} | "
            f"{_pct(live, 0.5):.2f} | {_pct(live, 0.95):.2f} | {_pct(live, 0.99):.2f} | "
            f"{max(live):.2f} |"
        )
    for what, cells in (
        ("route_live", [(r.specialists, r.teams, r.live_ms) for r in results]),
        ("consider", [(r.specialists, r.teams, r.consider_ms) for r in results]),
    ):
        growth_table(cells, what)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--specialists", type=int, default=1000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument(
        "--iterations", type=int, default=0, help=f"default 500 ({GRID_ITERATIONS} with --grid)"
    )
    parser.add_argument(
        "--grid",
        action="store_true",
        help=f"specialists in {GRID_SPECIALISTS} x teams in {GRID_TEAMS} (teams <= specialists)",
    )
    database_options(parser)
    parser.add_argument(
        "--breakdown", action="store_true", help="time each SQL statement of route_live"
    )
    parser.add_argument(
        "--custom-plans",
        action="store_true",
        help="PostgreSQL: plan as PostgreSQL chooses, not on generic plans as a webhook's "
        "transaction does (before the twelfth round of issue 17)",
    )
    parser.add_argument(
        "--waiting",
        type=int,
        default=None,
        help="callers waiting in each queue that has any (default 1-3); with --teams 1 "
        "every decision meets them",
    )
    args = parser.parse_args()
    global GENERIC_PLANS, WAITING
    GENERIC_PLANS = not args.custom_plans
    WAITING = args.waiting
    if not args.grid and args.teams > args.specialists:
        parser.error("--teams must not exceed --specialists")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
