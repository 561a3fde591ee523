"""Pull RED series from an existing Prometheus instead of receiving OTLP, for teams that already run
one (``HEALOPS_SOURCE=prometheus``). The queries read the span-metrics names the OpenTelemetry
Collector (or healops' own exposition) produces, and write the same ``red.*`` series healops derives
itself, so detectors cannot tell the sources apart.

prometheus-api-client is synchronous: call :meth:`PrometheusSource.pull` from a thread in async code.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from collectors import names
from collectors.series_store import SeriesStore, labels

SERVER = 'span_kind="SPAN_KIND_SERVER"'


def red_queries(window: str) -> dict[str, str]:
    calls = f"{names.SPAN_CALLS}_total"
    rate = f"sum by (service_name) (rate({calls}{{{SERVER}}}[{window}]))"
    errors = f'sum by (service_name) (rate({calls}{{{SERVER},status_code="STATUS_CODE_ERROR"}}[{window}]))'

    def quantile(q: float) -> str:
        return (f"histogram_quantile({q}, sum by (service_name, le) "
                f"(rate({names.SPAN_DURATION}_bucket{{{SERVER}}}[{window}])))")

    return {
        names.RED_REQUESTS: rate,
        names.RED_ERROR_RATIO: f"({errors} or {rate} * 0) / {rate}",
        names.RED_P50: quantile(0.5),
        names.RED_P95: quantile(0.95),
        names.RED_P99: quantile(0.99),
    }


@dataclass
class PrometheusSource:
    url: str
    window: str = "30s"
    timeout_s: float = 10.0

    def pull(self, store: SeriesStore, start: float, end: float, step_s: float = 1.0) -> int:
        """Query ``[start, end]`` and write every point into ``store``; return how many were written."""
        from prometheus_api_client import PrometheusConnect

        prom = PrometheusConnect(url=self.url, disable_ssl=True)
        written = 0
        for series_name, query in red_queries(self.window).items():
            result = prom.custom_query_range(
                query, start_time=datetime.fromtimestamp(start, UTC), end_time=datetime.fromtimestamp(end, UTC),
                step=f"{round(step_s * 1000)}ms", params={"timeout": f"{round(self.timeout_s * 1000)}ms"})
            for item in result:
                service = item["metric"].get("service_name", names.UNKNOWN_SERVICE)
                for t, v in item["values"]:
                    value = float(v)
                    if math.isfinite(value) and store.put(series_name, labels(service=service), float(t), value):
                        written += 1
        return written

    async def run(self, store: SeriesStore, interval_s: float = 5.0, overlap_s: float = 15.0) -> None:
        """Poll forever: every ``interval_s`` re-read the last ``overlap_s`` (late scrapes fill in)."""
        log = logging.getLogger("healops.collectors")
        while True:
            end = time.time()
            try:
                await asyncio.to_thread(self.pull, store, end - overlap_s, end, store.step_s)
            except Exception as exc:  # a Prometheus outage must not stop the poller
                log.warning("prometheus source %s failed: %s", self.url, exc)
            await asyncio.sleep(interval_s)
