"""A one-team support line for routing tests: every caller, paid or not, to team `line`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from app.config import Settings
from app.core.clock import FixedClock
from app.main import create_app
from tests.telephony.twilio import local_path, post

LINE = """\
name: line
default: true
languages:
  en: Polly.Joanna
start: identify
steps:
  identify:
    kind: identify
    prompt: Please enter your account number, then pound.
    next: connect
  connect:
    kind: route
    team: line
    batch_size: {batch_size}
    max_wait: 120
    prompt: Please hold while we connect you.
    hold_prompt: All our specialists are busy. You are number {{position}} in the queue.
    callback: take_callback
    callback_prompt: Press 1 at any time to be called back instead.
    fallback: voicemail
  take_callback:
    kind: callback
    prompt: To be called back on {{caller_number}}, press 1.
    done_prompt: We will call you back.
    next: goodbye
  voicemail:
    kind: voicemail
    prompt: Nobody is free. Please leave a message after the tone.
    next: goodbye
  goodbye:
    kind: hangup
    prompt: Goodbye.
"""


def write_line(folder: Path, batch_size: int) -> None:
    """Write the line flow into a folder."""
    folder.mkdir(exist_ok=True)
    (folder / "line.yaml").write_text(LINE.format(batch_size=batch_size), encoding="utf-8")


@asynccontextmanager
async def line_client(
    settings: Settings, clock: FixedClock, folder: Path, *, batch_size: int = 1
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app answering with the one-team line (team `line` must exist already)."""
    write_line(folder, batch_size)
    application = create_app(settings.model_copy(update={"flows_dir": folder}), clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield application, http


async def leg_post(
    client: httpx.AsyncClient, caller_sid: str, url: str, leg_sid: str, **extra: str
) -> httpx.Response:
    """Post to one of a specialist leg's URLs as Twilio does."""
    form = {
        "CallSid": leg_sid,
        "ParentCallSid": caller_sid,
        "From": "+18005550100",
        "To": "+14155550001",
        "CallStatus": "in-progress",
        "Direction": "outbound-dial",
        **extra,
    }
    return await post(client, local_path(url), form)


def dialled(doc: Any) -> list[str]:
    """The contacts a <Dial> rings, in order."""
    dial = doc.find("Dial")
    assert dial is not None, "no <Dial>"
    return [leg.text or "" for leg in dial]


def leg_urls(doc: Any) -> list[tuple[str, str]]:
    """(whisper url, status url) of each leg of a <Dial>."""
    dial = doc.find("Dial")
    assert dial is not None
    return [(leg.get("url", ""), leg.get("statusCallback", "")) for leg in dial]


def names(contacts: Sequence[str], people: dict[str, str]) -> list[str]:
    """Contacts back to names."""
    by_contact = {v: k for k, v in people.items()}
    return [by_contact[c] for c in contacts]
