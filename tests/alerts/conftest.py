"""Fixtures for alerts: a local webhook receiver, a local SMTP server with STARTTLS, teams."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from app.config import Settings, load_settings
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL


@dataclass
class Receiver:
    """A Slack-compatible incoming webhook on 127.0.0.1: records posts, answers `statuses`."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self) -> list[str]:
        """The `text` of every post received."""
        with self.lock:
            return [str(p.get("text", "")) for p in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The webhook receiver, for the duration of a test."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                status = state.statuses.pop(0) if state.statuses else 200
                if status == 200:
                    state.posts.append(payload)
            body = b"ok" if status == 200 else b"invalid_payload"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secret"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Mailbox:
    """What the local SMTP server received, and whether each session used TLS."""

    port: int = 0
    ca_file: Path | None = None
    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)


class Collector:
    """An aiosmtpd handler that keeps every message in a Mailbox."""

    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.box.messages.append(message_from_bytes(content))
        self.box.recipients.append(list(envelope.rcpt_tos))
        self.box.tls.append(session.ssl is not None)
        return "250 OK"


def free_port() -> int:
    """A TCP port free on the loopback now."""

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """A local SMTP server that requires STARTTLS, with a certificate from a test CA."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    box = Mailbox(port=free_port(), ca_file=tmp_path / "ca.pem")
    ca.cert_pem.write_to_path(str(box.ca_file))
    controller = Controller(
        Collector(box),
        hostname="127.0.0.1",
        port=box.port,
        tls_context=context,
        require_starttls=True,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def settings(database_url: str, mailbox: Mailbox) -> Settings:
    """Test settings with e-mail over the local server; the alert loops stay quiet (the
    tests run the scan and the delivery themselves)."""
    return load_settings(
        _env_file=None,
        database_url=database_url,
        twilio_auth_token=AUTH_TOKEN,
        public_base_url=PUBLIC_BASE_URL,
        default_region="US",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_from="switchboard@example.com",
        smtp_tls="starttls",
        smtp_ca_file=mailbox.ca_file,
        alerts_scan_seconds=3600,
        alerts_delivery_seconds=600,
        alerts_max_attempts=3,
    )
