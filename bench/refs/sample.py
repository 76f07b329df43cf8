"""Reference (b): a minimal FastAPI app like Twilio's sample apps, without any database.

Reads the form, checks X-Twilio-Signature with twilio's RequestValidator (403 when wrong)
and answers a `<Gather>` built with `VoiceResponse`.

    PUBLIC_BASE_URL=http://127.0.0.1:8002 TWILIO_AUTH_TOKEN=... \\
        uvicorn bench.refs.sample:app --port 8002
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN", ""))
app = FastAPI()


@app.post("/twilio/{hook:path}")
async def webhook(hook: str, request: Request) -> Response:
    """Any Twilio webhook: check the signature, then gather one digit."""
    form = await request.form()
    url = BASE_URL + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not validator.validate(url, form, signature):
        return Response("invalid signature", status_code=403)
    step = request.query_params.get("step", hook)
    response = VoiceResponse()
    gather = Gather(
        action=f"{BASE_URL}/twilio/gather?v=1&lang=en&step={step}",
        method="POST",
        num_digits=1,
        timeout=5,
    )
    gather.say("Thank you for calling support. For English, press 1.", voice="Polly.Joanna")
    response.append(gather)
    response.redirect(f"{BASE_URL}/twilio/gather?v=1&lang=en&step={step}", method="POST")
    return Response(str(response), media_type="application/xml")
