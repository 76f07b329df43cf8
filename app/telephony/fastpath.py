"""Twilio's webhooks as plain ASGI: the hot path of every call, without the framework.

A call's webhooks are small url-encoded POSTs that need no routing table, dependency
injection or response model: this middleware answers them directly with the same hooks,
signature check and problem+json errors as the FastAPI routes in `endpoints.py`, at a
fraction of the cost per request (see bench/README.md). Another method or an unknown path
goes on to FastAPI unchanged, so its answers (405, 404, the OpenAPI document) stay the
framework's. A POST to a hook in another content type (multipart) goes on to FastAPI too,
but only once its body was read here within MAX_BODY: nothing parses, let alone spools to
disk, a larger body.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_plus

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from twilio.request_validator import SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER

from app.core.errors import AppError, app_error_response, problem, unexpected_response
from app.core.sqlite_driver import statements_on_loop
from app.telephony.endpoints import HEARD_BY_CALLER, HOOKS, apology_without_form, telephony_of
from app.telephony.signature import check_request, garbled_as_unreadable
from app.telephony.twiml import TWIML_MEDIA_TYPE

FORM_TYPE = b"application/x-www-form-urlencoded"
MAX_BODY = 64 * 1024  # Twilio's webhooks are a few kilobytes
_SIGNATURE = SIGNATURE_HEADER.lower().encode()
_SIGNATURE_SETTINGS = SIGNATURE_SETTINGS_HEADER.lower().encode()
_TWIML_TYPE = f"{TWIML_MEDIA_TYPE}; charset=utf-8".encode()  # as Starlette labels text/*


@dataclass(frozen=True)
class HookRoute:
    """What the request observer reads of a route: its template (a hook's path has no params)."""

    path: str


_ROUTES = {path: HookRoute(path) for path in HOOKS}


class BodyTooLarge(Exception):
    """The request body passed MAX_BODY."""


class TwilioFastPath:
    """Answers url-encoded POSTs to the /twilio hooks; caps every other POST's body first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in HOOKS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        scope["route"] = _ROUTES[path]  # the route template of the metrics and the log
        response: Response
        try:
            # Every body is capped before anything parses it, whatever its content type: a
            # multipart upload must not be spooled to disk before the signature is checked.
            body = await _read_body(scope, receive)
            if not _is_form(scope):
                await self.app(scope, _replay(body), send)  # the framework's form parser
                return
            xml = await self._answer(scope, body, path)
        except AppError as exc:
            response = app_error_response(exc, path)
        except BodyTooLarge:
            response = too_large(scope, path)
        except Exception as exc:  # the caller's hooks apologise themselves; this is the rest
            response = unexpected_response("POST", path, exc)
        else:
            await _send_twiml(send, xml)
            return
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, body: bytes, path: str) -> str | None:
        pairs = parse_form(body.decode("latin-1"))
        form = dict(pairs)
        call_sid = form.get("CallSid")
        if call_sid:
            scope.setdefault("state", {})["call_sid"] = call_sid  # for the access log line
        app = scope["app"]
        headers = _headers(scope)
        check_request(
            app.state.settings,
            raw_path=(scope.get("raw_path") or path.encode()).decode("latin-1"),
            query=scope.get("query_string", b"").decode("latin-1"),
            params=pairs,
            signature=headers.get(_SIGNATURE, ""),
            signature_settings=headers.get(_SIGNATURE_SETTINGS),
            call_sid=call_sid,
        )
        query = dict(parse_form(scope.get("query_string", b"").decode("latin-1"), blank=False))
        query, form = garbled_as_unreadable(query), garbled_as_unreadable(form)
        with statements_on_loop():  # short statements: no trip to SQLite's thread
            return await HOOKS[path](telephony_of(app.state), query, form)


async def _send_twiml(send: Send, xml: str | None) -> None:
    """Send the hook's answer: its TwiML, or 204 when it has none (a callback nobody hears).

    The same status and headers as Starlette's `Response` (which the error answers still
    use) without building one per webhook. Each message is a new dict: a middleware may add
    to its headers.
    """
    if xml is None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    content = xml.encode()
    headers = [(b"content-length", str(len(content)).encode()), (b"content-type", _TWIML_TYPE)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def too_large(scope: Scope, path: str) -> Response:
    """The answer to an oversized body: unread, so unsigned for all Switchboard knows.

    A caller's webhook gets the apology TwiML (a 4xx would make Twilio play its application
    error to the caller); the other callbacks get a 413 problem.
    """
    if path in HEARD_BY_CALLER:
        query = garbled_as_unreadable(
            dict(parse_form(scope.get("query_string", b"").decode("latin-1"), blank=False))
        )
        language = query.get("lang", "")[:16] or None
        xml = apology_without_form(telephony_of(scope["app"].state), path, language)
        return Response(content=xml, media_type=TWIML_MEDIA_TYPE)
    return problem(
        413,
        "body-too-large",
        "Request body too large",
        f"Twilio webhooks are at most {MAX_BODY} bytes",
        instance=path,
    )


def parse_form(text: str, *, blank: bool = True) -> list[tuple[str, str]]:
    """The (name, value) pairs of a url-encoded form or query, as `urllib.parse.parse_qsl`
    gives them (`keep_blank_values=blank`), in half its time: only a field with `%` or `+`
    in it is decoded (a webhook's fields are mostly plain)."""
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        if value or blank:
            pairs.append((name, value))
    return pairs


def _is_form(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == FORM_TYPE)
    return False


def _headers(scope: Scope) -> dict[bytes, str]:
    wanted = (_SIGNATURE, _SIGNATURE_SETTINGS)
    return {name: value.decode("latin-1") for name, value in scope["headers"] if name in wanted}


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    """The whole body, or BodyTooLarge as soon as it passes MAX_BODY (declared or sent)."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.strip().isdigit() and int(value) > MAX_BODY:
            raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A receive channel that gives the body already read, then waits for a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
