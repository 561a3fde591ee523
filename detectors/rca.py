"""Root-cause ranking: which service is at fault, not merely suffering from what it calls.

The method is BARO's (Pham et al., FSE 2024) robust scoring with a call-graph rule in the spirit of
MicroRCA: each metric of each service is compared after the trouble started with before it, as
(median after - median before) / IQR before, so noisy series need a bigger move to count (error
ratios by their means, see :func:`shift`). Metrics
are of two sorts. *Symptoms* (latency, errors) travel upstream: a caller of a slow service is slow
too. *Causes* (memory, CPU, requests in flight, crashed replicas) stay where they are. A service's
symptoms count fully only when none of its callees is itself anomalous; otherwise they are mostly
explained by the callee and the service sinks in the ranking. Each candidate carries its reason.
Traffic (request rate) is never a cause: a service that receives fewer calls is not the one at fault.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from healops.events import RankedService

Kind = Literal["latency", "errors", "memory", "cpu", "saturation", "traffic", "other"]
SYMPTOMS: frozenset[str] = frozenset({"latency", "errors"})
CAUSES: frozenset[str] = frozenset({"memory", "cpu", "saturation", "other"})
# the smallest spread a metric's baseline is assumed to have, so a flat series does not turn a
# trivial move into an infinite score
FLOOR: dict[str, float] = {"latency": 5.0, "errors": 0.01, "memory": 4 * 1024 * 1024, "cpu": 0.05,
                           "saturation": 2.0, "traffic": 1.0, "other": 1e-9}
EXPLAINED_WEIGHT = 0.2
MIN_STRENGTH = 0.5  # an anomaly at least this strong (z about 7) explains its callers' symptoms

Points = list[tuple[float, float]]


def kind_of(metric: str) -> Kind:
    """Classify a metric by its name (healops' own names, and common CSV column names)."""
    m = metric.lower()
    if "error" in m or "fail" in m or "5xx" in m:
        return "errors"
    if any(s in m for s in ("latency", "duration", "p99", "p95", "p50", "_ms", "response_time")):
        return "latency"
    if "mem" in m or "rss" in m:
        return "memory"
    if "cpu" in m:
        return "cpu"
    if any(s in m for s in ("active", "inflight", "in_flight", "queue", "saturation", "pending")):
        return "saturation"
    if any(s in m for s in ("request", "rps", "throughput", "workload", "calls", "traffic")):
        return "traffic"
    return "other"


@dataclass(frozen=True)
class MetricShift:
    service: str
    metric: str
    kind: Kind
    z: float
    before: float
    after: float

    @property
    def strength(self) -> float:
        """z mapped to [0, 1): 10 -> 0.63, 30 -> 0.95 (scores of different metrics compare)."""
        return 1.0 - math.exp(-max(0.0, self.z) / 10.0)


def _iqr(values: list[float]) -> float:
    if len(values) < 4:
        return 0.0
    q = statistics.quantiles(values, n=4)
    return q[2] - q[0]


def _calmer_half(points: Points) -> list[float]:
    """The values of the baseline's half (by time) with the lower mean: a baseline that an earlier
    incident's burst in the other half does not inflate, in level or spread (back-to-back faults: the
    last one's errors hid this one's, seen in the fault matrix as a dependency failure on the gateway
    ranked sixth). Sorted here because recorded CSVs need not be in time order."""
    values = [v for _, v in sorted(points, key=lambda p: p[0])]
    half = len(values) // 2
    first, second = values[:half], values[half:]
    return first if statistics.fmean(first) < statistics.fmean(second) else second


def shift(service: str, metric: str, points: Points, start: float, baseline_s: float = 120.0,
          end: float = math.inf) -> MetricShift | None:
    """Robust z of a metric's level after ``start`` against the ``baseline_s`` before it; upward
    moves only (every kind we rank is bad when it rises)."""
    baseline = [(t, v) for t, v in points if start - baseline_s <= t < start and math.isfinite(v)]
    before = [v for _, v in baseline]
    after = [v for t, v in points if start <= t <= end and math.isfinite(v)]
    if len(before) < 3 or not after:
        return None
    kind = kind_of(metric)
    # Errors are compared as means: a per-step error ratio at a few requests a second is mostly 0 even
    # under a 20 % error burst, so its median stays 0 and hides the burst (seen in a game day: an 8 s
    # burst on healthcare was not ranked at all); the baseline is the calmer half's mean. Latency and
    # resources keep BARO's median.
    if kind == "errors":
        before = _calmer_half(baseline)
        b, a = statistics.fmean(before), statistics.fmean(after)
    else:
        b, a = statistics.median(before), statistics.median(after)
    spread = max(_iqr(before), FLOOR[kind], abs(b) * 0.01)
    return MetricShift(service, metric, kind, (a - b) / spread, b, a)


def rank(metrics: Mapping[str, Mapping[str, Points]], graph: Iterable[tuple[str, str]], start: float,
         hard: Mapping[str, str] | None = None, baseline_s: float = 120.0, end: float = math.inf,
         ) -> list[RankedService]:
    """Rank services by how likely each is the root cause of trouble that began at ``start``.

    ``metrics``: service -> metric name -> (time, value) points. ``graph``: (caller, callee) edges.
    ``hard``: services with direct evidence of a fault of their own (e.g. replicas crashed), and what.
    """
    hard = dict(hard or {})
    callees: dict[str, set[str]] = {}
    for caller, callee in graph:
        callees.setdefault(caller, set()).add(callee)
    best: dict[str, MetricShift] = {}  # strongest symptom or cause per service
    cause: dict[str, MetricShift] = {}
    for service, series in metrics.items():
        for metric, points in series.items():
            s = shift(service, metric, points, start, baseline_s, end)
            if s is None or s.kind == "traffic" or s.z <= 0:
                continue
            if s.kind in CAUSES and (service not in cause or s.z > cause[service].z):
                cause[service] = s
            if service not in best or s.strength > best[service].strength:
                best[service] = s
    strength = {svc: s.strength for svc, s in best.items()}
    for svc in hard:
        strength[svc] = 1.0
    out: list[RankedService] = []
    for svc in set(strength) | set(hard):
        own = strength[svc]
        culprits = sorted(c for c in callees.get(svc, ()) if strength.get(c, 0.0) >= MIN_STRENGTH)
        local = cause[svc].strength if svc in cause else 0.0
        if svc in hard:
            score, reason = 2.0, f"{hard[svc]}"
        elif culprits and local < MIN_STRENGTH:
            s = best[svc]
            score = own * EXPLAINED_WEIGHT
            reason = (f"{s.metric} rose {s.before:.4g} -> {s.after:.4g} (z {s.z:.1f}), but it calls "
                      f"{', '.join(culprits)}, anomalous too: likely a symptom")
        else:
            s = cause[svc] if local >= MIN_STRENGTH else best[svc]
            score = own + local
            reason = f"own {s.kind}: {s.metric} rose {s.before:.4g} -> {s.after:.4g} (z {s.z:.1f})"
            if culprits:
                reason += f"; its callees {', '.join(culprits)} are anomalous too"
            else:
                reason += "; nothing it calls is anomalous"
        out.append(RankedService(svc, round(score, 4), reason))
    out.sort(key=lambda r: (-r.score, r.service))
    return out
