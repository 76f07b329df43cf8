"""Load generator for the incoming-call path: signed Twilio webhooks over raw HTTP/1.1.

A lean asyncio client (uvloop, one `asyncio.Protocol` per keep-alive connection, responses
framed by Content-Length) so that the generator is never what limits the server. Every call
gets a fresh CallSid and walks the default flow as Twilio would:

    POST /twilio/voice                  -> <Gather action=A1>   step "voice"
    POST A1 with Digits=1 (English)     -> <Gather action=A2>   step "language"
    POST A2 with Digits=1 (payments)    -> <Dial> (or hold)     step "topic"
    POST /twilio/status completed       -> 204                  step "status" (not call path)

Every request carries X-Twilio-Signature for PUBLIC_BASE_URL + path + query, computed with
an HMAC-SHA1 that is checked against twilio's RequestValidator before any load is sent.

Modes (`python -m bench.loadgen MODE --help`):

- `closed`: C callers walk calls back to back for D seconds after a warm-up (throughput);
- `open`: calls start on a fixed timetable (R calls/s) whatever the answers; the first step's
  latency counts from the scheduled start, so a slow server cannot hide its queueing;
- `status`: opens N calls, then sends their status callbacks (several events per call, some
  repeated, some out of order) as fast as C connections allow, and checks the database.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import math
import os
import random
import re
import resource
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, cast
from urllib.parse import quote_plus, urlsplit

import uvloop

VOICE_STEPS = ("voice", "language", "topic")
STEPS = (*VOICE_STEPS, "status")
DEFAULT_TOKEN = "bench-auth-token-0123456789abcdef"
DEFAULT_CALLERS = ("+14155550199", "+14155550123", "+14155550142")
DEFAULT_TO = "+14155550100"
ACCOUNT_SID = "AC" + "b3" * 16
REQUEST_TIMEOUT = 30.0
GATHER_ACTION = re.compile(rb'<Gather\b[^>]*?\baction="([^"]*)"')
# What the fallback answers carry (app/telephony/fallback.py, driver.LAST_RESORT).
APOLOGY_MARKERS = (
    b"/twilio/fallback/recorded",
    b"something went wrong on our side",
    b"cannot take your call right now",
)
COUNTRIES = {"+1": "US", "+44": "GB", "+33": "FR", "+49": "DE", "+81": "JP", "+61": "AU"}


# --- HTTP/1.1 over one keep-alive connection -------------------------------------------------


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.sent_at = 0.0
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        """Connect to host:port."""
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(lambda: cls(loop), host, port)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError("connection closed by the server"))

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._waiter is not None:
            self._parse()

    def request(self, raw: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Send one request; the future gets (status, body)."""
        if self.closed or self._transport is None:
            raise ConnectionError("connection is closed")
        fut: asyncio.Future[tuple[int, bytes]] = self._loop.create_future()
        self._waiter = fut
        self.sent_at = time.perf_counter()
        self._transport.write(raw)
        return fut

    def close(self) -> None:
        """Close the connection (a pending request fails)."""
        self.closed = True
        if self._transport is not None:
            self._transport.close()
        self._fail(ConnectionError("connection closed"))

    def expire(self, now: float, timeout: float) -> None:
        """Fail and close when the request in flight has waited longer than `timeout`."""
        if self._waiter is not None and now - self.sent_at > timeout:
            self._fail(TimeoutError(f"no answer within {timeout:.0f} s"))
            self.close()

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _parse(self) -> None:
        buf = self._buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buf[:end]).lower()
        status = int(head[9:12])
        start = end + 4
        at = head.find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            total = start + int(head[at + 17 : stop if stop >= 0 else None])
            if len(buf) < total:
                return
            body = bytes(buf[start:total])
            del buf[:total]
        elif b"\r\ntransfer-encoding: chunked" in head:
            chunked = _dechunk(buf, start)
            if chunked is None:
                return
            body, total = chunked
            del buf[:total]
        elif status in (204, 304) or status < 200:
            body = b""
            del buf[:start]
        else:
            self._fail(ConnectionError("answer without Content-Length"))
            self.close()
            return
        waiter, self._waiter = self._waiter, None
        if b"\r\nconnection: close" in head:
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result((status, body))


def _dechunk(buf: bytearray, pos: int) -> tuple[bytes, int] | None:
    """A complete chunked body from buf[pos:] and the end offset, or None when incomplete."""
    body = bytearray()
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        if size == 0:
            trailer_end = buf.find(b"\r\n\r\n", eol)
            if buf[eol : eol + 4] == b"\r\n\r\n":
                return bytes(body), eol + 4
            return None if trailer_end < 0 else (bytes(body), trailer_end + 4)
        if len(buf) < eol + 2 + size + 2:
            return None
        body += buf[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


class Pool:
    """Keep-alive connections to one server, opened on demand up to `limit` (open loop)."""

    def __init__(self, host: str, port: int, limit: int = 512) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[Connection] = []
        self.every: list[Connection] = []
        self.waiters: deque[asyncio.Future[Connection]] = deque()
        self.waited = 0  # how many times a call found every connection in use at the limit
        self.closing = False

    async def fill(self, size: int) -> None:
        """Open `size` connections up front."""
        for _ in range(size):
            self.put(await self._new())

    async def get(self) -> Connection:
        """An idle connection, a new one, or (at the limit) the next one given back."""
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                return conn
        self.every = [conn for conn in self.every if not conn.closed]
        if len(self.every) < self.limit:
            return await self._new()
        self.waited += 1
        waiter: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        return await waiter

    def put(self, conn: Connection) -> None:
        """Give a connection back (a closed one is replaced for the next waiter)."""
        if self.closing:
            conn.close()
            return
        while self.waiters:
            waiter = self.waiters.popleft()
            if waiter.done():
                continue
            if conn.closed:
                task = asyncio.ensure_future(self._new())
                task.add_done_callback(lambda t, w=waiter: _hand_over(t, w))
            else:
                waiter.set_result(conn)
            return
        if not conn.closed:
            self.idle.append(conn)

    async def _new(self) -> Connection:
        conn = await Connection.open(self.host, self.port)
        self.every.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection."""
        for conn in self.every:
            conn.close()


def _hand_over(task: asyncio.Future[Connection], waiter: asyncio.Future[Connection]) -> None:
    if waiter.done():
        return
    if task.exception() is not None:
        waiter.set_exception(task.exception())  # type: ignore[arg-type]
    else:
        waiter.set_result(task.result())


async def _watchdog(conns: Callable[[], Sequence[Connection]], limit: float) -> None:
    """Fail requests that wait too long (one timer for all, not one per request)."""
    while True:
        await asyncio.sleep(1.0)
        now = time.perf_counter()
        for conn in conns():
            conn.expire(now, limit)


# --- signed Twilio forms ----------------------------------------------------------------------


class Signer:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL + sorted key/value pairs."""

    def __init__(self, token: str) -> None:
        self.key = token.encode()

    def sign(self, url: str, concatenated: str) -> str:
        """The signature of a URL and its already sorted and concatenated parameters."""
        digest = hmac.new(self.key, (url + concatenated).encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()


class FormTemplate:
    """A form with fixed and variable fields, rendered fast as (body, signature data).

    A variable left empty is left out of the form, as Twilio leaves out fields it has no
    value for.
    """

    def __init__(self, fixed: Mapping[str, str], variable: Sequence[str]) -> None:
        self.variable = tuple(variable)
        slots = {name: i for i, name in enumerate(self.variable)}
        # (constant text, slot) pairs: slot -1 is pure constant text.
        sig: list[tuple[str, int]] = []
        body: list[tuple[str, int]] = []
        for key in sorted(set(fixed) | set(self.variable)):
            if key in slots:
                sig.append((key, slots[key]))
                body.append((f"&{quote_plus(key)}=", slots[key]))
            elif sig and sig[-1][1] < 0:
                sig[-1] = (sig[-1][0] + key + fixed[key], -1)
                body[-1] = (body[-1][0] + f"&{quote_plus(key)}={quote_plus(fixed[key])}", -1)
            else:
                sig.append((key + fixed[key], -1))
                body.append((f"&{quote_plus(key)}={quote_plus(fixed[key])}", -1))
        self._sig = sig
        self._body = body

    def render(self, values: Sequence[str]) -> tuple[bytes, str]:
        """The url-encoded body and the signature's parameter string for these values."""
        body: list[str] = []
        sig: list[str] = []
        for text, slot in self._body:
            if slot < 0:
                body.append(text)
            elif value := values[slot]:
                body.append(text)
                body.append(_quoted(value))
        for text, slot in self._sig:
            if slot < 0:
                sig.append(text)
            elif value := values[slot]:
                sig.append(text)
                sig.append(value)
        return "".join(body)[1:].encode(), "".join(sig)


_QUOTED: dict[str, str] = {}


def _quoted(value: str) -> str:
    """quote_plus, remembered (most values repeat: numbers, statuses, digits)."""
    if value.isascii() and value.isalnum():
        return value  # CallSids: nothing to quote
    quoted = _QUOTED.get(value)
    if quoted is None:
        if len(_QUOTED) > 100_000:
            _QUOTED.clear()
        quoted = _QUOTED[value] = quote_plus(value)
    return quoted


def _geo(number: str, prefix: str) -> dict[str, str]:
    country = next((c for p, c in COUNTRIES.items() if number.startswith(p)), "")
    return {f"{prefix}Country": country}


@dataclass
class Call:
    """One caller's call: its CallSid and caller ID."""

    sid: str
    caller: str


class Twilio:
    """Builds the signed requests of calls against one server."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        base_url: str | None = None,
        token: str = DEFAULT_TOKEN,
        callers: Sequence[str] = DEFAULT_CALLERS,
        to_number: str = DEFAULT_TO,
        seed: int = 1,
    ) -> None:
        self.host, self.port = host, port
        self.base_url = (base_url or f"http://{host}:{port}").rstrip("/")
        self.signer = Signer(token)
        self.callers = list(callers) or list(DEFAULT_CALLERS)
        self.rng = random.Random(seed)
        # CallSids never repeat, not even across runs on a database kept from an earlier run.
        self._sids = random.Random(os.urandom(32))
        self._head = f"Host: {host}:{port}\r\n".encode()
        common = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "Direction": "inbound",
            "To": to_number,
            "Called": to_number,
            **_geo(to_number, "To"),
            **_geo(to_number, "Called"),
            "ToState": "CA",
            "ToCity": "SAN FRANCISCO",
            "ToZip": "94105",
            "CalledState": "CA",
            "CalledCity": "SAN FRANCISCO",
            "CalledZip": "94105",
        }
        call_vars = ("CallSid", "From", "Caller", "FromCountry", "CallerCountry", "CallStatus")
        self.voice_form = FormTemplate(common, call_vars)
        self.gather_form = FormTemplate(
            {**common, "msg": "Gather End"}, (*call_vars, "Digits", "FinishedOnKey")
        )
        self.status_form = FormTemplate(
            {**common, "CallbackSource": "call-progress-events"},
            (*call_vars, "SequenceNumber", "Timestamp", "CallDuration", "Duration"),
        )
        self._country: dict[str, str] = {}
        self._stamps: dict[int, str] = {}

    def new_call(self) -> Call:
        """A fresh CallSid from one of the callers."""
        return Call(f"CA{self._sids.getrandbits(128):032x}", self.rng.choice(self.callers))

    def _call_values(self, call: Call, status: str) -> list[str]:
        country = self._country.get(call.caller)
        if country is None:
            country = self._country[call.caller] = _geo(call.caller, "")["Country"]
        return [call.sid, call.caller, call.caller, country, country, status]

    def voice(self, call: Call) -> tuple[str, bytes]:
        """The call's first webhook: (url, raw request)."""
        url = self.base_url + "/twilio/voice"
        return url, self._signed(url, self.voice_form, self._call_values(call, "ringing"))

    def gather(self, call: Call, url: str, digits: str) -> bytes:
        """The caller pressed `digits` at a <Gather> whose action is `url`."""
        # Twilio posts FinishedOnKey empty when numDigits ended the input; leave it out then.
        key = "#" if digits.endswith("#") else ""
        values = [*self._call_values(call, "in-progress"), digits.rstrip("#"), key]
        return self._signed(url, self.gather_form, values)

    def status(
        self, call: Call, status: str, sequence: int, at: datetime, duration: int | None
    ) -> bytes:
        """A status callback of the call."""
        seconds = str(duration if duration is not None else 0)
        values = [
            *self._call_values(call, status),
            str(sequence),
            self._timestamp(at),
            seconds,
            str(math.ceil((duration or 0) / 60)),
        ]
        url = self.base_url + "/twilio/status"
        return self._signed(url, self.status_form, values)

    def _timestamp(self, at: datetime) -> str:
        """RFC 2822 time as Twilio sends it (formatting is slow: one per second is kept)."""
        second = int(at.timestamp())
        cached = self._stamps.get(second)
        if cached is None:
            if len(self._stamps) > 4096:
                self._stamps.clear()
            cached = self._stamps[second] = format_datetime(
                datetime.fromtimestamp(second, UTC), usegmt=True
            )
        return cached

    def _signed(self, url: str, form: FormTemplate, values: list[str]) -> bytes:
        body, sig_data = form.render(values)
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        head = (
            f"POST {target} HTTP/1.1\r\n"
            "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Twilio-Signature: {self.signer.sign(url, sig_data)}\r\n"
            "User-Agent: TwilioProxy/1.1\r\nAccept: */*\r\n"
        ).encode()
        return head + self._head + b"\r\n" + body


def check_signatures(tw: Twilio, token: str) -> None:
    """Raise unless every kind of request is signed as twilio's RequestValidator expects."""
    from urllib.parse import parse_qsl

    from twilio.request_validator import RequestValidator

    validator = RequestValidator(token)
    call = tw.new_call()
    gather_url = tw.base_url + "/twilio/gather?v=1&lang=en&step=choose_language"
    samples = [
        tw.voice(call),
        (gather_url, tw.gather(call, gather_url, "1")),
        (gather_url, tw.gather(call, gather_url, "1234567#")),
        (
            tw.base_url + "/twilio/status",
            tw.status(call, "completed", 2, datetime.now(UTC), 42),
        ),
    ]
    for url, raw in samples:
        head, _, body = raw.partition(b"\r\n\r\n")
        sig = re.search(rb"X-Twilio-Signature: (\S+)", head)
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        assert sig is not None
        expected = validator.compute_signature(url, params)
        if sig.group(1).decode() != expected or not validator.validate(url, params, expected):
            raise AssertionError(f"signature of {url} differs from twilio's RequestValidator")


# --- recording results ------------------------------------------------------------------------


@dataclass
class StepStats:
    """Latencies (seconds) of one step's answers."""

    latencies: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        """count, p50/p95/p99/max in milliseconds."""
        data = sorted(self.latencies)
        if not data:
            return {"count": 0, "p50": math.nan, "p95": math.nan, "p99": math.nan, "max": math.nan}
        return {
            "count": len(data),
            "p50": percentile(data, 0.50) * 1000,
            "p95": percentile(data, 0.95) * 1000,
            "p99": percentile(data, 0.99) * 1000,
            "max": data[-1] * 1000,
        }


def percentile(data: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted data."""
    return data[min(len(data) - 1, max(0, math.ceil(q * len(data)) - 1))]


class Recorder:
    """Latencies, errors and outcomes of the requests that count."""

    def __init__(self) -> None:
        self.steps = {step: StepStats() for step in STEPS}
        self.errors: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.calls = 0

    def summary(self) -> dict[str, Any]:
        """Per-step latency summaries, errors by kind, outcomes."""
        return {
            "steps": {step: stats.summary() for step, stats in self.steps.items()},
            "errors": dict(self.errors),
            "error_total": sum(self.errors.values()),
            "outcomes": dict(self.outcomes),
            "calls": self.calls,
        }


Keep = Callable[[float], bool]


def classify(body: bytes) -> str:
    """What the topic answer does: dial, hold, voicemail, gather (off the path), apology."""
    if any(marker in body for marker in APOLOGY_MARKERS):
        return "apology"
    if b"<Dial" in body:
        return "dial"
    if b"/twilio/queue" in body:
        return "hold"
    if b"<Record" in body:
        return "voicemail"
    if b"<Gather" in body:
        return "gather"
    return "other"


async def _send(conn: Connection, raw: bytes) -> tuple[int, bytes, float, float]:
    started = time.perf_counter()
    status, body = await conn.request(raw)
    return status, body, started, time.perf_counter()


def _action(body: bytes) -> str | None:
    found = GATHER_ACTION.search(body)
    return found.group(1).decode().replace("&amp;", "&") if found else None


def _step_result(
    rec: Recorder, keep: Keep, step: str, t0: float, t1: float, status: int, body: bytes
) -> str | None:
    """Record a voice step's answer; the next <Gather action>, None when the walk ends."""
    action = _action(body) if status == 200 else None
    if keep(t1):
        rec.steps[step].latencies.append(t1 - t0)
        if status != 200:
            rec.errors[f"{step}:http-{status}"] += 1
        elif any(marker in body for marker in APOLOGY_MARKERS):
            rec.errors[f"{step}:apology"] += 1
        elif action is None:
            rec.errors[f"{step}:no-gather"] += 1
    return action


async def walk(
    conn: Connection,
    tw: Twilio,
    rec: Recorder,
    keep: Keep,
    *,
    scheduled: float | None = None,
    send_status: bool = True,
    progress: list[str] | None = None,
    call: Call | None = None,
) -> None:
    """One call: voice, language 1, topic 1, then the `completed` status callback.

    `keep(t)` says whether a request answered at time t counts; `scheduled` (open loop) is
    when the call should have started: the first step's latency counts from it. Each step
    is appended to `progress` as its request goes out.
    """
    sent = progress if progress is not None else []
    call = call or tw.new_call()
    _, raw = tw.voice(call)
    sent.append("voice")
    status, body, t0, t1 = await _send(conn, raw)
    action = _step_result(rec, keep, "voice", scheduled or t0, t1, status, body)
    if action is not None:
        sent.append("language")
        status, body, t0, t1 = await _send(conn, tw.gather(call, action, "1"))
        action = _step_result(rec, keep, "language", t0, t1, status, body)
    if action is not None:
        sent.append("topic")
        status, body, t0, t1 = await _send(conn, tw.gather(call, action, "1"))
        if keep(t1):
            rec.steps["topic"].latencies.append(t1 - t0)
            kind = classify(body) if status == 200 else f"http-{status}"
            rec.outcomes[kind] += 1
            if status != 200:
                rec.errors[f"topic:http-{status}"] += 1
            elif kind == "apology":
                rec.errors["topic:apology"] += 1
            rec.calls += 1
    if send_status:
        raw = tw.status(call, "completed", 0, datetime.now(UTC), 30)
        sent.append("status")
        status, body, t0, t1 = await _send(conn, raw)
        if keep(t1):
            rec.steps["status"].latencies.append(t1 - t0)
            if not 200 <= status < 300:
                rec.errors[f"status:http-{status}"] += 1


# --- modes ------------------------------------------------------------------------------------


class CpuClock:
    """This process's CPU time (user + system, every thread) over a wall-clock interval."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = self._cpu()

    @staticmethod
    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def share(self) -> float:
        """CPU seconds per wall second since creation (1.0 = one core busy)."""
        wall = time.perf_counter() - self.wall
        return (self._cpu() - self.cpu) / wall if wall > 0 else math.nan


class Probe:
    """Told when a run's counted window opens and when the run ends (to measure alongside)."""

    def start(self) -> None:
        """The counted window opens."""

    def stop(self) -> None:
        """The run ended."""


@dataclass
class WalkResult:
    """What a closed- or open-loop run measured."""

    mode: str
    seconds: float
    concurrency: int
    webhooks_per_s: float
    calls_per_s: float
    requests_per_s: float
    generator_cpu: float
    summary: dict[str, Any]
    open_loop: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


async def closed_loop(
    tw: Twilio,
    *,
    concurrency: int = 16,
    duration: float = 10.0,
    warmup: float = 2.0,
    send_status: bool = True,
    probe: Probe | None = None,
    leftover: list[Call] | None = None,
) -> WalkResult:
    """C callers walking calls back to back; counts answers inside [warm-up end, end].

    Calls cut short (a connection lost) before their status callback are added to
    `leftover`, to be hung up later (see `hang_up`).
    """
    conns = [await Connection.open(tw.host, tw.port) for _ in range(concurrency)]
    rec = Recorder()
    start = time.perf_counter()
    window = (start + warmup, start + warmup + duration)
    shares: list[float] = []

    def keep(t: float) -> bool:
        return window[0] <= t <= window[1]

    async def caller(i: int) -> None:
        while time.perf_counter() < window[1]:
            call = tw.new_call()
            try:
                await walk(conns[i], tw, rec, keep, send_status=send_status, call=call)
            except (ConnectionError, TimeoutError, OSError) as exc:
                if leftover is not None:
                    leftover.append(call)
                if keep(time.perf_counter()):
                    rec.errors[f"connection:{type(exc).__name__}"] += 1
                conns[i].close()
                await asyncio.sleep(0.05)  # no reconnection storm against a dying server
                conns[i] = await Connection.open(tw.host, tw.port)

    async def cpu_window() -> None:
        await asyncio.sleep(max(0.0, window[0] - time.perf_counter()))
        cpu = CpuClock()
        if probe:
            probe.start()
        await asyncio.sleep(max(0.0, window[1] - time.perf_counter()))
        shares.append(cpu.share())
        if probe:
            probe.stop()

    dog = asyncio.create_task(_watchdog(lambda: conns, REQUEST_TIMEOUT))
    await asyncio.gather(cpu_window(), *(caller(i) for i in range(concurrency)))
    share = shares[0] if shares else math.nan
    dog.cancel()
    for conn in conns:
        conn.close()
    summary = rec.summary()
    webhooks = sum(summary["steps"][s]["count"] for s in VOICE_STEPS)
    requests = webhooks + summary["steps"]["status"]["count"]
    return WalkResult(
        "closed",
        duration,
        concurrency,
        webhooks / duration,
        rec.calls / duration,
        requests / duration,
        share,
        summary,
    )


async def open_loop(
    tw: Twilio,
    *,
    rate: float = 200.0,
    duration: float = 10.0,
    warmup: float = 1.0,
    pool_size: int = 64,
    behind_ms: float = 5.0,
    drain: float = 15.0,
    max_connections: int = 512,
    probe: Probe | None = None,
    leftover: list[Call] | None = None,
) -> WalkResult:
    """Calls starting every 1/rate s whatever the answers; each walks its steps back to back.

    Calls scheduled in the warm-up are sent but not counted. A call "fell behind" when its
    first request went out more than `behind_ms` after its scheduled start (no free
    connection, or the generator late); its latency still counts from the scheduled start.
    Calls still unanswered `drain` seconds after the last start are cut short: their wait so
    far counts as the latency of the step they were waiting for, and they are added to
    `leftover`, to be hung up once the server has caught up (see `hang_up`).
    """
    pool = Pool(tw.host, tw.port, max_connections)
    await pool.fill(min(pool_size, max_connections))
    rec = Recorder()
    total = int(rate * (warmup + duration))
    interval = 1.0 / rate
    begin = time.perf_counter() + 0.05
    counted_from = begin + warmup
    lags: list[float] = []
    finished = Counter[str]()
    tasks: set[asyncio.Task[None]] = set()

    async def one(scheduled: float) -> None:
        counted = scheduled >= counted_from
        progress: list[str] = []
        conn: Connection | None = None
        call = tw.new_call()
        try:
            conn = await pool.get()
            if counted:
                lags.append(time.perf_counter() - scheduled)
            await walk(
                conn,
                tw,
                rec,
                lambda _t: counted,
                scheduled=scheduled,
                progress=progress,
                call=call,
            )
            finished["done" if counted else "warmup"] += 1
        except (ConnectionError, TimeoutError, OSError) as exc:
            if leftover is not None:
                leftover.append(call)
            if counted:
                rec.errors[f"connection:{type(exc).__name__}"] += 1
            if conn is not None:
                conn.close()
        except asyncio.CancelledError:
            # Still waiting when the run ended: count the wait so far as the step's latency
            # (a lower bound), so that an overloaded server cannot look fast by not answering.
            step = progress[-1] if progress else "voice"
            if leftover is not None and progress:
                leftover.append(call)
            if counted:
                since = scheduled if step == "voice" or conn is None else conn.sent_at
                rec.steps[step].latencies.append(time.perf_counter() - since)
                rec.errors[f"{step}:unanswered"] += 1
            if conn is not None:
                conn.close()  # its answer may still come: never reuse the connection
            raise
        finally:
            if conn is not None:
                pool.put(conn)

    dog = asyncio.create_task(_watchdog(lambda: pool.every, REQUEST_TIMEOUT))
    cpu: CpuClock | None = None
    first_sent = last_sent = 0.0
    for i in range(total):
        scheduled = begin + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if scheduled >= counted_from and cpu is None:
            cpu, first_sent = CpuClock(), time.perf_counter()
            if probe:
                probe.start()
        last_sent = time.perf_counter()
        task = asyncio.create_task(one(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    end_of_schedule = time.perf_counter()
    if tasks:
        await asyncio.wait(set(tasks), timeout=drain)
    unfinished = len(tasks)
    share = cpu.share() if cpu else math.nan
    if probe:
        probe.stop()
    left = list(tasks)
    pool.closing = True
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)  # let them record their wait
    dog.cancel()
    pool.close()
    summary = rec.summary()
    counted = int(rate * duration)
    sent_span = max(last_sent - first_sent, 1e-9)
    lags.sort()
    webhooks = sum(summary["steps"][s]["count"] for s in VOICE_STEPS)
    return WalkResult(
        "open",
        duration,
        len(pool.every),
        webhooks / duration,
        finished["done"] / duration,
        (webhooks + summary["steps"]["status"]["count"]) / duration,
        share,
        summary,
        {
            "rate": rate,
            "scheduled": counted,
            "started": len(lags),
            "achieved_rate": (len(lags) - 1) / sent_span if len(lags) > 1 else math.nan,
            "completed": finished["done"],
            "unfinished": unfinished,
            "behind": sum(1 for lag in lags if lag * 1000 > behind_ms),
            "behind_ms": behind_ms,
            "lag_p99_ms": percentile(lags, 0.99) * 1000 if lags else math.nan,
            "lag_max_ms": lags[-1] * 1000 if lags else math.nan,
            "connections": len(pool.every),
            "waited_for_connection": pool.waited,
            "schedule_overrun_s": end_of_schedule - (begin + total * interval),
        },
    )


async def hang_up(tw: Twilio, calls: Sequence[Call], *, concurrency: int = 8) -> int:
    """Send the `completed` status callback of calls cut short (frees what they hold)."""
    if not calls:
        return 0
    conns = [await Connection.open(tw.host, tw.port) for _ in range(concurrency)]
    pending = iter(calls)
    answered = 0

    async def worker(i: int) -> None:
        nonlocal answered
        for call in pending:
            raw = tw.status(call, "completed", 9, datetime.now(UTC), 30)
            try:
                status, _ = await conns[i].request(raw)
            except (ConnectionError, OSError):
                conns[i] = await Connection.open(tw.host, tw.port)
                continue
            answered += 200 <= status < 300

    dog = asyncio.create_task(_watchdog(lambda: conns, REQUEST_TIMEOUT))
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    dog.cancel()
    for conn in conns:
        conn.close()
    return answered


# --- status callbacks -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusEvent:
    """One status callback to send."""

    call: int
    status: str
    sequence: int
    duration: int | None


@dataclass
class StatusPlan:
    """The calls of a status run and the callbacks to send, in sending order."""

    calls: list[Call]
    events: list[StatusEvent]
    # per call: the distinct (status, sequence) events and the final (status, seq, duration)
    expected: list[set[tuple[str, int]]]
    final: list[tuple[str, int, int | None]]
    duplicates: int = 0
    reordered: int = 0


def plan_status(
    tw: Twilio,
    calls: int,
    *,
    duplicate_share: float = 0.2,
    reorder_share: float = 0.15,
    seed: int = 7,
) -> StatusPlan:
    """Each call: ringing 0, in-progress 1, completed 2 (one in ten: ringing 0, no-answer 1).

    Events go out in rounds (every call's first event, then every call's second, ...), the
    calls shuffled within a round. Out of order: for `reorder_share` of the calls the last
    two events swap rounds (the final status arrives before in-progress, or no-answer before
    ringing). Twilio's retries: `duplicate_share` of the events are sent twice, half right
    after the first copy (likely handled at the same time), half at the very end.
    """
    rng = random.Random(seed)
    plan = StatusPlan([tw.new_call() for _ in range(calls)], [], [], [])
    rounds: list[list[StatusEvent]] = [[], [], []]
    late: list[StatusEvent] = []
    for i in range(calls):
        if rng.random() < 0.1:
            duration = 0
            events = [StatusEvent(i, "ringing", 0, None), StatusEvent(i, "no-answer", 1, 0)]
        else:
            duration = rng.randint(5, 900)
            events = [
                StatusEvent(i, "ringing", 0, None),
                StatusEvent(i, "in-progress", 1, None),
                StatusEvent(i, "completed", 2, duration),
            ]
        plan.expected.append({(e.status, e.sequence) for e in events})
        last = events[-1]
        plan.final.append((last.status, last.sequence, last.duration))
        if rng.random() < reorder_share:
            events[-1], events[-2] = events[-2], events[-1]
            plan.reordered += 1
        for n, event in enumerate(events):
            rounds[n].append(event)
    for events in rounds:
        rng.shuffle(events)
        for event in events:
            plan.events.append(event)
            if rng.random() < duplicate_share:
                plan.duplicates += 1
                if rng.random() < 0.5:
                    plan.events.append(event)
                else:
                    late.append(event)
    rng.shuffle(late)
    plan.events.extend(late)
    return plan


@dataclass
class StatusResult:
    """What a status run sent and measured, and what the database check found."""

    calls: int
    events: int
    distinct: int
    duplicates: int
    reordered: int
    seconds: float
    events_per_s: float
    open_seconds: float
    summary: dict[str, Any]
    check: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


async def status_run(tw: Twilio, plan: StatusPlan, *, concurrency: int = 16) -> StatusResult:
    """Open the plan's calls (POST /twilio/voice), then send every status callback."""
    conns = [await Connection.open(tw.host, tw.port) for _ in range(concurrency)]
    dog = asyncio.create_task(_watchdog(lambda: conns, REQUEST_TIMEOUT))
    rec = Recorder()
    base = datetime.now(UTC).replace(microsecond=0)

    async def drive(items: Iterator[Any], send: Callable[[Any], bytes], step: str) -> None:
        async def worker(i: int) -> None:
            for item in items:
                try:
                    status, body, t0, t1 = await _send(conns[i], send(item))
                except (ConnectionError, TimeoutError, OSError) as exc:
                    rec.errors[f"{step}:connection:{type(exc).__name__}"] += 1
                    conns[i].close()
                    await asyncio.sleep(0.05)
                    conns[i] = await Connection.open(tw.host, tw.port)
                    continue
                rec.steps[step].latencies.append(t1 - t0)
                if not 200 <= status < 300:
                    rec.errors[f"{step}:http-{status}"] += 1
                elif step == "voice" and any(m in body for m in APOLOGY_MARKERS):
                    rec.errors[f"{step}:apology"] += 1

        await asyncio.gather(*(worker(i) for i in range(concurrency)))

    def voice(call: Call) -> bytes:
        return tw.voice(call)[1]

    def event(e: StatusEvent) -> bytes:
        at = base + timedelta(seconds=e.sequence * 10)
        return tw.status(plan.calls[e.call], e.status, e.sequence, at, e.duration)

    t0 = time.perf_counter()
    await drive(iter(plan.calls), voice, "voice")
    t1 = time.perf_counter()
    await drive(iter(plan.events), event, "status")
    t2 = time.perf_counter()
    dog.cancel()
    for conn in conns:
        conn.close()
    return StatusResult(
        calls=len(plan.calls),
        events=len(plan.events),
        distinct=sum(len(e) for e in plan.expected),
        duplicates=plan.duplicates,
        reordered=plan.reordered,
        seconds=t2 - t1,
        events_per_s=len(plan.events) / (t2 - t1),
        open_seconds=t1 - t0,
        summary=rec.summary(),
    )


async def check_status(database_url: str, plan: StatusPlan) -> dict[str, Any]:
    """Compare the call log with the plan: each distinct event once, the right final status."""
    from sqlalchemy import func, select

    from app.core.db import Database
    from app.models.call import Call as CallRow
    from app.models.call import CallStatusEvent

    index = {call.sid: i for i, call in enumerate(plan.calls)}
    found: list[Counter[tuple[str, int | None]]] = [Counter() for _ in plan.calls]
    finals: dict[int, tuple[str, int | None, int | None]] = {}
    db = Database.from_url(database_url, pool_size=1)
    try:
        async with db.transaction() as session:
            sids = list(index)
            for at in range(0, len(sids), 500):
                chunk = sids[at : at + 500]
                rows = await session.execute(
                    select(CallRow.sid, CallRow.status, CallRow.status_seq, CallRow.duration).where(
                        CallRow.sid.in_(chunk)
                    )
                )
                for sid, status, seq, duration in rows:
                    finals[index[sid]] = (status, seq, duration)
                events = await session.execute(
                    select(
                        CallRow.sid, CallStatusEvent.status, CallStatusEvent.sequence, func.count()
                    )
                    .join(CallStatusEvent, CallStatusEvent.call_id == CallRow.id)
                    .where(CallRow.sid.in_(chunk))
                    .group_by(CallRow.sid, CallStatusEvent.status, CallStatusEvent.sequence)
                )
                for sid, status, seq, count in events:
                    found[index[sid]][(status, seq)] += count
    finally:
        await db.dispose()
    lost = duplicated = extra = wrong_final = 0
    examples: list[str] = []
    for i, expected in enumerate(plan.expected):
        got = found[i]
        lost += sum(1 for key in expected if got[key] == 0)
        duplicated += sum(n - 1 for key, n in got.items() if key in expected and n > 1)
        extra += sum(n for key, n in got.items() if key not in expected)
        status, seq, duration = plan.final[i]
        final = finals.get(i)
        if final != (status, seq, duration):
            wrong_final += 1
            if len(examples) < 5:
                examples.append(
                    f"{plan.calls[i].sid}: expected {status}/{seq}/{duration}, found {final}"
                )
    return {
        "calls_missing": len(plan.calls) - len(finals),
        "lost": lost,
        "duplicated": duplicated,
        "unexpected": extra,
        "wrong_final": wrong_final,
        "examples": examples,
        "ok": lost == duplicated == extra == wrong_final == 0 and len(finals) == len(plan.calls),
    }


# --- command line -----------------------------------------------------------------------------


def run(main: Any) -> Any:
    """Run a coroutine on uvloop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def read_callers(spec: str) -> list[str]:
    """Callers from `+1...,+1...` or `@file` (one number a line)."""
    if not spec:
        return list(DEFAULT_CALLERS)
    if spec.startswith("@"):
        with open(spec[1:], encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip()]
    return [part.strip() for part in spec.split(",") if part.strip()]


def format_walk(name: str, result: WalkResult) -> str:
    """A few lines of text about a walk."""
    s = result.summary
    lines = [
        f"{name}: {result.webhooks_per_s:,.0f} webhooks/s, {result.calls_per_s:,.0f} calls/s, "
        f"{result.requests_per_s:,.0f} req/s incl. status, generator CPU "
        f"{result.generator_cpu:.0%}, errors {s['error_total']} {s['errors'] or ''}, "
        f"outcomes {s['outcomes']}"
    ]
    for step, st in s["steps"].items():
        lines.append(
            f"  {step:9} n={st['count']:>7} p50={st['p50']:7.2f} p95={st['p95']:7.2f} "
            f"p99={st['p99']:7.2f} max={st['max']:8.2f} ms"
        )
    if result.open_loop:
        lines.append(f"  open loop: {result.open_loop}")
    return "\n".join(lines)


def main() -> None:
    """`python -m bench.loadgen closed|open|status ...` against a running server."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["closed", "open", "status"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--base-url", default="", help="PUBLIC_BASE_URL of the server")
    parser.add_argument("--token", default=os.environ.get("TWILIO_AUTH_TOKEN", DEFAULT_TOKEN))
    parser.add_argument("--callers", default="", help="'+1...,+1...' or @file")
    parser.add_argument("--to", default=DEFAULT_TO)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=200.0, help="open loop: calls/s")
    parser.add_argument("--calls", type=int, default=2000, help="status: calls to open")
    parser.add_argument("--database-url", default="", help="status: check the call log")
    parser.add_argument("--cpu", type=int, default=None, help="pin the generator to a CPU")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the generator only sends to loopback")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    tw = Twilio(
        args.host,
        args.port,
        base_url=args.base_url or None,
        token=args.token,
        callers=read_callers(args.callers),
        to_number=args.to,
    )
    check_signatures(tw, args.token)
    if args.mode == "closed":
        result = run(
            closed_loop(
                tw, concurrency=args.concurrency, duration=args.duration, warmup=args.warmup
            )
        )
        print(format_walk("closed loop", result))
    elif args.mode == "open":
        result = run(open_loop(tw, rate=args.rate, duration=args.duration, warmup=args.warmup))
        print(format_walk(f"open loop {args.rate:g} calls/s", result))
    else:
        plan = plan_status(tw, args.calls)
        status = run(status_run(tw, plan, concurrency=args.concurrency))
        if args.database_url:
            status.check = run(check_status(args.database_url, plan))
        print({k: v for k, v in status.as_dict().items() if k != "summary"})
        print(status.summary["steps"]["status"], status.summary["errors"])


if __name__ == "__main__":
    main()
