"""`switchboard erase` and `switchboard purge`: privacy from the command line (SPEC 12)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.config import Settings, load_settings

CLI_PRINCIPAL_NAME = "cli"


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase an account (or every account with a number) and scrub their calls."""
    from app.auth.service import Principal
    from app.core.clock import SystemClock
    from app.core.db import Database
    from app.core.errors import NotFound
    from app.core.phone import InvalidPhoneNumber, to_e164
    from app.privacy import service

    settings: Settings = load_settings()
    principal = Principal(key_id=0, name=CLI_PRINCIPAL_NAME, role="admin", specialist_id=None)

    async def _run() -> int:
        db = Database.from_url(settings.database_url)
        try:
            async with db.transaction() as session:
                now = SystemClock().now()
                if args.account is not None:
                    erasure = await service.erase_account(session, args.account, principal, now)
                else:
                    e164 = to_e164(args.phone, settings.default_region)
                    erasure = await service.erase_phone(session, e164, principal, now)
        except NotFound as exc:
            print(f"switchboard: {exc}", file=sys.stderr)
            return 1
        except InvalidPhoneNumber as exc:
            print(f"switchboard: --phone: {exc}", file=sys.stderr)
            return 2
        finally:
            await db.dispose()
        accounts = ", ".join(map(str, erasure.accounts)) or "none"
        print(
            f"erased accounts: {accounts}; phones removed: {erasure.phones}; "
            f"notes removed: {erasure.notes}; calls scrubbed: {erasure.calls_scrubbed}"
        )
        return 0

    return asyncio.run(_run())


def cmd_purge(args: argparse.Namespace) -> int:
    """Scrub the details of calls older than the retention now."""
    from app.core.clock import SystemClock
    from app.core.db import Database
    from app.privacy.jobs import purge

    settings: Settings = load_settings()
    days = args.days or settings.call_detail_retention_days
    if not days:
        print(
            "switchboard: set CALL_DETAIL_RETENTION_DAYS or pass --days N",
            file=sys.stderr,
        )
        return 2

    async def _run() -> int:
        db = Database.from_url(settings.database_url)
        try:
            return await purge(db, SystemClock(), days)
        finally:
            await db.dispose()

    print(f"scrubbed the details of {asyncio.run(_run())} call(s) older than {days} day(s)")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `erase` and `purge` to the CLI."""
    erase = sub.add_parser(
        "erase",
        help="erase a caller: account, phones, notes; scrub their calls (audited)",
        description="Remove the account(s) with their phones and notes and scrub the caller's "
        "number, recordings, transcripts and work-item notes from their calls. Reports keep "
        "the anonymous figures.",
    )
    which = erase.add_mutually_exclusive_group(required=True)
    which.add_argument("--account", type=int, metavar="ID", help="the account's id")
    which.add_argument(
        "--phone",
        metavar="NUMBER",
        help="every account with this number, and every call from it (any formatting)",
    )
    erase.set_defaults(func=cmd_erase)
    purge = sub.add_parser(
        "purge",
        help="scrub caller details from calls older than the retention, now",
        description="What the daily retention job does, run once now.",
    )
    purge.add_argument(
        "--days",
        type=int,
        default=None,
        help="retention in days (default: CALL_DETAIL_RETENTION_DAYS)",
    )
    purge.set_defaults(func=cmd_purge)
