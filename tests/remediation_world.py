"""A small world for remediation tests: a real desired-state git repository, a real SQLite journal,
the local executor, a runtime snapshot the test writes, a controlled clock, and a book of incidents
and burn rates standing in for detection (the engine's two ports)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healops.events import Incident
from remediation.engine import RemediationEngine
from remediation.journal import Journal
from remediation.local_executor import LocalExecutor
from remediation.safety import SafetyPolicy
from runbooks.loader import DEFAULT_DIR, LoadedRunbook, load_runbooks
from workloads.desired_state import DesiredStateRepo

SERVICES = ("api-gateway", "healthcare", "identity", "analytics")


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Book:
    """The incidents and burn rates the engine sees, and what it wrote back."""

    incidents: dict[str, Incident] = field(default_factory=dict)
    burns: dict[str, list[float]] = field(default_factory=dict)
    notes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    escalations: list[tuple[str, str]] = field(default_factory=list)
    mitigating_ids: list[str] = field(default_factory=list)

    def active(self) -> list[Incident]:
        return list(self.incidents.values())

    def note(self, incident_id: str, kind: str, detail: dict[str, Any]) -> None:
        self.notes.append((incident_id, kind, detail))

    def mitigating(self, incident_id: str, why: str) -> None:
        self.mitigating_ids.append(incident_id)

    def escalate(self, incident_id: str, why: str) -> None:
        self.escalations.append((incident_id, why))

    def burn_rates(self, service: str) -> list[float]:
        return self.burns.get(service, [0.0])


@dataclass
class World:
    repo: DesiredStateRepo
    snapshot: Path
    journal: Journal
    book: Book
    clock: Clock
    executor: LocalExecutor

    def replicas(self, service: str, states: list[str]) -> None:
        """Publish the runtime snapshot as the local runtime would."""
        snap = json.loads(self.snapshot.read_text()) if self.snapshot.exists() else {"services": {}}
        snap["services"][service] = {"replicas": [{"instance": f"{service}-{i}", "state": s}
                                                  for i, s in enumerate(states)]}
        self.snapshot.write_text(json.dumps(snap))

    def engine(self, runbooks: list[LoadedRunbook] | None = None, **policy: Any) -> RemediationEngine:
        return RemediationEngine(runbooks or load_runbooks([DEFAULT_DIR]), self.executor, self.journal, self.book,
                                 self.book, SafetyPolicy(**policy), clock=self.clock)

    def commits(self) -> list[str]:
        return [c.subject for c in self.repo.git.log(limit=100)]

    def kinds(self, incident_id: str) -> list[str]:
        return [d["kind"] for d in self.journal.decisions(incident_id)]




def make_world(tmp_path: Path) -> World:
    repo = DesiredStateRepo(tmp_path / "desired-state")
    repo.ensure(2, list(SERVICES))
    clock = Clock()
    w = World(repo, tmp_path / "runtime.json", Journal(tmp_path / "remediation.db", clock=clock), Book(), clock,
              LocalExecutor(repo, tmp_path / "runtime.json"))
    for s in SERVICES:
        w.replicas(s, ["ready", "ready"])
    return w
