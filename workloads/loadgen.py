"""Open-loop load: requests leave at the configured arrival rate whether or not earlier ones have
answered (a closed loop would slow down exactly when the platform does, and hide the problem).

Records what it saw (status counts, latency percentiles, per-second series) in bounded memory, so
tests and benchmarks can check the platform from the user's side.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import math
import random
import signal
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from healops import eventloop
from healops.config import write_json_atomic
from healops.processes import exit_when_parent_dies
from workloads.downstream import NO_ANSWER, plain_session


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # ``{n}`` is replaced by a random id
    weight: float
    ids: int = 1000

    def concrete(self, rng: random.Random) -> str:
        return self.path.replace("{n}", str(rng.randint(1, self.ids)))


DEFAULT_MIX: tuple[Route, ...] = (
    Route("GET", "/api/patients/{n}", 30),
    Route("POST", "/api/robots/{n}/telemetry", 25, ids=200),
    Route("POST", "/api/workflows", 15),
    Route("GET", "/api/reports", 10),
    Route("POST", "/api/login", 10),
    Route("GET", "/api/home", 10),
)

# Log-spaced latency buckets from 0.1 ms to ~60 s: bounded memory, ~5 % resolution.
_BOUNDS = [0.0001 * 1.05**i for i in range(int(math.log(600_000) / math.log(1.05)) + 2)]


@dataclass
class LatencyHistogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(_BOUNDS) + 1))
    total: int = 0

    def add(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(_BOUNDS, seconds)] += 1
        self.total += 1

    def quantile(self, q: float) -> float | None:
        if not self.total:
            return None
        rank, seen = q * self.total, 0
        for i, c in enumerate(self.counts):
            seen += c
            if seen >= rank and c:
                return _BOUNDS[min(i, len(_BOUNDS) - 1)]
        return _BOUNDS[-1]


@dataclass
class Second:
    at: int
    sent: int = 0
    ok: int = 0
    errors: int = 0


@dataclass
class LoadStats:
    started_at: float = field(default_factory=time.time)
    sent: int = 0
    completed: int = 0
    dropped: int = 0
    transport_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_route: dict[str, Counter[int]] = field(default_factory=dict)
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    seconds: deque[Second] = field(default_factory=lambda: deque(maxlen=3600))

    def _second(self, now: float) -> Second:
        at = int(now)
        if not self.seconds or self.seconds[-1].at != at:
            self.seconds.append(Second(at))
        return self.seconds[-1]

    def record(self, route: str, status: int | None, seconds: float, now: float) -> None:
        self.completed += 1
        sec = self._second(now)
        if status is None:
            self.transport_errors += 1
            sec.errors += 1
            return
        self.statuses[status] += 1
        self.by_route.setdefault(route, Counter())[status] += 1
        self.latency.add(seconds)
        if status >= 500:
            sec.errors += 1
        else:
            sec.ok += 1

    def summary(self) -> dict[str, Any]:
        failed = self.transport_errors + sum(c for s, c in self.statuses.items() if s >= 500)
        elapsed = max(1e-9, time.time() - self.started_at)
        q = self.latency.quantile
        return {
            "elapsed_s": round(elapsed, 1), "sent": self.sent, "completed": self.completed,
            "dropped": self.dropped, "achieved_rps": round(self.sent / elapsed, 2),
            "error_ratio": round(failed / self.completed, 4) if self.completed else 0.0,
            "transport_errors": self.transport_errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "by_route": {r: {str(k): v for k, v in c.items()} for r, c in self.by_route.items()},
            "latency_ms": {name: (round(v * 1000, 2) if v is not None else None)
                           for name, v in (("p50", q(0.5)), ("p95", q(0.95)), ("p99", q(0.99)))},
            "last_seconds": [vars(s) for s in list(self.seconds)[-60:]],
        }


@dataclass
class LoadGenerator:
    target: str
    rps: float
    mix: tuple[Route, ...] = DEFAULT_MIX
    daily_amplitude: float = 0.0  # 0.5: rate swings between 50 % and 150 % of ``rps``
    daily_period_s: float = 600.0  # one compressed "day"
    max_in_flight: int = 500
    timeout_s: float = 5.0
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], float] = time.monotonic
    stats: LoadStats = field(default_factory=LoadStats)
    _in_flight: int = 0

    def rate_at(self, elapsed_s: float) -> float:
        swing = math.sin(2 * math.pi * elapsed_s / self.daily_period_s) if self.daily_amplitude else 0.0
        return max(0.0, self.rps * (1 + self.daily_amplitude * swing))

    async def _one(self, client: aiohttp.ClientSession, route: Route) -> None:
        self._in_flight += 1
        start = time.perf_counter()
        status: int | None
        try:
            async with client.request(route.method, self.target.rstrip("/") + route.concrete(self.rng),
                                      timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as resp:
                await resp.read()
                status = resp.status
        except NO_ANSWER:
            status = None
        finally:
            self._in_flight -= 1
        self.stats.record(f"{route.method} {route.path}", status, time.perf_counter() - start, time.time())

    async def run(self, duration_s: float | None = None, stop: asyncio.Event | None = None) -> LoadStats:
        stop = stop or asyncio.Event()
        weights = [r.weight for r in self.mix]
        tasks: set[asyncio.Task[None]] = set()
        # aiohttp, not httpx: a quarter of the client CPU per request (bench/http_client.py), so the
        # generator's own overhead stays out of the latency it measures.
        async with plain_session(limit=self.max_in_flight) as client:
            t0 = self.clock()
            next_at = t0
            while not stop.is_set() and (duration_s is None or self.clock() - t0 < duration_s):
                rate = self.rate_at(self.clock() - t0)
                if rate <= 0:
                    await asyncio.sleep(0.2)
                    next_at = self.clock()
                    continue
                next_at += 1.0 / rate
                delay = next_at - self.clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.stats.sent += 1
                self.stats._second(time.time()).sent += 1
                if self._in_flight >= self.max_in_flight:
                    self.stats.dropped += 1
                    continue
                task = asyncio.create_task(self._one(client, self.rng.choices(self.mix, weights)[0]))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.wait(tasks, timeout=self.timeout_s + 1)
        return self.stats


async def _main(args: argparse.Namespace) -> None:
    gen = LoadGenerator(args.target, args.rps, daily_amplitude=args.daily_amplitude,
                        daily_period_s=args.daily_period_s)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def report() -> None:
        while True:
            if args.stats_file:
                write_json_atomic(args.stats_file, gen.stats.summary())
            await asyncio.sleep(1.0)

    reporter = asyncio.create_task(report())
    await gen.run(args.duration, stop)
    reporter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reporter
    if args.stats_file:
        write_json_atomic(args.stats_file, gen.stats.summary())


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="workloads.loadgen", description="open-loop load generator")
    p.add_argument("--target", required=True)
    p.add_argument("--rps", type=float, default=20.0)
    p.add_argument("--duration", type=float, default=None)
    p.add_argument("--daily-amplitude", type=float, default=0.0)
    p.add_argument("--daily-period-s", type=float, default=600.0)
    p.add_argument("--stats-file", type=Path, default=None)
    p.add_argument("--parent-pid", type=int, default=None)
    args = p.parse_args(argv)
    if args.parent_pid:
        exit_when_parent_dies(args.parent_pid)
    eventloop.run(_main(args))


if __name__ == "__main__":
    main()
