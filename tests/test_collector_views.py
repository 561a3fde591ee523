"""The collector's derived views, against hand-computed expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from collectors import names
from collectors.collector import Collector, CollectorSettings
from collectors.series_store import SeriesStore, labels
from collectors.span_metrics import SpanMetrics

T0 = 1_700_000_000  # seconds


def span(tid: int, sid: int, parent: int, kind: int, start_ms: float, dur_ms: float, error: bool = False,
         name: str = "GET /x", peer: str = "") -> Span:
    s = Span(trace_id=tid.to_bytes(16, "big"), span_id=sid.to_bytes(8, "big"),
             parent_span_id=parent.to_bytes(8, "big") if parent else b"", name=name, kind=kind,  # type: ignore[arg-type]
             start_time_unix_nano=int((T0 + start_ms / 1000) * 1e9),
             end_time_unix_nano=int((T0 + (start_ms + dur_ms) / 1000) * 1e9),
             status=Status(code=2 if error else 0))  # type: ignore[arg-type]
    if peer:
        s.attributes.append(KeyValue(key="peer.service", value=AnyValue(string_value=peer)))
    return s


def request(service: str, *spans: Span) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource={"attributes": [KeyValue(key="service.name", value=AnyValue(string_value=service))]},  # type: ignore[arg-type]
        scope_spans=[ScopeSpans(spans=list(spans))])])


class Clock:
    def __init__(self) -> None:
        self.now = float(T0)

    def __call__(self) -> float:
        return self.now


def test_series_store_ring_overwrites_and_caps() -> None:
    store = SeriesStore(step_s=1, retention_s=5, max_series=2)
    a = labels(service="a")
    for t in range(10):
        assert store.put("m", a, T0 + t, float(t))
    assert [v for _, v in store.range("m", a, T0, T0 + 10)] == [5, 6, 7, 8, 9]
    assert not store.put("m", a, T0 + 2, 1.0), "older than retention"
    store.put("m", a, T0 + 12, 12.0)  # a gap leaves no stale values behind
    assert [v for _, v in store.range("m", a, T0, T0 + 20)] == [8, 9, 12]
    assert store.latest("m", a) == (T0 + 12, 12.0)
    assert store.put("m", labels(service="b"), T0, 1)
    assert not store.put("m", labels(service="c"), T0, 1)
    assert store.dropped_series == 1 and len(store) == 2


def test_series_past_the_retention_are_expired_and_free_the_cap_for_live_ones() -> None:
    # a self-healing platform restarts replicas, each a new instance label: the dead must not fill the cap
    store = SeriesStore(step_s=1, retention_s=60, max_series=2)
    dead, live, newcomer = labels(instance="a-1"), labels(instance="a-2"), labels(instance="a-3")
    store.put("cpu", dead, T0, 1.0)
    store.put("cpu", live, T0, 1.0)
    store.put("cpu", live, T0 + 50, 2.0)
    assert not store.put("cpu", newcomer, T0 + 55, 1.0) and store.dropped_series == 1
    assert store.expire(T0 + 59) == 0, "a-1's point is still inside the retention window"
    assert store.expire(T0 + 61) == 1 and store.expired_series == 1
    assert ("cpu", dead) not in store and store.latest("cpu", live) == (T0 + 50, 2.0)
    assert store.put("cpu", newcomer, T0 + 61, 1.0), "the expired series' place is free again"


def test_span_metrics_histogram_and_cap() -> None:
    sm = SpanMetrics(max_series=1)
    sm.observe_batch("s", ["a", "a", "b"], [2, 2, 2], [0, 0, 0], np.array([1_000_000, 60_000_000, 5], np.int64))
    [(key, hist, total_ns)] = list(sm.cells())
    assert key == ("s", "a", 2, 0)
    assert hist.tolist()[0] == 1 and hist.tolist()[names.SPAN_DURATION_BUCKETS_MS.index(100)] == 1
    assert total_ns == 61_000_000 and sm.overflow == 1


def test_pipeline_pairs_edges_across_requests_and_writes_red_steps() -> None:
    clock = Clock()
    c = Collector(CollectorSettings(lateness_s=2), clock=clock)
    # gateway -> healthcare (ok) and gateway -> healthcare (failed), halves in separate requests
    c.traces.ingest(request("api-gateway", span(1, 10, 0, 2, 0, 50), span(1, 11, 10, 3, 5, 40),
                            span(2, 20, 0, 2, 100, 30, error=True), span(2, 21, 20, 3, 105, 20, error=True)))
    c.traces.ingest(request("healthcare", span(1, 12, 11, 2, 10, 30), span(2, 22, 21, 2, 110, 10, error=True)))
    cell = c.graph.edges[("api-gateway", "healthcare")]
    assert (cell.requests, cell.failed) == (2, 1)
    assert math.isclose(cell.server_sum_s, 0.040, abs_tol=1e-6) and math.isclose(cell.client_sum_s, 0.060, abs_tol=1e-6)
    clock.now = T0 + 3.5
    c.tick()
    gw = labels(service="api-gateway")
    assert c.store.latest(names.RED_REQUESTS, gw) == (T0, 2.0)
    assert c.store.latest(names.RED_ERROR_RATIO, gw) == (T0, 0.5)
    p99 = c.store.latest(names.RED_P99, gw)
    assert p99 is not None and p99[0] == T0 and p99[1] == pytest.approx(50.0, rel=1e-5)  # float32 store
    edge = (("client", "api-gateway"), ("server", "healthcare"))
    assert c.store.latest(names.EDGE_REQUESTS, edge) == (T0, 2.0)


def test_late_spans_are_counted_not_written() -> None:
    clock = Clock()
    c = Collector(CollectorSettings(lateness_s=1), clock=clock)
    clock.now = T0 + 5
    c.tick()
    c.traces.ingest(request("x", span(1, 1, 0, 2, 0, 10)))
    assert c.red.late == 1 and c.store.latest(names.RED_REQUESTS, labels(service="x")) is None


def test_unpaired_failed_client_becomes_a_virtual_edge_to_its_peer() -> None:
    c = Collector(CollectorSettings(pairing_ttl_s=1))
    c.traces.ingest(request("healthcare", span(5, 1, 0, 3, 0, 2000, error=True, peer="identity")))
    c.traces.ingest(request("healthcare", span(6, 2, 0, 3, 0, 10)))  # no peer: expires unpaired
    c.graph.rotate()
    c.graph.rotate()
    cell = c.graph.edges[("healthcare", "identity")]
    assert (cell.requests, cell.failed) == (1, 1)
    assert c.graph.expired == 1


def test_trace_sample_keeps_errors_and_slow_with_all_their_spans() -> None:
    c = Collector()
    c.traces.ingest(request("a", span(1, 1, 0, 2, 0, 10, error=True), span(2, 3, 0, 2, 0, 900),
                            *(span(100 + i, 10 + i, 0, 2, 0, 5) for i in range(50))))
    c.traces.ingest(request("b", span(1, 2, 1, 2, 1, 5)))
    c.sample.rotate()
    c.sample.rotate()
    found = {tid: rows for tid, rows in c.sample.recent(limit=100)}
    err = found[(1).to_bytes(16, "big")]
    assert {r[0] for r in err} == {"a", "b"}, "spans of the trace from both services"
    assert (2).to_bytes(16, "big") in found, "the slow trace"
    assert c.sample.recent()[0][0] == (1).to_bytes(16, "big"), "errors first"
