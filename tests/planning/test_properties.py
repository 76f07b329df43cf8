"""Every plan the solver returns obeys every hard rule (checked by app.planning.check)."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings

from app.planning.check import violations
from app.planning.problem import PlanProblem
from app.planning.solve import solve

from .factory import problems


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_proposal_obeys_every_hard_rule(problem: PlanProblem) -> None:
    result = solve(problem)
    event(result.status)
    assert result.status != "unknown"  # small problems are decided well within the limit
    if result.solved:
        assert violations(problem, result.assignments, result.lieu_days) == []
        assert result.relaxations == ()
    else:
        # Infeasible: the relaxed plan names what it had to bend, and bending it is enough.
        assert result.relaxations
        assert violations(problem, result.assignments, result.lieu_days)
