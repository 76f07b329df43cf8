"""A fake of the few Twilio REST endpoints Switchboard uses, on 127.0.0.1 on a free port.

It records every request (method, path, form fields, basic-auth user), answers as Twilio
does (JSON resources, Twilio's error JSON when told to fail), and plays Twilio's side of a
call afterwards: fetching the TwiML of a placed call and firing its status callbacks, each
signed with the auth token as Twilio signs them.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx

ACCOUNT_SID = "AC" + "1" * 32
API_KEY_SID = "SK" + "2" * 32
API_KEY_SECRET = "fake-api-key-secret"


@dataclass
class Request:
    """One request the fake received."""

    method: str
    path: str
    form: dict[str, list[str]]
    user: str | None

    def one(self, name: str) -> str:
        """A form field sent once."""
        values = self.form.get(name, [])
        assert len(values) == 1, f"{name}: {values}"
        return values[0]


@dataclass
class FakeTwilio:
    """The fake's state: requests received, calls placed, failures to answer with."""

    base_url: str = ""
    requests: list[Request] = field(default_factory=list)
    calls: dict[str, dict[str, str]] = field(default_factory=dict)
    # What to answer the next requests with: a Twilio error, or None for the usual answer.
    failures: list[tuple[int, str] | None] = field(default_factory=list)
    # Seconds to stall before answering the next requests (Twilio slow to answer).
    stalls: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def fail_next(self, status: int = 400, message: str = "The 'To' number is not valid") -> None:
        """Answer the next request with a Twilio error."""
        with self.lock:
            self.failures.append((status, message))

    def placed(self) -> list[Request]:
        """The create-call requests, oldest first."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/Calls.json")]

    def answer(self, path: str, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        """Twilio's answer to one request."""
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
            if failure is not None:
                status, message = failure
                return status, {"code": 21211, "message": message, "status": status}
        parts = path.split("/")
        # /2010-04-01/Accounts/{AC}/Calls.json
        if len(parts) == 5 and parts[4] == "Calls.json":
            sid = "CA" + secrets.token_hex(16)
            call = {k: v[0] for k, v in form.items()}
            with self.lock:
                self.calls[sid] = call
            return 201, {
                "sid": sid,
                "account_sid": parts[3],
                "to": call.get("To"),
                "from": call.get("From"),
                "status": "queued",
                "direction": "outbound-api",
            }
        # /2010-04-01/Accounts/{AC}/Calls/{CA}.json
        if len(parts) == 6 and parts[4] == "Calls":
            sid = parts[5].removesuffix(".json")
            return 200, {"sid": sid, "account_sid": parts[3], "status": "in-progress"}
        # /2010-04-01/Accounts/{AC}/Conferences/{CF}/Participants/{CA}.json
        if len(parts) == 8 and parts[4] == "Conferences" and parts[6] == "Participants":
            return 200, {
                "account_sid": parts[3],
                "conference_sid": parts[5],
                "call_sid": parts[7].removesuffix(".json"),
                "hold": form.get("Hold", ["false"])[0] == "true",
                "status": "connected",
            }
        return 404, {
            "code": 20404,
            "message": "The requested resource was not found",
            "status": 404,
        }


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode() if length else ""
            form = parse_qs(body, keep_blank_values=True)
            user = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            with fake.lock:
                fake.requests.append(Request(self.command, self.path, form, user))
                stall = fake.stalls.pop(0) if fake.stalls else 0.0
            if stall:
                fake.released.wait(stall)  # the test's end releases a stalled answer
            status, payload = fake.answer(self.path, form)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            self._reply()

        def do_GET(self) -> None:
            self._reply()

    return Handler


@contextmanager
def running_fake() -> Iterator[FakeTwilio]:
    """Serve a fake Twilio on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.released.set()
        server.shutdown()
        server.server_close()
        thread.join()


class PlacedCall:
    """Twilio's side of a call the app placed: fetch its TwiML, fire its callbacks."""

    def __init__(self, client: httpx.AsyncClient, sid: str, params: Mapping[str, str]) -> None:
        self.client = client
        self.sid = sid
        self.params = dict(params)
        self.sequence = 0

    def form(self, **extra: str) -> dict[str, str]:
        """The fields Twilio sends with every webhook of an outbound-api call."""
        base = {
            "CallSid": self.sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.params["From"],
            "To": self.params["To"],
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }
        base.update(extra)
        return base

    async def fetch(self, url: str, **extra: str) -> httpx.Response:
        """POST a webhook URL the app gave Twilio (signed)."""
        # Imported here: run as a process (scripts/schemathesis) the fake needs no app.
        from tests.telephony.twilio import local_path, post

        return await post(self.client, local_path(url), self.form(**extra))

    async def status(self, status: str, **extra: str) -> httpx.Response:
        """Fire the call's status callback."""
        self.sequence += 1
        return await self.fetch(
            self.params["StatusCallback"],
            CallStatus=status,
            SequenceNumber=str(self.sequence),
            **extra,
        )

    async def answered(self) -> httpx.Response:
        """The callee picked up: Twilio fetches the call's Url."""
        await self.status("initiated")
        await self.status("ringing")
        await self.status("answered")
        return await self.fetch(self.params["Url"], CallStatus="in-progress")


def last_call(fake: FakeTwilio, client: httpx.AsyncClient) -> PlacedCall:
    """The call the app placed last."""
    with fake.lock:
        sid, params = list(fake.calls.items())[-1]
    return PlacedCall(client, sid, params)


def main() -> None:
    """Serve the fake until stopped (scripts/schemathesis): prints its base URL first."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    with running_fake() as fake:
        print(fake.base_url, flush=True)
        while True:
            signal.pause()


if __name__ == "__main__":
    main()
