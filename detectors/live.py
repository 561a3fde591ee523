"""Live scoring: every RED series of every service and edge, scored as its step closes, plus the
services' own process metrics as they arrive; a watch that fires or clears becomes a
:class:`~healops.events.Signal`.

What opens incidents: latency and errors a service serves, its memory, CPU and requests in flight.
What is scored but only kept as evidence: request rates, p50/p95, and edges (a caller's view of a
callee repeats what the callee's own series say). ``lag_s`` is how far behind real time the last
scored step was when it was scored: the stream is kept up with when it stays near the collector's
lateness.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from collectors import names
from collectors.replica_cpu import PROCESS_CPU_RATE, SERVICE_CPU_PER_REPLICA
from collectors.series_store import Labels, SeriesStore
from detectors.series_watch import SeriesWatch, WatchRule
from healops.events import Signal

MB = 1024 * 1024

# A step's latency percentile is a statistic of a few requests (a service serving 5 a second has a
# "p99" that is its slowest request): the median opens incidents, the tail is evidence; the tail's
# share of slow requests is the latency SLO's business (burn rates), which counts every request.
RED_RULES: dict[str, WatchRule] = {
    names.RED_P50: WatchRule("latency", delta=20.0, ratio=2.0),
    names.RED_ERROR_RATIO: WatchRule("errors", delta=0.05),
    names.RED_P95: WatchRule("latency", delta=30.0, ratio=2.0, opens=False),
    names.RED_P99: WatchRule("latency", delta=30.0, ratio=2.0, opens=False),
    names.RED_REQUESTS: WatchRule("traffic", direction="down", delta=2.0, ratio=3.0, opens=False),
    names.RED_ERRORS: WatchRule("errors", delta=1.0, opens=False),
    names.EDGE_ERROR_RATIO: WatchRule("errors", delta=0.05, opens=False),
    names.EDGE_P99: WatchRule("latency", delta=30.0, ratio=2.0, opens=False),
    names.EDGE_REQUESTS: WatchRule("traffic", direction="down", delta=2.0, ratio=3.0, opens=False),
}
PROCESS_RULES: dict[str, WatchRule] = {
    "otel.process.memory.usage": WatchRule("memory", delta=24 * MB, ratio=1.2, need=1, of=1),
    # cores (user and system time, each its own series), not process.cpu.utilization, which is divided
    # by the machine's CPU count: a replica burning 0.8 of a core showed 0.23 on two CPUs, under the bar
    PROCESS_CPU_RATE: WatchRule("cpu", delta=0.3, need=2, of=2),
    # the service's cores per replica, continuous across deploys: a release that only burns CPU
    # starts every new instance's own series in the bad state, where no instance watch sees a step
    SERVICE_CPU_PER_REPLICA: WatchRule("cpu", delta=0.3, need=2, of=2),
    "otel.http.server.active_requests": WatchRule("saturation", delta=4.0, need=1, of=1),
    # mean requests waiting for the replica's capacity (seconds waited per second): 0 with room to spare
    "otel.replica.queue.wait_time.rate": WatchRule("saturation", delta=0.5, need=1, of=1),
}
MIN_REQUESTS = 3  # a step with fewer requests says too little about latency or error ratio
SILENT_AFTER_STEPS = 5
STALE_AFTER_S = 15.0  # a firing series with no new point this long is cleared (its replica was replaced)
FORGET_AFTER_S = 600.0  # a series with no point this long is forgotten (bounded memory under churn)
STEADY_RPS = 2.0


def service_of(lbls: Labels) -> str:
    d = dict(lbls)
    return d.get("service") or d.get("client", "")


def series_key(name: str, lbls: Labels) -> str:
    return name + "{" + ",".join(f"{k}={v}" for k, v in lbls) + "}"


@dataclass
class LiveDetection:
    clock: Callable[[], float] = time.time
    step_s: float = 1.0
    watches: dict[tuple[str, Labels], SeriesWatch] = field(default_factory=dict)
    scored_points: int = 0
    lag_s: float = 0.0
    max_lag_s: float = 0.0
    _seen_at: dict[tuple[str, Labels], float] = field(default_factory=dict)  # process series: last point time
    _rates: dict[str, list[float]] = field(default_factory=dict)  # service -> recent request rates
    _silent: dict[str, int] = field(default_factory=dict)  # service -> closed steps without a request
    _silenced: set[str] = field(default_factory=set)
    _last_at: dict[tuple[str, Labels], float] = field(default_factory=dict)  # wall time of each watch's last point

    def _watch(self, name: str, lbls: Labels, rule: WatchRule) -> SeriesWatch:
        w = self.watches.get((name, lbls))
        if w is None:
            w = self.watches[(name, lbls)] = SeriesWatch(rule)
        return w

    def _score(self, name: str, lbls: Labels, rule: WatchRule, value: float, at: float) -> Signal | None:
        w = self._watch(name, lbls, rule)
        self._last_at[(name, lbls)] = self.clock()
        v = w.update(value)
        self.scored_points += 1
        if not v.changed:
            return None
        d = dict(lbls)
        service = service_of(lbls)
        where = f"{d['client']} -> {d['server']}" if "server" in d else service
        summary = (f"{name} on {where} is {value:.4g} against a baseline of {v.baseline:.4g}" if v.firing
                   else f"{name} on {where} is back to {value:.4g}")
        return Signal(key=series_key(name, lbls), source="anomaly", service=service, at=at, firing=v.firing,
                      severity="warning" if rule.opens else "info", metric=name, value=value,
                      baseline=v.baseline, score=v.score, summary=summary,
                      labels={**d, "kind": rule.kind, "opens": str(rule.opens).lower()})

    def on_step(self, t: float, written: dict[tuple[str, Labels], float]) -> list[Signal]:
        """Score one closed step (a :class:`~collectors.red.RedAccumulator` listener's arguments)."""
        now = self.clock()
        at = t + self.step_s
        counts = {lbls: v * self.step_s for (n, lbls), v in written.items()
                  if n in (names.RED_REQUESTS, names.EDGE_REQUESTS)}
        out = [s for (name, lbls), value in written.items()
               if (rule := RED_RULES.get(name)) is not None and math.isfinite(value)
               and (rule.kind == "traffic" or counts.get(lbls, 0.0) >= MIN_REQUESTS)
               and (s := self._score(name, lbls, rule, value, at)) is not None]
        out.extend(self._silence(at, {dict(lbls)["service"]: v for (n, lbls), v in written.items()
                                      if n == names.RED_REQUESTS}))
        self.lag_s = now - at
        self.max_lag_s = max(self.max_lag_s, self.lag_s)
        return out

    def _silence(self, at: float, rates: dict[str, float]) -> Iterable[Signal]:
        """A service that served steadily and has finished no request for several steps (crashed,
        hung, or cut off): evidence for the ranking, not on its own a reason to open an incident."""
        for service in set(self._rates) | set(rates):
            rate = rates.get(service, 0.0)
            history = self._rates.setdefault(service, [])
            if rate > 0:
                self._silent[service] = 0
                history.append(rate)
                del history[:-30]
                if service in self._silenced:
                    self._silenced.discard(service)
                    yield Signal(f"silent{{service={service}}}", "anomaly", service, at, False, "info",
                                 names.RED_REQUESTS, rate, summary=f"{service} is serving again",
                                 labels={"service": service, "kind": "silence", "opens": "false"})
                continue
            self._silent[service] = self._silent.get(service, 0) + 1
            steady = len(history) >= 20 and sum(history) / len(history) >= STEADY_RPS
            if steady and self._silent[service] >= SILENT_AFTER_STEPS and service not in self._silenced:
                self._silenced.add(service)
                yield Signal(f"silent{{service={service}}}", "anomaly", service, at, True, "info",
                             names.RED_REQUESTS, 0.0, sum(history) / len(history),
                             summary=f"{service} has finished no request for {self._silent[service]} s",
                             labels={"service": service, "kind": "silence", "opens": "false"})

    def poll_process_metrics(self, store: SeriesStore) -> list[Signal]:
        """Score the newest point of each process series that has one since the last poll."""
        out: list[Signal] = []
        for name, rule in PROCESS_RULES.items():
            for key in list(store.keys(name)):
                latest = store.latest(*key)
                if latest is None or latest[0] <= self._seen_at.get(key, -math.inf):
                    continue
                self._seen_at[key] = latest[0]
                s = self._score(name, key[1], rule, latest[1], latest[0] + self.step_s)
                if s is not None:
                    out.append(s)
        return out

    def expire(self) -> list[Signal]:
        """Clear firing watches whose series stopped (a replaced replica's metrics, a service gone);
        forget watches idle for ``FORGET_AFTER_S``."""
        now = self.clock()
        out: list[Signal] = []
        for key, last in list(self._last_at.items()):
            w = self.watches[key]
            if w.firing and now - last >= STALE_AFTER_S:
                w.firing = False
                d = dict(key[1])
                out.append(Signal(series_key(*key), "anomaly", service_of(key[1]), now, False, "info", key[0],
                                  summary=f"{key[0]} on {service_of(key[1])}: no data for {now - last:.0f} s",
                                  labels={**d, "kind": w.rule.kind, "opens": str(w.rule.opens).lower()}))
            if now - last >= FORGET_AFTER_S:
                del self.watches[key], self._last_at[key]
                self._seen_at.pop(key, None)
        return out

    def last_seen(self, name: str, lbls: Labels) -> float | None:
        """When the watch of this series last scored a point (wall time)."""
        return self._last_at.get((name, lbls))

    def firing(self) -> list[tuple[str, Labels]]:
        return [k for k, w in self.watches.items() if w.firing]
