"""Under overload the receiver refuses with 503 + Retry-After, stays responsive, counts what it
refused, and processes everything it accepted. The receiver runs as its own process (as in
production), driven over loopback for a few seconds; bench/overload.py runs the 30 s version."""

from __future__ import annotations

import time
from pathlib import Path

from collectors.overload import drive, metric, processed_spans, queued_spans
from collectors.server import receiver_process
from collectors.synthetic import SyntheticTraces
from healops.harness import wait_until

ROOT = Path(__file__).resolve().parents[1]


def test_overload_is_refused_cleanly_and_nothing_accepted_is_lost() -> None:
    with receiver_process(max_queued_spans=4096) as (url, proc):
        bodies = SyntheticTraces().requests(16, spans_per_request=512, now_ns=time.time_ns())
        report = drive(url, bodies, 512, seconds=6, threads=8, pid=proc.pid)
        assert report.statuses[503] > 0, f"not overloaded: {report.statuses}"
        assert set(report.statuses) == {200, 503}, report.statuses
        assert report.refused_without_retry_after == 0
        assert report.health_failures == 0 and report.health_p99_s < 2.0, report.health_p99_s
        wait_until(lambda: queued_spans(url) == 0, 60, what="queue drained")
        accepted = metric(url, 'healops_collector_items_total{outcome="accepted",signal="traces"}')
        refused = metric(url, 'healops_collector_items_total{outcome="refused_requests",signal="traces"}')
        assert accepted == report.spans_sent_ok == processed_spans(url), "every accepted span was processed"
        assert refused == report.statuses[503]
