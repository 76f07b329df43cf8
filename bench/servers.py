"""Start, watch and stop the servers under test, one process each, pinned to one CPU.

Also a raw uvloop HTTP server (`python -m bench.servers raw --port P`) answering every
request with reference (a)'s constant document without any ASGI layer: far faster than any
ASGI server, so the load generator's own ceiling shows against it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

import uvloop

SERVER_CPU = 0
GENERATOR_CPU = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pin_to(cpu: int) -> Callable[[], None]:
    """A preexec_fn pinning the child to one CPU (when the machine has it)."""

    def pin() -> None:
        with contextlib.suppress(OSError):  # a machine without that CPU: run unpinned
            os.sched_setaffinity(0, {cpu})

    return pin


@dataclass
class Server:
    """One server process under test."""

    name: str
    argv: Sequence[str]
    port: int
    env: Mapping[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    ready_path: str = "/"
    cpu: int = SERVER_CPU
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start the process and wait until it answers HTTP on its port."""
        self._log = open(self.log_path, "wb") if self.log_path else None  # noqa: SIM115
        self.proc = subprocess.Popen(
            list(self.argv),
            env={**os.environ, **self.env},
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            preexec_fn=pin_to(self.cpu),
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}{self._tail()}")
            status = http_status("127.0.0.1", self.port, self.ready_path)
            if status is not None and (self.ready_path == "/" or status == 200):
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s{self._tail()}")

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM of the process, in kB."""
        assert self.proc is not None
        found: dict[str, int] = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
        return found

    def event_loop_and_parser(self) -> dict[str, bool]:
        """Whether uvloop and httptools are loaded in the process (from its memory map)."""
        assert self.proc is not None
        maps = Path(f"/proc/{self.proc.pid}/maps").read_text()
        return {"uvloop": "/uvloop/" in maps, "httptools": "/httptools/" in maps}

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stop the process (SIGINT: uvicorn shuts down cleanly; SIGKILL after `timeout`)."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log:
            self._log.close()
            self._log = None
        return proc.returncode

    def log_lines(self) -> list[str]:
        """What the process wrote to its log."""
        if not self.log_path or not self.log_path.exists():
            return []
        return self.log_path.read_text(errors="replace").splitlines()

    def _tail(self) -> str:
        lines = self.log_lines()[-15:]
        return (":\n" + "\n".join(lines)) if lines else ""


def http_status(host: str, port: int, path: str, timeout: float = 2.0) -> int | None:
    """The status of GET path, or None when nothing answers."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            head = sock.recv(64)
    except OSError:
        return None
    try:
        return int(head[9:12])
    except ValueError:
        return None


def uvicorn_argv(app: str, port: int, *, factory: bool = False) -> list[str]:
    """uvicorn for one app: uvloop, httptools, one process, no access log."""
    argv = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    argv += ["--log-level", "warning"]
    return [*argv, "--factory"] if factory else argv


# --- the raw server ---------------------------------------------------------------------------


class _RawHttp(asyncio.Protocol):
    """Answers each complete request (head + Content-Length body) with `answer`."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            at = head.find(b"\r\ncontent-length:")
            length = 0
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else None])
            if len(self.buf) < end + 4 + length:
                return
            del self.buf[: end + 4 + length]
            assert self.transport is not None
            self.transport.write(self.answer)


def raw_answer() -> bytes:
    """The whole HTTP answer of the raw server: reference (a)'s document."""
    from bench.refs.bare import BODY

    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    )
    return head.encode() + BODY


async def serve_raw(port: int) -> None:
    """Serve the raw answer on 127.0.0.1:port until interrupted."""
    loop = asyncio.get_running_loop()
    answer = raw_answer()
    server = await loop.create_server(lambda: _RawHttp(answer), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    """`python -m bench.servers raw --port P` (PUBLIC_BASE_URL sets the Gather action)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["raw"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    with runner, contextlib.suppress(KeyboardInterrupt):
        runner.run(serve_raw(args.port))


if __name__ == "__main__":
    main()
