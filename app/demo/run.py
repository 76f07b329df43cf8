"""`switchboard demo-calls`: drive planned calls through the app's real webhooks.

The app runs in-process (httpx's ASGI transport) with its own clock, set to each call's
moment, so calls land on past days as if Twilio had posted them then. Every request is
signed and checked; nothing is inserted directly. When TWILIO_AUTH_TOKEN is unset, the
in-process app gets a random one for the run (the service you start is not affected).
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select

from app.config import Settings
from app.core.clock import FixedClock
from app.core.db import Database
from app.demo.phone import CallerLeg, DemoCallFailed, SpecialistLeg, Twilio, leg_over, pick_up
from app.demo.plans import Burst, CallPlan, plan_bursts
from app.main import create_app
from app.models.account import Account
from app.models.call import Call
from app.seed import DEMO_ACCOUNTS

DEMO_LINE = "+18005550100"
MAX_STEPS = 60


@dataclass
class Talk:
    """A caller connected to a specialist, until the conversation ends."""

    caller: CallerLeg
    leg: SpecialistLeg
    began: datetime


@dataclass
class DemoCallsResult:
    """What the demo callers went through, as they experienced it."""

    calls: int = 0
    webhooks: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None

    def __str__(self) -> str:
        parts = ", ".join(f"{n} {what}" for what, n in sorted(self.outcomes.items()))
        span = ""
        if self.first and self.last:
            span = f" between {self.first:%Y-%m-%d %H:%M} and {self.last:%Y-%m-%d %H:%M} UTC"
        return f"{self.calls} demo calls{span} ({self.webhooks} signed webhooks): {parts}"


class DemoCalls:
    """Plays every caller, specialist and Twilio callback of the planned bursts."""

    def __init__(self, twilio: Twilio, clock: FixedClock, rng: random.Random) -> None:
        self.twilio = twilio
        self.clock = clock
        self.rng = rng
        self.result = DemoCallsResult()

    def tick(self, low: int, high: int) -> None:
        """Let a few seconds pass."""
        self.clock.advance(timedelta(seconds=self.rng.randint(low, high)))

    def _outcome(self, what: str) -> None:
        self.result.outcomes[what] += 1

    async def _ended(self, caller: CallerLeg, began: datetime) -> None:
        await caller.ended(int((self.clock.now() - began).total_seconds()))

    async def _answer(self, caller: CallerLeg, plan: CallPlan, attempt: int) -> Talk | None:
        """Specialists' phones ring: the first picks up and accepts (or nobody answers)."""
        legs = caller.ringing
        if plan.first_ring_unanswered and attempt == 0:
            self.tick(18, 20)
            for leg in legs:
                await leg_over(self.twilio, caller, leg, "no-answer")
            await caller.dial_ended("no-answer")
            return None
        self.tick(4, 14)
        chosen = legs[0]
        if not await pick_up(self.twilio, caller, chosen, accept=True):
            raise DemoCallFailed("the specialist accepted but was not connected")
        for other in legs[1:]:
            await leg_over(self.twilio, caller, other, "canceled")
        return Talk(caller, chosen, self.clock.now())

    async def _route(self, caller: CallerLeg, plan: CallPlan) -> Talk | str:
        """Follow the TwiML from where the caller is to a talk, a queue, a voicemail or an end."""
        attempt = 0
        for _ in range(MAX_STEPS):
            if caller.hung_up:
                return "ended"
            if caller.holding:
                return "holding"
            if caller.recording:
                return "recording"
            if caller.ringing:
                talk = await self._answer(caller, plan, attempt)
                attempt += 1
                if talk is not None:
                    return talk
                continue
            await self._ivr_step(caller, plan)
        raise DemoCallFailed(f"call {caller.sid} did not settle in {MAX_STEPS} steps")

    async def _ivr_step(self, caller: CallerLeg, plan: CallPlan) -> None:
        gather = caller.gather
        self.tick(3, 9)
        if gather is None:
            await caller.wait()
            return
        languages = caller.menu_languages()
        if languages:
            await caller.press(languages.get(plan.language, languages.get("en", "1")))
        elif caller.takes_speech:
            if plan.spoken_topic:
                await caller.say(plan.spoken_topic)
            else:
                await caller.press(plan.topic_key)
        elif gather.get("finishOnKey") == "#" and plan.typed_account:
            await caller.press(plan.typed_account + "#")
        else:
            await caller.wait()  # nothing to say: Twilio's <Redirect> after the timeout

    def _hangs_up_here(self, caller: CallerLeg, plan: CallPlan) -> bool:
        if plan.hang_up_in_ivr == "language":
            return bool(caller.menu_languages())
        if plan.hang_up_in_ivr == "topic":
            return caller.takes_speech and not caller.holding
        return False

    async def _through_ivr(self, caller: CallerLeg, plan: CallPlan) -> Talk | str:
        """The IVR until routing, unless the caller gives up in a menu."""
        for _ in range(MAX_STEPS):
            if self._hangs_up_here(caller, plan):
                self.tick(2, 6)
                return "abandoned in the IVR"
            if caller.hung_up or caller.holding or caller.recording or caller.ringing:
                return await self._route(caller, plan)
            await self._ivr_step(caller, plan)
        raise DemoCallFailed(f"call {caller.sid} stayed in the IVR")

    async def _voicemail(self, caller: CallerLeg, plan: CallPlan, began: datetime) -> None:
        self.tick(5, 12)
        if plan.leaves_voicemail:
            seconds = self.rng.randint(8, 40)
            self.clock.advance(timedelta(seconds=seconds))
            await caller.leave_voicemail("RE" + secrets.token_hex(16), seconds, plan.voicemail_text)
            self._outcome("voicemails")
        else:
            self._outcome("hung up at the voicemail prompt")
        await self._ended(caller, began)

    async def _finish(self, talk: Talk, plan: CallPlan) -> None:
        """The conversation ends: the <Dial> completes, the legs and the call end."""
        self.clock.advance(timedelta(seconds=plan.talk_seconds))
        seconds = int((self.clock.now() - talk.began).total_seconds())
        await talk.caller.dial_ended(
            "completed", DialCallSid=talk.leg.sid, DialCallDuration=str(seconds)
        )
        await leg_over(self.twilio, talk.caller, talk.leg, "completed", seconds)

    async def _wait_in_queue(
        self,
        caller: CallerLeg,
        plan: CallPlan,
        began: datetime,
        talks: list[tuple[Talk, CallPlan, datetime]],
    ) -> None:
        if plan.queue_choice == "hang_up":
            for _ in range(self.rng.randint(1, 4)):
                self.tick(15, 16)
                await caller.wait()
                if not caller.holding:
                    break
            if caller.holding:
                self._outcome("abandoned in the queue")
                await self._ended(caller, began)
                return
        elif plan.queue_choice == "callback":
            self.tick(10, 40)
            gather = caller.gather
            if gather is not None:
                await caller.press("1")
                self.tick(3, 8)
                await caller.press("1")  # on the number they call from
                self._outcome("callback requests")
                await self._ended(caller, began)
                return
        elif talks and self.rng.random() < 0.5:
            # A colleague's call ends: the next queue check rings them.
            talk, talk_plan, talk_began = talks.pop(0)
            await self._finish(talk, talk_plan)
            await self._ended(talk.caller, talk_began)
            self._outcome("answered")
        while caller.holding:
            self.tick(15, 16)
            await caller.wait()
        outcome = await self._route(caller, plan)
        await self._settle(caller, plan, began, outcome, talks)

    async def _settle(
        self,
        caller: CallerLeg,
        plan: CallPlan,
        began: datetime,
        outcome: Talk | str,
        talks: list[tuple[Talk, CallPlan, datetime]],
    ) -> None:
        if isinstance(outcome, Talk):
            talks.append((outcome, plan, began))
        elif outcome == "recording":
            await self._voicemail(caller, plan, began)
        elif outcome == "holding":
            await self._wait_in_queue(caller, plan, began, talks)
        else:
            if outcome == "ended":
                self._outcome("ended by the flow")
            else:
                self._outcome(outcome)
            await self._ended(caller, began)

    async def burst(self, burst: Burst) -> None:
        """Callers of one burst arrive, some wait, then every conversation ends."""
        self.clock.set(burst.start)
        talks: list[tuple[Talk, CallPlan, datetime]] = []
        queued: list[tuple[CallerLeg, CallPlan, datetime]] = []
        for index, plan in enumerate(burst.calls):
            if index:
                self.tick(20, 90)
            began = self.clock.now()
            self.result.first = min(self.result.first or began, began)
            caller = CallerLeg(
                self.twilio, "CA" + secrets.token_hex(16), plan.from_number, DEMO_LINE
            )
            await caller.dial_in()
            self.result.calls += 1
            outcome = await self._through_ivr(caller, plan)
            if outcome == "holding":
                queued.append((caller, plan, began))
            else:
                await self._settle(caller, plan, began, outcome, talks)
        for caller, plan, began in queued:
            await self._wait_in_queue(caller, plan, began, talks)
        for talk, plan, began in talks:
            await self._finish(talk, plan)
            await self._ended(talk.caller, began)
            self._outcome("answered")
        self.result.last = max(self.result.last or self.clock.now(), self.clock.now())
        self.result.webhooks = self.twilio.posts


async def has_demo_data_and_no_calls(db: Database) -> tuple[bool, bool]:
    """Whether the demo accounts are there, and whether the call log is empty."""
    async with db.transaction() as session:
        refs = [a.ref for a in DEMO_ACCOUNTS]
        demo = await session.scalar(
            select(func.count()).select_from(Account).where(Account.external_ref.in_(refs))
        )
        calls = await session.scalar(select(func.count()).select_from(Call))
    return bool(demo), not calls


async def drive_demo_calls(
    settings: Settings, *, count: int, days: int, now: datetime, seed: int | None = None
) -> DemoCallsResult:
    """Drive about `count` calls over the last `days` days before `now` through the webhooks."""
    token = settings.twilio_auth_token or secrets.token_urlsafe(24)
    in_process = settings.model_copy(
        update={"twilio_auth_token": token, "twilio_signature_check": True}
    )
    rng = random.Random(seed)
    clock = FixedClock(now)
    app = create_app(in_process, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=in_process.public_base_url
        ) as http:
            driver = DemoCalls(Twilio(http, in_process.public_base_url, token), clock, rng)
            for burst in plan_bursts(rng, count, days, now):
                await driver.burst(burst)
    return driver.result
