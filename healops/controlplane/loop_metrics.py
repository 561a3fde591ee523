"""The self-healing loop as Prometheus metrics, next to the collector's on its ``/metrics``: what a
Grafana dashboard (and an SRE's own alerts) need about healops itself. Read from the incident
store and the remediation journal at scrape time, so a restarted control plane reports the same.
Every figure is counted over everything kept, inside SQLite (GROUP BY, and JSON1 for the two times
an incident document holds): a scrape decodes no document, and a counter does not stop rising once
the store holds more than some number of incidents.

- ``healops_incidents_active{severity}``: open or mitigating incidents now.
- ``healops_incidents_total{state}``: incidents kept, by their current state.
- ``healops_incident_duration_seconds``: resolved incidents, opened to resolved (time to recover).
- ``healops_incident_detection_lag_seconds``: the first signal's time to the incident opening.
- ``healops_remediation_actions_total{runbook,action,state}``: actions by how they ended.
- ``healops_remediations_total{runbook,state}``: remediations by outcome (verified, escalated...).
- ``healops_remediation_kill_switch``: 1 while self-healing is paused.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from typing import get_args

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector as PromCollector

from healops.incident_store import IncidentStore
from remediation.engine import RemediationEngine
from remediation.journal import ActionState, RemediationState

DURATION_BUCKETS_S = (5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
LAG_BUCKETS_S = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
ACTION_STATES: tuple[str, ...] = get_args(ActionState)
REMEDIATION_STATES: tuple[str, ...] = get_args(RemediationState)


def _histogram(name: str, doc: str, values: list[float], bounds: tuple[float, ...]) -> HistogramMetricFamily:
    ordered, out = sorted(values), []
    for bound in bounds:
        out.append((repr(bound), float(bisect_right(ordered, bound))))
    out.append(("+Inf", float(len(values))))
    return HistogramMetricFamily(name, doc, buckets=out, sum_value=float(sum(values)))


class LoopExposition(PromCollector):
    def __init__(self, store: IncidentStore, remediation: RemediationEngine | None) -> None:
        self.store, self.remediation = store, remediation

    def collect(self) -> Iterator[Metric]:
        counts = self.store.counts()
        active = GaugeMetricFamily("healops_incidents_active", "Open or mitigating incidents", labels=["severity"])
        by_severity: Counter[str] = Counter()
        for (state, severity), n in counts.items():
            if state != "resolved":
                by_severity[severity] += n
        for severity in ("critical", "warning", "info"):
            active.add_metric([severity], float(by_severity.get(severity, 0)))
        yield active
        total = CounterMetricFamily("healops_incidents", "Incidents kept, by current state", labels=["state"])
        states = Counter(dict.fromkeys(("open", "mitigating", "resolved"), 0))
        for (state, _), n in counts.items():
            states[state] += n
        for state, n in sorted(states.items()):
            total.add_metric([state], float(n))
        yield total
        yield _histogram("healops_incident_duration_seconds", "Resolved incidents, opened to resolved",
                         self.store.durations(), DURATION_BUCKETS_S)
        yield _histogram("healops_incident_detection_lag_seconds", "First signal to incident opened",
                         [max(0.0, v) for v in self.store.detection_lags()], LAG_BUCKETS_S)
        if self.remediation is None:
            return
        journal = self.remediation.journal
        books = [lr.runbook for lr in self.remediation.runbooks]
        # every runbook's series exists from the start (at 0), so a dashboard shows "none yet", not "no data"
        action_counts = Counter({(b.name, step.action, state): 0 for b in books for step in b.spec.steps
                                 for state in ACTION_STATES})
        action_counts.update(journal.action_counts())
        actions = CounterMetricFamily("healops_remediation_actions", "Remediation actions by how they ended",
                                      labels=["runbook", "action", "state"])
        for (runbook, action, state), n in sorted(action_counts.items()):
            actions.add_metric([runbook, action, state], float(n))
        yield actions
        rem_counts = Counter({(b.name, state): 0 for b in books for state in REMEDIATION_STATES})
        rem_counts.update(journal.remediation_counts())
        rems = CounterMetricFamily("healops_remediations", "Remediations by outcome", labels=["runbook", "state"])
        for (runbook, state), n in sorted(rem_counts.items()):
            rems.add_metric([runbook, state], float(n))
        yield rems
        yield GaugeMetricFamily("healops_remediation_kill_switch", "1 while self-healing is paused",
                                value=1.0 if self.remediation.status()["kill_switch"] else 0.0)
