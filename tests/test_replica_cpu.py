"""Each service's cores-per-replica series, fed real OTLP metric export requests (the protobuf
classes the SDK's exporter sends) through the collector's metric path: it carries on across a
deploy that replaces every instance, so a release that only burns CPU shows as a step, while a
replica's first seconds and a replica that has gone do not count."""

from __future__ import annotations

import math

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AGGREGATION_TEMPORALITY_CUMULATIVE

from collectors import names
from collectors.collector import Collector, CollectorSettings
from collectors.otel_metrics import OtelMetrics
from collectors.replica_cpu import PROCESS_CPU_RATE, SERVICE_CPU_PER_REPLICA
from collectors.series_store import SeriesStore
from healops.controlplane.remediation_loop import service_loads


class Replica:
    """One process exporting its cumulative user and system CPU seconds every ``every_s``."""

    def __init__(self, service: str, instance: str, user_cores: float, system_cores: float = 0.05) -> None:
        self.service, self.instance = service, instance
        self.cores = {"user": user_cores, "system": system_cores}
        self.total = {"user": 3.0, "system": 1.0}  # startup time already spent before the first export

    def export(self, t: float, every_s: float = 2.0) -> ExportMetricsServiceRequest:
        req = ExportMetricsServiceRequest()
        rm = req.resource_metrics.add()
        for key, value in (("service.name", self.service), ("service.instance.id", self.instance)):
            rm.resource.attributes.append(KeyValue(key=key, value=AnyValue(string_value=value)))
        metric = rm.scope_metrics.add().metrics.add()
        metric.name = "process.cpu.time"
        metric.sum.aggregation_temporality = AGGREGATION_TEMPORALITY_CUMULATIVE
        metric.sum.is_monotonic = True
        for state, cores in self.cores.items():
            self.total[state] += cores * every_s
            p = metric.sum.data_points.add()
            p.time_unix_nano = int(t * 1e9)
            p.as_double = self.total[state]
            p.attributes.append(KeyValue(key="type", value=AnyValue(string_value=state)))
        return req


def per_replica(store: SeriesStore) -> list[tuple[float, float]]:
    lbls = (("service", "analytics"),)
    return [(t, v) for t, v in store.range(SERVICE_CPU_PER_REPLICA, lbls, 0, 10_000) if not math.isnan(v)]


def run(metrics: OtelMetrics, replicas: list[Replica], start: float, end: float) -> None:
    t = start
    while t < end:
        for i, r in enumerate(replicas):
            metrics.ingest(r.export(t + i * 0.5))  # replicas export out of phase, as they do
        t += 2.0


def test_a_release_that_only_burns_cpu_is_a_step_in_the_service_series() -> None:
    store = SeriesStore(step_s=1, retention_s=600)
    metrics = OtelMetrics(store)
    old = [Replica("analytics", "a-1", 0.08), Replica("analytics", "a-2", 0.12)]
    run(metrics, old, 1000, 1060)
    before = per_replica(store)
    assert before and math.isclose(before[-1][1], 0.15, rel_tol=1e-3)  # (0.13 + 0.17) / 2: user + system
    new = [Replica("analytics", "b-1", 0.8), Replica("analytics", "b-2", 0.8)]
    run(metrics, new, 1060, 1064)  # both versions report while the new ones settle
    run(metrics, old, 1060, 1064)
    settling = [v for t, v in per_replica(store) if t >= 1060]
    assert settling and max(settling) < 0.2  # a new replica's first point does not count
    run(metrics, new, 1064, 1100)  # the old ones stopped
    after = [v for t, v in per_replica(store) if t >= 1085]
    assert after and min(after) > 0.8  # continuous across the deploy, and the step shows
    loads = service_loads(_with_rate(store, 1099.0))
    assert math.isclose(loads["analytics"][1], 0.85, rel_tol=1e-3)


def test_a_replica_that_has_gone_no_longer_counts() -> None:
    store = SeriesStore(step_s=1, retention_s=600)
    metrics = OtelMetrics(store)
    a, b = Replica("analytics", "a-1", 0.1), Replica("analytics", "a-2", 0.5)
    run(metrics, [a, b], 1000, 1030)
    assert math.isclose(per_replica(store)[-1][1], 0.35, rel_tol=1e-3)
    run(metrics, [a], 1030, 1050)  # a-2 crashed
    assert math.isclose(per_replica(store)[-1][1], 0.15, rel_tol=1e-3)


def test_service_load_is_in_cores_per_replica_whatever_the_machine() -> None:
    # process.cpu.time's rate per state (user, system) is cores; the capacity target is per core
    store = SeriesStore(step_s=1, retention_s=600)
    metrics = OtelMetrics(store)
    run(metrics, [Replica("analytics", "a-1", 0.5, 0.1), Replica("analytics", "a-2", 0.3, 0.1)], 1000, 1030)
    run(metrics, [Replica("ml", "m-1", 0.9)], 960, 970)  # a service gone a minute before does not count
    loads = service_loads(_with_rate(store, 1029.0))
    assert set(loads) == {"analytics"} and math.isclose(loads["analytics"][1], 0.5, rel_tol=1e-3)


def _with_rate(store: SeriesStore, t: float) -> SeriesStore:
    for service in ("analytics", "ml"):
        store.put(names.RED_REQUESTS, (("service", service),), t, 12.0)
    return store


def test_a_replaced_replica_is_forgotten_once_its_series_leave_the_retention_window() -> None:
    now = [1000.0]
    collector = Collector(CollectorSettings(retention_s=60, expire_every_s=5), clock=lambda: now[0])
    old, new = Replica("analytics", "a-1", 0.1), Replica("analytics", "a-2", 0.1)
    run(collector.metrics, [old], 1000, 1030)
    run(collector.metrics, [new], 1030, 1100)  # a-1 was restarted as a-2 at 1030

    def instances() -> set[str]:
        return {dict(lbls)["instance"] for _, lbls in collector.metrics.latest} | {
            dict(lbls).get("instance", "") for _, lbls in collector.store.keys(PROCESS_CPU_RATE)}

    assert instances() == {"a-1", "a-2"}
    now[0] = 1100.0
    collector.tick()
    assert instances() == {"a-2"}, "a-1 (last point at 1028) is past the 60 s retention"
    assert collector.store.expired_series > 0 and collector.store.latest(SERVICE_CPU_PER_REPLICA, (
        ("service", "analytics"),)) is not None
