"""The gateway's protections, driven by the desired state: per-route rate limits and a circuit
breaker per downstream. Both are plain state machines with an injected clock, tested without sleeps."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from workloads.manifest import CircuitBreaker as BreakerPolicy


@dataclass
class TokenBucket:
    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = -1.0
    _last: float = 0.0

    def take(self) -> float:
        """Take one token; return 0 when allowed, else seconds until one is available."""
        now = self.clock()
        if self._tokens < 0:
            self._tokens, self._last = self.burst, now
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, route: str, rps: float | None) -> float:
        if rps is None:
            return 0.0
        bucket = self._buckets.get(route)
        if bucket is None or bucket.rate != rps:
            bucket = self._buckets[route] = TokenBucket(rps, max(1.0, rps), self.clock)
        return bucket.take()


State = Literal["closed", "open", "half_open", "forced_open"]


@dataclass
class Breaker:
    """Closed -> open when the failure ratio over the window passes the policy; half-open after
    ``open_seconds`` lets one probe through; ``forceOpen`` in the desired state pins it open."""

    policy: BreakerPolicy
    clock: Callable[[], float] = time.monotonic
    state: State = "closed"
    _outcomes: deque[tuple[float, bool]] = field(default_factory=deque)
    _opened_at: float = 0.0
    _probe_in_flight: bool = False

    def allow(self) -> bool:
        if self.policy.force_open:
            self.state = "forced_open"
            return False
        if self.state == "forced_open":
            self.state = "closed"
        now = self.clock()
        if self.state == "open" and now - self._opened_at >= self.policy.open_seconds:
            self.state, self._probe_in_flight = "half_open", False
        if self.state == "open":
            return False
        if self.state == "half_open":
            if self._probe_in_flight:
                return False
            self._probe_in_flight = True
        return True

    def record(self, ok: bool) -> None:
        now = self.clock()
        if self.state == "half_open":
            self._probe_in_flight = False
            if ok:
                self.state = "closed"
                self._outcomes.clear()
            else:
                self._open(now)
            return
        self._outcomes.append((now, ok))
        while self._outcomes and now - self._outcomes[0][0] > self.policy.window_seconds:
            self._outcomes.popleft()
        total = len(self._outcomes)
        failures = sum(1 for _, good in self._outcomes if not good)
        if total >= self.policy.min_requests and failures / total >= self.policy.failure_ratio:
            self._open(now)

    def _open(self, now: float) -> None:
        self.state, self._opened_at = "open", now
        self._outcomes.clear()


class Breakers:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._breakers: dict[str, Breaker] = {}

    def get(self, downstream: str, policy: BreakerPolicy | None) -> Breaker | None:
        if policy is None:
            return None
        breaker = self._breakers.get(downstream)
        if breaker is None:
            breaker = self._breakers[downstream] = Breaker(policy, self.clock)
        breaker.policy = policy
        return breaker

    def states(self) -> dict[str, str]:
        return {name: b.state for name, b in self._breakers.items()}
