"""The runbook document: which incidents it answers, what it checks first, the steps it takes,
how it proves they worked and what it does when they did not.

A runbook is data reviewed in git, not code: its actions are names of typed functions in
:mod:`remediation.actions`, and their arguments are checked against those functions' signatures
when the file loads (see :mod:`runbooks.loader`), so a typo fails review, not the 3 a.m. page.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from healops.events import SEVERITY_ORDER, Severity, SignalSource

OnFailure = Literal["revert", "next", "escalate"]
TARGET = "${target}"  # the only substitution: the service the runbook matched on


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Trigger(_Doc):
    """An incident matches when a service ranked within ``rootCauseRank`` has a firing signal that
    fits every given filter. That service becomes the runbook's ``${target}``."""

    sources: tuple[SignalSource, ...] = Field(default=(), description="signal sources; empty: any")
    kinds: tuple[str, ...] = Field(default=(), description="signal kinds (health, errors, latency, memory, "
                                   "cpu, saturation, slo, alert); empty: any")
    metrics: tuple[str, ...] = Field(default=(), description="signal metric names (glob); empty: any")
    services: tuple[str, ...] = Field(default=("*",), description="service names (glob)")
    min_severity: Severity = Field(default="warning", alias="minSeverity")
    root_cause_rank: int = Field(default=1, ge=1, le=10, alias="rootCauseRank")
    for_s: float = Field(default=0.0, ge=0, le=3600, alias="forSeconds",
                         description="the signal must have fired at least this long ago (Prometheus' 'for'): "
                                     "lets a look-alike with a better runbook show itself first")


class Preconditions(_Doc):
    """What must hold before anything is touched (checked against the executor's view)."""

    deployed_within_s: float | None = Field(default=None, gt=0, alias="deployedWithinSeconds",
                                            description="the target's version changed this recently")
    min_ready_replicas: int | None = Field(default=None, ge=0, alias="minReadyReplicas")
    max_ready_replicas: int | None = Field(default=None, ge=0, alias="maxReadyReplicas")


class Step(_Doc):
    name: str = Field(min_length=1, max_length=80)
    action: str
    args: dict[str, Any] = Field(default_factory=dict)
    on_failure: tuple[OnFailure, ...] = Field(default=("revert", "next"), alias="onFailure",
                                              description="in order; escalation follows when no step is left")

    @field_validator("on_failure")
    @classmethod
    def _sensible(cls, v: tuple[OnFailure, ...]) -> tuple[OnFailure, ...]:
        if len(set(v)) != len(v):
            raise ValueError("each of revert, next, escalate at most once")
        if "next" in v and "escalate" in v:
            raise ValueError("choose 'next' or 'escalate', not both")
        return v


class Verification(_Doc):
    """What must be true again, together, for ``holdSeconds``, before ``withinSeconds`` pass."""

    within_s: float = Field(default=45.0, gt=0, le=3600, alias="withinSeconds")
    hold_s: float = Field(default=3.0, ge=0, le=600, alias="holdSeconds")
    signals_cleared: bool = Field(default=True, alias="signalsCleared",
                                  description="the target's anomalies and health signals in the incident have "
                                              "cleared (burn-rate rules excepted: see burnRateBelow)")
    replicas_ready: bool = Field(default=True, alias="replicasReady")
    burn_rate_below: float | None = Field(default=1.0, gt=0, alias="burnRateBelow",
                                          description="every short-window burn rate of the target's SLOs")


class RunbookSpec(_Doc):
    trigger: Trigger
    preconditions: Preconditions = Preconditions()
    steps: tuple[Step, ...] = Field(min_length=1, max_length=10)
    verify: Verification = Verification()
    approval: bool = Field(default=False, description="wait for a person to approve each step")
    cooldown_s: float = Field(default=300.0, ge=0, le=86_400, alias="cooldownSeconds",
                              description="after acting on a service, leave it alone this long")
    backoff_s: float | None = Field(default=None, gt=0, le=86_400, alias="backoffSeconds",
                                    description="instead of the flat cooldown, wait this long after one change, "
                                                "doubling with each further change within cooldownSeconds, "
                                                "up to cooldownSeconds (a crash-loop back-off)")
    priority: int = Field(default=100, ge=0, le=1000, description="lower is tried first")

    @field_validator("steps")
    @classmethod
    def _unique_names(cls, v: tuple[Step, ...]) -> tuple[Step, ...]:
        names = [s.name for s in v]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique: {names}")
        return v


class Metadata(_Doc):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    description: str = ""


class Runbook(_Doc):
    api_version: Literal["healops.dev/v1"] = Field(alias="apiVersion")
    kind: Literal["Runbook"]
    metadata: Metadata
    spec: RunbookSpec

    @property
    def name(self) -> str:
        return self.metadata.name

    def severity_ok(self, severity: str) -> bool:
        return SEVERITY_ORDER[severity] >= SEVERITY_ORDER[self.spec.trigger.min_severity]
