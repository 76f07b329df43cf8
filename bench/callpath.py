"""Benchmark: the incoming-call path under load, with reference servers in the same run.

For each server: start it (uvicorn with uvloop and httptools, one process, access log off,
pinned to CPU 0; the load generator runs here, pinned to CPU 1), wait until it answers,
walk calls through it at maximum throughput (closed loop), read its memory, stop it.

- generator ceiling: a raw uvloop HTTP server answering a constant document (no ASGI), so
  the generator's own limit shows;
- ref (a): a bare ASGI app returning a constant TwiML document (bench/refs/bare.py);
- ref (b): a minimal FastAPI app checking the signature with twilio and building a
  `<Gather>` with VoiceResponse, no database (bench/refs/sample.py);
- refs (c) and (d), the floor (bench/refs/floor.py): plain ASGI, signature checked, plus the
  least database work a correct IVR webhook needs, one transaction per webhook, on the same
  data set as Switchboard: (c) SQLAlchemy Core on Switchboard's engine, (d) the driver
  itself (aiosqlite, asyncpg) with hand-written SQL; on SQLite and on PostgreSQL; (e) on
  SQLite, sqlite3 called right on the event loop (no thread hop); and the same server
  without any database (`floor-none`), so the transaction's share shows;
- Switchboard on SQLite and on PostgreSQL (`switchboard serve`) with the realistic data set
  of bench/dataset.py; besides the closed loop, a rate sweep (open loop at rising rates,
  each rate's calls hung up before the next; `--no-rate-sweep` to skip it), the target's
  fixed arrival rate (`--rate`, 200 calls/s: a point of the sweep when the sweep includes
  it, else run alone) and a burst of status callbacks checked against the call log.

    .venv/bin/python -m bench.callpath                       # both databases, fresh data set
    .venv/bin/python -m bench.callpath --database sqlite --reuse --json /tmp/callpath.json
    .venv/bin/python -m bench.callpath --reuse --servers switchboard --sweep-rates 20,30,40

The default run takes about 6 minutes here (the data sets' build included; about 5 with
`--reuse`); the rate sweep (10, 20, 40, 80, 200 calls/s, 1 s warm-up + 7 s each, stopping
after the first rate whose voice p99 passes 1 s) is most of Switchboard's share of it.

Prints a markdown report. `--reuse` keeps the data set built by an earlier run (the SQLite
file is copied before each server's run, so every server starts from the same database;
PostgreSQL from a copy of the database as built, kept as `<name>_pristine`).

CPU time per webhook (server CPU seconds / webhooks answered) is the steadiest comparison
on a shared machine; on PostgreSQL the CPU of the database's own backends is read from
/proc (the backends serving the benchmark's database) and shown beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import loadgen
from bench.loadgen import Twilio
from bench.servers import GENERATOR_CPU, Server, free_port, uvicorn_argv

REPO = Path(__file__).resolve().parent.parent


def _this_checkout() -> dict[str, str]:
    """PYTHONPATH for the `switchboard` command: this checkout's code, not whichever one
    the virtualenv's editable install points at (a second worktree shares the venv)."""
    found = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": f"{REPO}{os.pathsep}{found}" if found else str(REPO)}


TOKEN = "bench-auth-token-5f3c2a9e7d1b4c60"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_lg"
TARGET_VS_B, TARGET_VS_A, TARGET_P99_MS = 1.3, 0.15, 25.0
OVERLOADED_MS = 1000.0  # the rate sweep stops once a voice webhook's p99 passes this


# --- data sets --------------------------------------------------------------------------------


@dataclasses.dataclass
class Data:
    """A database ready for Switchboard and what the generator needs from its data set."""

    kind: str  # sqlite | postgres
    url: str
    callers: list[str]
    to_number: str
    note: str
    facts: dict[str, Any]
    pristine: Path | None = None  # SQLite: the data set as built, copied for each server


def _dataset_facts(ds: Any) -> dict[str, Any]:
    facts = {"callers": list(ds.callers), "to_number": ds.to_number}
    names = ("counts", "build_seconds", "size_bytes", "now", "paid_callers", "on_shift")
    for name in (*names, "candidates", "warnings"):
        value = getattr(ds, name, None)
        if isinstance(value, datetime):
            value = value.isoformat()
        facts[name] = value
    return facts


async def _build(url: str, args: argparse.Namespace) -> dict[str, Any]:
    if args.dataset == "demo":
        return await _demo(url)
    from bench.dataset import build_dataset

    ds = await build_dataset(
        url,
        accounts=args.accounts,
        specialists=args.specialists,
        teams=args.teams,
        reset=True,
        **({} if args.sun_share is None else {"sun_share": args.sun_share}),
    )
    return _dataset_facts(ds)


async def _demo(url: str) -> dict[str, Any]:
    """The demo data of `switchboard seed` (a quick smoke run, not the benchmark's data)."""
    if url.startswith("postgresql"):
        import asyncpg

        parsed = make_url(url)
        conn = await asyncpg.connect(
            user=parsed.username or "postgres",
            password=parsed.password,
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            database=parsed.database,
        )
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await conn.close()
    cli = str(Path(sys.executable).with_name("switchboard"))
    env = {**os.environ, **_this_checkout(), "DATABASE_URL": url}
    for command in (["migrate"], ["seed"]):
        await asyncio.to_thread(
            subprocess.run, [cli, *command], env=env, check=True, capture_output=True, cwd=REPO
        )
    return {
        "callers": list(loadgen.DEFAULT_CALLERS),
        "to_number": loadgen.DEFAULT_TO,
        "counts": {},
        "demo": True,
    }


def _size_note(facts: dict[str, Any]) -> str:
    counts = facts.get("counts") or {}
    shown = ", ".join(f"{n:,} {k}" for k, n in counts.items() if isinstance(n, int))
    if facts.get("demo"):
        return "the demo data of `switchboard seed` (a smoke run, not the benchmark's data set)"
    return shown or f"{facts['callers']:,} caller numbers"


def _dataset_key(args: argparse.Namespace) -> str:
    """What names a built data set in the cache: its kind and sizes (and its staffing)."""
    key = f"{args.dataset}-{args.accounts}-{args.specialists}-{args.teams}"
    if args.sun_share is not None:
        key += f"-sun{args.sun_share:g}"
    return key


def prepare_sqlite(args: argparse.Namespace, cache: Path) -> Data:
    """The SQLite data set: built (or reused) once, copied to a fresh working file."""
    stem = f"dataset-{_dataset_key(args)}"
    pristine, meta = cache / f"{stem}.db", cache / f"{stem}.json"
    if args.reuse and pristine.exists() and meta.exists():
        facts = json.loads(meta.read_text())
        how = f"reused {pristine} (built {facts.get('built_at', '?')})"
    else:
        for path in _sqlite_files(pristine):
            path.unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{pristine}"
        started = time.perf_counter()
        facts = loadgen.run(_build(url, args))
        facts["built_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        facts["build_wall_seconds"] = time.perf_counter() - started
        meta.write_text(json.dumps(facts, indent=1))
        how = f"built in {facts['build_wall_seconds']:.0f} s ({pristine})"
    url = f"sqlite+aiosqlite:///{pristine}"
    return Data("sqlite", url, facts["callers"], facts["to_number"], how, facts, pristine)


def working_copy(data: Data, cache: Path, name: str) -> Data:
    """The database one server runs on: a fresh copy of the SQLite data set; PostgreSQL as is."""
    if data.pristine is None:
        return data
    work = cache / f"run-{name}.db"
    for path in _sqlite_files(work):
        path.unlink(missing_ok=True)
    for source, target in zip(_sqlite_files(data.pristine), _sqlite_files(work), strict=True):
        if source.exists():
            shutil.copyfile(source, target)
    return dataclasses.replace(data, url=f"sqlite+aiosqlite:///{work}")


def drop_copy(data: Data) -> None:
    """Delete a server's SQLite working copy."""
    if data.pristine is not None:
        for path in _sqlite_files(Path(make_url(data.url).database or "")):
            path.unlink(missing_ok=True)


def _sqlite_files(path: Path) -> list[Path]:
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


async def _connect(url: str, database: str) -> Any:
    """An asyncpg connection to `database` on the server of `url`, as its user."""
    import asyncpg

    parsed = make_url(url)
    return await asyncpg.connect(
        database=database,
        user=parsed.username or "postgres",
        password=parsed.password,
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
    )


async def _exists(admin: Any, name: str) -> bool:
    return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))


async def _ensure_pg_database(url: str) -> bool:
    """Create the benchmark's PostgreSQL database when missing; True when it already held data."""
    name = make_url(url).database
    if not name or name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"callpath: refusing to use database {name!r}; name your own")
    admin = await _connect(url, "postgres")
    try:
        if not await _exists(admin, name):
            await admin.execute(f'CREATE DATABASE "{name}"')
            return False
    finally:
        await admin.close()
    conn = await _connect(url, name)
    try:
        return bool(await conn.fetchval("SELECT to_regclass('public.accounts') IS NOT NULL"))
    finally:
        await conn.close()


async def _pg_copy(url: str, source: str, target: str) -> None:
    """Database `target` made afresh as a copy of `source` (CREATE DATABASE ... TEMPLATE)."""
    admin = await _connect(url, "postgres")
    try:
        for name in (source, target):  # a copy needs both without sessions
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
        await admin.execute(f'DROP DATABASE IF EXISTS "{target}"')
        await admin.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    finally:
        await admin.close()


async def _pg_exists(url: str, name: str) -> bool:
    admin = await _connect(url, "postgres")
    try:
        return await _exists(admin, name)
    finally:
        await admin.close()


def prepare_postgres(args: argparse.Namespace, cache: Path) -> Data:
    """The PostgreSQL data set in the benchmark's own database, built fresh unless --reuse.

    A build is kept as database `<name>_pristine`; with --reuse each run starts from a fresh
    copy of it, as the SQLite side does, so no run finds an earlier run's calls.
    """
    url = args.pg_url
    name = make_url(url).database
    assert name is not None
    pristine = f"{name}_pristine"
    meta = cache / f"dataset-pg-{name}-{_dataset_key(args)}.json"
    had_data = loadgen.run(_ensure_pg_database(url))
    if args.reuse and had_data and meta.exists():
        facts = json.loads(meta.read_text())
        built = facts.get("built_at", "?")
        if loadgen.run(_pg_exists(url, pristine)):
            loadgen.run(_pg_copy(url, pristine, name))
            how = f"reused database {name}, copied afresh from {pristine} (built {built})"
        else:  # built by an older version of this benchmark: keep it as it is now
            loadgen.run(_pg_copy(url, name, pristine))
            how = f"reused database {name} (built {built}; earlier runs' calls kept)"
    else:
        started = time.perf_counter()
        facts = loadgen.run(_build(url, args))
        facts["built_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        facts["build_wall_seconds"] = time.perf_counter() - started
        meta.write_text(json.dumps(facts, indent=1))
        loadgen.run(_pg_copy(url, name, pristine))
        how = f"built in {facts['build_wall_seconds']:.0f} s (database {name}, kept as {pristine})"
    return Data("postgres", url, facts["callers"], facts["to_number"], how, facts)


# --- measuring one server ---------------------------------------------------------------------


def _busy_ticks() -> int:
    """CPU ticks the whole machine spent busy (every CPU), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return user + nice + system + irq + softirq + steal


class PgBackends:
    """CPU used by the PostgreSQL backends serving one database, read from /proc.

    A backend's process title names its database (`postgres: 15/main: USER DB HOST ...`).
    A thread rescans every `every` seconds, so backends that start during the window count
    whole and backends that end lose at most their last `every` seconds.
    """

    def __init__(self, database: str, every: float = 0.25) -> None:
        self.marker = f" {database} ".encode()
        self.every = every
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.backends = 0

    def _scan(self) -> dict[int, float]:
        found: dict[int, float] = {}
        ticks = os.sysconf("SC_CLK_TCK")
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                    title = handle.read(256)
                if not title.startswith(b"postgres: ") or self.marker not in title:
                    continue
                fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
        return found

    def _note(self, found: dict[int, float]) -> None:
        for pid, cpu in found.items():
            self.first.setdefault(pid, 0.0)  # started in the window: all of its CPU counts
            self.last[pid] = cpu

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._note(self._scan())

    def start(self) -> None:
        """Open the window."""
        self.first = self._scan()
        self.last = dict(self.first)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        """Close the window; CPU seconds the database's backends used in it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._note(self._scan())
        self.backends = len(self.last)
        return sum(max(0.0, self.last[pid] - self.first[pid]) for pid in self.last)


class Usage(loadgen.Probe):
    """CPU used by the server (and its database's backends), this process and the rest."""

    def __init__(self, server: Server, pg_database: str | None = None) -> None:
        self.server = server
        self.pg = PgBackends(pg_database) if pg_database else None
        self.result: dict[str, float] = {}

    def start(self) -> None:
        self._t = time.perf_counter()
        self._server = self.server.cpu_seconds()
        self._gen = loadgen.CpuClock()
        self._busy = _busy_ticks()
        if self.pg:
            self.pg.start()

    def stop(self) -> None:
        wall = time.perf_counter() - self._t
        server = (self.server.cpu_seconds() - self._server) / wall
        generator = self._gen.share()
        busy = (_busy_ticks() - self._busy) / os.sysconf("SC_CLK_TCK") / wall
        pg = self.pg.stop() / wall if self.pg else 0.0
        self.result = {
            "server_cpu": server,
            "generator_cpu": generator,
            "other_cpu": max(0.0, busy - server - generator - pg),
        }
        if self.pg:
            self.result["db_cpu"] = pg
            self.result["db_backends"] = self.pg.backends


def settle(server: Server, quiet: float = 0.15, limit: float = 30.0) -> float:
    """Wait until the server is nearly idle (a backlog drained); returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = server.cpu_seconds()
        time.sleep(0.5)
        if (server.cpu_seconds() - before) / 0.5 < quiet:
            break
    return time.perf_counter() - started


def _pg_database(data: Data | None) -> str | None:
    return make_url(data.url).database if data is not None and data.kind == "postgres" else None


def worst_voice_p99(summary: dict[str, Any]) -> float:
    """The highest p99 of the three voice webhooks (NaN when none was answered)."""
    values = [summary["steps"][step]["p99"] for step in loadgen.VOICE_STEPS]
    return max((v for v in values if not math.isnan(v)), default=math.nan)


def measure(
    name: str,
    server: Server,
    tw: Twilio,
    args: argparse.Namespace,
    data: Data | None = None,
    *,
    full: bool = False,
) -> dict[str, Any]:
    """Start the server, run the loads meant for it, read its memory, stop it.

    Every server gets the closed loop; with `full` (Switchboard) also the open loop, the
    rate sweep (when asked) and the status callbacks checked in `data`'s database.
    """
    out: dict[str, Any] = {"name": name}
    pg_database = _pg_database(data)
    print(f"-- {name}: starting on port {server.port}", file=sys.stderr, flush=True)
    server.start()
    leftover: list[loadgen.Call] = []
    try:
        out["loop"] = server.event_loop_and_parser()
        out["memory_idle"] = server.memory()
        usage = Usage(server, pg_database)
        closed = loadgen.run(
            loadgen.closed_loop(
                tw,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
                probe=usage,
                leftover=leftover,
            )
        )
        out["closed"] = {**closed.as_dict(), **usage.result}
        print(loadgen.format_walk(f"   {name} closed", closed), file=sys.stderr, flush=True)
        print(f"   {name} CPU: {usage.result}", file=sys.stderr, flush=True)
        if full and data is not None and not sweep_covers(args):
            out["settle_closed_s"] = settle(server)
            usage = Usage(server, pg_database)
            opened = loadgen.run(
                loadgen.open_loop(
                    tw,
                    rate=args.rate,
                    duration=args.open_duration,
                    warmup=1.0,
                    probe=usage,
                    leftover=leftover,
                )
            )
            out["open"] = {**opened.as_dict(), **usage.result}
            print(loadgen.format_walk(f"   {name} open", opened), file=sys.stderr, flush=True)
            out["settle_open_s"] = settle(server)
        if full and data is not None:
            # Calls cut short hang up now, so that they hold no specialist or queue place.
            out["hung_up"] = loadgen.run(loadgen.hang_up(tw, leftover))
            out["settle_hang_up_s"] = settle(server)
            if args.rate_sweep:
                out["sweep"] = rate_sweep(name, server, tw, args, pg_database)
            plan = loadgen.plan_status(tw, args.status_calls)
            status = loadgen.run(loadgen.status_run(tw, plan, concurrency=args.concurrency))
        out["memory"] = server.memory()
    finally:
        out["exit_code"] = server.stop()
    if full and data is not None:
        status.check = loadgen.run(loadgen.check_status(data.url, plan))
        out["status"] = status.as_dict()
        print(
            f"   {name} status: {status.events_per_s:,.0f} events/s, {status.check}",
            file=sys.stderr,
        )
    out["log"] = log_summary(server.log_lines())
    out["log"]["path"] = str(server.log_path)
    return out


def sweep_rates(args: argparse.Namespace) -> list[float]:
    """The rates of the sweep, calls/s."""
    return [float(r) for r in args.sweep_rates.split(",") if r.strip()]


def sweep_covers(args: argparse.Namespace) -> bool:
    """Whether the sweep includes --rate (then the fixed-rate open loop is not run apart)."""
    return bool(args.rate_sweep) and args.rate in sweep_rates(args)


def rate_sweep(
    name: str, server: Server, tw: Twilio, args: argparse.Namespace, pg_database: str | None
) -> dict[str, Any]:
    """Open loop at each rate of --sweep-rates in turn, stopping once a rate is overloaded.

    Each rate: 1 s warm-up, then --sweep-duration s counted; calls still unanswered
    --sweep-drain s after the last start are cut short. Every call ends with its `completed`
    status callback (the walk sends it; calls cut short are hung up afterwards), and the
    server is left to go idle, so no specialist or queue place is held into the next rate.
    """
    rates = sweep_rates(args)
    points: list[dict[str, Any]] = []
    stopped = ""
    for rate in rates:
        leftover: list[loadgen.Call] = []
        usage = Usage(server, pg_database)
        result = loadgen.run(
            loadgen.open_loop(
                tw,
                rate=rate,
                duration=args.sweep_duration,
                warmup=1.0,
                drain=args.sweep_drain,
                probe=usage,
                leftover=leftover,
            )
        )
        point = {"rate": rate, **result.as_dict(), **usage.result}
        point["settle_s"] = settle(server)
        point["hung_up"] = loadgen.run(loadgen.hang_up(tw, leftover))
        point["leftover"] = len(leftover)
        point["settle_hang_up_s"] = settle(server)
        worst = worst_voice_p99(result.summary)
        point["worst_voice_p99"] = worst
        points.append(point)
        print(
            f"   {name} sweep {rate:g} calls/s: started "
            f"{result.open_loop['achieved_rate']:.1f}/s, worst voice p99 {worst:.1f} ms, "
            f"errors {result.summary['error_total']}, outcomes {result.summary['outcomes']}, "
            f"hung up {point['hung_up']}/{len(leftover)}",
            file=sys.stderr,
            flush=True,
        )
        if not worst <= OVERLOADED_MS:  # NaN (nothing answered) counts as overloaded
            stopped = f"stopped after {rate:g} calls/s: voice p99 {worst:,.0f} ms > 1 s"
            break
    passed = [p["rate"] for p in points if _sweep_ok(p)]
    highest = max(passed, default=None)
    missed = [p["rate"] for p in points if highest is not None and p["rate"] < highest]
    return {
        "points": points,
        "highest_ok_rate": highest,
        "missed_below": [r for r in missed if r not in passed],
        "stopped": stopped,
    }


def _sweep_ok(point: dict[str, Any]) -> bool:
    """Every voice webhook's p99 under the target, and no error."""
    return bool(point["worst_voice_p99"] < TARGET_P99_MS and not point["summary"]["error_total"])


def log_summary(lines: list[str]) -> dict[str, Any]:
    """Errors and warnings in a server's log, errors by the exception that caused them."""
    errors: dict[str, int] = {}
    warnings = 0
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"level": "error" if "Traceback" in line else "", "exc": line}
        if not isinstance(entry, dict):
            continue
        if entry.get("level") == "warning":
            warnings += 1
        elif entry.get("level") in ("error", "critical"):
            exc = str(entry.get("exc") or "").strip().splitlines()
            kind = exc[-1].split(":")[0][:60] if exc else str(entry.get("msg", ""))[:60]
            errors[kind] = errors.get(kind, 0) + 1
    return {
        "lines": len(lines),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "warnings": warnings,
    }


def _migrate(url: str) -> None:
    cli = str(Path(sys.executable).with_name("switchboard"))
    env = {**os.environ, **_this_checkout(), "DATABASE_URL": url}
    subprocess.run([cli, "migrate"], env=env, check=True, capture_output=True, cwd=REPO)


def switchboard(data: Data, port: int, cache: Path) -> Server:
    """`switchboard serve` on the data set's database (migrated first)."""
    env = {
        "DATABASE_URL": data.url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "FLOWS_DIR": str(REPO / "ivr_flows"),
        "LOG_LEVEL": "WARNING",
        **_this_checkout(),
    }
    cli = str(Path(sys.executable).with_name("switchboard"))
    _migrate(data.url)
    return Server(
        f"switchboard-{data.kind}",
        [cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
        port,
        env,
        cache / f"switchboard-{data.kind}.log",
        ready_path="/readyz",
    )


def reference(kind: str, port: int, cache: Path) -> Server:
    """A reference server: raw (generator ceiling), bare or sample."""
    env = {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "TWILIO_AUTH_TOKEN": TOKEN}
    if kind == "raw":
        argv = [sys.executable, "-m", "bench.servers", "raw", "--port", str(port)]
    else:
        argv = uvicorn_argv(f"bench.refs.{kind}:app", port)
    return Server(kind, argv, port, env, cache / f"ref-{kind}.log")


def floor(driver: str, data: Data | None, port: int, cache: Path) -> Server:
    """Ref (c) (driver `core`) or (d) (`raw`) on the data set's database (migrated first), or
    the same without any database (`none`, no data)."""
    env = {
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "FLOOR_DRIVER": driver,
    }
    name = "floor-none"
    if data is not None:
        _migrate(data.url)
        env["DATABASE_URL"] = data.url
        name = f"floor-{driver}-{data.kind}"
    argv = uvicorn_argv("bench.refs.floor:app", port)
    return Server(name, argv, port, env, cache / f"ref-{name}.log")


# --- the report -------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.1f}"


def _mb(kb: int | None) -> str:
    return "–" if kb is None else f"{kb / 1024:.0f}"


def _counter(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())) or "–"


LABELS = {
    "raw": "generator ceiling (raw uvloop server)",
    "bare": "ref (a) bare ASGI",
    "sample": "ref (b) FastAPI sample",
    "floor-none": "floor without database: signature + string TwiML",
    "floor-core-sqlite": "ref (c) floor: signature + Core transaction (SQLite)",
    "floor-raw-sqlite": "ref (d) floor: signature + raw driver (SQLite)",
    "floor-sync-sqlite": "ref (e) floor: signature + sqlite3 on the event loop (SQLite)",
    "switchboard-sqlite": "Switchboard, SQLite",
    "floor-core-postgres": "ref (c) floor: signature + Core transaction (PostgreSQL)",
    "floor-raw-postgres": "ref (d) floor: signature + raw driver (PostgreSQL)",
    "switchboard-postgres": "Switchboard, PostgreSQL",
}


def report(run: dict[str, Any], args: argparse.Namespace) -> str:
    """The markdown report."""
    servers: dict[str, Any] = run["servers"]
    out = [
        "# Call path benchmark",
        "",
        f"`{run['command']}`",
        "",
        f"{run['date']} · {run['host']} · servers pinned to CPU 0, generator to CPU 1 · "
        f"whole run {run.get('wall_seconds', math.nan):.0f} s",
        "",
    ]
    for data in run["datasets"].values():
        out.append(f"- data set, {data['kind']}: {_size_note(data['facts'])}; {data['note']}")
        for team, (low, median, high) in (data["facts"].get("on_shift") or {}).items():
            out.append(
                f"  - {team}: English speakers on shift each hour of the week after the build: "
                f"min {low}, median {median:g}, max {high}"
            )
    out += [
        "",
        f"## Throughput: closed loop, {args.concurrency} callers, {args.duration:g} s after "
        f"{args.warmup:g} s warm-up",
        "",
        "Each call: `/twilio/voice`, language digit, topic digit (the three webhooks of the "
        "call path, *webhooks/s*), then its `completed` status callback (in *req/s*, for every "
        "server alike). Ratios compare webhooks/s. CPU in cores over the counted window; "
        "*others* is every other process on the machine (but the PostgreSQL backends serving "
        "the benchmark's database, shown apart under CPU per webhook). On a busy "
        "machine the server gets less than its core: *per CPU-s* (webhooks per second of "
        "server CPU) and its ratios are then the steadier comparison.",
        "",
        "| server | webhooks/s | calls/s | req/s | vs (a) | vs (b) | per CPU-s | vs (a) "
        "| vs (b) | errors | outcomes | server CPU | generator CPU | others |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: "
        "| ---: | ---: |",
    ]
    base_a, base_b = _closed(servers, "bare"), _closed(servers, "sample")
    for key, result in servers.items():
        closed = result.get("closed")
        if not closed:
            continue
        w, per_cpu = closed["webhooks_per_s"], _per_cpu(closed)
        out.append(
            f"| {LABELS.get(key, key)} | {w:,.0f} | {closed['calls_per_s']:,.0f} "
            f"| {closed['requests_per_s']:,.0f} | {_ratio(w, base_a[0])} | {_ratio(w, base_b[0])} "
            f"| {per_cpu:,.0f} | {_ratio(per_cpu, base_a[1])} | {_ratio(per_cpu, base_b[1])} "
            f"| {closed['summary']['error_total']:,} | {_counter(closed['summary']['outcomes'])} "
            f"| {_cores(closed.get('server_cpu'))} | {_cores(closed.get('generator_cpu'))} "
            f"| {_cores(closed.get('other_cpu'))} |"
        )
    raw = servers.get("raw", {}).get("closed")
    if raw:
        per_core = raw["requests_per_s"] / raw["generator_cpu"] if raw["generator_cpu"] else 0
        out += [
            "",
            f"Generator ceiling: {raw['requests_per_s']:,.0f} req/s against the raw server with "
            f"the generator using {raw['generator_cpu']:.2f} of its core (about "
            f"{per_core:,.0f} req/s per full core); against ref (a) it used "
            f"{servers.get('bare', {}).get('closed', {}).get('generator_cpu', math.nan):.2f}.",
        ]
    out += ["", *_cpu_section(servers)]
    out += ["", *_floor_section(servers)]
    out += ["", "## Latency per step, closed loop (ms)", ""]
    out += _latency_table(
        (LABELS.get(k, k), r["closed"]["summary"]) for k, r in servers.items() if r.get("closed")
    )
    opened = {k: r for k, r in servers.items() if r.get("open")}
    if opened:
        out += [
            "",
            f"## Open loop: {args.rate:g} calls/s for {args.open_duration:g} s (after 1 s warm-up)",
            "",
            "Calls start on a fixed timetable whatever the answers; the first webhook's latency "
            "counts from the call's scheduled start. A call *fell behind* when its first request "
            "went out more than 5 ms late.",
            "",
        ]
        out += _latency_table((LABELS.get(k, k), r["open"]["summary"]) for k, r in opened.items())
        out += [
            "",
            "| server | achieved calls/s | completed | fell behind | unfinished "
            "| errors | outcomes | voice webhook p99 (max of 3) | server CPU |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
        ]
        for key, result in opened.items():
            o, s = result["open"]["open_loop"], result["open"]["summary"]
            worst = max(s["steps"][step]["p99"] for step in loadgen.VOICE_STEPS)
            mark = "✓" if worst < TARGET_P99_MS else "✗"
            out.append(
                f"| {LABELS.get(key, key)} | {o['achieved_rate']:,.1f} | {o['completed']:,} "
                f"| {o['behind']:,} | {o['unfinished']:,} | {s['error_total']:,} "
                f"| {_counter(s['outcomes'])} | {_ms(worst)} {mark} "
                f"| {result['open'].get('server_cpu', math.nan):.2f} |"
            )
    for key, result in servers.items():
        if result.get("sweep"):
            out += ["", *_sweep_section(LABELS.get(key, key), result["sweep"], args)]
    statuses = {k: r for k, r in servers.items() if r.get("status")}
    if statuses:
        out += [
            "",
            "## Status callbacks",
            "",
            "Each call opened with `/twilio/voice`, then ringing 0, in-progress 1, completed 2 "
            "(one in ten: ringing 0, no-answer 1); some calls' last two events swapped, some "
            "events repeated (half at once, half at the end). Checked afterwards in "
            "`calls` and `call_status_events`.",
            "",
            "| server | calls | events sent | distinct | repeats | reordered | events/s "
            "| p50 ms | p99 ms | errors | lost | duplicated | unexpected | wrong final |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
            "| ---: | ---: | ---: |",
        ]
        for key, result in statuses.items():
            st, check = result["status"], result["status"]["check"]
            lat = st["summary"]["steps"]["status"]
            out.append(
                f"| {LABELS.get(key, key)} | {st['calls']:,} | {st['events']:,} "
                f"| {st['distinct']:,} | {st['duplicates']:,} | {st['reordered']:,} "
                f"| {st['events_per_s']:,.0f} | {_ms(lat['p50'])} | {_ms(lat['p99'])} "
                f"| {st['summary']['error_total']:,} | {check['lost']:,} "
                f"| {check['duplicated']:,} | {check['unexpected']:,} | {check['wrong_final']:,} |"
            )
    out += [
        "",
        "## Memory after the load",
        "",
        "| server | VmRSS MB | VmHWM MB | idle RSS MB | uvloop | httptools | log |",
        "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for key, result in servers.items():
        mem, idle, loop = (
            result.get("memory", {}),
            result.get("memory_idle", {}),
            result.get("loop", {}),
        )
        log = result.get("log", {})
        out.append(
            f"| {LABELS.get(key, key)} | {_mb(mem.get('VmRSS'))} | {_mb(mem.get('VmHWM'))} "
            f"| {_mb(idle.get('VmRSS'))} | {_yes(loop.get('uvloop'))} "
            f"| {_yes(loop.get('httptools'))} | {log.get('errors', 0)} errors"
            + (f" ({_counter(log['error_kinds'])})" if log.get("error_kinds") else "")
            + f", {log.get('warnings', 0)} warnings |"
        )
    out += ["", "## Targets", "", *_targets(servers, args.rate)]
    return "\n".join(out) + "\n"


def _us_per_webhook(closed: dict[str, Any], key: str = "server_cpu") -> float:
    """CPU microseconds per webhook: CPU seconds used in the window / webhooks answered."""
    cpu = closed.get(key)
    if cpu is None or not closed["webhooks_per_s"]:
        return math.nan
    return float(cpu / closed["webhooks_per_s"] * 1e6)


def _us(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:,.0f}"


def _cores(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}"


def _cpu_section(servers: dict[str, Any]) -> list[str]:
    """CPU microseconds per webhook for every server (closed loop)."""
    out = [
        "## CPU per webhook, closed loop",
        "",
        "Server CPU seconds over the counted window divided by the webhooks answered in it "
        "(the call's status callback is one request more per three webhooks, for every "
        "server alike). Unlike webhooks/s this hardly moves when other work shares the "
        "machine. *PostgreSQL backends*: CPU of the database processes serving the "
        "benchmark's database, which run beside the server, not on its core (*backends "
        "seen*: how many served it in the window; more than the pool holds means "
        "connections were opened and closed under load).",
        "",
        "| server | server CPU µs/webhook | PostgreSQL backends µs/webhook "
        "| server + database µs/webhook | server CPU | PostgreSQL CPU | backends seen "
        "| others |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, result in servers.items():
        closed = result.get("closed")
        if not closed or key == "raw":
            continue
        own, db = _us_per_webhook(closed), _us_per_webhook(closed, "db_cpu")
        total = own + (0.0 if math.isnan(db) else db)
        out.append(
            f"| {LABELS.get(key, key)} | {_us(own)} | {_us(db)} | {_us(total)} "
            f"| {_cores(closed.get('server_cpu'))} | {_cores(closed.get('db_cpu'))} "
            f"| {closed.get('db_backends', '–')} | {_cores(closed.get('other_cpu'))} |"
        )
    return out


def _floor_section(servers: dict[str, Any]) -> list[str]:
    """Where the 1.3x (b) target sits next to the floor of the persistence."""
    b = servers.get("sample", {}).get("closed")
    a = servers.get("bare", {}).get("closed")
    if not b:
        return []
    target = TARGET_VS_B * b["webhooks_per_s"]
    a_w = a["webhooks_per_s"] if a else None
    b_us = _us_per_webhook(b)
    budget = b_us / TARGET_VS_B
    out = [
        "## Where the target sits: the floor of the persistence",
        "",
        f"Target: {TARGET_VS_B}x ref (b) = **{target:,.0f} webhooks/s**, i.e. at most "
        f"**{budget:,.0f} µs of server CPU per webhook** with the server's core to itself "
        f"(ref (b) spends {b_us:,.0f}). Refs (c), (d) and (e) do only what any correct "
        "implementation must: signature, form, one transaction (voice: INSERT the call and "
        "its state; gather: SELECT call + state, UPDATE state, INSERT one step; status: "
        "SELECT call, UPDATE it, INSERT one event), TwiML from a string template. *p50*: "
        "the middle one of the three voice steps' p50; *p99*: the worst step's p99.",
        "",
        "| server | webhooks/s | vs (a) | vs (b) | vs target | p50 ms | p99 ms "
        "| server CPU µs/webhook | vs budget |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [(k, r["closed"]) for k, r in servers.items() if r.get("closed") and k != "raw"]
    rows.insert(
        next((i for i, (k, _) in enumerate(rows) if k.startswith("floor")), len(rows)),
        ("target", None),
    )
    for key, closed in rows:
        if closed is None:
            out.append(
                f"| **target: {TARGET_VS_B}x ref (b)** | {target:,.0f} "
                f"| {_ratio(target, a_w)} | {TARGET_VS_B:.2f}x "
                f"| 1.00x | | | {budget:,.0f} | 1.00x |"
            )
            continue
        w, us = closed["webhooks_per_s"], _us_per_webhook(closed)
        steps = closed["summary"]["steps"]
        p50 = sorted(steps[step]["p50"] for step in loadgen.VOICE_STEPS)[1]
        out.append(
            f"| {LABELS.get(key, key)} | {w:,.0f} | {_ratio(w, a_w)} "
            f"| {_ratio(w, b['webhooks_per_s'])} | {_ratio(w, target)} | {_ms(p50)} "
            f"| {_ms(worst_voice_p99(closed['summary']))} | {_us(us)} | {_ratio(us, budget)} |"
        )
    floors = {
        k: r["closed"]
        for k, r in servers.items()
        if k.startswith(("floor-core", "floor-raw", "floor-sync")) and "closed" in r
    }
    if floors:
        fastest = min(floors, key=lambda k: _us_per_webhook(floors[k]))
        best = floors[fastest]
        out += [
            "",
            f"The cheapest floor, {LABELS.get(fastest, fastest)}, needs "
            f"{_us(_us_per_webhook(best))} µs of server CPU per webhook: "
            f"{_ratio(_us_per_webhook(best), budget)} the target's budget, so at most "
            f"{_ratio(best['webhooks_per_s'] / best['server_cpu'], target)} of the target "
            "even on a whole core (webhooks per server CPU-second / target).",
        ]
        bare = servers.get("floor-none", {}).get("closed")
        if bare:
            alone = _us_per_webhook(bare)
            shares = ", ".join(
                f"{LABELS.get(k, k).split(': ', 1)[-1]} +{_us(_us_per_webhook(c) - alone)} µs"
                for k, c in floors.items()
            )
            out.append(
                f"The same server without the database spends {_us(alone)} µs per webhook "
                f"(signature, form, template: {_ratio(alone, budget)} the budget); the "
                f"transaction adds: {shares}."
            )
    return out


def _sweep_section(label: str, sweep: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """One server's rate sweep."""
    out = [
        f"## Rate sweep, open loop: {label}",
        "",
        f"Each rate: 1 s warm-up, {args.sweep_duration:g} s counted; calls unanswered "
        f"{args.sweep_drain:g} s after the last start are cut short (their wait counts) and "
        "every call is hung up (`completed`) before the next rate. Latency in ms, the first "
        "webhook's from the call's scheduled start.",
        "",
        "| calls/s | started/s | completed | unfinished | errors | outcomes "
        "| voice p50/p95/p99 | language p50/p95/p99 | topic p50/p95/p99 | server CPU "
        "| PostgreSQL CPU | others |",
        "| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for point in sweep["points"]:
        o, s = point["open_loop"], point["summary"]
        cells = [
            "/".join(_ms(s["steps"][step][q]) for q in ("p50", "p95", "p99"))
            for step in loadgen.VOICE_STEPS
        ]
        mark = "✓" if point["worst_voice_p99"] < TARGET_P99_MS else "✗"
        out.append(
            f"| {point['rate']:g} {mark} | {o['achieved_rate']:,.1f} | {o['completed']:,} "
            f"| {o['unfinished']:,} | {s['error_total']:,} | {_counter(s['outcomes'])} "
            f"| {' | '.join(cells)} | {_cores(point.get('server_cpu'))} "
            f"| {_cores(point.get('db_cpu'))} | {_cores(point.get('other_cpu'))} |"
        )
    ok = sweep["highest_ok_rate"]
    out += [
        "",
        f"Highest rate with every voice webhook's p99 under {TARGET_P99_MS:g} ms (and no "
        f"error): **{'none' if ok is None else f'{ok:g} calls/s'}**"
        + (
            f" (missed at the lower {', '.join(f'{r:g}' for r in sweep['missed_below'])} "
            "calls/s: at a low rate p99 is nearly the slowest few calls of the window)"
            if sweep.get("missed_below")
            else ""
        )
        + (f"; {sweep['stopped']}." if sweep["stopped"] else "."),
    ]
    return out


def _yes(value: bool | None) -> str:
    return "–" if value is None else ("yes" if value else "no")


def _ratio(value: float, base: float | None) -> str:
    if not base or math.isnan(base) or math.isnan(value):
        return "–"
    return f"{value / base:.2f}x"


def _latency_table(rows: Any) -> list[str]:
    out = [
        "| server | step | n | p50 | p95 | p99 | max |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, summary in rows:
        for step, st in summary["steps"].items():
            out.append(
                f"| {label} | {step} | {st['count']:,} | {_ms(st['p50'])} | {_ms(st['p95'])} "
                f"| {_ms(st['p99'])} | {_ms(st['max'])} |"
            )
    return out


def _closed(servers: dict[str, Any], key: str) -> tuple[float | None, float | None]:
    """(webhooks/s, webhooks per server CPU-second) of a server's closed loop."""
    closed = servers.get(key, {}).get("closed")
    return (closed["webhooks_per_s"], _per_cpu(closed)) if closed else (None, None)


def _per_cpu(closed: dict[str, Any]) -> float:
    cpu = closed.get("server_cpu") or math.nan
    return float(closed["webhooks_per_s"] / cpu)


def _targets(servers: dict[str, Any], rate: float) -> list[str]:
    lines = []
    a, a_cpu = _closed(servers, "bare")
    b, b_cpu = _closed(servers, "sample")
    for key in ("switchboard-sqlite", "switchboard-postgres"):
        result = servers.get(key)
        if not result:
            continue
        label = LABELS[key]
        if result.get("closed") and a and b:
            w, w_cpu = result["closed"]["webhooks_per_s"], _per_cpu(result["closed"])
            lines.append(
                f"- {label}: call path {w / b:.2f}x ref (b) (target ≥ {TARGET_VS_B}x) "
                f"{'✓' if w / b >= TARGET_VS_B else '✗'}; {w / a:.2f}x ref (a) "
                f"(target ≥ {TARGET_VS_A}x) {'✓' if w / a >= TARGET_VS_A else '✗'}; "
                f"per server CPU-second {_ratio(w_cpu, b_cpu)} (b), {_ratio(w_cpu, a_cpu)} (a)"
            )
        if result.get("open"):
            s = result["open"]["summary"]["steps"]
            worst = max(s[step]["p99"] for step in loadgen.VOICE_STEPS)
            lines.append(
                f"- {label}: voice webhook p99 at {result['open']['open_loop']['rate']:g} calls/s "
                f"{_ms(worst)} ms (target < {TARGET_P99_MS:g} ms) "
                f"{'✓' if worst < TARGET_P99_MS else '✗'}"
            )
        sweep = result.get("sweep")
        if sweep and not result.get("open"):
            point = next((p for p in sweep["points"] if p["rate"] == rate), None)
            if point is not None:
                worst = point["worst_voice_p99"]
                lines.append(
                    f"- {label}: voice webhook p99 at {rate:g} calls/s (rate sweep) "
                    f"{_ms(worst)} ms (target < {TARGET_P99_MS:g} ms) "
                    f"{'✓' if _sweep_ok(point) else '✗'}"
                )
            else:
                lines.append(
                    f"- {label}: voice webhook p99 at {rate:g} calls/s not measured: the rate "
                    f"sweep {sweep['stopped'] or 'did not reach it'} (target < "
                    f"{TARGET_P99_MS:g} ms) ✗"
                )
        if sweep:
            ok = sweep["highest_ok_rate"]
            lines.append(
                f"- {label}: rate sweep: highest rate with every voice webhook's p99 under "
                f"{TARGET_P99_MS:g} ms: {'none' if ok is None else f'{ok:g} calls/s'} "
                f"(target {rate:g} calls/s) {'✓' if ok is not None and ok >= rate else '✗'}"
            )
        if result.get("status"):
            check = result["status"]["check"]
            lines.append(
                f"- {label}: status events lost {check['lost']}, duplicated "
                f"{check['duplicated']} (target 0) {'✓' if check['ok'] else '✗'}"
                + (f"; e.g. {check['examples'][0]}" if check["examples"] else "")
            )
    return lines or ["- (no Switchboard run)"]


# --- main -------------------------------------------------------------------------------------


def _host() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (
        f"{os.cpu_count()} CPUs ({model or platform.machine()}), Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=float, default=10.0, help="closed loop, seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="closed loop warm-up, seconds")
    parser.add_argument("--concurrency", type=int, default=16, help="closed loop callers")
    parser.add_argument("--rate", type=float, default=200.0, help="open loop calls/s")
    parser.add_argument("--open-duration", type=float, default=10.0)
    parser.add_argument("--status-calls", type=int, default=1000)
    parser.add_argument(
        "--dataset",
        choices=["realistic", "demo"],
        default="realistic",
        help="bench/dataset.py (default) or the demo data of `switchboard seed` (smoke runs)",
    )
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--specialists", type=int, default=1_000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument(
        "--sun-share",
        type=float,
        default=None,
        help="share of the specialists in each of the two round-the-clock teams the calls "
        "reach (default: the data set's, 0.06: about 11 on shift in each)",
    )
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument(
        "--cache-dir",
        default=os.path.join(tempfile.gettempdir(), "switchboard-bench"),
        help="data sets, working databases and server logs",
    )
    parser.add_argument("--reuse", action="store_true", help="reuse a data set built before")
    parser.add_argument(
        "--servers",
        default="raw,bare,sample,floor,switchboard",
        help="comma list of raw, bare, sample, floor (= floor-none,floor-core,floor-raw,"
        "floor-sync), switchboard",
    )
    parser.add_argument(
        "--rate-sweep",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Switchboard: open loop at each of --sweep-rates (on by default)",
    )
    parser.add_argument("--sweep-rates", default="10,20,40,80,200", help="calls/s, rising")
    parser.add_argument(
        "--sweep-duration", type=float, default=7.0, help="seconds counted per rate (+1 s warm-up)"
    )
    parser.add_argument(
        "--sweep-drain",
        type=float,
        default=5.0,
        help="calls still unanswered this long after a rate's last start are cut short",
    )
    parser.add_argument("--json", default="", help="write the raw numbers here")
    return parser.parse_args(argv)


def main() -> None:
    """Run the benchmark and print the report."""
    args = parse_args()
    began = time.perf_counter()
    command = shlex.join([".venv/bin/python", "-m", "bench.callpath", *sys.argv[1:]])
    os.chdir(REPO)
    os.sched_setaffinity(0, {GENERATOR_CPU})
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    wanted = {s.strip() for s in args.servers.split(",") if s.strip()}
    if "floor" in wanted:
        wanted |= {"floor-none", "floor-core", "floor-raw", "floor-sync"}
    floors = [d for d in ("core", "raw", "sync") if f"floor-{d}" in wanted]
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    datasets: dict[str, Data] = {}
    if "switchboard" in wanted or floors:
        for kind in kinds:
            print(f"-- data set ({kind})", file=sys.stderr, flush=True)
            prepare = prepare_sqlite if kind == "sqlite" else prepare_postgres
            datasets[kind] = prepare(args, cache)
    first = next(iter(datasets.values()), None)
    callers = first.callers if first else list(loadgen.DEFAULT_CALLERS)
    to_number = first.to_number if first else loadgen.DEFAULT_TO
    run: dict[str, Any] = {
        "command": command,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "host": _host(),
        "args": vars(args),
        "datasets": {
            k: {
                "kind": d.kind,
                "url": d.url,
                "note": d.note,
                "facts": {
                    **d.facts,
                    "callers": len(d.callers),
                    "paid_callers": len(d.facts.get("paid_callers") or []),
                },
            }
            for k, d in datasets.items()
        },
        "servers": {},
    }
    for kind in ("raw", "bare", "sample"):
        if kind in wanted:
            port = free_port()
            tw = Twilio("127.0.0.1", port, token=TOKEN, callers=callers, to_number=to_number)
            loadgen.check_signatures(tw, TOKEN)
            run["servers"][kind] = measure(kind, reference(kind, port, cache), tw, args)
    if "floor-none" in wanted:
        port = free_port()
        tw = Twilio("127.0.0.1", port, token=TOKEN, callers=callers, to_number=to_number)
        run["servers"]["floor-none"] = measure(
            "floor-none", floor("none", None, port, cache), tw, args
        )
    for data in datasets.values():
        for driver in floors:
            if driver == "sync" and data.kind != "sqlite":
                continue  # sqlite3 on the event loop: SQLite only
            port = free_port()
            tw = Twilio(
                "127.0.0.1", port, token=TOKEN, callers=data.callers, to_number=data.to_number
            )
            work = working_copy(data, cache, f"floor-{driver}-{data.kind}")
            server = floor(driver, work, port, cache)
            run["servers"][server.name] = measure(server.name, server, tw, args, work)
            drop_copy(work)
        if "switchboard" in wanted:
            port = free_port()
            tw = Twilio(
                "127.0.0.1", port, token=TOKEN, callers=data.callers, to_number=data.to_number
            )
            work = working_copy(data, cache, data.kind)
            server = switchboard(work, port, cache)
            run["servers"][server.name] = measure(server.name, server, tw, args, work, full=True)
    run["wall_seconds"] = time.perf_counter() - began
    text = report(run, args)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(run, indent=1, default=str))


if __name__ == "__main__":
    main()
