"""Rate limiter and circuit breaker state machines, on an injected clock."""

from __future__ import annotations

from workloads.gateway_policy import Breaker, RateLimiter
from workloads.manifest import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def state(b: Breaker) -> str:
    """Read the state afresh (mypy would otherwise keep an earlier narrowing across calls)."""
    return b.state


def test_token_bucket_allows_rate_and_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert [limiter.check("/r", 5) for _ in range(5)] == [0.0] * 5
    wait = limiter.check("/r", 5)
    assert 0.15 < wait <= 0.2
    clock.now += 1.0
    assert limiter.check("/r", 5) == 0.0
    assert limiter.check("/other", None) == 0.0


def test_breaker_opens_on_failure_ratio_then_half_opens_and_closes() -> None:
    clock = Clock()
    b = Breaker(CircuitBreaker(failure_ratio=0.5, min_requests=4, window_seconds=10, open_seconds=5), clock)
    for ok in (True, False, False, True):
        assert b.allow()
        b.record(ok)
    assert b.state == "open" and not b.allow()
    clock.now += 5
    assert b.allow() and state(b) == "half_open"
    assert not b.allow(), "only one probe at a time while half-open"
    b.record(True)
    assert state(b) == "closed" and b.allow()


def test_breaker_failed_probe_reopens() -> None:
    clock = Clock()
    b = Breaker(CircuitBreaker(min_requests=1, failure_ratio=1.0, open_seconds=2), clock)
    b.record(False)
    clock.now += 2
    assert b.allow()
    b.record(False)
    assert b.state == "open"


def test_old_outcomes_leave_the_window() -> None:
    clock = Clock()
    b = Breaker(CircuitBreaker(failure_ratio=0.5, min_requests=4, window_seconds=10), clock)
    for _ in range(3):
        b.record(False)
    clock.now += 11
    b.record(False)
    assert b.state == "closed", "three failures 11 s ago are outside the window"


def test_force_open_from_desired_state() -> None:
    b = Breaker(CircuitBreaker(force_open=True))
    assert not b.allow() and b.state == "forced_open"
    b.policy = CircuitBreaker()
    assert b.allow() and state(b) == "closed"
