"""Under overload the receiver refuses with 503 + Retry-After, stays responsive, counts what it
refused, and processes everything it accepted. The receiver runs as its own process (as in
production), driven over loopback for a few seconds; bench/overload.py runs the 30 s version."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from collectors.overload import drive, metric
from collectors.synthetic import SyntheticTraces
from healops.harness import free_port, http_ok, wait_until

ROOT = Path(__file__).resolve().parents[1]


def test_overload_is_refused_cleanly_and_nothing_accepted_is_lost() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "collectors.server", "--port", str(port),
                             "--max-queued-spans", "4096"], cwd=ROOT)
    try:
        wait_until(lambda: http_ok(f"{url}/healthz"), 30, 0.2, "the receiver")
        bodies = SyntheticTraces().requests(16, spans_per_request=512, now_ns=time.time_ns())
        report = drive(url, bodies, 512, seconds=6, threads=8, pid=proc.pid)
        assert report.statuses[503] > 0, f"not overloaded: {report.statuses}"
        assert set(report.statuses) == {200, 503}, report.statuses
        assert report.refused_without_retry_after == 0
        assert report.health_failures == 0 and report.health_p99_s < 2.0, report.health_p99_s
        wait_until(lambda: metric(url, "healops_collector_queued_spans") == 0, 60, what="queue drained")
        accepted = metric(url, 'healops_collector_items_total{outcome="accepted",signal="traces"}')
        refused = metric(url, 'healops_collector_items_total{outcome="refused_requests",signal="traces"}')
        processed = sum(float(line.rsplit(" ", 1)[1]) for line in httpx.get(f"{url}/metrics").text.splitlines()
                        if line.startswith("traces_span_metrics_calls_total{"))
        assert accepted == report.spans_sent_ok == processed, "every accepted span was processed"
        assert refused == report.statuses[503]
    finally:
        proc.terminate()
        proc.wait(10)

