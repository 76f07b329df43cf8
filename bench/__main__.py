"""The whole benchmark suite in one command: `scripts/bench` (or `python -m bench`).

Runs each benchmark in its own process, one after the other (they measure on one machine, so
never two at once), prints their markdown reports, and with --write puts them together in
one file (bench/RESULTS.md) headed by the date, the machine and the exact command.

    scripts/bench                         # everything, SQLite and PostgreSQL
    scripts/bench --write bench/RESULTS.md
    scripts/bench --only callpath --no-postgres
    scripts/bench --quick                 # a smoke run: short loads, small grids

PostgreSQL is BENCH_PG_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/bench);
the database is created when missing and its tables are dropped and rebuilt by each run, so
never point it at a database you keep.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
SUITES = ("callpath", "rota", "routing", "schedule", "planner")


@dataclass(frozen=True)
class Step:
    """One benchmark process of the suite."""

    suite: str
    title: str
    args: list[str]


def plan(args: argparse.Namespace) -> list[Step]:
    """The benchmark processes to run, in order."""
    py = [sys.executable, "-m"]
    pg = [] if args.no_postgres else [args.pg_url]
    steps: list[Step] = []
    if "callpath" in args.only:
        call = [*py, "bench.callpath", "--database", "sqlite" if args.no_postgres else "both"]
        if not args.no_postgres:
            call += ["--pg-url", args.pg_url]
        if args.quick:
            call += ["--duration", "3", "--open-duration", "3", "--status-calls", "200"]
        steps.append(Step("callpath", "Incoming-call path under load", call))
    one = ["--specialists", "1000", "--teams", "50"]
    small = ["--specialists", "1000", "--teams", "10", "--runs", "5"]
    sizes = {
        # --grid: 100 / 1,000 / 10,000 specialists x 1 / 10 / 100 teams.
        "rota": [*one, "--lookups", "200"] if args.quick else ["--grid"],
        "routing": [*one, "--iterations", "200"] if args.quick else ["--grid"],
        # The default series: 100 / 1,000 / 10,000 specialists, and 1 / 10 / 100 teams.
        "schedule": small if args.quick else [],
    }
    if "planner" in args.only:
        # Pure (no database): nine offices, 40 people, 8 weeks; --quick plans two of them.
        quick = ["--only", "jp,us", "--time-limit", "5"] if args.quick else []
        steps.append(Step("planner", "The rota planner", [*py, "bench.planner", *quick]))
    for suite, module, title in (
        ("rota", "bench.rota_lookup", "On-shift lookup"),
        ("routing", "bench.routing", "One routing decision"),
        ("schedule", "bench.schedule", "A team's final schedule for 4 weeks"),
    ):
        if suite not in args.only:
            continue
        steps.append(Step(suite, f"{title} (SQLite)", [*py, module, *sizes[suite]]))
        for url in pg:
            on_pg = [*py, module, *sizes[suite], "--database-url", url, "--reset"]
            steps.append(Step(suite, f"{title} (PostgreSQL)", on_pg))
    return steps


async def _ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` when it does not exist yet."""
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database or "bench"
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to benchmark in the {name!r} database: its tables are dropped")
    server = target.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def machine() -> str:
    """One line about the machine the numbers come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def nested(report: str) -> str:
    """A benchmark's markdown report with its headings two levels down, under its step's."""
    return "\n".join("##" + line if line.startswith("#") else line for line in report.split("\n"))


def run(step: Step) -> tuple[str, float, int]:
    """Run one benchmark; its stdout (the report), seconds taken and exit code."""
    started = time.perf_counter()
    done = subprocess.run(step.args, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
    return done.stdout, time.perf_counter() - started, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        default=",".join(SUITES),
        help=f"comma-separated suites to run (default all: {','.join(SUITES)})",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--write", default="", help="also write the combined report here")
    args = parser.parse_args()
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = args.only - set(SUITES)
    if unknown:
        parser.error(f"unknown suites: {', '.join(sorted(unknown))}")
    if not args.no_postgres and args.only - {"callpath", "planner"}:
        asyncio.run(_ensure_database(args.pg_url))
    command = "scripts/bench " + shlex.join(sys.argv[1:])
    header = [
        "# Benchmark results",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Command: `{command.strip()}`",
        "",
    ]
    print("\n".join(header), flush=True)
    sections: list[str] = []
    failed = 0
    for step in plan(args):
        print(f"## {step.title}\n", flush=True)
        report, seconds, code = run(step)
        text = nested(report).rstrip() + "\n"
        text += f"\n_`{shlex.join(step.args[1:])}`: {seconds:.0f} s"
        text += f", exit {code}_\n" if code else "_\n"
        failed += code != 0
        print(text, flush=True)
        sections.append(f"## {step.title}\n\n{text}")
    if args.write:
        Path(args.write).write_text("\n".join(header) + "\n" + "\n".join(sections))
        print(f"written to {args.write}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
