"""The detection loop inside the control plane: collector steps in, incidents out.

Wiring only: the collector's closed RED steps go to live scoring and the SLO burn-rate rules, the
runtime's snapshot gives replica health, Alertmanager webhooks add alerts; the signals go to the
incident manager, whose changes are stored (SQLite) before anyone is told. Open incidents are
re-ranked every second with the data the collector holds, and get example traces with their logs.
Everything runs on the control plane's event loop, so no state here needs a lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collectors import names
from collectors.alertmanager import AlertmanagerIntake, AmWebhook
from collectors.collector import Collector
from collectors.replica_cpu import SERVICE_CPU_PER_REPLICA
from collectors.series_store import Labels
from detectors.burn_rate import BurnRateEvaluator
from detectors.incidents import Change, IncidentManager
from detectors.live import LiveDetection
from detectors.openslo import CompiledSlo
from detectors.rca import Points, rank
from healops.events import Incident, Signal, TimelineEntry
from healops.incident_store import IncidentStore

log = logging.getLogger("healops.detection")
RCA_METRICS = (names.RED_P50, names.RED_P99, names.RED_ERROR_RATIO, "otel.process.memory.usage",
               "otel.process.cpu.utilization", SERVICE_CPU_PER_REPLICA, "otel.http.server.active_requests")
RCA_WINDOW_S = 30.0  # the ranking compares this much after the trouble began with the 2 min before
SLO_STARTUP_GRACE_S = 60.0  # SLOs count a service's requests from a minute after it began serving
RESTORED_GRACE_S = 30.0  # after a restart, signals restored from the store and not fired again clear after this
ONSET_GAP_S = 20.0  # signals further apart than this before an incident opened are not one trouble
TROUBLE_LEAD_S = 4.0  # the trouble began about this long before the first signal (need 2 of 3 steps, lateness)


def episode_onset(signal_times: list[float], episode: float, gap_s: float = ONSET_GAP_S) -> float:
    """When the trouble that opened an episode began: walk back from the opening through the firing
    signals while each follows the one before within ``gap_s``.

    Why a chain and not "the earliest signal in the last minute": a signal left firing by an earlier,
    unrelated disturbance joins the incident when it opens, and ranking from its time looked at the
    wrong minute (a game day's dependency failure on workflow was pinned on robot-iot, the CPU burn
    of the experiment before). A fault's own signals follow each other within seconds."""
    onset = episode
    for t in sorted((t for t in signal_times if t < episode), reverse=True):
        if onset - t > gap_s:
            break
        onset = t
    return onset


def replica_health(snapshot: dict[str, Any], at: float) -> dict[str, Signal]:
    """A firing health signal per service with crashed or unresponsive replicas (like a pod status)."""
    out: dict[str, Signal] = {}
    for service, svc in snapshot.get("services", {}).items():
        bad = [r for r in svc.get("replicas", []) if r.get("state") in ("crashed", "unresponsive")]
        if not bad:
            continue
        ready = sum(1 for r in svc.get("replicas", []) if r.get("state") == "ready")
        states = ", ".join(sorted({f"{r['state']} (exit {r.get('last_exit_code')})" if r["state"] == "crashed"
                                   else r["state"] for r in bad}))
        out[service] = Signal(
            key=f"health{{service={service}}}", source="health", service=service, at=at, firing=True,
            severity="critical" if ready == 0 else "warning", metric="replicas",
            value=float(ready), baseline=float(svc.get("desired_replicas", 0)),
            summary=f"{service}: {len(bad)} replica(s) {states}; {ready} of {svc.get('desired_replicas')} ready",
            labels={"service": service, "kind": "health", "opens": "true"})
    return out


class DetectionEngine:
    def __init__(self, collector: Collector, store: IncidentStore, slos: list[CompiledSlo],
                 snapshot_file: Path | None = None, clock: Callable[[], float] = time.time,
                 startup_grace_s: float = SLO_STARTUP_GRACE_S) -> None:
        self.collector, self.store, self.clock = collector, store, clock
        self.snapshot_file = snapshot_file
        self.live = LiveDetection(clock=clock, step_s=collector.store.step_s)
        self.burn = BurnRateEvaluator(slos, step_s=collector.store.step_s, startup_grace_s=startup_grace_s)
        self.incidents = IncidentManager(graph=collector.graph.edge_keys, clock=clock)
        self.incidents.restore(store.incidents(state="active", limit=1000))
        self.alerts = AlertmanagerIntake()
        restored = [s for inc in self.incidents.active.values() for s in inc.active.values()]
        # health is re-read from the runtime at once: a replica still down keeps its signal, one back clears
        self.health: dict[str, Signal] = {s.service: s for s in restored if s.source == "health"}
        # the rest was fired by detectors whose state died with the old process: kept a while, then cleared
        self._restored = [s for s in restored if s.source != "health"]
        self._restored_until = clock() + RESTORED_GRACE_S
        self.signals_seen = 0
        self.changed = asyncio.Event()
        collector.red.slow_thresholds_ms = tuple(sorted(self.burn.thresholds_ms()))
        collector.red.listeners.append(self.on_step)

    # -- inputs -------------------------------------------------------------------------------------
    def on_step(self, t: float, written: dict[tuple[str, Labels], float]) -> None:
        try:
            self.ingest(self.live.on_step(t, written) + self.burn.on_step(t, written))
        except Exception:  # never let detection break the collector's step closing
            log.exception("scoring step %s failed", t)

    def on_alertmanager(self, hook: AmWebhook) -> int:
        signals = self.alerts.accept(hook, self.clock())
        self.ingest(signals)
        return len(signals)

    def ingest(self, signals: list[Signal]) -> None:
        for signal in signals:
            self.signals_seen += 1
            self._apply(self.incidents.ingest(signal))

    def _apply(self, changes: list[Change]) -> None:
        for inc, entries in changes:
            if entries and entries[0].kind in ("opened", "reopened"):
                self._rerank(inc, entries)
            self.store.save(inc, entries)
        if changes:
            self.changed.set()

    def acknowledge(self, incident_id: str, by: str) -> Incident | None:
        """Note who took the incident (again, if someone else had): the live copy when it is active,
        so the next save keeps it. ``None`` when there is no such incident."""
        inc = self.incidents.active.get(incident_id) or self.store.get(incident_id)
        if inc is None:
            return None
        inc.acknowledged_by, inc.acknowledged_at = by, self.clock()
        self.store.save(inc, [TimelineEntry(inc.acknowledged_at, "acknowledged", {"by": by})])
        self.changed.set()
        return inc

    # -- periodic -----------------------------------------------------------------------------------
    def tick(self) -> None:
        self.ingest(self.live.poll_process_metrics(self.collector.store) + self.live.expire())
        self._clear_restored()
        self._health()
        for inc in list(self.incidents.active.values()):
            if inc.quiet_since is not None or inc.state == "mitigating":
                continue  # the trouble is over, or a remediation acts on this ranking: keep it
            entries: list[TimelineEntry] = []
            before = (inc.ranking, len(inc.examples))
            self._rerank(inc, entries)
            if entries or before != (inc.ranking, len(inc.examples)):
                self.store.save(inc, entries)  # scores and examples too, not only a new top three
                self.changed.set()
        self._apply(self.incidents.tick())

    def _clear_restored(self) -> None:
        """Clear signals restored after a restart that no detector fired again within the grace period
        (their detectors' state died with the old process, so no clear would ever come)."""
        if not self._restored or self.clock() < self._restored_until:
            return
        now = self.clock()
        still = {(k, s.at) for inc in self.incidents.active.values() for k, s in inc.active.items()}
        stale = [s for s in self._restored if (s.key, s.at) in still]  # not fired (nor cleared) since
        self._restored = []
        self.ingest([Signal(s.key, s.source, s.service, now, False, s.severity, s.metric,
                            summary=f"{s.key}: not seen again since the control plane restarted", labels=s.labels)
                     for s in stale])

    def _health(self) -> None:
        if self.snapshot_file is None:
            return
        try:
            snapshot = json.loads(self.snapshot_file.read_text())
        except (OSError, ValueError):
            return
        now = self.clock()
        current = replica_health(snapshot, now)
        signals = [s for svc, s in current.items() if svc not in self.health]
        for svc, old in self.health.items():
            if svc not in current:
                signals.append(Signal(old.key, "health", svc, now, False, "info", "replicas",
                                      summary=f"{svc}: every replica ready or gone", labels=old.labels))
        self.health = current
        self.ingest(signals)

    def _rerank(self, inc: Incident, entries: list[TimelineEntry]) -> None:
        """Rank root causes with what the collector holds now; note a change of the top three."""
        # ranked on the onset of this episode (opened or reopened): what changed when the trouble
        # began, not what the platform looks like minutes later as it recovers
        episode = inc.reopened_at or inc.opened_at
        start = episode_onset([s.at for s in inc.evidence.values() if s.firing], episode) - TROUBLE_LEAD_S
        hard = {s.service: s.summary if s.firing else f"{s.service}: replicas were down in this episode"
                for s in inc.evidence.values() if s.source == "health" and s.at >= episode - 60.0}
        ranking = rank(self.rca_metrics(), self.collector.graph.edge_keys(), start, hard,
                       end=start + RCA_WINDOW_S)
        if [r.service for r in ranking[:3]] != [r.service for r in inc.ranking[:3]]:
            entries.append(TimelineEntry(self.clock(), "ranked", {"top": [r.to_json() for r in ranking[:3]]}))
            if ranking:
                inc.title = f"{ranking[0].service}: {inc.title.split(': ', 1)[-1]}"
        inc.ranking = ranking[:10]
        if ranking and len(inc.examples) < 3:
            inc.examples = self.examples(ranking[0].service)

    def rca_metrics(self) -> dict[str, dict[str, Points]]:
        store = self.collector.store
        now = self.clock()
        out: dict[str, dict[str, Points]] = {}
        for metric in RCA_METRICS:
            for name, lbls in list(store.keys(metric)):
                d = dict(lbls)
                label = "@".join([name, *(d[k] for k in ("instance", "http_method") if k in d)])
                out.setdefault(d.get("service", ""), {})[label] = store.range(name, lbls, now - 300, now)
        return out

    def examples(self, service: str, limit: int = 3) -> list[dict[str, Any]]:
        """Recent error (else slow) traces through ``service``, with their log lines."""
        out = []
        for tid, rows in self.collector.sample.recent(service, limit):
            ordered = sorted(rows, key=lambda r: r[3])[:20]
            t0 = ordered[0][3] if ordered else 0
            spans = [{"service": r[0], "name": r[1], "start_ms": round((r[3] - t0) / 1e6, 2),
                      "duration_ms": round((r[4] - r[3]) / 1e6, 2), "error": r[5] == 2} for r in ordered]
            logs = [{"service": ln.service, "severity": ln.severity, "body": ln.body[:300]}
                    for ln in self.collector.logs.for_trace(tid)[:10]]
            out.append({"trace_id": tid.hex(), "spans": spans, "logs": logs})
        return out

    def status(self) -> dict[str, Any]:
        return {"lag_s": round(self.live.lag_s, 3), "max_lag_s": round(self.live.max_lag_s, 3),
                "scored_points": self.live.scored_points, "watches": len(self.live.watches),
                "firing": [f"{n}{dict(lb)}" for n, lb in self.live.firing()], "signals": self.signals_seen,
                "alertmanager": {"received": self.alerts.received, "duplicates": self.alerts.duplicates},
                "active_incidents": len(self.incidents.active), "slos": self.burn.status()}

    async def run(self, interval_s: float = 0.5) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # a bad tick must not stop detection; it is logged and retried
                log.exception("detection tick failed")
            await asyncio.sleep(interval_s)
