"""Errors that name the file, row and column, so an operator can fix the input and re-run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file. `row` is the 1-based line in the file (the header is row 1)."""

    file: str
    row: int | None
    column: str | None
    message: str
    severity: str = "critical"  # "critical" stops the run; "warning" goes to data_quality.csv
    check: str = ""  # the expectation or rule that found it

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class FeedError(ValueError):
    """A feed that cannot be trusted. Carries every critical problem found, not just the first."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def file(self) -> str:
        return self.problems[0].file


class RulesError(ValueError):
    """A rule set that is malformed, or a term date that no rule set covers."""


class ValidationFailed(RuntimeError):
    """Critical validation problems: the run stops and nothing is published."""

    def __init__(self, problems: list[Problem], where: str = ""):
        self.problems = problems
        self.where = where  # the run's data_quality.csv, when it was written
        lines = [f"{len(problems)} critical data problem(s); nothing will be published:"]
        lines += [f"  - {p}" for p in problems[:50]]
        if len(problems) > 50:
            lines.append(f"  ... and {len(problems) - 50} more (see data_quality.csv)")
        if where:
            lines.append(f"Every problem found (critical and warnings) is listed in {where}")
        super().__init__("\n".join(lines))
