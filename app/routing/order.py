"""Ordering the people who could take a call. Pure: no database, no clock.

Those who speak the call's language come first (only an overflow team has others), then
those with the topic skill, then the strategy:

- ``longest_idle``: the one whose last conversation ended longest ago first; people
  without any call yet are idlest of all. Ties by specialist id.
- ``round_robin``: in specialist-id order, starting after the person this team offered
  its previous call to, wrapping round.
- ``fixed_order``: always in specialist-id order (the order people were added), so the
  first in line takes every call they are free for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Strategy = Literal["longest_idle", "round_robin", "fixed_order"]


@dataclass(frozen=True)
class Person:
    """Someone on shift in the team who might be rung."""

    specialist_id: int
    name: str
    contact: str
    team: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    idle_since: datetime | None  # when their last conversation ended; None: never
    shift: str  # the shift that puts them on duty, for explanations


def order(
    people: Sequence[Person],
    *,
    language: str,
    skill: str | None,
    strategy: Strategy,
    last_offered: int | None = None,
) -> list[Person]:
    """People in the order to ring them."""

    def strategy_key(p: Person) -> tuple[int, float, int]:
        if strategy == "longest_idle":
            idle = p.idle_since.timestamp() if p.idle_since is not None else float("-inf")
            return (0, idle, p.specialist_id)
        if strategy == "round_robin" and last_offered is not None:
            return (0 if p.specialist_id > last_offered else 1, 0.0, p.specialist_id)
        return (0, 0.0, p.specialist_id)

    def key(p: Person) -> tuple[int, int, tuple[int, float, int]]:
        speaks = language in p.languages
        skilled = skill is not None and skill in p.skills
        return (0 if speaks else 1, 0 if skilled else 1, strategy_key(p))

    return sorted(people, key=key)
