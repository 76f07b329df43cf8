"""Reference (a): a bare ASGI app returning a constant TwiML document, no framework.

PUBLIC_BASE_URL=http://127.0.0.1:8001 uvicorn bench.refs.bare:app --port 8001
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
BODY = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    f'<Gather action="{BASE_URL}/twilio/gather?v=1&amp;lang=en&amp;step=menu" '
    'method="POST" numDigits="1" timeout="5" input="dtmf">'
    '<Say language="en-US" voice="Polly.Joanna">Thank you for calling support. '
    "For English, press 1.</Say></Gather>"
    f'<Redirect method="POST">{BASE_URL}/twilio/gather?v=1&amp;lang=en&amp;step=menu</Redirect>'
    "</Response>"
).encode()
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"text/xml; charset=utf-8"),
        (b"content-length", str(len(BODY)).encode()),
    ],
}
RESPONSE = {"type": "http.response.body", "body": BODY}


async def app(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """Read the whole body, answer the constant document."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(START)
    await send(RESPONSE)
