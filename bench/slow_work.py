"""Calls while the rota is edited and long ledgers are read (issue 13's measurement).

On the realistic data set (`bench/dataset.py`: 10,000 accounts, 1,000 specialists in 50
teams, a year of history), `switchboard serve` takes steady open-loop traffic of whole
signed calls (`--rate`, 20 calls/s) in three back-to-back phases of `--duration` seconds:

1. **quiet**: the calls alone;
2. **busy**: the same calls while a scheduler applies `--edits` edits of each kind (leave,
   cover, extra shift, day off, specialist update, team update; one after the other, at
   most one a second) and `--readers` specialists each read their own lieu ledger over the
   longest range the server allows them (400 days, or 184 where it refuses 400), in a loop;
   a few previews (`?dry_run=true`) are timed too;
3. **quiet again**, so that a machine that got busier or quieter meanwhile shows.

The scheduler and the specialists run in a separate process, so their HTTP work does not
disturb the load generator's timing. Reported per database: the voice p99 (worst of the
three voice webhooks) of each phase and busy / quiet (quiet = mean of the two quiet phases;
the goal is at most 1.5), each edit kind's latency, a preview's latency, and the ledger
reads. Run it against another checkout (the code before a change) by copying this file
there and running it from that checkout.

    python -m bench.slow_work --database both --write /tmp/slow-work.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import callpath, loadgen
from bench.servers import free_port

CACHE = Path(os.environ.get("BENCH_CACHE", "/tmp/switchboard-bench"))
GOAL = 1.5
KINDS = ("leave", "cover", "extra", "day_off", "specialist", "team")


# --- the scheduler and the specialists (a child process) -------------------------------------


async def _keys(url: str, readers: int) -> dict[str, Any]:
    """An admin key, and specialist keys of people who earn days in lieu."""
    from sqlalchemy import select

    from app.auth.service import create_key
    from app.core.db import Database
    from app.models.rota import RotationVersionRow

    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            now = datetime.now(UTC)
            _, admin = await create_key(session, name="bench-scheduler", role="admin", now=now)
            earners: list[int] = []
            for members in await session.scalars(
                select(RotationVersionRow.members).where(RotationVersionRow.earns_lieu)
            ):
                earners.extend(m for m in members if m not in earners)
            specialists = []
            for sid in earners[:readers]:
                _, secret = await create_key(
                    session,
                    name=f"bench-reader-{sid}",
                    role="specialist",
                    now=now,
                    specialist_id=sid,
                )
                specialists.append((sid, secret))
    finally:
        await db.dispose()
    return {"admin": admin, "specialists": specialists}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _monday_after(now: datetime, weeks: int) -> datetime:
    day = (now + timedelta(days=7 * weeks)).date()
    day -= timedelta(days=day.weekday())
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def _teams(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        for _attempt in range(5):
            answer = await http.get("/v1/teams", params=params)
            if answer.status_code == 200:
                break
            await asyncio.sleep(1.0)
        answer.raise_for_status()
        page = answer.json()
        found.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def _edit(kind: str, i: int, team: dict[str, Any], now: datetime) -> tuple[str, str, Any]:
    """(method, path, body) of the i-th edit of a kind, in the team's people and dates."""
    members = team["members"]
    week = _monday_after(now, 2 + i % 4)
    a, b = members[i % len(members)], members[(i + 1) % len(members)]
    if kind == "leave":
        start = week + timedelta(days=i % 3)
        body = {
            "kind": "leave",
            "specialist_id": a,
            "start": _iso(start),
            "end": _iso(start + timedelta(days=2)),
            "reason": "bench",
        }
        return "POST", "/v1/overrides", body
    if kind == "cover":
        start = week + timedelta(days=3)
        body = {
            "kind": "cover",
            "specialist_id": a,
            "substitute_id": b,
            "team": team["slug"],
            "start": _iso(start),
            "end": _iso(start + timedelta(days=1)),
        }
        return "POST", "/v1/overrides", body
    if kind == "extra":
        start = week + timedelta(days=5, hours=10)
        body = {
            "kind": "extra",
            "specialist_id": a,
            "team": team["slug"],
            "start": _iso(start),
            "end": _iso(start + timedelta(hours=4)),
        }
        return "POST", "/v1/overrides", body
    if kind == "day_off":
        body = {
            "specialist_id": a,
            "day": (week + timedelta(days=4)).date().isoformat(),
            "note": "bench",
        }
        return "POST", "/v1/days-off", body
    if kind == "specialist":
        return "PUT", f"/v1/specialists/{a}", None
    return "PUT", f"/v1/teams/{team['slug']}", None


async def _apply(http: httpx.AsyncClient, method: str, path: str, body: Any, i: int) -> int:
    if method == "POST":
        return (await http.post(path, json=body)).status_code
    got = await http.get(path)
    current = got.json()
    read_only = ("id", "members", "calendar_url", "email", "external_ref")
    new = {k: v for k, v in current.items() if k not in read_only}
    new["name"] = f"{current['name'].split(' #')[0]} #{i}"
    answer = await http.put(path, json=new, headers={"If-Match": got.headers["etag"]})
    return answer.status_code


async def background(plan: dict[str, Any]) -> dict[str, Any]:
    """The scheduler's edits and the specialists' ledger reads, until the busy phase ends."""
    base = plan["base_url"]
    deadline = time.monotonic() + plan["duration"]
    now = datetime.now(UTC)
    admin = {"Authorization": f"Bearer {plan['admin']}"}
    out: dict[str, Any] = {
        "edits": {k: [] for k in KINDS},
        "status": {},
        "previews": [],
        "ledger": [],
        "ledger_days": None,
    }
    limits = httpx.Limits(max_connections=4)
    async with httpx.AsyncClient(base_url=base, headers=admin, timeout=120, limits=limits) as http:
        teams = [
            t
            for t in await _teams(http)
            if t["slug"].startswith("team-") and len(t["members"]) >= 2
        ]

        # Another run on a reused data set (--reuse) picks other teams and people, so its
        # edits do not meet the last run's (a leave overlapping its own copy answers 422).
        salt = int(now.timestamp()) // 60

        async def scheduler() -> None:
            edits = [(k, i) for i in range(plan["edits"]) for k in KINDS]
            for n, (kind, i) in enumerate(edits):
                if time.monotonic() > deadline:
                    break  # the load is over: edits after it measure nothing
                team = teams[(n * 7 + salt) % len(teams)]
                method, path, body = _edit(kind, i + salt, team, now)
                started = time.perf_counter()
                status = await _apply(http, method, path, body, i)
                out["edits"][kind].append(time.perf_counter() - started)
                out["status"][str(status)] = out["status"].get(str(status), 0) + 1
                if n % 6 == 5 and len(out["previews"]) < plan["edits"]:
                    team = teams[(n * 11 + salt) % len(teams)]
                    _, ppath, pbody = _edit("leave", i + 7 + salt, team, now)
                    started = time.perf_counter()
                    preview = await http.post(ppath, json=pbody, params={"dry_run": "true"})
                    out["previews"].append(time.perf_counter() - started)
                    out["status"][f"preview {preview.status_code}"] = (
                        out["status"].get(f"preview {preview.status_code}", 0) + 1
                    )
                await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))

        async def reader(secret: str) -> None:
            headers = {"Authorization": f"Bearer {secret}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as mine:
                days = 400
                while time.monotonic() < deadline:
                    params = {"start": _iso(now - timedelta(days=days)), "end": _iso(now)}
                    started = time.perf_counter()
                    answer = await mine.get("/v1/rota/lieu-ledger", params=params)
                    if answer.status_code == 422 and days == 400:
                        days = 184  # the longest range a specialist key may read here
                        continue
                    out["ledger"].append(time.perf_counter() - started)
                    out["ledger_days"] = days

        await asyncio.gather(scheduler(), *(reader(s) for _, s in plan["specialists"]))
    return out


# --- the load and the report -----------------------------------------------------------------


def _phase(tw: loadgen.Twilio, args: argparse.Namespace, server: Any) -> dict[str, Any]:
    leftover: list[loadgen.Call] = []
    result = loadgen.run(
        loadgen.open_loop(tw, rate=args.rate, duration=args.duration, warmup=1.0, leftover=leftover)
    )
    loadgen.run(loadgen.hang_up(tw, leftover))
    callpath.settle(server)
    summary = result.summary
    return {
        "voice_p99_ms": callpath.worst_voice_p99(summary),
        "voice_p50_ms": summary["steps"]["voice"]["p50"],
        "calls": summary["calls"],
        "errors": summary["error_total"],
        "outcomes": summary["outcomes"],
    }


def run_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Build, serve and measure one database; returns the numbers."""
    CACHE.mkdir(parents=True, exist_ok=True)
    build = argparse.Namespace(
        dataset="realistic",
        accounts=10_000,
        specialists=1_000,
        teams=50,
        reuse=args.reuse,
        pg_url=args.pg_url,
    )
    started = time.perf_counter()
    if kind == "sqlite":
        data = callpath.working_copy(callpath.prepare_sqlite(build, CACHE), CACHE, "slow-work")
    else:
        data = callpath.prepare_postgres(build, CACHE)
    built = time.perf_counter() - started
    callpath._migrate(data.url)  # a data set built by other code may be behind this code
    keys = loadgen.run(_keys(data.url, args.readers))
    port = free_port()
    server = callpath.switchboard(data, port, CACHE)
    tw = loadgen.Twilio(
        "127.0.0.1", port, token=callpath.TOKEN, callers=data.callers, to_number=data.to_number
    )
    out: dict[str, Any] = {"database": kind, "data": data.note, "setup_s": built}
    print(f"-- slow_work {kind}: serving on {port}", file=sys.stderr, flush=True)
    server.start()
    try:
        callpath.settle(server)
        out["quiet"] = _phase(tw, args, server)
        print(f"   quiet: {out['quiet']}", file=sys.stderr, flush=True)
        plan = CACHE / f"slow-work-{kind}.json"
        plan.write_text(
            json.dumps(
                {
                    "base_url": f"http://127.0.0.1:{port}",
                    "duration": args.duration + 1.0,
                    "edits": args.edits,
                    **keys,
                }
            )
        )
        result = CACHE / f"slow-work-{kind}-result.json"
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.slow_work",
                "background",
                "--plan",
                str(plan),
                "--out",
                str(result),
            ],
            cwd=Path.cwd(),
        )
        out["busy"] = _phase(tw, args, server)
        print(f"   busy: {out['busy']}", file=sys.stderr, flush=True)
        child.wait()
        result_ok = result.exists()
        if result_ok:
            out["work"] = json.loads(result.read_text())
        else:  # the background process failed: its error is on stderr
            out["work"] = {
                "edits": {k: [] for k in KINDS},
                "status": {"failed": 1},
                "previews": [],
                "ledger": [],
                "ledger_days": None,
            }
        out["quiet_again"] = _phase(tw, args, server)
        print(f"   quiet again: {out['quiet_again']}", file=sys.stderr, flush=True)
    finally:
        out["exit_code"] = server.stop()
        if kind == "sqlite":
            callpath.drop_copy(data)
    return out


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return (
        f"{statistics.median(ordered) * 1000:,.0f} / "
        f"{loadgen.percentile(ordered, 0.9) * 1000:,.0f} / {ordered[-1] * 1000:,.0f}"
    )


def report(runs: list[dict[str, Any]], label: str) -> str:
    """Markdown tables of the runs."""
    lines = [
        f"#### {label}",
        "",
        "| database | quiet p99 | busy p99 | quiet again p99 | busy / quiet | goal <= 1.5 |"
        " errors (q/b/q) |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        quiet = (run["quiet"]["voice_p99_ms"] + run["quiet_again"]["voice_p99_ms"]) / 2
        ratio = run["busy"]["voice_p99_ms"] / quiet if quiet else math.nan
        errors = "/".join(str(run[p]["errors"]) for p in ("quiet", "busy", "quiet_again"))
        lines.append(
            f"| {run['database']} | {run['quiet']['voice_p99_ms']:,.0f} ms |"
            f" {run['busy']['voice_p99_ms']:,.0f} ms | {run['quiet_again']['voice_p99_ms']:,.0f} ms"
            f" | {ratio:.2f}x | {'met' if ratio <= GOAL else 'missed'} | {errors} |"
        )
    lines += [
        "",
        "Latency of the background work, median / p90 / max in ms (count):",
        "",
        "| database | " + " | ".join(KINDS) + " | preview | ledger read (days) |",
        "|---|" + "---|" * (len(KINDS) + 2),
    ]
    for run in runs:
        work = run["work"]
        cells = [f"{_ms(work['edits'][k])} ({len(work['edits'][k])})" for k in KINDS]
        cells.append(f"{_ms(work['previews'])} ({len(work['previews'])})")
        cells.append(f"{_ms(work['ledger'])} ({len(work['ledger'])} x {work['ledger_days']} d)")
        lines.append(f"| {run['database']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Answers: "
        + "; ".join(
            f"{r['database']}: {json.dumps(r['work']['status'], sort_keys=True)}" for r in runs
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Command line: measure (default) or run the background work (internal)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("role", nargs="?", default="measure", choices=("measure", "background"))
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_slow"
        ),
    )
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--edits", type=int, default=10, help="edits of each kind")
    parser.add_argument("--readers", type=int, default=2, help="specialists reading ledgers")
    parser.add_argument("--reuse", action="store_true", help="reuse a data set built before")
    parser.add_argument("--label", default="slow work")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--write", type=Path, help="write the markdown report here")
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.role == "background":
        result = loadgen.run(background(json.loads(args.plan.read_text())))
        args.out.write_text(json.dumps(result))
        return
    os.sched_setaffinity(0, {1})  # the server runs on CPU 0
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    runs = []
    for kind in kinds:
        runs.append(run_database(kind, args))
        if args.json:  # kept after each database, in case a later one fails
            args.json.write_text(json.dumps(runs, indent=1, default=str))
    text = report(runs, args.label)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1, default=str))
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
