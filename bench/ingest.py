"""OTLP ingest throughput: spans per second per core through the receiver into span metrics, the
service graph, RED steps and the trace sample.

The receiver runs as its own process (``collectors.server``); a sender process posts realistic
protobuf bodies (10 services, 200 span names, ~20 attributes a span, 512 spans a request, one
resource a request as an SDK exporter sends) over loopback HTTP with keep-alive. The figure is
accepted spans divided by the receiver's CPU seconds, counted until its queue has drained (every
accepted span processed). The baseline, in the same run, is protobuf parsing alone
(``ExportTraceServiceRequest.FromString``, upb) of the same bodies on one core.

Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/...` from a clone

from collectors.overload import metric, queued_spans
from collectors.server import receiver_process
from collectors.synthetic import SyntheticTraces
from healops.harness import wait_until

STAGES = ("parse", "extract", "process")




def _sender(url: str, bodies: list[bytes], seconds: float, threads: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """Post bodies round-robin from ``threads`` keep-alive connections for ``seconds``."""
    stop = time.monotonic() + seconds
    totals = {"ok": 0, "refused": 0, "other": 0, "spans_ok": 0}
    lock = threading.Lock()

    def work(offset: int) -> None:
        local = {"ok": 0, "refused": 0, "other": 0, "spans_ok": 0}
        with httpx.Client(headers={"content-type": "application/x-protobuf"}, timeout=30) as client:
            i = offset
            while time.monotonic() < stop:
                resp = client.post(f"{url}/v1/traces", content=bodies[i % len(bodies)])
                i += threads
                if resp.status_code == 200:
                    local["ok"] += 1
                    local["spans_ok"] += 512
                elif resp.status_code in (429, 503):
                    local["refused"] += 1
                    time.sleep(float(resp.headers.get("retry-after", "1")) / 10)
                else:
                    local["other"] += 1
        with lock:
            for k, v in local.items():
                totals[k] += v

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(totals)


def parse_only(bodies: list[bytes], seconds: float = 5.0) -> float:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    spans, t0 = 0, time.process_time()
    while time.process_time() - t0 < seconds:
        for b in bodies:
            ExportTraceServiceRequest.FromString(b)
            spans += 512
    return spans / (time.process_time() - t0)


def series_memory(count: int) -> float:
    """RSS growth (MiB) of a collector store holding ``count`` active series over a full retention."""
    code = f"""
import psutil, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from collectors.collector import Collector, CollectorSettings
from collectors.series_store import labels
c = Collector(CollectorSettings(max_series={count}))
before = psutil.Process().memory_info().rss
steps = int(c.store.capacity)
for i in range({count}):
    lbl = labels(service=f"svc-{{i % 100}}", route=f"/r/{{i}}")
    for t in range(steps):
        c.store.put("red.requests_per_s", lbl, 1_700_000_000 + t, float(t))
print((psutil.Process().memory_info().rss - before) / 2**20, len(c.store), steps)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--threads", type=int, default=12)
    p.add_argument("--series", type=int, default=100_000)
    args = p.parse_args()
    bodies = SyntheticTraces().requests(64, spans_per_request=512, now_ns=time.time_ns())
    with receiver_process() as (url, receiver):
        proc = psutil.Process(receiver.pid)
        warm = httpx.post(f"{url}/v1/traces", content=bodies[0], headers={"content-type": "application/x-protobuf"})
        assert warm.status_code == 200
        wait_until(lambda: queued_spans(url) == 0, 30, what="warm-up drained")
        accepted0 = metric(url, 'healops_collector_items_total{outcome="accepted",signal="traces"}')
        stages0 = {st: metric(url, f'healops_collector_cpu_seconds_total{{stage="{st}"}}') for st in STAGES}
        cpu0 = sum(proc.cpu_times()[:2])
        wall0 = time.monotonic()
        peak_rss = proc.memory_info().rss
        results: mp.Queue = mp.Queue()  # type: ignore[type-arg]
        sender = mp.Process(target=_sender, args=(url, bodies, args.seconds, args.threads, results))
        sender.start()
        while sender.is_alive():
            peak_rss = max(peak_rss, proc.memory_info().rss)
            time.sleep(0.2)
        sent = results.get()
        wait_until(lambda: queued_spans(url) == 0, 120, what="queue drained")
        wall = time.monotonic() - wall0
        cpu = sum(proc.cpu_times()[:2]) - cpu0
        accepted = metric(url, 'healops_collector_items_total{outcome="accepted",signal="traces"}') - accepted0
        stages = {st: metric(url, f'healops_collector_cpu_seconds_total{{stage="{st}"}}') - stages0[st]
                  for st in STAGES}
    parse_rate = parse_only(bodies)
    per_core = accepted / cpu
    print(json.dumps({
        "bench": "ingest", "spans_per_request": 512, "attributes_per_span": 20, "services": 10, "span_names": 200,
        "seconds": args.seconds, "requests_ok": sent["ok"], "requests_refused": sent["refused"],
        "requests_other": sent["other"], "spans_accepted": int(accepted),
        "accepted_matches_sent": int(accepted) == sent["spans_ok"],
        "receiver_cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
        "us_per_span_by_stage": {st: round(v / accepted * 1e6, 2) for st, v in stages.items()},
        "us_per_span_http_and_rest": round((cpu - sum(stages.values())) / accepted * 1e6, 2),
        "spans_per_s_per_core": round(per_core), "spans_per_s_wall": round(accepted / wall),
        "parse_only_spans_per_s_per_core": round(parse_rate), "parse_only_ratio": round(per_core / parse_rate, 3),
        "go_collector_sizing_spans_per_s_per_core": 12000, "ratio_to_go_collector_sizing": round(per_core / 12000, 2),
        "receiver_peak_rss_mb": round(peak_rss / 2**20, 1),
        "series_memory_mb": round(series_memory(args.series), 1), "series": args.series,
    }))



if __name__ == "__main__":
    main()
