"""Benchmark: the incoming-call path under load, with two reference servers in the same run.

For each server: start it (uvicorn with uvloop and httptools, one process, access log off,
pinned to CPU 0; the load generator runs here, pinned to CPU 1), wait until it answers,
walk calls through it at maximum throughput (closed loop), read its memory, stop it.

- generator ceiling: a raw uvloop HTTP server answering a constant document (no ASGI), so
  the generator's own limit shows;
- ref (a): a bare ASGI app returning a constant TwiML document (bench/refs/bare.py);
- ref (b): a minimal FastAPI app checking the signature with twilio and building a
  `<Gather>` with VoiceResponse, no database (bench/refs/sample.py);
- Switchboard on SQLite and on PostgreSQL (`switchboard serve`) with the realistic data set
  of bench/dataset.py; besides the closed loop, a fixed arrival rate (open loop, default
  200 calls/s) and a burst of status callbacks checked against the call log afterwards.

    .venv/bin/python -m bench.callpath                       # both databases, fresh data set
    .venv/bin/python -m bench.callpath --database sqlite --reuse --json /tmp/callpath.json

Prints a markdown report. `--reuse` keeps the data set built by an earlier run (the SQLite
file is copied before each run, so every run starts from the same database; PostgreSQL is
reused as it is, with the calls of earlier runs in it).
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
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import loadgen
from bench.loadgen import Twilio
from bench.servers import GENERATOR_CPU, Server, free_port, uvicorn_argv

REPO = Path(__file__).resolve().parent.parent
TOKEN = "bench-auth-token-5f3c2a9e7d1b4c60"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_lg"
TARGET_VS_B, TARGET_VS_A, TARGET_P99_MS = 1.3, 0.15, 25.0


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
        url, accounts=args.accounts, specialists=args.specialists, teams=args.teams, reset=True
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
    env = {**os.environ, "DATABASE_URL": url}
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


def prepare_sqlite(args: argparse.Namespace, cache: Path) -> Data:
    """The SQLite data set: built (or reused) once, copied to a fresh working file."""
    stem = f"dataset-{args.dataset}-{args.accounts}-{args.specialists}-{args.teams}"
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
    work = cache / "run-sqlite.db"
    for path in _sqlite_files(work):
        path.unlink(missing_ok=True)
    for source, target in zip(_sqlite_files(pristine), _sqlite_files(work), strict=True):
        if source.exists():
            shutil.copyfile(source, target)
    url = f"sqlite+aiosqlite:///{work}"
    return Data("sqlite", url, facts["callers"], facts["to_number"], how, facts)


def _sqlite_files(path: Path) -> list[Path]:
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


async def _ensure_pg_database(url: str) -> bool:
    """Create the benchmark's PostgreSQL database when missing; True when it already held data."""
    import asyncpg

    parsed = make_url(url)
    if parsed.database in (None, "", "test", "postgres", "template0", "template1"):
        raise SystemExit(f"callpath: refusing to use database {parsed.database!r}; name your own")
    connect = {
        "user": parsed.username or "postgres",
        "password": parsed.password,
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
    }
    admin = await asyncpg.connect(database="postgres", **connect)
    try:
        exists = await admin.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", parsed.database
        )
        if not exists:
            await admin.execute(f'CREATE DATABASE "{parsed.database}"')
            return False
    finally:
        await admin.close()
    conn = await asyncpg.connect(database=parsed.database, **connect)
    try:
        return bool(await conn.fetchval("SELECT to_regclass('public.accounts') IS NOT NULL"))
    finally:
        await conn.close()


def prepare_postgres(args: argparse.Namespace, cache: Path) -> Data:
    """The PostgreSQL data set in the benchmark's own database, built fresh unless --reuse."""
    url = args.pg_url
    name = make_url(url).database
    meta = (
        cache
        / f"dataset-pg-{name}-{args.dataset}-{args.accounts}-{args.specialists}-{args.teams}.json"
    )
    had_data = loadgen.run(_ensure_pg_database(url))
    if args.reuse and had_data and meta.exists():
        facts = json.loads(meta.read_text())
        how = (
            f"reused database {name} (built {facts.get('built_at', '?')}; earlier runs' calls kept)"
        )
    else:
        started = time.perf_counter()
        facts = loadgen.run(_build(url, args))
        facts["built_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        facts["build_wall_seconds"] = time.perf_counter() - started
        meta.write_text(json.dumps(facts, indent=1))
        how = f"built in {facts['build_wall_seconds']:.0f} s (database {name})"
    return Data("postgres", url, facts["callers"], facts["to_number"], how, facts)


# --- measuring one server ---------------------------------------------------------------------


def _busy_ticks() -> int:
    """CPU ticks the whole machine spent busy (every CPU), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return user + nice + system + irq + softirq + steal


class Usage(loadgen.Probe):
    """CPU used by the server, by this process and by everything else over a window."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.result: dict[str, float] = {}

    def start(self) -> None:
        self._t = time.perf_counter()
        self._server = self.server.cpu_seconds()
        self._gen = loadgen.CpuClock()
        self._busy = _busy_ticks()

    def stop(self) -> None:
        wall = time.perf_counter() - self._t
        server = (self.server.cpu_seconds() - self._server) / wall
        generator = self._gen.share()
        busy = (_busy_ticks() - self._busy) / os.sysconf("SC_CLK_TCK") / wall
        self.result = {
            "server_cpu": server,
            "generator_cpu": generator,
            "other_cpu": max(0.0, busy - server - generator),
        }


def settle(server: Server, quiet: float = 0.15, limit: float = 30.0) -> float:
    """Wait until the server is nearly idle (a backlog drained); returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = server.cpu_seconds()
        time.sleep(0.5)
        if (server.cpu_seconds() - before) / 0.5 < quiet:
            break
    return time.perf_counter() - started


def measure(
    name: str,
    server: Server,
    tw: Twilio,
    args: argparse.Namespace,
    data: Data | None = None,
) -> dict[str, Any]:
    """Start the server, run the loads meant for it, read its memory, stop it."""
    out: dict[str, Any] = {"name": name}
    print(f"-- {name}: starting on port {server.port}", file=sys.stderr, flush=True)
    server.start()
    leftover: list[loadgen.Call] = []
    try:
        out["loop"] = server.event_loop_and_parser()
        out["memory_idle"] = server.memory()
        usage = Usage(server)
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
        if data is not None:
            out["settle_closed_s"] = settle(server)
            usage = Usage(server)
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
            # Calls cut short hang up now, so that they hold no specialist or queue place.
            out["hung_up"] = loadgen.run(loadgen.hang_up(tw, leftover))
            out["settle_hang_up_s"] = settle(server)
            plan = loadgen.plan_status(tw, args.status_calls)
            status = loadgen.run(loadgen.status_run(tw, plan, concurrency=args.concurrency))
        out["memory"] = server.memory()
    finally:
        out["exit_code"] = server.stop()
    if data is not None:
        status.check = loadgen.run(loadgen.check_status(data.url, plan))
        out["status"] = status.as_dict()
        print(
            f"   {name} status: {status.events_per_s:,.0f} events/s, {status.check}",
            file=sys.stderr,
        )
    out["log"] = log_summary(server.log_lines())
    out["log"]["path"] = str(server.log_path)
    return out


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


def switchboard(data: Data, port: int, cache: Path) -> Server:
    """`switchboard serve` on the data set's database (migrated first)."""
    env = {
        "DATABASE_URL": data.url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "FLOWS_DIR": str(REPO / "ivr_flows"),
        "LOG_LEVEL": "WARNING",
    }
    cli = str(Path(sys.executable).with_name("switchboard"))
    subprocess.run(
        [cli, "migrate"], env={**os.environ, **env}, check=True, capture_output=True, cwd=REPO
    )
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
    "switchboard-sqlite": "Switchboard, SQLite",
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
        f"{run['date']} · {run['host']} · servers pinned to CPU 0, generator to CPU 1",
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
        "*others* is every other process on the machine (PostgreSQL included). On a busy "
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
            f"| {closed.get('server_cpu', math.nan):.2f} "
            f"| {closed.get('generator_cpu', math.nan):.2f} "
            f"| {closed.get('other_cpu', math.nan):.2f} |"
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
    out += ["", "## Targets", "", *_targets(servers)]
    return "\n".join(out) + "\n"


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


def _targets(servers: dict[str, Any]) -> list[str]:
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
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument(
        "--cache-dir",
        default=os.path.join(tempfile.gettempdir(), "switchboard-bench"),
        help="data sets, working databases and server logs",
    )
    parser.add_argument("--reuse", action="store_true", help="reuse a data set built before")
    parser.add_argument(
        "--servers",
        default="raw,bare,sample,switchboard",
        help="comma list of raw, bare, sample, switchboard",
    )
    parser.add_argument("--json", default="", help="write the raw numbers here")
    return parser.parse_args(argv)


def main() -> None:
    """Run the benchmark and print the report."""
    args = parse_args()
    command = shlex.join([".venv/bin/python", "-m", "bench.callpath", *sys.argv[1:]])
    os.chdir(REPO)
    os.sched_setaffinity(0, {GENERATOR_CPU})
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    wanted = {s.strip() for s in args.servers.split(",") if s.strip()}
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    datasets: dict[str, Data] = {}
    if "switchboard" in wanted:
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
    for data in datasets.values():
        port = free_port()
        tw = Twilio("127.0.0.1", port, token=TOKEN, callers=data.callers, to_number=data.to_number)
        server = switchboard(data, port, cache)
        run["servers"][server.name] = measure(server.name, server, tw, args, data)
    text = report(run, args)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(run, indent=1, default=str))


if __name__ == "__main__":
    main()
