"""The live shortlist's plan: no step of it reads a whole table, in any plan the database
may pick for a statement it runs many times.

PostgreSQL runs a prepared statement with a generic plan (one that cannot see the
parameters' values) after a few runs. The shortlist once asked whether the team's queue
matters with one EXISTS over `call_id = $n OR (state = $m OR state = $k) AND team = $t`:
with the states unseen, the generic plan scanned every entry `call_queue` ever held
(1.5 ms of the database's CPU per routing decision at 18,000 entries, bench/RESULTS.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from sqlalchemy import insert, text

from app.core.clock import FixedClock
from app.core.db import Database
from app.core.driver_sql import _ordered
from app.models.call import Call
from app.models.routing import QueueEntry
from app.rota.lookup import when
from app.routing.order import Strategy
from app.routing.roster import _line_statement, people_statement
from tests.routing.shortlists import desk_team
from tests.telephony.rota_rows import staff

ENTRIES = 3000  # calls that queued once and left: what a queue table holds after a while


def _literal(value: Any) -> str:
    """A PostgreSQL literal for one parameter of the shortlist (EXECUTE takes no binds)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    if isinstance(value, list):
        return f"ARRAY[{', '.join(str(int(v)) for v in value)}]::integer[]"
    return "'" + str(value).replace("'", "''") + "'"


async def _history(db: Database, now: datetime) -> None:
    """ENTRIES calls of another team, each with the queue entry it left."""
    async with db.transaction() as session:
        started = now - timedelta(days=3)
        await session.execute(
            insert(Call),
            [
                {
                    "sid": f"CA{i:032d}",
                    "from_number": "+14155550142",
                    "to_number": "+18005550100",
                    "status": "completed",
                    "started_at": started,
                    "created_at": started,
                    "updated_at": started,
                }
                for i in range(ENTRIES)
            ],
        )
        ids = (await session.execute(text("SELECT id FROM calls ORDER BY id"))).scalars().all()
        await session.execute(
            insert(QueueEntry),
            [
                {
                    "call_id": call_id,
                    "team": "other",
                    "language": "en",
                    "priority": 0,
                    "enqueued_at": started,
                    "deadline": started + timedelta(minutes=5),
                    "state": "left",
                    "left_at": started + timedelta(minutes=1),
                    "result": "connected",
                    "updated_at": started,
                }
                for call_id in ids
            ],
        )
    async with db.engine.connect() as connection:
        # As autovacuum does on PostgreSQL. Switchboard never analyzes SQLite, which plans
        # without statistics (with them it would take a one-valued test column as useless).
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql("ANALYZE")
            await connection.commit()


async def _plans(db: Database, now: datetime) -> dict[str, str]:
    """The plans of the shortlist (for each ordering strategy) and of the team's line it
    reads when callers wait, generic where the database has one."""
    plans: dict[str, str] = {}
    params = {
        **when(now),
        "team": "desk",
        "call_id": 1,
        "language": '"en"',
        "skill": "",
        "exclude": [],
        "limit": 12,
        "now": now,
    }
    async with db.engine.connect() as connection:
        dialect = connection.dialect
        statements = {
            **{
                s: people_statement(dialect.name, skill=False, strategy=s)
                for s in get_args(Strategy)
            },
            "the team's line": _line_statement(),
        }
        for strategy, statement in statements.items():
            form = statement.form(dialect)
            if dialect.name == "postgresql":
                params["exclude"] = [1]
                values = ", ".join(_literal(v) for v in _ordered(form, params))
                raw = (await connection.get_raw_connection()).driver_connection
                assert raw is not None
                # On the planner's defaults, not the app's connection settings
                # (`PLANNER_SETTINGS` turns sequential scans off): the statement itself
                # must give an index its way in.
                await raw.execute("SET plan_cache_mode = force_generic_plan")
                await raw.execute("SET enable_seqscan = on")
                await raw.execute(f"PREPARE shortlist_plan AS {form.text}")
                rows = await raw.fetch(f"EXPLAIN EXECUTE shortlist_plan({values})")
                await raw.execute(
                    "DEALLOCATE shortlist_plan; RESET plan_cache_mode; RESET enable_seqscan"
                )
                plans[strategy] = "\n".join(row[0] for row in rows)
            else:
                params["exclude"] = "[1]"
                found = await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {form.text}", tuple(_ordered(form, params))
                )
                plans[strategy] = "\n".join(str(row[-1]) for row in found.all())
    return plans


async def test_live_routing_finds_the_team_line_by_index_in_a_generic_plan(
    db: Database, clock: FixedClock
) -> None:
    now = clock.now().astimezone(UTC)
    await staff(db, now, {"desk": desk_team(3)})
    await _history(db, now)
    for strategy, plan in (await _plans(db, now)).items():
        assert "call_queue" in plan, (strategy, plan)  # the queue is asked about
        # PostgreSQL: "Seq Scan on call_queue"; SQLite: "SCAN call_queue".
        assert "Seq Scan on call_queue" not in plan, (strategy, plan)
        assert "SCAN call_queue" not in plan.replace("SEARCH", ""), (strategy, plan)
