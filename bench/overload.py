"""Overload: the receiver (its own process, as in bench/ingest.py) is driven by senders that never
back off, well past the rate it sustains, for ``--seconds`` (30 by default). Reports what it
answered, health-probe latency during the overload, peak memory, and whether every accepted span was
processed once the queue drained. Prints one JSON line last."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/...` from a clone

from collectors.overload import drive, metric, processed_spans, queued_spans
from collectors.server import receiver_process
from collectors.synthetic import SyntheticTraces
from healops.harness import wait_until


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--threads", type=int, default=12)
    args = p.parse_args()
    bodies = SyntheticTraces().requests(32, spans_per_request=512, now_ns=time.time_ns())
    with receiver_process() as (url, proc):
        report = drive(url, bodies, 512, args.seconds, args.threads, proc.pid)
        wait_until(lambda: queued_spans(url) == 0, 120, what="queue drained")
        accepted = metric(url, 'healops_collector_items_total{outcome="accepted",signal="traces"}')
        refused = metric(url, 'healops_collector_items_total{outcome="refused_requests",signal="traces"}')
        processed = processed_spans(url)
    print(json.dumps({
        "bench": "overload", "seconds": args.seconds, "sender_threads": args.threads,
        "statuses": {str(k): v for k, v in sorted(report.statuses.items())},
        "refused_share": round(report.statuses[503] / max(1, sum(report.statuses.values())), 3),
        "refused_without_retry_after": report.refused_without_retry_after,
        "refused_counted_by_receiver": int(refused), "accepted_spans": int(accepted),
        "processed_spans": int(processed), "accepted_spans_lost": int(accepted - processed),
        "accepted_matches_client": int(accepted) == report.spans_sent_ok,
        "health_p99_ms": round(report.health_p99_s * 1000, 1), "health_failures": report.health_failures,
        "peak_rss_mb": round(report.peak_rss_mb, 1),
    }))



if __name__ == "__main__":
    main()
