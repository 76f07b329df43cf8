"""`switchboard specialists import FILE.csv`: the bulk upsert from a spreadsheet."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from pathlib import Path
from typing import Any

from app.config import load_settings

# Columns of the CSV; lists (languages, skills, teams) are separated by spaces, commas
# inside quotes, or semicolons.
COLUMNS = (
    "name",
    "email",
    "external_ref",
    "contact",
    "time_zone",
    "languages",
    "skills",
    "teams",
    "active",
)
LISTS = ("languages", "skills", "teams")
TRUE = {"true", "yes", "1", "y"}
FALSE = {"false", "no", "0", "n"}


def _items(value: str) -> list[str]:
    return [item for item in value.replace(";", " ").replace(",", " ").split() if item]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The CSV's rows as bulk-upsert rows (blank cells left out, lists split)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        unknown = [c for c in reader.fieldnames or () if c.strip() not in COLUMNS]
        if unknown:
            raise ValueError(
                f"unknown column(s) {', '.join(unknown)}; columns are {', '.join(COLUMNS)}"
            )
        rows: list[dict[str, Any]] = []
        for raw in reader:
            row: dict[str, Any] = {}
            for column, cell in raw.items():
                if column is None or cell is None or not cell.strip():
                    continue
                key, value = column.strip(), cell.strip()
                if key in LISTS:
                    row[key] = _items(value)
                elif key == "active" and value.lower() in TRUE | FALSE:
                    row[key] = value.lower() in TRUE
                else:
                    row[key] = value
            rows.append(row)
    return rows


def cmd_import(args: argparse.Namespace) -> int:
    """Create or update the specialists of a CSV file, all or nothing."""
    from app.auth.service import Principal
    from app.core.clock import SystemClock
    from app.core.db import Database
    from app.core.errors import DryRunOutcome, ValidationFailed
    from app.rota.bulk_specialists import bulk_upsert
    from app.rota.writes import RotaWrite

    path = Path(args.file)
    if not path.is_file():
        print(f"switchboard: {path} does not exist", file=sys.stderr)
        return 2
    try:
        rows = read_rows(path)
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        print(f"switchboard: {path}: {exc}", file=sys.stderr)
        return 2
    if not rows:
        print(f"switchboard: {path} has no rows", file=sys.stderr)
        return 2
    settings = load_settings()
    principal = Principal(key_id=0, name="cli", role="admin", specialist_id=None)

    async def _run() -> int:
        db = Database.from_url(settings.database_url)
        try:
            async with db.transaction() as session:
                write = await RotaWrite(
                    session,
                    principal,
                    SystemClock().now(),
                    args.dry_run,
                    refresh_after_commit=True,
                ).start()
                result = await bulk_upsert(session, rows, write)
        except ValidationFailed as exc:
            print(f"switchboard: {exc.detail}", file=sys.stderr)
            for error in exc.errors or []:
                # body.specialists[3].email -> line 5 (the header is line 1)
                field = str(error["field"]).removeprefix("body.specialists[")
                index, _, rest = field.partition("]")
                line = int(index) + 2 if index.isdigit() else "?"
                print(f"{path}:{line}: {rest.lstrip('.')}: {error['message']}", file=sys.stderr)
            return 1
        except DryRunOutcome:
            print("dry run: the file is valid; nothing was written")
            return 0
        finally:
            await db.dispose()
        print(
            f"specialists: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )
        return 0

    return asyncio.run(_run())


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `specialists import` to the CLI."""
    specialists = sub.add_parser("specialists", help="specialist tools")
    actions = specialists.add_subparsers(dest="action", required=True)
    upload = actions.add_parser(
        "import",
        help="create or update specialists from a CSV file, all or nothing",
        description="Columns: " + ", ".join(COLUMNS) + ". Rows match existing specialists "
        "by external_ref, else email. Lists are separated by spaces or semicolons.",
    )
    upload.add_argument("file", metavar="FILE.csv", help="the CSV file (UTF-8, with a header)")
    upload.add_argument("--dry-run", action="store_true", help="check the file and write nothing")
    specialists.set_defaults(func=cmd_import)
