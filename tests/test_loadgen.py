"""The load generator is open-loop: it keeps its arrival rate even when the platform slows down."""

from __future__ import annotations

import asyncio
import random

import httpx

from healops.harness import PlatformProcess
from workloads.loadgen import LatencyHistogram, LoadGenerator


def test_histogram_quantiles_are_within_bucket_resolution() -> None:
    h = LatencyHistogram()
    for ms in range(1, 1001):
        h.add(ms / 1000)
    p50, p99 = h.quantile(0.5), h.quantile(0.99)
    assert p50 is not None and p99 is not None
    assert 0.475 < p50 < 0.53 and 0.94 < p99 < 1.05
    assert LatencyHistogram().quantile(0.5) is None


def test_daily_pattern_swings_around_the_base_rate() -> None:
    gen = LoadGenerator("http://127.0.0.1:1", rps=10, daily_amplitude=0.5, daily_period_s=100)
    assert gen.rate_at(0) == 10
    assert abs(gen.rate_at(25) - 15) < 1e-9 and abs(gen.rate_at(75) - 5) < 1e-9


def test_open_loop_rate_holds_while_the_gateway_is_slow(platform: PlatformProcess) -> None:
    gw = platform.replica_url("api-gateway")
    resp = httpx.post(f"{gw}/admin/faults", headers=platform.admin_headers,
                      json={"kind": "latency", "ms": 400, "ttl_s": 4})
    assert resp.status_code == 201
    gen = LoadGenerator(platform.gateway_url, rps=40, rng=random.Random(1))
    stats = asyncio.run(gen.run(duration_s=3.0))
    summary = stats.summary()
    # A closed loop with a few workers would manage ~10/s here; an open loop keeps sending 40/s.
    assert 110 <= stats.sent <= 125, summary
    assert stats.completed + stats.dropped == stats.sent
    assert summary["latency_ms"]["p50"] >= 400
    assert set(summary["statuses"]) == {"200"}, summary["statuses"]
    assert sum(sum(c.values()) for c in stats.by_route.values()) == stats.completed
