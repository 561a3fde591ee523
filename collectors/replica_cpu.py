"""Each service's CPU as mean cores per settled replica: one series per service, continuous across
deploys, restarts and scaling.

Per-instance CPU series start afresh with every new replica, so a release whose only defect is CPU
looks normal to them from its first point: every instance of the new version was born burning. The
service's series carries on from the old replicas to the new ones and shows the step. A replica's
first rate point is left out (measured on the platform: imports fall before the point that primes
the rate, and the first rate point 6 s after a restart was already at the steady 0.03 cores, but a
warm-up may not be so kind elsewhere); a replica silent for three metric exports has gone."""

from __future__ import annotations

from dataclasses import dataclass, field

from collectors.series_store import SeriesStore

PROCESS_CPU_RATE = "otel.process.cpu.time.rate"  # cores, one series per instance and CPU state
SERVICE_CPU_PER_REPLICA = "healops.service.cpu_cores_per_replica"


@dataclass
class ReplicaCpu:
    store: SeriesStore
    settle_s: float = 2.0  # after a replica's first CPU point, before its CPU counts (one export)
    gone_after_s: float = 6.0
    _first: dict[tuple[str, str], float] = field(default_factory=dict)  # (service, instance) -> first point
    # service -> instance -> (time, cores) of its latest export
    _latest: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    _pending: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def add(self, service: str, instance: str, t: float, cores: float) -> None:
        """One CPU state's cores (user, system, ...) from one export; summed per instance until flushed."""
        _, so_far = self._pending.get((service, instance), (t, 0.0))
        self._pending[(service, instance)] = (t, so_far + cores)

    def flush(self) -> None:
        """After an export request: record each instance's total and write its service's point."""
        for (service, instance), (t, cores) in self._pending.items():
            self._first.setdefault((service, instance), t)
            self._latest.setdefault(service, {})[instance] = (t, cores)
            self._write(service, t)
        self._pending.clear()

    def expire(self, now: float) -> None:
        """Forget replicas silent for longer than ``gone_after_s`` in every service, and services
        left with none (a service that stopped exporting is not swept by its own writes)."""
        for service in list(self._latest):
            self._drop_gone(service, now)
            if not self._latest[service]:
                del self._latest[service]

    def _drop_gone(self, service: str, t: float) -> None:
        replicas = self._latest[service]
        for instance, (seen, _) in list(replicas.items()):
            if t - seen > self.gone_after_s:
                del replicas[instance]
                self._first.pop((service, instance), None)

    def _write(self, service: str, t: float) -> None:
        self._drop_gone(service, t)
        replicas = self._latest[service]
        settled = [cores for instance, (seen, cores) in replicas.items()
                   if seen - self._first[(service, instance)] >= self.settle_s]
        if settled:
            self.store.put(SERVICE_CPU_PER_REPLICA, (("service", service),), t, sum(settled) / len(settled))
