"""Multi-window burn-rate rules on synthetic steps: both windows must burn, the short window ends
the alert soon after the trouble, and a cold start does not page."""

from __future__ import annotations

from detectors.burn_rate import BurnRateEvaluator
from detectors.openslo import DEFAULT_DIR, load_slos
from healops.events import Signal

SVC = (("service", "identity"),)


def _evaluator() -> BurnRateEvaluator:
    slos = [s for s in load_slos([DEFAULT_DIR], time_scale=120) if s.service == "identity"]
    return BurnRateEvaluator(slos)


def _step(ev: BurnRateEvaluator, t: int, rps: float, errors: float, slow: float = 0.0) -> list[Signal]:
    return ev.on_step(float(t), {("red.requests_per_s", SVC): rps, ("red.errors_per_s", SVC): errors,
                                 ("red.slow_per_s", (*SVC, ("threshold_ms", "50"))): slow})


def test_error_burst_pages_then_clears_on_the_short_window() -> None:
    ev = _evaluator()
    for t in range(100):
        assert _step(ev, t, 10, 0) == []
    fired = [s for t in range(100, 104) for s in _step(ev, t, 10, 3)]  # 30 % errors: ~300x burn
    pages = [s for s in fired if s.firing and s.severity == "critical" and "availability" in s.metric]
    assert pages and pages[0].labels["opens"] == "true"
    cleared = [s for t in range(104, 110) for s in _step(ev, t, 10, 0) if not s.firing]
    assert any("14.4x" in s.key for s in cleared)  # the 2.5 s window recovered within a few steps


def test_slow_requests_burn_the_latency_slo() -> None:
    ev = _evaluator()
    for t in range(100):
        _step(ev, t, 10, 0, slow=0.05)  # 0.5 % slow: within a 1 % budget
    assert not any(rule["firing"] for slo in ev.status() for rule in slo["rules"])
    fired = [s for t in range(100, 110) for s in _step(ev, t, 10, 0, slow=5)]  # 50 % slow for 10 s
    assert any(s.firing and s.metric == "identity-latency" for s in fired)


def test_a_cold_start_does_not_page() -> None:
    ev = _evaluator()
    out = [s for t in range(10) for s in _step(ev, t, 2, 1)]  # the first seconds are all bad
    assert [s for s in out if s.severity == "critical"] == []


def test_thresholds_for_the_collector() -> None:
    assert _evaluator().thresholds_ms() == {50.0}


def test_a_cold_start_is_not_counted_against_the_slo() -> None:
    """Every request of the first minute fails (a cold start): with the start-up grace nothing fires;
    the same failures after the grace page as usual."""
    slos = [s for s in load_slos([DEFAULT_DIR], time_scale=120) if s.service == "identity"]
    ev = BurnRateEvaluator(slos, startup_grace_s=60.0)
    fired = [(t, s) for t in range(130) for s in _step(ev, t, 10, 3 if t < 60 or t >= 110 else 0) if s.firing]
    assert fired and min(t for t, _ in fired) >= 110
