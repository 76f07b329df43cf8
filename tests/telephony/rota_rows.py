"""Rota rows for telephony tests: teams and specialists on shift around the clock."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.core.db import Database
from app.models.rota import Rotation, RotationVersionRow, Specialist, Team, TeamMember
from app.rota.materialise import rematerialise


@dataclass(frozen=True)
class Person:
    """A specialist to put on shift."""

    name: str
    contact: str
    languages: Sequence[str]
    skills: Sequence[str] = ()


async def staff(
    db: Database,
    now: datetime,
    teams: dict[str, Sequence[Person]],
) -> dict[str, int]:
    """Create the teams with their people on a 24/7 rotation; specialist ids by name."""
    ids: dict[str, int] = {}
    async with db.transaction() as session:
        for slug, people in teams.items():
            team = Team(
                slug=slug,
                name=slug,
                tz="UTC",
                languages=sorted({lang for p in people for lang in p.languages}),
                coverage=[],
                calendar_token=secrets.token_urlsafe(16),
                created_at=now,
                updated_at=now,
            )
            session.add(team)
            await session.flush()
            members: list[int] = []
            for person in people:
                if person.name not in ids:
                    row = Specialist(
                        name=person.name,
                        contact=person.contact,
                        tz="UTC",
                        languages=list(person.languages),
                        skills=list(person.skills),
                        active=True,
                        calendar_token=secrets.token_urlsafe(16),
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(row)
                    await session.flush()
                    ids[person.name] = row.id
                members.append(ids[person.name])
                session.add(TeamMember(team_id=team.id, specialist_id=ids[person.name]))
            if not members:
                continue
            rotation = Rotation(
                team_id=team.id,
                name=f"{slug} around the clock",
                anchor=date(2026, 1, 5),
                created_at=now,
                updated_at=now,
            )
            session.add(rotation)
            await session.flush()
            session.add(
                RotationVersionRow(
                    rotation_id=rotation.id,
                    seq=1,
                    members=members,
                    days=list(range(7)),
                    start_time="00:00",
                    end_time="00:00",
                    length_days=1,
                    every_weeks=1,
                    assignment="all",
                    per_occurrence=1,
                    turn_offset=0,
                    run_on_holidays=True,
                    earns_lieu=False,
                    lieu_rule=None,
                    effective_from=now - timedelta(days=30),
                    effective_until=None,
                    created_at=now,
                )
            )
        await session.flush()
        await rematerialise(session, now)
    return ids
