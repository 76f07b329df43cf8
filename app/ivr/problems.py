"""Problems found in flow files, and the error raised when a flow cannot be loaded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One finding in a flow file; line is 1-based (0: the whole file or folder)."""

    file: str
    line: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message}"


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """Only the problems that stop a flow from loading."""
    return [problem for problem in problems if problem.severity == "error"]


class FlowError(Exception):
    """Raised when flow files have errors; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(errors(self.problems))
        lines = "\n".join(str(problem) for problem in self.problems)
        super().__init__(f"{count} error(s) in IVR flows:\n{lines}")
