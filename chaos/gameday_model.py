"""A game day as a validated document: which experiments, against which services, when, and what
each must show. Errors name the file, line and field; every experiment a game day lists is checked
too (see :mod:`chaos.validate`), so a bad file fails before anything is injected.

    apiVersion: healops.dev/v1
    kind: GameDay
    metadata: {name: every-fault-kind}
    spec:
      schedule: "0 10 * * 3"        # cron, for `healops gameday schedule`
      minBudgetRemaining: 0.5       # a scheduled run needs this share of every SLO's budget left
      settleSeconds: 20             # quiet (no incident, no page) needed before each experiment
      settleTimeoutSeconds: 300     # not quiet after this long: the experiment fails as "not run"
      experiments:
        - experiment: ../experiments/crash.json   # relative to this file
          target: notification
          expect: {detectWithinSeconds: 30, rootCauseFirst: true, recoverWithinSeconds: 60}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from healops.documents import field_path, line_of, parse_yaml_model
from healops.errors import DocumentError, Problem

DEFAULT_DIR = Path(__file__).resolve().parent / "gamedays"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Expectation(_Model):
    """What an experiment must show to pass. ``recoverWithinSeconds`` unset: detection only (a
    fault no runbook is meant to fix)."""

    detect_within_s: float = Field(default=30.0, gt=0, le=3600, alias="detectWithinSeconds")
    root_cause_first: bool = Field(default=True, alias="rootCauseFirst")
    recover_within_s: float | None = Field(default=None, gt=0, le=3600, alias="recoverWithinSeconds")
    max_budget_spent: float | None = Field(default=None, gt=0, le=1, alias="maxBudgetSpent")


class Entry(_Model):
    experiment: str = Field(min_length=1)
    target: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    vars: dict[str, str | int | float | bool] = Field(default_factory=dict)
    expect: Expectation = Field(default_factory=Expectation)
    timeout_s: float = Field(default=600.0, gt=0, le=3600, alias="timeoutSeconds")


class Spec(_Model):
    schedule: str | None = None
    min_budget_remaining: float = Field(default=0.5, ge=0, le=1, alias="minBudgetRemaining")
    settle_s: float = Field(default=20.0, ge=0, le=900, alias="settleSeconds")
    settle_timeout_s: float = Field(default=300.0, gt=0, le=3600, alias="settleTimeoutSeconds")
    experiments: list[Entry] = Field(min_length=1)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None and not croniter.is_valid(v):
            raise ValueError(f"not a cron expression: {v!r} (five fields: minute hour day month weekday)")
        return v


class Metadata(_Model):
    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""


class GameDay(_Model):
    api_version: Literal["healops.dev/v1"] = Field(alias="apiVersion")
    kind: Literal["GameDay"]
    metadata: Metadata
    spec: Spec


@dataclass(frozen=True)
class LoadedGameDay:
    gameday: GameDay
    file: Path
    experiments: tuple[Path, ...]  # resolved, in the order of spec.experiments

    @property
    def name(self) -> str:
        return self.gameday.metadata.name


def load_gameday(path: Path) -> LoadedGameDay:
    """Read, validate and resolve a game-day file and every experiment it names."""
    from chaos.validate import experiment_problems  # chaoslib is imported only when a file is checked

    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DocumentError([Problem(source, None, "", f"cannot read: {exc.strerror}")]) from exc
    gd = parse_yaml_model(text, GameDay, source)
    problems: list[Problem] = []
    resolved: list[Path] = []
    for i, entry in enumerate(gd.spec.experiments):
        loc: list[int | str] = ["spec", "experiments", i, "experiment"]
        exp = (path.parent / entry.experiment).resolve()
        resolved.append(exp)
        if not exp.is_file():
            problems.append(Problem(source, line_of(text, loc), field_path(loc), f"no experiment file {exp}"))
            continue
        problems.extend(experiment_problems(exp))
    if problems:
        raise DocumentError(problems)
    return LoadedGameDay(gd, path, tuple(resolved))
