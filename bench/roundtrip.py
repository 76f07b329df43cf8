"""What one trip to the database costs the app's process, before any SQL does real work.

Issue 17's seventh round counted statements and instructions; on PostgreSQL the server's CPU
per webhook stayed well above what the instructions said. This measures the part that
instructions miss: the client CPU (user and kernel, `time.process_time`) and the wall time of
the cheapest possible statement, one at a time on one connection, as a webhook runs them:

- PostgreSQL (asyncpg, the app's driver): `SELECT $1::int` with a parameter (a prepared
  statement: Bind, Execute, Sync in one packet), and `BEGIN` then `COMMIT` (two trips);
- SQLite on the event loop (`sqlite3`, as the app's webhooks run their statements), the same
  `SELECT`, and `BEGIN IMMEDIATE` then `COMMIT` of an empty transaction;
- SQLite through aiosqlite (a trip to its thread and back per statement: the benchmark's
  floor (d)).

Each is timed `--rounds` times over `--count` statements on uvloop, after a warm-up; the
report gives every round, so the machine's drift shows. All traffic is on loopback.

    .venv/bin/python -m bench.roundtrip
    .venv/bin/python -m bench.roundtrip --pg-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite
import asyncpg
import uvloop

Step = Callable[[int], Awaitable[object]]


async def _time(step: Step, count: int) -> tuple[float, float]:
    """Client CPU µs and wall µs per step, over `count` steps."""
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(count):
        await step(i)
    return (
        (time.process_time() - cpu) / count * 1e6,
        (time.perf_counter() - wall) / count * 1e6,
    )


async def _measure(name: str, step: Step, count: int, rounds: int) -> None:
    await _time(step, max(count // 10, 50))  # warm-up: prepared statements, caches
    results = [await _time(step, count) for _ in range(rounds)]
    cpu = " / ".join(f"{c:6.1f}" for c, _ in results)
    wall = " / ".join(f"{w:6.1f}" for _, w in results)
    print(f"| {name} | {cpu} | {wall} |", flush=True)


async def _postgres(url: str, count: int, rounds: int) -> None:
    connection = await asyncpg.connect(url)
    try:

        async def select(i: int) -> object:
            return await connection.fetch("SELECT $1::int", i)

        async def begin_commit(_: int) -> object:
            await connection.execute("BEGIN")
            return await connection.execute("COMMIT")

        await _measure("PostgreSQL, asyncpg: `SELECT $1::int`", select, count, rounds)
        await _measure("PostgreSQL, asyncpg: `BEGIN`, `COMMIT`", begin_commit, count, rounds)
    finally:
        await connection.close()


async def _sqlite(path: Path, count: int, rounds: int) -> None:
    on_loop = sqlite3.connect(path, isolation_level=None)
    on_loop.execute("PRAGMA journal_mode=WAL")
    on_loop.execute("PRAGMA synchronous=NORMAL")

    async def select(i: int) -> object:
        return on_loop.execute("SELECT ?", (i,)).fetchall()

    async def begin_commit(_: int) -> object:
        on_loop.execute("BEGIN IMMEDIATE")
        return on_loop.execute("COMMIT")

    await _measure("SQLite, `sqlite3` on the event loop: `SELECT ?`", select, count, rounds)
    await _measure(
        "SQLite, `sqlite3` on the event loop: `BEGIN`, `COMMIT`", begin_commit, count, rounds
    )
    on_loop.close()
    async with aiosqlite.connect(path) as threaded:

        async def trip(i: int) -> object:
            async with threaded.execute("SELECT ?", (i,)) as cursor:
                return await cursor.fetchall()

        await _measure("SQLite, aiosqlite (its thread): `SELECT ?`", trip, count, rounds)


async def main(args: argparse.Namespace) -> None:
    print(
        f"{args.count} statements per round, {args.rounds} rounds; µs per statement "
        "(per pair for `BEGIN`, `COMMIT`), each round shown\n"
    )
    print("| trip | client CPU µs | wall µs |")
    print("| --- | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        await _sqlite(Path(tmp) / "roundtrip.db", args.count, args.rounds)
    if args.pg_url:
        await _postgres(args.pg_url, args.count, args.rounds)


def cli() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="an asyncpg URL; empty to skip PostgreSQL",
    )
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    uvloop.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
