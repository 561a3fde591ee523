"""The root of every error healops raises on purpose.

    HealopsError
    ├── ConfigError          bad configuration or environment
    ├── DocumentError        a YAML/JSON document failed validation (file, line, field, reason)
    ├── GitError             a git command failed
    └── RuntimeStateError    the local runtime could not do what was asked
"""

from __future__ import annotations

from dataclasses import dataclass


class HealopsError(Exception):
    """Base class: catch this to catch every deliberate healops failure."""


class ConfigError(HealopsError):
    """Configuration that cannot be used."""


class GitError(HealopsError):
    """A git command exited non-zero; carries its stderr."""


class RuntimeStateError(HealopsError):
    """The runtime could not reach or change the state asked for."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a document, located precisely enough to fix at 3 a.m."""

    file: str
    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field or '<document>'}: {self.reason}"


class DocumentError(HealopsError):
    """A document was refused; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
