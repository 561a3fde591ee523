"""Prometheus exposition of everything derived, through prometheus-client with its own registry.

Names and labels are the OpenTelemetry Collector connectors' (see ``collectors.names``), so existing
dashboards work; ``healops_collector_*`` series say what the collector itself accepted and refused.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector as PromCollector

from collectors import names
from collectors.collector import Collector


def _buckets(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, float]]:
    out, total = [], 0
    for bound, count in zip((*bounds, float("inf")), counts, strict=True):
        total += count
        out.append(("+Inf" if bound == float("inf") else repr(float(bound)), float(total)))
    return out


class CollectorExposition(PromCollector):
    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def collect(self) -> Iterator[Metric]:
        c = self.collector
        calls = CounterMetricFamily(names.SPAN_CALLS, "Spans seen, by service, name, kind and status",
                                    labels=names.SPAN_LABELS)
        duration = HistogramMetricFamily(names.SPAN_DURATION, "Span durations in milliseconds",
                                         labels=names.SPAN_LABELS)
        for (service, name, kind, code), hist, sum_ns in c.span_metrics.cells():
            lbls = [service, name, names.SPAN_KIND.get(kind, str(kind)), names.STATUS_CODE.get(code, str(code))]
            counts = hist.tolist()
            calls.add_metric(lbls, float(sum(counts)))
            duration.add_metric(lbls, _buckets(names.SPAN_DURATION_BUCKETS_MS, counts), sum_ns / 1e6)
        yield calls
        yield duration

        req = CounterMetricFamily(names.GRAPH_REQUESTS, "Requests between services", labels=names.GRAPH_LABELS)
        failed = CounterMetricFamily(names.GRAPH_FAILED, "Failed requests between services",
                                     labels=names.GRAPH_LABELS)
        server = HistogramMetricFamily(names.GRAPH_SERVER_SECONDS, "Server-side request time",
                                       labels=names.GRAPH_LABELS)
        client = HistogramMetricFamily(names.GRAPH_CLIENT_SECONDS, "Client-side request time",
                                       labels=names.GRAPH_LABELS)
        for (cl, sv), cell in c.graph.edges.items():
            lbls = [cl, sv]
            req.add_metric(lbls, cell.requests)
            failed.add_metric(lbls, cell.failed)
            server.add_metric(lbls, _buckets(names.GRAPH_SECONDS_BUCKETS, cell.server_buckets.tolist()),
                              cell.server_sum_s)
            client.add_metric(lbls, _buckets(names.GRAPH_SECONDS_BUCKETS, cell.client_buckets.tolist()),
                              cell.client_sum_s)
        yield from (req, failed, server, client)

        items = CounterMetricFamily("healops_collector_items", "OTLP items by signal and outcome",
                                    labels=["signal", "outcome"])
        for key, value in sorted(c.counts.items()):
            signal, _, outcome = key.partition(".")
            items.add_metric([signal, outcome], float(value))
        yield items
        stages = CounterMetricFamily("healops_collector_cpu_seconds", "CPU time of the trace path by stage",
                                     labels=["stage"])
        for stage, seconds in sorted(c.cpu_seconds.items()):
            stages.add_metric([stage], seconds)
        yield stages
        gauges = {
            "healops_collector_series": ("Series in the store", len(c.store)),
            "healops_collector_span_metric_series": ("Span-metric label sets", len(c.span_metrics)),
            "healops_collector_pending_halves": ("Service-graph halves waiting for a pair", c.graph.pending()),
            "healops_collector_queued_spans": ("Spans accepted and not yet processed", c.queued_spans),
        }
        for metric, (doc, value) in gauges.items():
            yield GaugeMetricFamily(metric, doc, value=float(value))
        dropped = {
            "healops_collector_dropped_series": ("New series refused at the series cap", c.store.dropped_series),
            "healops_collector_expired_series": ("Series dropped after a retention window without a point",
                                                 c.store.expired_series),
            "healops_collector_span_metric_overflow": ("Spans past the span-metric cap", c.span_metrics.overflow),
            "healops_collector_late_spans": ("Spans that arrived after their step closed", c.red.late),
            "healops_collector_unpaired_spans": ("Service-graph halves that expired unpaired", c.graph.expired),
        }
        for metric, (doc, value) in dropped.items():
            yield CounterMetricFamily(metric, doc, value=float(value))
        otel = GaugeMetricFamily("healops_service_metric", "Latest value of each service OTel metric series",
                                 labels=["metric", "service", "instance"])
        for (metric_name, series_labels), latest in list(c.metrics.latest.items()):
            if len(series_labels) == 2:  # only series without point attributes, to keep this small
                d = dict(series_labels)
                otel.add_metric([metric_name, d.get("service", ""), d.get("instance", "")], latest)
        yield otel


def make_registry(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CollectorExposition(collector))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
