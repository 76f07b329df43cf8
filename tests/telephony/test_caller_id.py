"""Recognising the caller by caller ID: the number as Twilio sends it, or written otherwise."""

from __future__ import annotations

import pytest

from app.core import phone
from app.core.clock import FixedClock
from app.core.db import Database
from app.ivr import LookupAccount
from app.models.account import Account, AccountPhone
from app.telephony import resolve


@pytest.fixture
async def known(db: Database, clock: FixedClock) -> Database:
    now = clock.now()
    async with db.transaction() as session:
        for number, name, e164 in (
            ("1000017", "Acme Payments", "+14155550199"),
            ("1000025", "Bristol Bakes", "+442079460000"),
        ):
            account = Account(number=number, name=name, created_at=now, updated_at=now)
            account.phones = [AccountPhone(e164=e164, position=0)]
            session.add(account)
    return db


async def _names(db: Database, caller_id: str) -> list[str]:
    async with db.transaction() as session:
        found = await resolve.lookup_account(
            session, LookupAccount("caller_id", caller_id), region="US"
        )
    return [a.name for a in found]


async def test_a_caller_id_in_e164_is_looked_up_as_it_came(
    known: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parsing(*_: object) -> str:
        raise AssertionError("a stored number was matched as it came: nothing to parse")

    monkeypatch.setattr(resolve, "try_e164", no_parsing)
    assert await _names(known, "+14155550199") == ["Acme Payments"]
    assert await _names(known, " +442079460000 ") == ["Bristol Bakes"]


@pytest.mark.parametrize(
    ("caller_id", "names"),
    [
        ("(415) 555-0199", ["Acme Payments"]),  # national form, the default region's
        ("14155550199", ["Acme Payments"]),  # its country code without the +
        ("+4402079460000", ["Bristol Bakes"]),  # E.164-shaped, with the trunk 0 kept
        ("+14155550100", []),  # a valid number nobody has
        ("+1415555019", []),  # E.164-shaped but no number at all
        ("anonymous", []),
        ("", []),
    ],
)
async def test_any_other_caller_id_is_normalised_first(
    known: Database, caller_id: str, names: list[str]
) -> None:
    assert await _names(known, caller_id) == names


async def test_an_unknown_e164_caller_is_parsed_once_and_looked_up_once(
    known: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    parsed: list[str] = []
    lookup = resolve.accounts.brief_by_phone

    async def counting(session: object, e164: str) -> list[object]:
        asked.append(e164)
        return await lookup(session, e164)  # type: ignore[arg-type]

    def parsing(raw: str | None, region: str = "US") -> str | None:
        parsed.append(raw or "")
        return phone.try_e164(raw, region)

    monkeypatch.setattr(resolve.accounts, "brief_by_phone", counting)
    monkeypatch.setattr(resolve, "try_e164", parsing)
    assert await _names(known, "+14155550100") == []
    assert asked == ["+14155550100"] and parsed == ["+14155550100"]


async def test_accounts_read_with_the_call_answer_its_caller_id(
    known: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    lookup = resolve.accounts.brief_by_phone

    async def counting(session: object, e164: str) -> list[object]:
        asked.append(e164)
        return await lookup(session, e164)  # type: ignore[arg-type]

    monkeypatch.setattr(resolve.accounts, "brief_by_phone", counting)
    read = resolve.KnownAccounts.of("+14155550199", [(7, "Read Before", "paid", "1000033")])
    assert read is not None and resolve.KnownAccounts.of("+14155550199", None) is None

    async def names(caller_id: str, known_now: resolve.KnownAccounts) -> list[tuple[str, str]]:
        async with known.transaction() as session:
            found = await resolve.lookup_account(
                session, LookupAccount("caller_id", caller_id), region="US", known=known_now
            )
        return [(a.name, a.tier) for a in found]

    # That very number: what was read, no statement (the stored row says otherwise).
    assert await names(" +14155550199 ", read) == [("Read Before", "paid")]
    assert asked == []
    # Read with nobody: nobody, and a caller ID already in E.164 is not parsed again.
    assert await names("+14155550100", resolve.KnownAccounts("+14155550100", [])) == []
    assert asked == []
    # Written otherwise, parsed into that number: the same.
    assert await names("(415) 555-0199", read) == [("Read Before", "paid")]
    assert asked == []
    # Another number: looked up as before.
    assert await names("+442079460000", read) == [("Bristol Bakes", "standard")]
    assert asked == ["+442079460000"]
