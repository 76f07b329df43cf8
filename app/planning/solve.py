"""Run the planner: build the model, solve it time-limited, read the plan or diagnose it.

When the hard rules cannot all be met, the same model is solved again with every relaxable
rule given slack (coverage per stretch, weekend and lieu per member-week, hours per week,
days in a row) and the total slack minimised: the slack left says which rules conflict,
where, and the smallest relaxation that works. Its plan is returned too (best effort).
"""

from __future__ import annotations

import time as clock
from collections import defaultdict
from datetime import date, timedelta

from ortools.sat.python import cp_model

from app.planning.diagnosis import describe
from app.planning.grid import build_grid
from app.planning.model import PlanModel, build_model, monday
from app.planning.problem import PlanProblem
from app.planning.result import Assignment, LieuDay, PlanResult, Status

__all__ = ["solve"]


class _FirstSolution(cp_model.CpSolverSolutionCallback):
    """Remembers when the first solution arrived (counted from ``started``: model building too)."""

    def __init__(self, started: float) -> None:
        super().__init__()
        self.started = started
        self.first: float | None = None

    def on_solution_callback(self) -> None:
        if self.first is None:
            self.first = clock.perf_counter() - self.started


def _solver(problem: PlanProblem, time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = time_limit
    params.random_seed = problem.settings.seed
    params.num_workers = problem.settings.workers
    # Rotas are full of interchangeable people: symmetry detection and repeated presolve
    # cost seconds on 40-person teams (bench/planner.py) before any search; the first plan
    # comes sooner without them, and the search finds better plans in the time left.
    params.symmetry_level = 0
    params.max_presolve_iterations = 1
    params.cp_model_probing_level = 0
    return solver


def _read_plan(
    problem: PlanProblem, plan: PlanModel, solver: cp_model.CpSolver
) -> tuple[tuple[Assignment, ...], tuple[LieuDay, ...]]:
    grid = plan.grid
    assignments = sorted(
        (
            Assignment(
                member=pid,
                day=grid.instances[i].day,
                template=grid.instances[i].template.name,
                start=grid.instances[i].start,
                end=grid.instances[i].end,
            )
            for (pid, i), var in plan.x.items()
            if solver.boolean_value(var)
        ),
        key=lambda a: (a.start, a.member),
    )
    lieu_by_member: defaultdict[int, list[date]] = defaultdict(list)
    for (pid, day), var in plan.lieu.items():
        if solver.boolean_value(var):
            lieu_by_member[pid].append(day)
    return tuple(assignments), _pair_lieu(problem, assignments, lieu_by_member)


def _pair_lieu(
    problem: PlanProblem,
    assignments: list[Assignment],
    lieu_by_member: dict[int, list[date]],
) -> tuple[LieuDay, ...]:
    """Match each lieu day with the weekend day that earned it (same or previous week)."""
    earned: defaultdict[int, list[date]] = defaultdict(list)
    for a in assignments:
        if a.day.weekday() >= 5:
            earned[a.member].append(a.day)
    paired: list[LieuDay] = []
    for pid, days in lieu_by_member.items():
        pending = sorted(earned[pid])
        for day in sorted(days):
            # Earliest earning whose week is this one or the one before: the model's flow
            # guarantees one exists, and taking the earliest keeps later ones matchable.
            week = monday(day)
            match = next(
                (e for e in pending if monday(e) in (week, week - timedelta(weeks=1))), None
            )
            if match is None:
                continue
            pending.remove(match)
            paired.append(LieuDay(member=pid, day=day, earned_on=match))
    return tuple(sorted(paired, key=lambda d: (d.day, d.member)))


def solve(problem: PlanProblem) -> PlanResult:
    """Plan the problem's period; diagnose it when the hard rules cannot all be met."""
    started = clock.perf_counter()
    grid = build_grid(problem)
    plan = build_model(problem, grid)
    solver = _solver(problem, problem.settings.time_limit_s)
    callback = _FirstSolution(started)
    code = solver.solve(plan.model, callback)
    elapsed = clock.perf_counter() - started
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status: Status = "optimal" if code == cp_model.OPTIMAL else "feasible"
        assignments, lieu_days = _read_plan(problem, plan, solver)
        return PlanResult(
            status=status,
            wall_seconds=elapsed,
            first_solution_seconds=callback.first,
            objective=solver.objective_value,
            bound=solver.best_objective_bound,
            assignments=assignments,
            lieu_days=lieu_days,
        )
    if code != cp_model.INFEASIBLE:
        # Out of time before any plan (or a model error): no verdict either way.
        return PlanResult("unknown", elapsed, None, None, None)
    relaxed = build_model(problem, grid, relax=True)
    remaining = max(1.0, problem.settings.time_limit_s - elapsed)
    solver = _solver(problem, remaining)
    code = solver.solve(relaxed.model)
    elapsed = clock.perf_counter() - started
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return PlanResult("infeasible", elapsed, None, None, None)
    assignments, lieu_days = _read_plan(problem, relaxed, solver)
    return PlanResult(
        status="infeasible",
        wall_seconds=elapsed,
        first_solution_seconds=None,
        objective=None,
        bound=None,
        assignments=assignments,
        lieu_days=lieu_days,
        relaxations=describe(problem, relaxed, solver),
    )
