"""Wiring between detection and remediation inside the control plane.

Detection state lives on the event loop; the remediation engine blocks (git, SQLite) and runs in a
worker thread. So each round takes a copy of the active incidents and the SLO burn rates on the
loop, lets the engine work on the copy in the thread, then applies what it asked for (timeline
notes, mitigating, escalations) back on the loop. Nothing is shared while the thread runs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from collectors import names
from collectors.replica_cpu import SERVICE_CPU_PER_REPLICA
from collectors.series_store import SeriesStore
from detectors.burn_rate import current_burn_rates
from healops.config import HealopsConfig
from healops.controlplane.detection import DetectionEngine
from healops.events import Incident, TimelineEntry
from remediation.capacity import CapacityController
from remediation.changes import Executor
from remediation.engine import RemediationEngine
from remediation.journal import Journal
from remediation.safety import SafetyPolicy
from runbooks.loader import DEFAULT_DIR, load_runbooks

log = logging.getLogger("healops.remediation")


class IncidentSession:
    """The engine's view of incidents and health for one round (an :class:`IncidentPort` and a
    :class:`HealthPort`): a copy taken on the loop, with the changes queued for the loop."""

    def __init__(self, detection: DetectionEngine) -> None:
        self.detection = detection
        self._incidents: list[Incident] = []
        self._burns: dict[str, list[float]] = {}
        self._loads: dict[str, tuple[float, float]] = {}
        self._queued: list[tuple[str, str, Any]] = []

    def refresh(self) -> None:
        """On the loop: copy what the engine may read."""
        self._incidents = [Incident.from_json(i.to_json()) for i in self.detection.incidents.active.values()]
        self._burns = current_burn_rates(self.detection.burn.status())
        self._loads = service_loads(self.detection.collector.store)

    def flush(self) -> None:
        """On the loop: apply what the engine asked for, stored before anyone is told."""
        queued, self._queued = self._queued, []
        manager = self.detection.incidents
        for op, incident_id, arg in queued:
            inc = manager.active.get(incident_id)
            if inc is None:
                inc = self.detection.store.get(incident_id)  # resolved meanwhile: the timeline still gets it
                if inc is None:
                    continue
            if op == "mitigating":
                change = manager.set_state(incident_id, "mitigating", arg)
                entries = change[1] if change else []
            elif op == "escalate":
                change = manager.set_state(incident_id, "open", arg)
                inc.severity = "critical"
                entries = [*(change[1] if change else []), TimelineEntry(self.detection.clock(), "escalated",
                                                                         {"why": arg})]
            else:
                entries = [TimelineEntry(self.detection.clock(), op, arg)]
            self.detection.store.save(inc, entries)
        if queued:
            self.detection.changed.set()

    # IncidentPort
    def active(self) -> list[Incident]:
        return list(self._incidents)

    def note(self, incident_id: str, kind: str, detail: dict[str, Any]) -> None:
        self._queued.append((kind, incident_id, detail))

    def mitigating(self, incident_id: str, why: str) -> None:
        self._queued.append(("mitigating", incident_id, why))

    def escalate(self, incident_id: str, why: str) -> None:
        self._queued.append(("escalate", incident_id, why))

    # HealthPort
    def burn_rates(self, service: str) -> list[float]:
        return list(self._burns.get(service, []))

    # for the capacity controller
    def loads(self) -> dict[str, tuple[float, float]]:
        return dict(self._loads)

    def busy(self, service: str) -> bool:
        return any(service in inc.services for inc in self._incidents)


def service_loads(store: SeriesStore, fresh_s: float = 30.0) -> dict[str, tuple[float, float]]:
    """Per service: the latest request rate and the mean cores its settled replicas use (cores, not
    process.cpu.utilization, which is divided by the machine's CPU count: "0.6 of a core" would mean
    1.2 cores on two CPUs and 4.8 on sixteen)."""
    rates: dict[str, float] = {}
    for name, lbls in store.keys(names.RED_REQUESTS):
        latest = store.latest(name, lbls)
        if latest is not None:
            rates[dict(lbls).get("service", "")] = latest[1]
    cores = {dict(lbls).get("service", ""): p for name, lbls in store.keys(SERVICE_CPU_PER_REPLICA)
             if (p := store.latest(name, lbls)) is not None}
    newest = max((t for t, _ in cores.values()), default=0.0)
    return {s: (rates[s], c) for s, (t, c) in cores.items() if s in rates and t >= newest - fresh_s}


async def run_remediation(engine: RemediationEngine, session: IncidentSession,
                          capacity: CapacityController | None = None, interval_s: float = 0.5) -> None:
    """Recover once, then a round every ``interval_s``; a failed round is logged and retried."""
    await asyncio.to_thread(engine.recover)

    def round_() -> None:
        engine.tick()
        if capacity is not None:
            capacity.tick()

    while True:
        try:
            session.refresh()
            await asyncio.to_thread(round_)
        except Exception:
            log.exception("remediation round failed")
        finally:
            session.flush()
        await asyncio.sleep(interval_s)


def make_executor(config: HealopsConfig) -> Executor:
    """The local runtime's desired-state repository, or a Kubernetes cluster (``HEALOPS_EXECUTOR``)."""
    from workloads.desired_state import DesiredStateRepo

    repo = DesiredStateRepo(config.desired_state_dir)
    if config.executor == "kubernetes":
        from remediation.kubernetes_executor import KubernetesExecutor

        return KubernetesExecutor.from_environment(config.k8s_namespace, repo)
    from remediation.local_executor import LocalExecutor

    return LocalExecutor(repo, config.snapshot_file)


def make_engine(config: HealopsConfig, detection: DetectionEngine
                ) -> tuple[RemediationEngine, IncidentSession, CapacityController]:
    """The engine on the runbooks ``healops up`` validated (a bad file stopped it before this), and
    the capacity controller on the same executor, journal and rails."""
    from remediation.gitops import GitOps
    from workloads.desired_state import DesiredStateRepo

    session = IncidentSession(detection)
    executor = make_executor(config)
    journal = Journal(config.remediation_db)
    policy = SafetyPolicy(dry_run=config.remediation == "dry-run")
    engine = RemediationEngine(
        runbooks=load_runbooks(list(config.runbook_paths) or [DEFAULT_DIR]), executor=executor,
        journal=journal, incidents=session, health=session, policy=policy)
    capacity = CapacityController(executor, journal, session.loads,
                                  GitOps(DesiredStateRepo(config.desired_state_dir)).person_replicas,
                                  session.busy, policy)
    return engine, session, capacity
