"""Drive a receiver past what it can sustain and check it degrades properly: it keeps answering
(health probe latency), refuses with 503 + Retry-After instead of queueing without bound, loses none
of what it accepted, keeps memory bounded, and counts what it refused. Shared by ``bench/overload.py``
(30 s) and the test suite (a few seconds)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import psutil

PB = {"content-type": "application/x-protobuf"}


@dataclass
class OverloadReport:
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    refused_without_retry_after: int = 0
    spans_sent_ok: int = 0
    health_latencies_s: list[float] = field(default_factory=list)
    health_failures: int = 0
    peak_rss_mb: float = 0.0

    @property
    def health_p99_s(self) -> float:
        lat = sorted(self.health_latencies_s)
        return lat[int(0.99 * (len(lat) - 1))] if lat else float("inf")


def metric(url: str, name: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def queued_spans(url: str) -> int:
    """Spans accepted and not yet processed, from ``/healthz`` (polling ``/metrics`` would render the
    whole exposition on the receiver's CPU every time and skew what is measured)."""
    return int(httpx.get(f"{url}/healthz", timeout=30).json()["queued_spans"])


def processed_spans(url: str) -> float:
    """Spans that went all the way into span metrics (sum of every calls counter)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines()
               if line.startswith("traces_span_metrics_calls_total{"))


def drive(url: str, bodies: list[bytes], spans_per_body: int, seconds: float, threads: int,
          pid: int | None = None) -> OverloadReport:
    """Hammer ``url`` from ``threads`` senders that do not back off (worst-case clients) while a
    prober checks ``/healthz`` ten times a second; bounded in time and to loopback."""
    assert url.startswith(("http://127.0.0.1:", "http://[::1]:")), "overload only ever targets loopback"
    report = OverloadReport(seconds)
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()

    def sender(offset: int) -> None:
        local: Counter[int] = Counter()
        missing_retry = ok_spans = 0
        with httpx.Client(headers=PB, timeout=30) as client:
            i = offset
            while time.monotonic() < stop_at:
                resp = client.post(f"{url}/v1/traces", content=bodies[i % len(bodies)])
                i += threads
                local[resp.status_code] += 1
                if resp.status_code == 200:
                    ok_spans += spans_per_body
                elif resp.status_code in (429, 503) and "retry-after" not in resp.headers:
                    missing_retry += 1
        with lock:
            report.statuses.update(local)
            report.refused_without_retry_after += missing_retry
            report.spans_sent_ok += ok_spans

    def prober() -> None:
        proc = psutil.Process(pid) if pid else None
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                ok = httpx.get(f"{url}/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                ok = False
            report.health_latencies_s.append(time.perf_counter() - t0)
            report.health_failures += not ok
            if proc is not None:
                report.peak_rss_mb = max(report.peak_rss_mb, proc.memory_info().rss / 2**20)
            time.sleep(0.1)

    pool = [threading.Thread(target=sender, args=(n,)) for n in range(threads)]
    pool.append(threading.Thread(target=prober))
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return report
