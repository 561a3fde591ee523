"""What remediation may change, as data: the actions decide *what*, an executor decides *how*.

Every change is applied under an :class:`Intent` whose id is written into the change itself (a
commit trailer, a Deployment annotation), so after a crash the engine can ask the executor whether
an intent was applied, and never apply it twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Intent:
    """Why a change is made: the audit text every executor records with it."""

    action_id: str
    incident_id: str
    runbook: str
    step: str
    reason: str

    def trailers(self) -> str:
        """Git trailers naming the incident and the action (``git log --grep`` finds them)."""
        return (f"Healops-Incident: {self.incident_id}\nHealops-Runbook: {self.runbook}\n"
                f"Healops-Step: {self.step}\nHealops-Action: {self.action_id}")


@dataclass(frozen=True)
class Restart:
    service: str
    instances: tuple[str, ...] = ()  # empty: every replica, rolling


@dataclass(frozen=True)
class Scale:
    service: str
    replicas: int


@dataclass(frozen=True)
class SetVersion:
    service: str
    version: str


@dataclass(frozen=True)
class SetFlag:
    service: str
    flag: str
    enabled: bool


@dataclass(frozen=True)
class SetBreaker:
    downstream: str
    force_open: bool


@dataclass(frozen=True)
class SetRateLimit:
    route: str
    rps: float


Change = Restart | Scale | SetVersion | SetFlag | SetBreaker | SetRateLimit


def describe(change: Change) -> str:
    """One line for commit subjects, the journal and the TUI."""
    match change:
        case Restart(service, ()):
            return f"Restart {service}"
        case Restart(service, instances):
            return f"Restart {len(instances)} replica(s) of {service}: {', '.join(instances)}"
        case Scale(service, replicas):
            return f"Scale {service} to {replicas} replicas"
        case SetVersion(service, version):
            return f"Roll {service} back to {version}"
        case SetFlag(service, flag, enabled):
            return f"Turn {'on' if enabled else 'off'} {flag} on {service}"
        case SetBreaker(downstream, force_open):
            return f"{'Open' if force_open else 'Close'} the gateway's circuit breaker to {downstream}"
        case SetRateLimit(route, rps):
            return f"Limit the gateway route {route} to {rps:g} rps"
    raise AssertionError(change)


@dataclass(frozen=True)
class Applied:
    """The record of an applied (or, with ``dry_run``, planned) change."""

    action_id: str
    summary: str
    ref: str | None = None  # the commit, or the resource version that holds the change
    revertible: bool = True
    dry_run: bool = False
    before: dict[str, object] = field(default_factory=dict)  # what an API executor restores on revert


@dataclass(frozen=True)
class ServiceView:
    """What an executor can tell about one service right now."""

    name: str
    desired_replicas: int
    ready_replicas: int
    unhealthy: tuple[str, ...]  # instances (pods) crashed or not answering probes
    version: str
    previous_version: str | None  # the version that ran before the current one
    version_changed_at: float | None  # unix time of the last version change
    flags: dict[str, bool] = field(default_factory=dict)


class Executor(Protocol):
    """Applies changes to a runtime; the local runtime and Kubernetes implement it."""

    name: str

    def view(self, service: str) -> ServiceView: ...

    def apply(self, intent: Intent, change: Change, dry_run: bool) -> Applied: ...

    def revert(self, intent: Intent, applied: Applied, dry_run: bool) -> Applied: ...

    def find(self, action_id: str) -> Applied | None:
        """The change made under ``action_id``, if it was applied (crash recovery)."""
        ...

    def record(self, ref: str, text: str) -> None:
        """Attach an outcome (verified, failed, escalated) to the change ``ref`` in its history."""
        ...

    def recover(self) -> list[str]:
        """Clean up what a crash mid-write left behind; return what was done, for the journal."""
        ...
