"""Metric names and labels, shared by the collectors, the dashboards and the rules.

The span-metrics and service-graph names are those of the OpenTelemetry Collector's connectors, so
existing Grafana and Jaeger views work on healops' exposition unchanged.
"""

from __future__ import annotations

# OpenTelemetry Collector spanmetrics connector (namespace "traces.span.metrics").
SPAN_CALLS = "traces_span_metrics_calls"  # exposed as ..._total
SPAN_DURATION = "traces_span_metrics_duration_milliseconds"
SPAN_LABELS = ("service_name", "span_name", "span_kind", "status_code")
SPAN_DURATION_BUCKETS_MS = (2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000)

# OpenTelemetry Collector servicegraph connector.
GRAPH_REQUESTS = "traces_service_graph_request"  # exposed as ..._total
GRAPH_FAILED = "traces_service_graph_request_failed"  # exposed as ..._total
GRAPH_SERVER_SECONDS = "traces_service_graph_request_server_seconds"
GRAPH_CLIENT_SECONDS = "traces_service_graph_request_client_seconds"
GRAPH_LABELS = ("client", "server")
GRAPH_SECONDS_BUCKETS = (0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1.4, 2, 5, 10, 15)

SPAN_KIND = {0: "SPAN_KIND_UNSPECIFIED", 1: "SPAN_KIND_INTERNAL", 2: "SPAN_KIND_SERVER", 3: "SPAN_KIND_CLIENT",
             4: "SPAN_KIND_PRODUCER", 5: "SPAN_KIND_CONSUMER"}
STATUS_CODE = {0: "STATUS_CODE_UNSET", 1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}

# RED series in the healops series store (one value per step, per service or per edge).
RED_REQUESTS = "red.requests_per_s"
RED_ERRORS = "red.errors_per_s"
RED_ERROR_RATIO = "red.error_ratio"
RED_P50 = "red.latency_p50_ms"
RED_P95 = "red.latency_p95_ms"
RED_P99 = "red.latency_p99_ms"
RED_SLOW = "red.slow_per_s"  # labels: service, threshold_ms (see threshold_label)
EDGE_REQUESTS = "edge.requests_per_s"
EDGE_ERROR_RATIO = "edge.error_ratio"
EDGE_P99 = "edge.latency_p99_ms"

UNKNOWN_SERVICE = "unknown_service"


def threshold_label(threshold_ms: float) -> tuple[str, str]:
    """The label of a ``red.slow_per_s`` series naming its latency threshold."""
    return ("threshold_ms", f"{threshold_ms:g}")
