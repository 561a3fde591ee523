"""Event types every part shares: a signal (something looks wrong with one series or service) and
an incident (signals grouped into one story, with its timeline and root-cause ranking).

They sit at the bottom of the dependency graph: detectors produce them, the store keeps them, the
API and the TUI show them, remediation acts on them. Plain frozen data, JSON in and out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SignalSource = Literal["anomaly", "burn_rate", "health", "alertmanager"]
IncidentState = Literal["open", "mitigating", "resolved"]
Severity = Literal["info", "warning", "critical"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Signal:
    """One firing (or resolving) piece of evidence about one service.

    ``key`` identifies the thing that fires (a series, an SLO rule, an Alertmanager fingerprint) so
    the same condition firing again is recognised as the same signal."""

    key: str
    source: SignalSource
    service: str
    at: float
    firing: bool
    severity: Severity = "warning"
    metric: str = ""
    value: float | None = None
    baseline: float | None = None
    score: float | None = None
    summary: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Signal:
        return cls(**doc)


@dataclass(frozen=True)
class RankedService:
    """A root-cause candidate and why it ranks where it does."""

    service: str
    score: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TimelineEntry:
    at: float
    kind: str  # opened, signal, signal_cleared, ranked, state, escalated, ...
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Incident:
    id: str
    state: IncidentState
    severity: Severity
    opened_at: float
    updated_at: float
    title: str = ""
    resolved_at: float | None = None
    services: list[str] = field(default_factory=list)
    active: dict[str, Signal] = field(default_factory=dict)  # firing signals by key
    evidence: dict[str, Signal] = field(default_factory=dict)  # every signal seen, latest by key
    ranking: list[RankedService] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)  # example traces with their logs
    quiet_since: float | None = None  # when the last signal cleared
    reopened_at: float | None = None  # the last time it reopened (flapping)
    acknowledged_by: str | None = None  # who took it (an on-call engineer, from the TUI or the API)
    acknowledged_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "state": self.state, "severity": self.severity, "title": self.title,
            "opened_at": self.opened_at, "updated_at": self.updated_at, "resolved_at": self.resolved_at,
            "services": list(self.services), "quiet_since": self.quiet_since, "reopened_at": self.reopened_at,
            "active": [s.to_json() for s in self.active.values()],
            "evidence": [s.to_json() for s in self.evidence.values()],
            "ranking": [r.to_json() for r in self.ranking], "examples": self.examples,
            "acknowledged_by": self.acknowledged_by, "acknowledged_at": self.acknowledged_at,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Incident:
        active = [Signal.from_json(s) for s in doc.get("active", [])]
        evidence = [Signal.from_json(s) for s in doc.get("evidence", [])]
        return cls(
            id=doc["id"], state=doc["state"], severity=doc["severity"], title=doc.get("title", ""),
            opened_at=doc["opened_at"], updated_at=doc["updated_at"], resolved_at=doc.get("resolved_at"),
            services=list(doc.get("services", [])), quiet_since=doc.get("quiet_since"),
            reopened_at=doc.get("reopened_at"),
            active={s.key: s for s in active}, evidence={s.key: s for s in evidence},
            ranking=[RankedService(**r) for r in doc.get("ranking", [])], examples=list(doc.get("examples", [])),
            acknowledged_by=doc.get("acknowledged_by"), acknowledged_at=doc.get("acknowledged_at"),
        )
