"""The `switchboard` command (also `python -m app`)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Sequence
from typing import Any, cast

from app.cli_privacy import add_commands as add_privacy_commands
from app.cli_specialists import add_commands as add_specialist_commands
from app.config import ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP service with uvicorn."""
    import uvicorn

    from app.core.db import Database
    from app.core.logging import configure_logging
    from app.core.schema import SchemaBehind, ensure_schema_current
    from app.main import create_app
    from app.serving import serving_settings, startup_banner

    settings = serving_settings(_settings(), args.host, args.port)
    configure_logging(settings.log_level, settings.log_format)

    async def _check() -> None:
        db = Database.from_url(settings.database_url)
        try:
            await ensure_schema_current(db.engine)
        finally:
            await db.dispose()

    try:
        asyncio.run(_check())
    except SchemaBehind as exc:
        print(f"switchboard: refusing to start: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"switchboard: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    app = create_app(settings)
    if settings.log_format == "text":
        commands = frozenset(_subcommands(build_parser()))
        for line in startup_banner(settings, app, args.host, args.port, commands):
            logging.getLogger("switchboard").info(line)
    # Everything loaded so far (modules, mappers, the app) lives as long as the process: keep
    # it out of the collector's way, or each full collection walks ~150k objects (~100 ms
    # here) in the middle of answering a caller.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        workers=None,
        # Live pages keep their event streams open: stop waiting for them after a while.
        timeout_graceful_shutdown=5,
    )
    return 0


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    """The names of the parser's subcommands."""
    return [
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    ]


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply (or revert) Alembic migrations."""
    from app.core.schema import downgrade, upgrade

    settings = _settings()
    if args.downgrade:
        downgrade(settings.database_url, args.downgrade)
        print(f"database downgraded to {args.downgrade}")
    else:
        upgrade(settings.database_url, args.revision)
        print(f"database migrated to {args.revision}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Load demo data (only into an empty database with --if-empty)."""
    from app.core.clock import SystemClock
    from app.core.db import Database
    from app.seed import database_is_empty, seed_all

    settings = _settings()

    async def _run() -> str:
        db = Database.from_url(settings.database_url)
        try:
            async with db.transaction() as session:
                if args.if_empty and not await database_is_empty(session):
                    return "database already has data; demo data not loaded"
                summary = await seed_all(session, SystemClock())
                return f"demo data loaded: {summary}"
        finally:
            await db.dispose()

    print(asyncio.run(_run()))
    return 0


def cmd_demo_calls(args: argparse.Namespace) -> int:
    """Drive demo calls through the real webhooks (signed, in-process), over recent days."""
    from app.core.clock import SystemClock
    from app.core.db import Database
    from app.demo.phone import DemoCallFailed
    from app.demo.run import drive_demo_calls, has_demo_data_and_no_calls

    settings = _settings()
    if args.count < 1 or args.days < 1:
        print("switchboard: --count and --days must be at least 1", file=sys.stderr)
        return 2

    async def _check() -> tuple[bool, bool]:
        db = Database.from_url(settings.database_url)
        try:
            return await has_demo_data_and_no_calls(db)
        finally:
            await db.dispose()

    demo, empty = asyncio.run(_check())
    if not demo:
        print(
            "switchboard: the demo accounts are not in this database; "
            "load them first with `switchboard seed`",
            file=sys.stderr,
        )
        return 0 if args.if_new else 1
    if args.if_new and not empty:
        print("the call log already has calls; no demo calls driven")
        return 0
    try:
        result = asyncio.run(
            drive_demo_calls(
                settings, count=args.count, days=args.days, now=SystemClock().now(), seed=args.seed
            )
        )
    except DemoCallFailed as exc:
        print(f"switchboard: a demo call went wrong: {exc}", file=sys.stderr)
        return 1
    print(f"drove {result}")
    return 0


def cmd_api_keys(args: argparse.Namespace) -> int:
    """Create, list or revoke API keys."""
    from app.auth import service
    from app.core.clock import SystemClock
    from app.core.db import Database

    settings = _settings()
    clock = SystemClock()

    async def _run() -> int:
        db = Database.from_url(settings.database_url)
        try:
            async with db.transaction() as session:
                if args.action == "create":
                    if (args.role == "specialist") != (args.specialist_id is not None):
                        print(
                            "switchboard: --specialist-id is required for, and only for, "
                            "--role specialist",
                            file=sys.stderr,
                        )
                        return 2
                    row, secret = await service.create_key(
                        session,
                        name=args.name,
                        role=args.role,
                        now=clock.now(),
                        specialist_id=args.specialist_id,
                    )
                    print(secret)
                    print(
                        f"created key {row.id} ({row.role}, {row.name}); "
                        "store it now, it is not shown again",
                        file=sys.stderr,
                    )
                elif args.action == "list":
                    print("id\tprefix\trole\tstate\tname")
                    for key in await service.list_keys(session):
                        state = "revoked" if key.revoked_at else "active"
                        print(f"{key.id}\t{key.prefix}…\t{key.role}\t{state}\t{key.name}")
                else:
                    row = await service.revoke_key(session, args.id, now=clock.now())
                    print(f"revoked key {row.id} ({row.name})")
            return 0
        finally:
            await db.dispose()

    from app.core.errors import AppError

    try:
        return asyncio.run(_run())
    except AppError as exc:
        print(f"switchboard: {exc.detail}", file=sys.stderr)
        return 1


def cmd_users(args: argparse.Namespace) -> int:
    """Create console users (with a password typed twice, or a one-time sign-in link)."""
    import getpass

    from app.core.clock import SystemClock
    from app.core.db import Database
    from app.core.errors import AppError
    from app.web import users as service

    settings = _settings()
    password: str | None = None
    if not args.link:
        if not sys.stdin.isatty():
            print(
                "switchboard: no terminal to type a password on; use --link to get a "
                "one-time sign-in link instead",
                file=sys.stderr,
            )
            return 2
        password = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("The same again: ") != password:
            print("switchboard: the two passwords differ", file=sys.stderr)
            return 2

    async def _run() -> int:
        db = Database.from_url(settings.database_url)
        try:
            async with db.transaction() as session:
                now = SystemClock().now()
                user = await service.create_user(
                    session,
                    service.NewUser(
                        email=args.email,
                        display_name=args.name,
                        role=args.role,
                        specialist_id=args.specialist_id,
                        password=password,
                    ),
                    now=now,
                )
                print(f"created user {user.id}: {user.display_name} <{user.email}> ({user.role})")
                if args.link:
                    secret = await service.create_sign_in_link(session, user, now=now)
                    print(
                        "one-time sign-in link (valid 24 hours): "
                        f"{settings.public_base_url}/login/link/{secret}"
                    )
            return 0
        finally:
            await db.dispose()

    try:
        return asyncio.run(_run())
    except AppError as exc:
        print(f"switchboard: {exc.detail}", file=sys.stderr)
        return 1


def cmd_flows(args: argparse.Namespace) -> int:
    """Check the IVR flows: every problem as file:line: severity: message."""
    from pathlib import Path

    from app.telephony.simulate import flows_check

    settings = _settings()
    folder = Path(args.dir) if args.dir else None
    return asyncio.run(flows_check(settings, folder, sys.stdout, sys.stderr))


def cmd_simulate(args: argparse.Namespace) -> int:
    """Walk a call through its flow without Twilio (reads the database, never writes)."""
    from datetime import UTC, datetime

    from app.core.clock import SystemClock
    from app.telephony.simulate import simulate

    settings = _settings()
    if args.at:
        try:
            now = datetime.fromisoformat(args.at)
        except ValueError:
            now = None
        if now is None or now.tzinfo is None:
            print(
                "switchboard: --at needs an instant with an offset, e.g. 2026-11-21T10:00:00+09:00",
                file=sys.stderr,
            )
            return 2
        now = now.astimezone(UTC)
    else:
        now = SystemClock().now()
    digits = args.digits.split(",") if args.digits is not None else None

    if digits is None:
        print(
            "type the caller's keys and Enter (say:words for speech, empty for silence, "
            "q to hang up)",
            file=sys.stderr,
        )

    def read_line() -> str | None:
        try:
            return input("> ")
        except EOFError:
            return None

    return asyncio.run(
        simulate(
            settings,
            from_number=args.from_number,
            to_number=args.to_number,
            digits=digits,
            read_line=read_line,
            out=sys.stdout,
            now=now,
            answer=args.answer,
        )
    )


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows every option's default (`None` and `False` defaults are not shown)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or action.required:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """A parser whose help shows defaults; its subcommands' parsers are of this class too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from app.serving import app_version

    parser = _Parser(
        prog="switchboard",
        description="Switchboard: self-hosted phone support (Twilio IVR, rota-aware routing).",
    )
    parser.add_argument("--version", action="version", version=f"switchboard {app_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(parent: argparse._SubParsersAction[_Parser], name: str, text: str) -> _Parser:
        return parent.add_parser(name, help=text, description=text)

    serve = command(sub, "serve", "run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.set_defaults(func=cmd_serve)

    migrate = command(sub, "migrate", "apply database migrations")
    migrate.add_argument(
        "revision",
        nargs="?",
        default="head",
        help="the Alembic revision to upgrade to, e.g. 0005; head is the newest",
    )
    migrate.add_argument("--downgrade", metavar="REVISION", help="revert to REVISION instead")
    migrate.set_defaults(func=cmd_migrate)

    seed = command(sub, "seed", "load demo data (teams, specialists, rotations, accounts)")
    seed.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database has data"
    )
    seed.set_defaults(func=cmd_seed)

    demo = command(
        sub,
        "demo-calls",
        "drive realistic calls (answered, abandoned, voicemails, callback requests) through "
        "the signed Twilio webhooks of an in-process app, over recent days; needs the demo data",
    )
    demo.add_argument("--count", type=int, default=40, help="about how many calls")
    demo.add_argument("--days", type=int, default=7, help="spread over this many past days")
    demo.add_argument(
        "--seed", type=int, default=None, help="random seed, for the same calls every time"
    )
    demo.add_argument(
        "--if-new",
        action="store_true",
        help="do nothing unless the demo data is there and the call log is empty",
    )
    demo.set_defaults(func=cmd_demo_calls)

    keys = command(sub, "api-keys", "manage API keys")
    keys_sub = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = command(keys_sub, "create", "create a key and print it once")
    create.add_argument(
        "--role",
        required=True,
        choices=["admin", "scheduler", "specialist", "viewer"],
        help="what the key may do",
    )
    create.add_argument("--name", required=True, help="who or what uses the key")
    create.add_argument(
        "--specialist-id", type=int, default=None, help="the specialist (for --role specialist)"
    )
    command(keys_sub, "list", "list keys (never the secrets)")
    revoke = command(keys_sub, "revoke", "revoke a key")
    revoke.add_argument("id", type=int, help="the key's id (from api-keys list)")
    keys.set_defaults(func=cmd_api_keys)

    users = command(sub, "users", "manage console users (people who sign in)")
    users_sub = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    user_create = command(
        users_sub, "create", "create a user; prompts for the password, or --link prints a link"
    )
    user_create.add_argument("--email", required=True, help="the address they sign in with")
    user_create.add_argument("--name", required=True, help="display name")
    user_create.add_argument(
        "--role",
        required=True,
        choices=["admin", "scheduler", "specialist", "viewer"],
        help="what the user may do",
    )
    user_create.add_argument(
        "--specialist-id", type=int, default=None, help="the specialist (for --role specialist)"
    )
    user_create.add_argument(
        "--link",
        action="store_true",
        help="print a one-time sign-in link (24 hours) instead of prompting for a password",
    )
    users.set_defaults(func=cmd_users)

    flows = command(sub, "flows", "IVR flow tools")
    flows_sub = flows.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = command(flows_sub, "check", "validate the flows (exit 1 on errors)")
    check.add_argument(
        "--dir", default=None, help="folder of flow files (*.yaml, *.yml); default: FLOWS_DIR"
    )
    flows.set_defaults(func=cmd_flows)

    simulate = command(sub, "simulate", "walk a call through its flow without Twilio")
    simulate.add_argument(
        "--from", dest="from_number", default="+14155550100", help="the caller's number"
    )
    simulate.add_argument(
        "--to", dest="to_number", default="+18005550100", help="the number called"
    )
    simulate.add_argument(
        "--digits",
        default=None,
        help="inputs in order, e.g. 1,2,1000019#  (empty = silence, say:words = speech); "
        "without it the keys are read from stdin",
    )
    simulate.add_argument(
        "--at", default=None, help="simulate at this instant (RFC 3339; default: now)"
    )
    simulate.add_argument(
        "--answer", action="store_true", help="the first specialist rung accepts the call"
    )
    simulate.set_defaults(func=cmd_simulate)
    # Their parsers are of the same class (help with defaults), whatever the annotation says.
    plain = cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub)
    add_privacy_commands(plain)
    add_specialist_commands(plain)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `switchboard` console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
