"""`switchboard flows check` and `switchboard simulate`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli import main
from app.core.clock import FixedClock
from app.core.db import Database
from app.core.schema import REPO_ROOT
from app.models.account import Account, AccountPhone
from tests.conftest import NOW
from tests.telephony.rota_rows import Person, staff

SUPPORT_TEAMS = (
    "paid-support",
    "support-en",
    "support-ja",
    "support-fr",
    "support-de",
    "support-es",
)
BROKEN = """\
name: broken
default: true
languages:
  en: Polly.Joanna
start: welcome
steps:
  welcome:
    kind: say
    prompt: Hello.
    next: menu
  menu:
    kind: menu
    prompt: Press 1.
    options:
      1: conect
    fallback: bye
  bye:
    kind: hangup
    prompt: {en: Bye., fr: Au revoir.}
"""


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("FLOWS_DIR", str(REPO_ROOT / "ivr_flows"))
    monkeypatch.chdir(tmp_path)
    return url


def test_flows_check_passes_the_shipped_flows(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flows", "check"]) == 0
    captured = capsys.readouterr()
    assert "flows OK: 0 error(s)" in captured.err
    assert not Path("cli.db").exists()  # checking never creates a database


def test_flows_check_reports_file_line_severity_message(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    assert main(["flows", "check", "--dir", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    file = str(folder / "broken.yaml")
    assert any(line.startswith(f"{file}:15: error: ") and "conect" in line for line in lines), lines
    assert all(line.startswith(f"{file}:") for line in lines)


def test_flows_check_knows_the_teams_of_a_database(
    cli_env: str, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0

    async def arrange() -> None:
        db = Database.from_url(cli_env)
        try:
            await staff(db, clock.now(), {"support-en": [], "paid-support": []})
        finally:
            await db.dispose()

    asyncio.run(arrange())
    capsys.readouterr()
    assert main(["flows", "check"]) == 1
    out = capsys.readouterr().out
    assert "unknown team 'support-ja'" in out and "unknown team 'support-en'" not in out


def test_simulate_prints_what_the_caller_hears_and_who_would_ring(
    cli_env: str, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0

    async def arrange() -> None:
        db = Database.from_url(cli_env)
        try:
            await staff(
                db,
                clock.now(),
                {
                    "support-en": [Person("Ann Example", "+14155550001", ["en"], ["billing"])],
                    **{team: [] for team in SUPPORT_TEAMS if team != "support-en"},
                },
            )
        finally:
            await db.dispose()

    asyncio.run(arrange())
    capsys.readouterr()
    at = NOW.isoformat()
    assert main(["simulate", "--from", "+15005550006", "--digits", "1,,,2", "--at", at]) == 0
    out = capsys.readouterr().out
    assert "says (en, Polly.Joanna): Thank you for calling support." in out
    assert "[lookup by caller_id +*******0006: no account]" in out
    assert "> caller: (silence)" in out
    assert "rings support-en now (batch 1):" in out
    assert "- Ann Example <+14155550001>: on shift in support-en" in out
    assert "1. Ann Example (#" in out  # the routing explanation, as /v1/routing/explain
    assert "skill billing" in out
    assert "records a voicemail (up to 120 s, transcribed)" in out
    assert "[nobody to ring in support-en: everyone on shift in support-en was already rung" in out
    assert out.rstrip().endswith("hangs up")

    # Japanese: the voicemail is kept but not transcribed, as Twilio would.
    assert main(["simulate", "--from", "+15005550006", "--digits", "2,,,2", "--at", at]) == 0
    out = capsys.readouterr().out
    assert "not transcribed: Twilio transcribes English only" in out
    assert "[nobody to ring in support-ja: no one is on shift in support-ja]" in out

    # Spanish: support-es has nobody, so support-en is rung, as for every language.
    assert main(["simulate", "--from", "+15005550006", "--digits", "5,,,1", "--at", at]) == 0
    out = capsys.readouterr().out
    assert "says (es, Polly.Mia): Para español, oprima 5." in out
    assert "[nobody to ring in support-es: no one is on shift in support-es]" in out
    assert "says (es, Polly.Mia): Por favor, permanezca en la línea" in out
    assert "rings support-en now (batch 1):" in out

    # --answer: the specialist takes the call; nobody hangs up in the simulation.
    args = ["simulate", "--from", "+15005550006", "--digits", "1,,,2", "--at", at, "--answer"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "(Ann Example accepts the call)" in out
    assert out.rstrip().endswith("connected: the caller talks with Ann Example (end of simulation)")
    assert "hangs up" not in out


def test_simulate_reads_keys_from_stdin(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    keys = iter(["2"])

    def fake_input(_: str = "") -> str:
        try:
            return next(keys)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    capsys.readouterr()
    assert main(["simulate"]) == 0
    out = capsys.readouterr().out
    assert "says (ja, Polly.Mizuki): アカウント番号を入力し" in out
    assert "> caller: (hangs up)" in out


def test_simulate_shows_a_paid_callers_whole_order_before_ringing(
    cli_env: str, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Paid team, then the caller's language team, then English, then voicemail (12.7)."""
    assert main(["migrate"]) == 0
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Berlin

    async def arrange() -> None:
        db = Database.from_url(cli_env)
        try:
            await staff(
                db,
                monday,
                {
                    "paid-support": [],
                    "support-de": [Person("Greta Example", "+4930555000001", ["de"], [])],
                    **{t: [] for t in SUPPORT_TEAMS if t not in ("paid-support", "support-de")},
                },
            )
            async with db.transaction() as session:
                account = Account(
                    number="1000041",
                    name="Kunde GmbH",
                    tier="paid",
                    created_at=monday,
                    updated_at=monday,
                )
                session.add(account)
                await session.flush()
                session.add(AccountPhone(account_id=account.id, e164="+493055501234"))
        finally:
            await db.dispose()

    asyncio.run(arrange())
    capsys.readouterr()
    at = "2026-11-23T10:00:00+01:00"
    assert main(["simulate", "--from", "+493055501234", "--digits", "4,1", "--at", at]) == 0
    out = capsys.readouterr().out
    assert "[lookup by caller_id +********1234: Kunde GmbH (#1, paid)]" in out
    order = out.index(
        "[route order for a paid de caller at step connect: "
        "paid-support -> support-de -> support-en -> voicemail]"
    )
    lines = out[order:].splitlines()
    assert (
        lines[1].strip()
        == "1. paid-support (the step's team for a caller with tier paid; reached now):"
    )
    assert lines[2].strip() == "nobody: no one is on shift in paid-support: on to support-de"
    assert lines[3].strip() == "2. support-de (overflow 1: support-{language}; reached now):"
    assert lines[4].strip().startswith("ring: would ring Greta Example (1 free to take the call;")
    assert lines[5].strip().startswith("1. Greta Example (#")
    assert lines[6].strip() == (
        "3. support-en (overflow 2: support-en; reached if nobody answers the teams before):"
    )
    assert lines[7].strip() == "nobody: no one is on shift in support-en: on to the voicemail step"
    assert lines[8].strip() == "4. the voicemail step (reached if nobody answers the teams before)"
    # Then the call goes that way: Greta is rung, nobody answers, English has nobody.
    assert out.index("rings support-de now (batch 1):") > order
    assert "[nobody to ring in support-en: no one is on shift in support-en]" in out
    assert "Leider ist im Moment niemand erreichbar." in out
