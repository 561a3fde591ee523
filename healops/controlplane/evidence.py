"""An incident's evidence as series: what the detectors watched when they fired, and the RED
series of the services ranked first, from a little before the trouble began until now. The
control plane keeps these in its ring store for a while (its capacity), so a TUI or a post-mortem
can see the shape of the incident without a Prometheus."""

from __future__ import annotations

import time
from typing import Any

from collectors import names
from collectors.series_store import SeriesStore
from detectors.live import series_key
from healops.events import Incident

BEFORE_S = 120.0  # shown before the episode began: the baseline the detectors compared with
MAX_SERIES = 8
MAX_POINTS = 240
RANKED_METRICS = (names.RED_P99, names.RED_ERROR_RATIO)


def _thin(points: list[tuple[float, float]]) -> list[list[float]]:
    step = max(1, -(-len(points) // MAX_POINTS))
    return [[round(t, 3), v] for t, v in points[::step]]


def evidence_series(incident: Incident, store: SeriesStore, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    start = (incident.reopened_at or incident.opened_at) - BEFORE_S
    end = incident.resolved_at + 60.0 if incident.resolved_at else now
    wanted: list[tuple[str, Any, str, str]] = []  # (metric, labels, why, service)
    for signal in sorted(incident.evidence.values(), key=lambda s: s.at):
        for name, lbls in store.keys(signal.metric):
            if all(signal.labels.get(k) == v for k, v in lbls):  # the signal's labels are the series' plus its own
                wanted.append((name, lbls, signal.summary or signal.key, signal.service))
    for rank, ranked in enumerate(incident.ranking[:2], 1):
        for metric in RANKED_METRICS:
            for name, lbls in store.keys(metric):
                if dict(lbls) == {"service": ranked.service}:
                    wanted.append((name, lbls, f"ranked #{rank}", ranked.service))
    out, seen = [], set()
    for name, lbls, why, service in wanted:
        if (name, lbls) in seen:
            continue
        seen.add((name, lbls))
        out.append({"series": series_key(name, lbls), "metric": name, "service": service, "why": why,
                    "points": _thin(store.range(name, lbls, start, end))})
        if len(out) >= MAX_SERIES:
            break
    return {"incident": incident.id, "from": start, "to": end, "series": out}
