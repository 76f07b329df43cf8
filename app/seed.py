"""Demo data for a fresh install: a few accounts and a demo rota (flows add theirs)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.numbers import luhn_check_digit
from app.accounts.schemas import BulkRow
from app.accounts.service import bulk_upsert
from app.core.clock import Clock
from app.desk.seed import seed_desk
from app.models.account import Account
from app.models.rota import Specialist, Team
from app.planning.demo import DemoPlanOutcome, plan_demo_weekends
from app.rota.seed_rota import seed_rota
from app.web.seed_users import seed_users


@dataclass(frozen=True)
class DemoAccount:
    """One demo customer."""

    ref: str
    payload: str
    name: str
    tier: str
    language: str
    phones: tuple[str, ...]


DEMO_ACCOUNTS = (
    DemoAccount("demo-acme", "100001", "Acme Payments", "paid", "en", ("+14155550199",)),
    DemoAccount("demo-sakura", "100002", "Sakura Shoten", "standard", "ja", ("+81312345678",)),
    DemoAccount("demo-dupont", "100003", "Boulangerie Dupont", "standard", "fr", ("+33142685300",)),
    DemoAccount("demo-mueller", "100004", "Müller Werkzeuge GmbH", "paid", "de", ("+4930901820",)),
    DemoAccount("demo-corner", "100005", "Corner Coffee", "standard", "en", ("+14155550123",)),
    # Two businesses run from one office line: a shared number is a real case.
    DemoAccount("demo-bikes", "100006", "Harbor Bikes", "standard", "en", ("+14155550142",)),
    DemoAccount("demo-kayaks", "100007", "Harbor Kayaks", "standard", "en", ("+14155550142",)),
    DemoAccount("demo-taqueria", "100008", "Taquería El Sol", "standard", "es", ("+525512345678",)),
    DemoAccount("demo-thames", "100009", "Thames Print Ltd", "paid", "en", ("+442079460123",)),
    DemoAccount("demo-harbour", "100010", "Harbour Surf Co", "standard", "en", ("+61291234567",)),
    DemoAccount("demo-lion", "100011", "Lion City Florist", "standard", "en", ("+6561234567",)),
)


def demo_account_number(payload: str) -> str:
    """The keypad account number of a demo account."""
    return payload + luhn_check_digit(payload)


async def database_is_empty(session: AsyncSession) -> bool:
    """True when no account, team or specialist exists yet."""
    for table in (Account, Team, Specialist):
        if await session.scalar(select(func.count()).select_from(table)):
            return False
    return True


async def seed_accounts(session: AsyncSession, clock: Clock) -> int:
    """Create or refresh the demo accounts (idempotent); returns how many there are."""
    rows = [
        BulkRow(
            external_ref=d.ref,
            name=d.name,
            tier=d.tier,
            preferred_language=d.language,
            phones=list(d.phones),
        ).model_dump()
        for d in DEMO_ACCOUNTS
    ]
    result = await bulk_upsert(session, rows, now=clock.now(), region="US")
    by_ref = {a.external_ref: a for a in result.accounts}
    for demo in DEMO_ACCOUNTS:
        out = by_ref[demo.ref]
        account = await session.get(Account, out.id)
        if account is not None:
            account.number = demo_account_number(demo.payload)
    await session.flush()
    return len(DEMO_ACCOUNTS)


@dataclass(frozen=True)
class SeedSummary:
    """What the demo data holds after seeding, and how many rota rows were new."""

    accounts: int
    teams: int
    specialists: int
    rotations: int
    new_rota_rows: int
    # The weekend rotas the planner made for teams created in this run.
    plans: tuple[DemoPlanOutcome, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.accounts} accounts, {self.teams} teams, "
            f"{self.specialists} specialists, {self.rotations} rotations"
        )
        if self.plans:
            text += "; weekend rotas planned: " + ", ".join(str(p) for p in self.plans)
        return text if self.new_rota_rows else f"{text} (the rota was already there)"


async def seed_all(session: AsyncSession, clock: Clock) -> SeedSummary:
    """Load every kind of demo data (idempotent), in the caller's transaction."""
    accounts = await seed_accounts(session, clock)
    rota = await seed_rota(session, clock)
    plans = await plan_demo_weekends(session, clock.now(), rota.new_teams)
    await seed_users(session, clock)  # one console user per role (README: demo users)
    await seed_desk(
        session, clock
    )  # dispositions and a softphone user (docs/desk-and-wallboard.md)
    return SeedSummary(
        accounts, rota.teams, rota.specialists, rota.rotations, rota.created, tuple(plans)
    )
