"""FaultState semantics with an injected clock: expiry, release defects, each effect's arithmetic."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from workloads.faults import FAULT_ADAPTER, FaultState
from workloads.saturation import ArrivalMeter, TokenQueue


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def spec(**body: object):  # type: ignore[no-untyped-def]
    return FAULT_ADAPTER.validate_python(body)


def test_injected_fault_expires_and_release_defect_does_not() -> None:
    clock = Clock()
    state = FaultState(clock=clock, rng=random.Random(1))
    state.add(spec(kind="error_rate", rate=1.0, ttl_s=5))
    state.add(spec(kind="latency", ms=10, ttl_s=1), source="release")
    assert {f.spec.kind for f in state.active()} == {"error_rate", "latency"}
    clock.now += 5.01
    assert [f.spec.kind for f in state.active()] == ["latency"]
    assert state.clear() == 0, "clear() must never remove a release defect"
    assert state.active()[0].source == "release"


def test_clear_one_leaves_the_others() -> None:
    state = FaultState(clock=Clock())
    a = state.add(spec(kind="hang", ttl_s=10))
    state.add(spec(kind="hang", ttl_s=10))
    assert state.clear(a.id) == 1
    assert len(state.active()) == 1 and state.hanging()


def test_error_rate_is_a_rate() -> None:
    state = FaultState(clock=Clock(), rng=random.Random(7))
    state.add(spec(kind="error_rate", rate=0.3, status=503, ttl_s=60))
    outcomes = [state.error_status() for _ in range(4000)]
    assert {o for o in outcomes if o is not None} == {503}
    assert 0.26 < sum(o is not None for o in outcomes) / 4000 < 0.34


@pytest.mark.parametrize(("distribution", "lo", "hi"), [
    ("fixed", 0.099, 0.101), ("uniform", 0.095, 0.105), ("exponential", 0.09, 0.11), ("lognormal", 0.09, 0.11)])
def test_latency_distributions_have_the_requested_mean(distribution: str, lo: float, hi: float) -> None:
    state = FaultState(clock=Clock(), rng=random.Random(3))
    state.add(spec(kind="latency", ms=100, jitter_ms=20, distribution=distribution, ttl_s=60))
    draws = [state.extra_latency_s() for _ in range(5000)]
    assert lo < sum(draws) / len(draws) < hi
    assert min(draws) >= 0


def test_dependency_failure_targets_one_downstream() -> None:
    state = FaultState(clock=Clock())
    state.add(spec(kind="dependency_failure", target="identity", mode="timeout", ttl_s=60))
    assert state.dependency_failure("identity") == "timeout"
    assert state.dependency_failure("analytics") is None


def test_leak_grows_then_is_released_on_expiry() -> None:
    clock = Clock()
    state = FaultState(clock=clock)
    state.add(spec(kind="memory_leak", mb_per_s=10, max_mb=15, ttl_s=3))
    for _ in range(10):
        state.leak_step(0.5)
    assert 14.9 < state.leaked_mb() < 20.1, "leak must stop near max_mb"
    clock.now += 3.1
    state.leak_step(0.5)
    assert state.leaked_mb() == 0


def test_crash_exits_only_while_the_fault_is_active() -> None:
    codes: list[int] = []
    clock = Clock()
    state = FaultState(clock=clock, exit=codes.append)
    fault = state.add(spec(kind="crash", exit_code=3, delay_s=60, ttl_s=10))
    state._crash_if_active(fault.id, 3)
    assert codes == [3]
    clock.now += 11
    state._crash_if_active(fault.id, 3)
    assert codes == [3], "an expired crash fault must not fire"


def test_cpu_utilisation_adds_up_and_caps() -> None:
    state = FaultState(clock=Clock())
    state.add(spec(kind="cpu_burn", utilization=0.7, ttl_s=5))
    state.add(spec(kind="cpu_burn", utilization=0.7, ttl_s=5))
    assert state.cpu_utilization() == 1.0


@pytest.mark.parametrize("body", [
    {"kind": "latency", "ms": 10},                         # no expiry
    {"kind": "latency", "ms": 10, "ttl_s": 999_999},       # expiry beyond the cap
    {"kind": "error_rate", "rate": 1.5, "ttl_s": 5},       # not a rate
    {"kind": "crash", "ttl_s": 5, "command": "rm -rf /"},  # unknown field
    {"kind": "teleport", "ttl_s": 5},                      # unknown kind
])
def test_invalid_fault_specs_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FAULT_ADAPTER.validate_python(body)


def test_token_queue_serves_its_capacity_then_queues_then_sheds() -> None:
    clock = Clock()
    line = TokenQueue(capacity_rps=10, burst_s=0.5, max_wait_s=1.0, clock=clock)
    waits = [line.admit() for _ in range(5)]
    assert waits == [0.0] * 5, "a burst within capacity does not wait"
    queued = [w for _ in range(10) if (w := line.admit()) is not None]
    assert len(queued) == 10
    assert queued == sorted(queued) and queued[-1] == pytest.approx(1.0), "each waits behind the last"
    assert line.admit() is None, "past max_wait_s a request is shed, not queued"
    clock.now += 2.0  # the line drains at capacity
    assert line.admit() == 0.0


def test_token_queue_below_capacity_never_waits() -> None:
    clock = Clock()
    line = TokenQueue(capacity_rps=10, burst_s=1.0, max_wait_s=1.0, clock=clock)
    for _ in range(200):
        clock.now += 0.15  # 6.7 rps against 10
        assert line.admit() == 0.0


def test_arrival_meter_counts_the_recent_window() -> None:
    clock = Clock()
    meter = ArrivalMeter(window_s=10, clock=clock)
    for _ in range(100):
        clock.now += 0.1
        meter.note()
    assert meter.rate() == pytest.approx(10, rel=0.02)
    clock.now += 10.5
    assert meter.rate() == 0


def test_saturation_capacity_is_a_share_of_the_load_at_injection() -> None:
    state = FaultState(clock=Clock(), arrivals=ArrivalMeter(window_s=10, clock=(c := Clock())))
    for _ in range(60):
        c.now += 0.1
        state.arrivals.note()  # 10 rps
    fault = state.add(spec(kind="saturation", overload=2.0, ttl_s=60))
    assert fault.queue is not None and fault.queue.capacity_rps == pytest.approx(5, rel=0.05)
    assert fault.to_json()["capacity_rps"] == pytest.approx(5, rel=0.05)
    fixed = state.add(spec(kind="saturation", capacity_rps=3, ttl_s=60))
    assert fixed.queue is not None and fixed.queue.capacity_rps == 3
    assert state.saturation_wait_s() == 0.0
