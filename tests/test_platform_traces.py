"""A request that starts at the gateway becomes one trace across services: exported by the real
OpenTelemetry SDK exporters (gzip protobuf over HTTP) into healops' own collector, which pairs the
spans into a service graph, keeps error traces in its sample and indexes their log lines."""

from __future__ import annotations

from typing import Any

import httpx

from healops.harness import PlatformProcess, wait_until

SERVER, CLIENT = 2, 3  # OTLP SpanKind values


def test_error_trace_from_the_gateway_spans_three_services_with_logs(platform: PlatformProcess) -> None:
    resp = httpx.post(f"{platform.replica_url('identity')}/admin/faults", headers=platform.admin_headers,
                      json={"kind": "error_rate", "rate": 1.0, "ttl_s": 3})
    assert resp.status_code == 201
    assert httpx.get(f"{platform.gateway_url}/api/patients/42").status_code == 502

    def kept_trace() -> dict[str, Any] | None:
        listing = httpx.get(f"{platform.collector_url}/api/traces", params={"service": "identity"}).json()
        for t in listing["traces"]:
            if t["error"] and {"api-gateway", "healthcare", "identity"} <= set(t["services"]):
                data: dict[str, Any] = httpx.get(f"{platform.collector_url}/api/traces/{t['trace_id']}").json()
                return data
        return None

    trace = wait_until(kept_trace, 20, 0.5, "the error trace in the collector's sample")
    spans = trace["spans"]
    by_id = {s["span_id"]: s for s in spans}
    for s in spans:
        if s["parent_span_id"]:
            assert s["parent_span_id"] in by_id, f"orphan span {s['name']} in {s['service']}: context lost"
    edges = {(by_id[s["parent_span_id"]]["service"], s["service"]) for s in spans
             if s["kind"] == SERVER and s["parent_span_id"] and by_id[s["parent_span_id"]]["kind"] == CLIENT}
    assert {("api-gateway", "healthcare"), ("healthcare", "identity")} <= edges
    logs = trace["logs"]
    assert {"identity", "healthcare"} <= {line["service"] for line in logs}, logs
    assert any(line["body"] == "downstream failed" for line in logs)


def late_spans(plat: PlatformProcess) -> float:
    for line in httpx.get(f"{plat.collector_url}/metrics").text.splitlines():
        if line.startswith("healops_collector_late_spans_total "):
            return float(line.split()[1])
    raise AssertionError("late-spans counter missing from /metrics")


def test_service_graph_and_red_series_appear(platform: PlatformProcess) -> None:
    late_before = late_spans(platform)
    for i in range(30):
        assert httpx.get(f"{platform.gateway_url}/api/patients/{i}").status_code == 200

    def edges() -> set[tuple[str, str]]:
        data = httpx.get(f"{platform.collector_url}/api/graph").json()["edges"]
        return {(e["client"], e["server"]) for e in data if e["requests"] > 0}

    wait_until(lambda: {("api-gateway", "healthcare"), ("healthcare", "identity"), ("healthcare", "analytics")}
               <= edges(), 20, 0.5, "service-graph edges")
    def counted() -> float:
        series = httpx.get(f"{platform.collector_url}/api/series",
                           params={"name": "red.requests_per_s", "service": "healthcare"}).json()["series"]
        return sum(v for _, v in series[0]["points"]) if series else 0.0

    # Every request lands in the RED series (none arrives after its step closed), even if earlier tests
    # left requests in other steps of the window.
    wait_until(lambda: counted() >= 30, 10, 0.5, "all 30 healthcare requests in the RED series")
    assert late_spans(platform) == late_before


def test_services_own_metrics_arrive_with_resource_attributes(platform: PlatformProcess) -> None:
    def memory_series() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(f"{platform.collector_url}/api/series",
                                                params={"name": "otel.process.memory.usage"}).json()["series"]
        return found

    series = wait_until(memory_series, 20, 0.5, "process memory series from the services' OTel metrics")
    services = {s["labels"]["service"] for s in series}
    assert len(services) == 9
    for s in series:
        assert s["labels"]["instance"].startswith(s["labels"]["service"] + "-")
        assert all(v > 10 * 2**20 for _, v in s["points"]), "a Python service uses more than 10 MiB"
