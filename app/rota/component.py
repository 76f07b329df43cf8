"""The part of a rota an edit can reach: a connected set of teams and people. Pure.

Teams and specialists are linked by rotation versions (the team and every member) and by
overrides (the specialist, the substitute and the team when it names one). Every rule the
calculator applies stays inside such a connected part: a person's shifts come from their
rotations and overrides, a day off in lieu removes shifts in the person's own teams, and
"most_staffed" placement compares days of the earning team. So the final schedule of a
part's teams, calculated from the part alone, is exactly what the whole rota gives for
them — which is what lets a rota write recompute only what it can have changed.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable

from app.rota.rules import Rota

__all__ = ["Part", "connected_part"]


@dataclasses.dataclass(frozen=True)
class Part:
    """A connected part of a rota and the rota restricted to it."""

    teams: frozenset[str]
    specialists: frozenset[int]
    rota: Rota


def connected_part(rota: Rota, teams: Iterable[str], specialists: Iterable[int] = ()) -> Part:
    """The teams and people linked to the given ones, and the rota restricted to them."""
    links: defaultdict[tuple[str, object], set[tuple[str, object]]] = defaultdict(set)

    def link(nodes: list[tuple[str, object]]) -> None:
        for node in nodes:
            links[node].update(nodes)

    for version in rota.rotations:
        link([("team", version.team), *(("person", m) for m in version.members)])
    for override in rota.overrides:
        nodes: list[tuple[str, object]] = [("person", override.specialist_id)]
        if override.substitute_id is not None:
            nodes.append(("person", override.substitute_id))
        if override.team is not None:
            nodes.append(("team", override.team))
        link(nodes)
    seen: set[tuple[str, object]] = {("team", t) for t in teams}
    seen |= {("person", s) for s in specialists}
    todo = list(seen)
    while todo:
        for other in links.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    team_set = frozenset(str(n) for kind, n in seen if kind == "team")
    people = frozenset(int(n) for kind, n in seen if kind == "person")  # type: ignore[call-overload]
    restricted = Rota(
        teams={slug: t for slug, t in rota.teams.items() if slug in team_set},
        specialists={i: s for i, s in rota.specialists.items() if i in people},
        rotations=tuple(v for v in rota.rotations if v.team in team_set),
        overrides=tuple(
            o
            for o in rota.overrides
            if o.specialist_id in people
            or o.substitute_id in people
            or (o.team is not None and o.team in team_set)
        ),
        lieu_adjustments=rota.lieu_adjustments,
        manual_days_off=tuple(m for m in rota.manual_days_off if m.specialist_id in people),
    )
    return Part(teams=team_set, specialists=people, rota=restricted)
