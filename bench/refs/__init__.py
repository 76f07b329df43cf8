"""Reference servers for the call-path benchmark: what Switchboard's throughput is compared to.

- `bare`: a bare ASGI app answering every request with a constant TwiML document (the
  ceiling for Python on this machine);
- `sample`: a minimal FastAPI app as in Twilio's sample apps: parses the form, checks the
  signature with twilio's RequestValidator and builds a `<Gather>` with `VoiceResponse`.

Both answer every POST under /twilio/ with a `<Gather>` whose action is /twilio/gather, so the
load generator walks them with the same three webhooks per call as Switchboard.
"""
