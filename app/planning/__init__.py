"""The rota planner: a constraint model (OR-Tools CP-SAT) that proposes a fair rota."""
