"""The one-screen view of the platform, for the TUI's overview: per service its replicas, RED values
now and over the last minute or so, and how surprised the anomaly detectors are.

One call per refresh gives everything, so a terminal that redraws every second costs the control
plane one cheap read of data it already holds (the runtime's snapshot, the collector's ring store
and the live watches), whatever the number of services.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any

from collectors import names
from collectors.series_store import Labels, SeriesStore
from detectors.live import LiveDetection, service_of

SERIES = {"rps": names.RED_REQUESTS, "error_ratio": names.RED_ERROR_RATIO, "p99_ms": names.RED_P99}
FRESH_S = 30.0  # an anomaly score older than this is not "now" (the service stopped reporting)


def _service_keys(store: SeriesStore, metric: str) -> dict[str, Labels]:
    """The per-service series of ``metric`` (labels: exactly ``service``)."""
    out = {}
    for _name, lbls in store.keys(metric):
        d = dict(lbls)
        if list(d) == ["service"]:
            out[d["service"]] = lbls
    return out


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def anomaly_scores(live: LiveDetection, now: float) -> dict[str, tuple[float, float]]:
    """Per service, the highest latest score of its live watches that reported within ``FRESH_S``,
    and the lowest score gate among them (``WatchRule.min_score``: from there a watch may fire, so the
    TUI colours a score by what the loop would do with it, not by a fixed cut)."""
    out: dict[str, tuple[float, float]] = {}
    for (name, lbls), watch in live.watches.items():
        last = live.last_seen(name, lbls)
        if watch.last_score is None or last is None or now - last > FRESH_S:
            continue
        service = service_of(lbls)
        score, gate = out.get(service, (0.0, 1.0))
        out[service] = (max(score, watch.last_score), min(gate, watch.rule.min_score))
    return out


def build_overview(snapshot: dict[str, Any], store: SeriesStore, live: LiveDetection | None,
                   points: int = 60, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    step = store.step_s
    keys = {field: _service_keys(store, metric) for field, metric in SERIES.items()}
    scores = anomaly_scores(live, now) if live is not None else {}
    firing = Counter(service_of(lbls) for _name, lbls in live.firing()) if live is not None else Counter()
    services: dict[str, Any] = {}
    names_seen = list(snapshot.get("services", {})) + sorted(set(keys["rps"]) - set(snapshot.get("services", {})))
    for service in names_seen:
        svc = snapshot.get("services", {}).get(service, {})
        anomaly, gate = scores.get(service, (None, None))
        row: dict[str, Any] = {
            "health": svc.get("health", "unknown"), "version": svc.get("version"),
            "desired_replicas": svc.get("desired_replicas", 0), "live_replicas": svc.get("live_replicas", 0),
            "ready_replicas": sum(1 for r in svc.get("replicas", []) if r.get("state") == "ready"),
            "restarts": sum(int(r.get("restarts") or 0) for r in svc.get("replicas", [])),
            "anomaly": anomaly, "anomaly_gate": gate, "firing": firing.get(service, 0), "series": {}}
        for field, metric in SERIES.items():
            found = keys[field].get(service)
            if found is None:
                row[field], row["series"][field] = None, []
                continue
            lbls = found
            pts = store.range(metric, lbls, now - points * step, now)
            row["series"][field] = [_finite(v) for _t, v in pts][-points:]
            latest = store.latest(metric, lbls)
            row[field] = _finite(latest[1]) if latest is not None else None
        services[service] = row
    return {"at": now, "step_s": step, "revision": snapshot.get("revision"), "services": services,
            "load": snapshot.get("load")}
