"""Twilio's REST API: the few requests Switchboard makes (create and update calls, add and
hold conference participants), through the `twilio` library's client.

The client is synchronous (requests): each request runs in a worker thread under a deadline,
so the event loop never waits on Twilio. Callers make these requests after their database
commit and record the outcome; an error is a `TwilioRestError` with a readable reason.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app.config import Settings

T = TypeVar("T")


class TwilioRestError(Exception):
    """Twilio refused a request, or it did not answer in time."""


@dataclass(frozen=True)
class PlacedCall:
    """A call Twilio accepted: its CallSid and first status."""

    sid: str
    status: str


class TwilioRest:
    """Twilio's REST API for one account (base URL configurable, for a local fake)."""

    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.twilio_rest_timeout_seconds
        self.configured = settings.twilio_rest_configured
        http = TwilioHttpClient(timeout=self.timeout)
        if http.session is not None:
            # Proxies from the environment must not reroute calls to Twilio (or to a fake).
            http.session.trust_env = False
        self._client = Client(
            username=settings.twilio_api_key_sid or None,
            password=settings.twilio_api_key_secret or None,
            account_sid=settings.twilio_account_sid or None,
            http_client=http,
            environment={},
        )
        self._client.api.base_url = settings.twilio_api_base_url

    async def _run(self, what: str, request: Callable[[], T]) -> T:
        if not self.configured:
            raise TwilioRestError(
                "Twilio's REST API is not configured: set TWILIO_ACCOUNT_SID, "
                "TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET"
            )
        try:
            # The HTTP client's own timeout ends the thread's request; this one bounds the
            # wait for a thread when the pool is busy.
            async with asyncio.timeout(self.timeout + 1):
                return await asyncio.to_thread(request)
        except TimeoutError:
            raise TwilioRestError(
                f"{what}: Twilio did not answer within {self.timeout:g} s"
            ) from None
        except TwilioRestException as exc:
            raise TwilioRestError(f"{what}: Twilio answered {exc.status}: {exc.msg}") from None
        except TwilioException as exc:
            raise TwilioRestError(f"{what}: {exc}") from None
        except requests.ConnectionError as exc:
            raise TwilioRestError(f"{what}: cannot reach Twilio ({exc})") from None
        except requests.Timeout:
            raise TwilioRestError(
                f"{what}: Twilio did not answer within {self.timeout:g} s"
            ) from None
        except (requests.RequestException, OSError) as exc:
            raise TwilioRestError(f"{what}: {type(exc).__name__}: {exc}") from None

    async def create_call(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        ring_seconds: int,
    ) -> PlacedCall:
        """Place a call ringing `ring_seconds`; Twilio fetches `url` when it is answered."""

        def request() -> Any:
            return self._client.api.v2010.account.calls.create(
                to=to,
                from_=from_,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                timeout=ring_seconds,
            )

        call = await self._run("placing the call", request)
        return PlacedCall(sid=str(call.sid), status=str(call.status))

    async def redirect_call(self, sid: str, url: str) -> None:
        """Make a live call fetch new TwiML from `url` (leaving whatever it is doing)."""
        request = functools.partial(
            self._client.api.v2010.account.calls(sid).update, url=url, method="POST"
        )
        await self._run("redirecting the call", request)

    async def end_call(self, sid: str) -> None:
        """Hang up a live call (or cancel one still ringing)."""
        request = functools.partial(
            self._client.api.v2010.account.calls(sid).update, status="completed"
        )
        await self._run("ending the call", request)

    async def hold_participant(self, conference_sid: str, call_sid: str, *, hold: bool) -> None:
        """Put a conference participant on hold (music) or take them off it."""
        participant = self._client.api.v2010.account.conferences(conference_sid).participants(
            call_sid
        )
        await self._run("holding the participant", functools.partial(participant.update, hold=hold))
