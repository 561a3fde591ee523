"""Realistic synthetic OTLP trace batches, for benchmarks, tests and smoke-testing a receiver.

Like a real exporter, each request carries one resource (one service instance) and a batch of its
spans; a trace's client and server halves arrive in different requests, as they do from different
processes. Spans carry about 20 attributes, as instrumented HTTP spans do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status


def _kv(key: str, value: str | int) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


@dataclass
class SyntheticTraces:
    services: int = 10
    span_names: int = 200
    error_ratio: float = 0.02
    seed: int = 1

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.service_names = [f"svc-{i}" for i in range(self.services)]
        self.names = [f"GET /api/v1/resource{i}/{{id}}" for i in range(self.span_names)]

    def _attrs(self, name: str, status: int) -> list[KeyValue]:
        r = self.rng
        return [
            _kv("http.request.method", "GET"), _kv("url.path", f"/api/v1/x/{r.randint(1, 10**6)}"),
            _kv("url.scheme", "http"), _kv("http.route", name.split(" ", 1)[1]),
            _kv("http.response.status_code", status), _kv("server.address", "127.0.0.1"),
            _kv("server.port", 8080), _kv("network.protocol.version", "1.1"),
            _kv("network.peer.address", "127.0.0.1"), _kv("network.peer.port", r.randint(30000, 60000)),
            _kv("user_agent.original", "python-httpx/0.28.1"), _kv("client.address", "127.0.0.1"),
            _kv("http.request.body.size", r.randint(0, 2048)), _kv("http.response.body.size", r.randint(50, 4096)),
            _kv("thread.id", r.randint(1, 64)), _kv("thread.name", "MainThread"), _kv("code.function", "handle"),
            _kv("code.namespace", "workloads.service_app"), _kv("deployment.tier", "backend"),
            _kv("tenant.id", f"t{r.randint(1, 50)}"),
        ]

    def _resource(self, service: str, instance: int) -> list[KeyValue]:
        return [_kv("service.name", service), _kv("service.version", "1.1.0"),
                _kv("service.instance.id", f"{service}-{instance}"), _kv("service.namespace", "bench"),
                _kv("telemetry.sdk.name", "opentelemetry"), _kv("telemetry.sdk.language", "python"),
                _kv("telemetry.sdk.version", "1.45.2"), _kv("host.name", "bench")]

    def requests(self, count: int, spans_per_request: int = 512, now_ns: int = 0) -> list[bytes]:
        """``count`` serialized requests; pairs of (client, server) spans straddle requests."""
        r = self.rng
        pending: dict[str, list[Span]] = {s: [] for s in self.service_names}
        out: list[bytes] = []
        t = now_ns or 1_700_000_000 * 10**9
        while len(out) < count:
            trace_id = r.randbytes(16)
            caller, callee = r.sample(self.service_names, 2)
            name = r.choice(self.names)
            failed = r.random() < self.error_ratio
            status = Status(code=Status.STATUS_CODE_ERROR) if failed else Status(code=Status.STATUS_CODE_UNSET)
            http_status = 500 if failed else 200
            client_id, server_id = r.randbytes(8), r.randbytes(8)
            dur = int(r.lognormvariate(15.5, 0.6))  # ~5 ms median
            t += 20_000
            pending[caller].append(Span(trace_id=trace_id, span_id=client_id, name=name, kind=Span.SPAN_KIND_CLIENT,
                                        start_time_unix_nano=t, end_time_unix_nano=t + dur + 300_000,
                                        attributes=self._attrs(name, http_status), status=status))
            pending[callee].append(Span(trace_id=trace_id, span_id=server_id, parent_span_id=client_id, name=name,
                                        kind=Span.SPAN_KIND_SERVER, start_time_unix_nano=t + 100_000,
                                        end_time_unix_nano=t + dur,
                                        attributes=self._attrs(name, http_status), status=status))
            for service, spans in pending.items():
                if len(spans) >= spans_per_request:
                    req = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
                        resource=Resource(attributes=self._resource(service, 0)),
                        scope_spans=[ScopeSpans(scope=InstrumentationScope(name="opentelemetry.instrumentation.fastapi"),
                                                spans=spans)])])
                    out.append(req.SerializeToString())
                    pending[service] = []
                    if len(out) >= count:
                        break
        return out
