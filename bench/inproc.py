"""CPU per webhook of the call path, in process: no HTTP server, no load generator.

Drives whole signed calls (voice, language digit, topic digit, `completed` status, and the
ringing legs' `completed` callbacks when the topic rang someone) straight through the ASGI
app, one call at a time, and reports the process CPU time (`time.process_time`: every
thread, so aiosqlite's worker counts) per webhook of each kind. On a shared machine this is
the steadiest figure there is: a neighbour's work does not add to it. `--profile FILE`
writes a cProfile of the measured calls.

On PostgreSQL it also reports the CPU the database's backends spent on each kind
(`db_per_webhook_us`): the on-CPU nanoseconds of `/proc/<pid>/schedstat` of every backend
connected to the benchmark's database, read before and after each webhook. The server
and the database share the machine, so their sum is what a webhook costs it.

    .venv/bin/python -m bench.inproc --database-url sqlite+aiosqlite:////tmp/copy.db
    .venv/bin/python -m bench.inproc --database-url postgresql+asyncpg://... --profile /tmp/p

Run it on a copy of a `bench.dataset` database (it writes calls). The database's rows
change with every run, so compare code back to back on copies of one data set.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.loadgen import Call, Twilio

TOKEN = "bench-auth-token-inproc-0123456789"
FLOWS_DIR = str(Path(__file__).resolve().parent.parent / "ivr_flows")
BASE = "http://127.0.0.1:8000"
ACTION = re.compile(rb'<Gather\b[^>]*?\baction="([^"]*)"')
LEG = re.compile(rb'statusCallback="([^"]*/twilio/leg[^"]*)"')


def _scope(raw: bytes) -> tuple[dict[str, Any], bytes]:
    """An ASGI http scope and body from a raw HTTP/1.1 request built by `loadgen.Twilio`."""
    head, body = raw.split(b"\r\n\r\n", 1)
    first, *lines = head.split(b"\r\n")
    method, target, _ = first.split(b" ")
    path, _, query = target.partition(b"?")
    headers = []
    for line in lines:
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method.decode(),
        "scheme": "http",
        "path": path.decode(),
        "raw_path": path,
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    return scope, body


async def _post(app: Any, raw: bytes) -> tuple[int, bytes]:
    scope, body = _scope(raw)
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _leg_form(tw: Twilio, call: Call, url: str) -> bytes:
    """A ringing leg's `completed` callback (the specialist did not answer: no-answer)."""
    from bench.loadgen import FormTemplate

    form = FormTemplate(
        {"AccountSid": "AC" + "b3" * 16, "Direction": "outbound-dial", "ApiVersion": "2010-04-01"},
        ("CallSid", "ParentCallSid", "CallStatus", "SequenceNumber", "CallDuration"),
    )
    leg_sid = "CA" + call.sid[2:][::-1]
    return tw._signed(url, form, [leg_sid, call.sid, "no-answer", "2", ""])


class Meter:
    """CPU seconds and counts per webhook kind."""

    def __init__(self, database_url: str = "") -> None:
        self.database_url = database_url
        self.backends: set[int] = set()
        self.db_ns: dict[str, int] = defaultdict(int)
        self.cpu: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.outcomes: dict[str, int] = defaultdict(int)

    async def post(self, app: Any, kind: str, raw: bytes) -> bytes:
        if sum(self.count.values()) % 8 == 0:  # between the timed windows, now and then
            self.backends.update(_backends(self.database_url))
        backends = list(self.backends)
        db_before = _on_cpu_ns(backends)
        started = time.process_time()
        status, body = await _post(app, raw)
        self.cpu[kind] += time.process_time() - started
        self.db_ns[kind] += _on_cpu_ns(backends) - db_before
        self.count[kind] += 1
        if status >= 400 or b"sorry" in body:
            self.errors[kind] += 1
        return body


def _on_cpu_ns(pids: list[int]) -> int:
    """On-CPU nanoseconds of these processes so far (0 for none, or one gone)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def _backends(database_url: str) -> list[int]:
    """The process ids of the PostgreSQL backends connected to this URL's database on this
    machine, found by their process titles (`postgres: user database host ...`); none for
    SQLite. Looked up again every few webhooks: the pool opens connections as it needs them."""
    if not database_url.startswith("postgresql"):
        return []
    database = urlsplit(database_url).path.lstrip("/")
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                title = f.read().split(b" ")
        except OSError:
            continue
        if title[0] != b"postgres:":
            continue
        words = title[2:] if len(title) > 1 and title[1].endswith(b":") else title[1:]
        if len(words) > 1 and words[1].decode(errors="replace") == database:
            pids.append(int(entry.name))  # postgres: [cluster:] user database host state
    return pids


async def _one_call(app: Any, tw: Twilio, meter: Meter) -> None:
    call = tw.new_call()
    _, raw = tw.voice(call)
    body = await meter.post(app, "voice", raw)
    for kind in ("language", "topic"):
        found = ACTION.search(body)
        if found is None:
            meter.outcomes[f"no gather after {kind}"] += 1
            break
        action = found.group(1).decode().replace("&amp;", "&")  # as Twilio reads the XML
        body = await meter.post(app, kind, tw.gather(call, action, "1"))
    if b"<Dial" in body:
        meter.outcomes["dial"] += 1
        for url in LEG.findall(body):
            await meter.post(app, "leg", _leg_form(tw, call, url.decode().replace("&amp;", "&")))
    elif b"<Play" in body or b"<Pause" in body:
        meter.outcomes["hold"] += 1
    else:
        meter.outcomes["other"] += 1
    status = tw.status(call, "completed", 3, datetime.now(UTC), 30)
    await meter.post(app, "status", status)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then measure `args.calls` whole calls one after the other."""
    os.environ.update(
        DATABASE_URL=args.database_url,
        TWILIO_AUTH_TOKEN=TOKEN,
        PUBLIC_BASE_URL=BASE,
        FLOWS_DIR=FLOWS_DIR,
        LOG_LEVEL="WARNING",
    )
    from app.config import Settings
    from app.core.logging import configure_logging
    from app.main import create_app

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    gc.collect()  # as `switchboard serve` does once the app is built
    gc.freeze()
    facts = args.facts_read
    callers = facts.get("callers") or ["+14155550199"]
    to_number = facts.get("to_number") or "+14155550100"
    split = urlsplit(BASE)
    tw = Twilio(
        split.hostname or "", split.port or 80, token=TOKEN, callers=callers, to_number=to_number
    )
    result: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        warm = Meter()
        for _ in range(args.warmup):
            await _one_call(app, tw, warm)
        meter = Meter(args.database_url)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        if args.instr_toggle:
            _callgrind("on")
        for _ in range(args.calls):
            await _one_call(app, tw, meter)
        if args.instr_toggle:
            _callgrind("off")
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        result = {
            "per_webhook_us": {k: round(1e6 * meter.cpu[k] / meter.count[k]) for k in meter.count},
            "count": dict(meter.count),
            "errors": dict(meter.errors),
            "outcomes": dict(meter.outcomes),
            "calls": args.calls,
        }
        total = sum(meter.cpu.values())
        n = sum(meter.count.values())
        result["all_us"] = round(1e6 * total / n)
        if meter.backends:
            result["db_per_webhook_us"] = {
                k: round(meter.db_ns[k] / 1e3 / meter.count[k]) for k in meter.count
            }
            result["db_all_us"] = round(sum(meter.db_ns.values()) / 1e3 / n)
            result["db_backends"] = len(meter.backends)
        voice = [k for k in ("voice", "language", "topic") if k in meter.count]
        result["caller_us"] = round(
            1e6 * sum(meter.cpu[k] for k in voice) / sum(meter.count[k] for k in voice)
        )
    return result


def _callgrind(state: str) -> None:
    """Switch callgrind's counting on or off for this process (run under `--callgrind`)."""
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True)


def _under_callgrind(argv: list[str]) -> dict[str, Any]:
    """This benchmark again under valgrind's callgrind, counting instructions of the
    measured calls only: a count that does not move with what else the machine does, so
    two versions compare within a fraction of a percent where CPU time drifts by 20%."""
    out = Path(tempfile.mkdtemp(prefix="inproc-callgrind-")) / "callgrind.out"
    python = sys.executable  # the virtualenv's interpreter (a link to the binary, not a shim)
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    command += [f"--callgrind-out-file={out}", python, "-m", "bench.inproc", *argv]
    command.append("--instr-toggle")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    totals = re.search(r"^totals:\s*(\d+)", out.read_text(), re.MULTILINE)
    if totals is None:
        raise SystemExit(f"no totals in {out}")
    instructions = int(totals.group(1))
    webhooks = sum(result["count"].values())
    result["instructions_per_webhook"] = round(instructions / webhooks)
    result["instructions_per_call"] = round(instructions / result["calls"])
    for timed in ("per_webhook_us", "all_us", "caller_us", "db_per_webhook_us", "db_all_us"):
        result.pop(timed, None)  # CPU time under valgrind says nothing
    return result


def main() -> None:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--facts", default="", help="the data set's facts (callers, number)")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--profile", default="", help="write a cProfile here")
    parser.add_argument("--top", type=int, default=0, help="print the profile's top N")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="count instructions under valgrind instead of CPU time (~50x slower)",
    )
    parser.add_argument("--instr-toggle", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.callgrind:
        argv = [a for a in sys.argv[1:] if a != "--callgrind"]
        print(json.dumps(_under_callgrind(argv)))
        return
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    args.facts_read = json.loads(Path(args.facts).read_text()) if args.facts else {}
    result = asyncio.run(run(args))
    result["load"] = os.getloadavg()
    print(json.dumps(result))
    if args.profile and args.top:
        stats = pstats.Stats(args.profile, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
