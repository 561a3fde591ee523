"""A request that starts at the gateway produces one trace across services, exported by the real
OpenTelemetry SDK exporters (gzip protobuf over HTTP) and decoded with opentelemetry-proto."""

from __future__ import annotations

import httpx

from healops.harness import PlatformProcess, wait_until
from tests.otlp_sink import OtlpSink, SeenSpan
from workloads.catalog import SERVICES

SERVER, CLIENT = 2, 3  # opentelemetry.proto SpanKind values


def test_gateway_trace_reaches_three_services_with_parent_links(platform: PlatformProcess,
                                                                otlp_sink: OtlpSink) -> None:
    resp = httpx.get(f"{platform.gateway_url}/api/patients/42")
    assert resp.status_code == 200

    def trace_of_request() -> list[SeenSpan] | None:
        roots = [s for s in list(otlp_sink.spans) if s.service == "api-gateway" and s.kind == SERVER
                 and s.parent_span_id == "" and "/api/patients" in s.name]
        for root in roots:
            spans = [s for s in list(otlp_sink.spans) if s.trace_id == root.trace_id]
            if {"api-gateway", "healthcare", "identity", "analytics"} <= {s.service for s in spans}:
                return spans
        return None

    spans = wait_until(trace_of_request, 15, 0.2, "a full trace in the OTLP endpoint")
    by_id = {s.span_id: s for s in spans}
    for s in spans:
        if s.parent_span_id:
            assert s.parent_span_id in by_id, f"orphan span {s.name} in {s.service}: context not propagated"
    # Every server span below the root hangs off a client span of the calling service (W3C context).
    edges = {(by_id[s.parent_span_id].service, s.service) for s in spans
             if s.kind == SERVER and s.parent_span_id and by_id[s.parent_span_id].kind == CLIENT}
    assert {("api-gateway", "healthcare"), ("healthcare", "identity"), ("healthcare", "analytics")} <= edges
    for s in spans:
        assert s.resource["service.version"] in SERVICES[s.service].releases
        assert s.resource["service.instance.id"].startswith(s.service + "-")
    wait_until(lambda: otlp_sink.requests.get("/v1/metrics", 0) >= 1, 10, what="OTLP metrics export")
