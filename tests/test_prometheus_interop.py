"""A real Prometheus (Debian package) scrapes the platform's collector, PromQL answers the gateway's
request rate, and the Prometheus source pulls the same RED series back into a healops store."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from collectors import names
from collectors.prometheus_source import PrometheusSource
from collectors.series_store import SeriesStore, labels
from healops.harness import PlatformProcess, wait_until
from tests.servers import instant, prometheus


def test_prometheus_scrapes_the_collector_and_the_source_reads_red_back(platform: PlatformProcess,
                                                                         tmp_path: Path) -> None:
    target = platform.collector_url.removeprefix("http://")
    with prometheus(tmp_path, [target]) as prom:
        started = time.time()
        deadline, sent = started + 12, 0
        while time.time() < deadline:  # up to ~10 requests/s through the gateway for 12 s
            assert httpx.get(f"{platform.gateway_url}/api/patients/1").status_code == 200
            sent += 1
            time.sleep(0.1)
        query = ('sum(rate(traces_span_metrics_calls_total{service_name="api-gateway",'
                 'span_kind="SPAN_KIND_SERVER"}[5s]))')
        result = wait_until(lambda: [r for r in instant(prom, query) if float(r["value"][1]) > 0],  # type: ignore[index]
                            20, 0.5, "a gateway request rate from PromQL")
        rate = float(result[0]["value"][1])  # type: ignore[index]
        assert 3 < rate < 20, rate
        edge = 'traces_service_graph_request_total{client="api-gateway",server="healthcare"}'
        wait_until(lambda: [r for r in instant(prom, edge) if float(r["value"][1]) >= sent],  # type: ignore[index]
                   10, 0.5, f"all {sent} gateway->healthcare requests in the scraped service graph")

        store = SeriesStore()
        written = PrometheusSource(prom, window="5s").pull(store, started + 5, time.time(), step_s=1)
        assert written > 0
        points = store.range(names.RED_REQUESTS, labels(service="api-gateway"), started, time.time())
        assert points and max(v for _, v in points) > 3
        ratio = store.range(names.RED_ERROR_RATIO, labels(service="healthcare"), started, time.time())
        assert ratio and all(v == 0 for _, v in ratio), "no errors were injected"
