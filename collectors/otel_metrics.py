"""The services' own OTel metrics (process CPU and memory, HTTP request counts) as series.

Gauges are stored as they are; cumulative sums become per-second rates (the first point of a series
only primes it); histograms become a request rate and a mean. Series are named ``otel.<metric>`` with
the service, the instance and the point's attributes as labels. Process CPU also feeds each
service's cores-per-replica series (:mod:`collectors.replica_cpu`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from collectors.names import UNKNOWN_SERVICE
from collectors.otlp_common import resource_attr
from collectors.replica_cpu import PROCESS_CPU_RATE, ReplicaCpu
from collectors.series_store import Labels, SeriesStore

MAX_POINT_LABELS = 6


def _value(kv: KeyValue) -> str:
    v = kv.value
    which = v.WhichOneof("value")
    return str(getattr(v, which)) if which else ""


@dataclass
class OtelMetrics:
    store: SeriesStore
    _previous: dict[tuple[str, Labels], tuple[int, float]] = field(default_factory=dict)
    latest: dict[tuple[str, Labels], float] = field(default_factory=dict)
    replica_cpu: ReplicaCpu = field(init=False)

    def __post_init__(self) -> None:
        self.replica_cpu = ReplicaCpu(self.store)

    def ingest(self, req: ExportMetricsServiceRequest) -> tuple[int, int]:
        accepted = rejected = 0
        for rm in req.resource_metrics:
            service = resource_attr(rm.resource, "service.name") or UNKNOWN_SERVICE
            instance = resource_attr(rm.resource, "service.instance.id") or ""
            base = (("instance", instance), ("service", service))
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    name = f"otel.{metric.name}"
                    if kind == "gauge":
                        for p in metric.gauge.data_points:
                            self._put(name, self._labels(base, p.attributes), p.time_unix_nano, _num(p))
                            accepted += 1
                    elif kind == "sum":
                        cumulative = metric.sum.aggregation_temporality == 2
                        for p in metric.sum.data_points:
                            lbls = self._labels(base, p.attributes)
                            if cumulative and metric.sum.is_monotonic:
                                self._rate(f"{name}.rate", lbls, p.time_unix_nano, _num(p))
                            else:
                                self._put(name, lbls, p.time_unix_nano, _num(p))
                            accepted += 1
                    elif kind == "histogram":
                        for hp in metric.histogram.data_points:
                            lbls = self._labels(base, hp.attributes)
                            self._rate(f"{name}.count.rate", lbls, hp.time_unix_nano, float(hp.count))
                            if hp.count:
                                self._put(f"{name}.mean", lbls, hp.time_unix_nano, hp.sum / hp.count)
                            accepted += 1
                    else:
                        rejected += 1  # exponential histograms and summaries are not derived yet
        self.replica_cpu.flush()
        return accepted, rejected

    @staticmethod
    def _labels(base: Labels, attributes: object) -> Labels:
        extra = [(kv.key.replace(".", "_"), _value(kv)) for kv in list(attributes)[:MAX_POINT_LABELS]]  # type: ignore[call-overload]
        return tuple(sorted((*base, *extra)))

    def expire(self, now: float) -> None:
        """Forget what belonged to series the store has expired (a replica long gone): the counter
        points rates are taken from, and the latest values exposed on ``/metrics``."""
        oldest_ns = (now - self.store.retention_s) * 1e9
        for key, (t_ns, _) in list(self._previous.items()):
            if t_ns < oldest_ns:
                del self._previous[key]
        for key in list(self.latest):
            if key not in self.store:
                del self.latest[key]
        self.replica_cpu.expire(now)

    def _put(self, name: str, lbls: Labels, t_ns: int, value: float) -> None:
        self.store.put(name, lbls, t_ns / 1e9, value)
        self.latest[(name, lbls)] = value
        if name == PROCESS_CPU_RATE:
            d = dict(lbls)
            self.replica_cpu.add(d["service"], d["instance"], t_ns / 1e9, value)

    def _rate(self, name: str, lbls: Labels, t_ns: int, value: float) -> None:
        prev = self._previous.get((name, lbls))
        self._previous[(name, lbls)] = (t_ns, value)
        if prev is None or t_ns <= prev[0] or value < prev[1]:
            return  # first point, out of order, or a counter reset
        self._put(name, lbls, t_ns, (value - prev[1]) / ((t_ns - prev[0]) / 1e9))


def _num(p: object) -> float:
    return float(p.as_double if p.WhichOneof("value") == "as_double" else p.as_int)  # type: ignore[attr-defined]
