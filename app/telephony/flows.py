"""Loading the IVR flows at start-up: a broken flow stops the service."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.core.db import Database
from app.core.schema import REPO_ROOT
from app.ivr import Flow, FlowError, Problem, check_flows, load_flows
from app.ivr.problems import errors
from app.models.rota import Team

logger = logging.getLogger("switchboard.flows")


def flows_dir(configured: Path) -> Path:
    """FLOWS_DIR: absolute as given; relative to the working directory, else to the checkout."""
    if configured.is_absolute() or configured.exists():
        return configured
    beside_code = REPO_ROOT / configured
    return beside_code if beside_code.exists() else configured


async def known_teams(db: Database) -> set[str] | None:
    """Team slugs flows may name; None (not checked) when there are no teams or no database.

    A fresh install has no teams until the rota is set up; its flows still load, and a
    route to a team that does not exist finds nobody on shift and falls back.
    """
    try:
        async with db.transaction() as session:
            slugs = set((await session.scalars(select(Team.slug))).all())
    except (SQLAlchemyError, OSError) as exc:
        logger.warning("team names in flows not checked: cannot read teams (%s)", exc)
        return None
    if not slugs:
        logger.warning("team names in flows not checked: there are no teams yet")
        return None
    return slugs


async def load_for_app(configured: Path, db: Database) -> dict[str, Flow]:
    """Load and validate every flow; raise FlowError (with every problem) on errors."""
    folder = flows_dir(configured)
    teams = await known_teams(db)
    problems: list[Problem] = check_flows(folder, teams)
    if errors(problems):
        raise FlowError(problems)
    for problem in problems:
        logger.warning("flow warning: %s", problem)
    flows = load_flows(folder, teams)
    logger.info("loaded %d IVR flow(s) from %s", len(flows), folder, extra={"flows": sorted(flows)})
    return flows
