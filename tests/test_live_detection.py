"""Live scoring on synthetic steps: a sustained shift fires after two of three steps, a single spike
does not, the baseline does not learn an ongoing incident, and a steady service going silent is
noticed."""

from __future__ import annotations

import random

from collectors import names
from collectors.replica_cpu import SERVICE_CPU_PER_REPLICA
from collectors.series_store import Labels, SeriesStore
from detectors.live import LiveDetection
from detectors.series_watch import SeriesWatch, WatchRule
from healops.events import Signal

SVC = (("service", "healthcare"),)


def _noise(rng: random.Random, n: int, mean: float = 30.0, sd: float = 5.0) -> list[float]:
    return [max(1.0, rng.gauss(mean, sd)) for _ in range(n)]


def test_sustained_latency_shift_fires_on_the_second_step_and_clears_after_hold() -> None:
    rng = random.Random(1)
    w = SeriesWatch(WatchRule("latency", delta=30.0, ratio=2.0))
    for v in _noise(rng, 200):
        assert not w.update(v).firing
    first, second = w.update(160.0), w.update(170.0)
    assert not first.firing and second.firing and second.changed
    for _ in range(20):
        w.update(165.0)
    assert w.firing and w.baseline is not None and w.baseline < 45  # the incident is not the new normal
    verdicts = [w.update(v) for v in _noise(rng, 6)]
    assert [v.changed for v in verdicts].count(True) == 1 and not w.firing


def test_one_spike_is_not_an_incident() -> None:
    rng = random.Random(2)
    w = SeriesWatch(WatchRule("latency", delta=30.0, ratio=2.0))
    for v in _noise(rng, 200):
        w.update(v)
    assert not w.update(400.0).firing
    assert not any(w.update(v).firing for v in _noise(rng, 10))


def test_a_surprising_but_small_move_is_not_an_incident() -> None:
    w = SeriesWatch(WatchRule("latency", delta=30.0, ratio=2.0))
    for _ in range(200):
        w.update(10.0)
    assert not any(w.update(14.0).firing for _ in range(5))  # +40 % of 10 ms: surprising, harmless


def _steps(live: LiveDetection, start: int, n: int, p99: float, rps: float = 5.0) -> list[Signal]:
    out: list[Signal] = []
    for t in range(start, start + n):
        written: dict[tuple[str, Labels], float] = (
            {(names.RED_P50, SVC): p99, (names.RED_REQUESTS, SVC): rps} if rps else {})
        out.extend(live.on_step(float(t), written))
    return out


def test_live_detection_emits_signals_that_can_open_incidents() -> None:
    live = LiveDetection(clock=lambda: 0.0)
    rng = random.Random(3)
    for t in range(100):
        live.on_step(float(t), {(names.RED_P50, SVC): rng.gauss(30, 4), (names.RED_REQUESTS, SVC): 5.0})
    fired = _steps(live, 100, 3, 250.0)
    assert [(s.metric, s.service, s.labels["opens"]) for s in fired if s.firing] == [
        (names.RED_P50, "healthcare", "true")]
    assert live.scored_points >= 200


def test_a_steady_service_that_goes_silent_is_evidence() -> None:
    live = LiveDetection(clock=lambda: 0.0)
    _steps(live, 0, 40, 30.0, rps=5.0)
    silent = _steps(live, 40, 6, 30.0, rps=0.0)
    assert [s.labels["kind"] for s in silent] == ["silence"]
    back = _steps(live, 46, 1, 30.0, rps=5.0)
    assert any(s.labels["kind"] == "silence" and not s.firing for s in back)


def test_a_firing_series_that_stops_is_cleared_then_forgotten() -> None:
    now = [0.0]
    live = LiveDetection(clock=lambda: now[0])
    rng = random.Random(4)
    for t in range(60):
        now[0] = t
        live.on_step(float(t), {(names.RED_P50, SVC): rng.gauss(30, 3), (names.RED_REQUESTS, SVC): 5.0})
    for t in range(60, 63):
        now[0] = t
        live.on_step(float(t), {(names.RED_P50, SVC): 300.0, (names.RED_REQUESTS, SVC): 5.0})
    assert live.firing() == [(names.RED_P50, SVC)]
    now[0] = 70.0
    assert live.expire() == []
    now[0] = 80.0
    cleared = live.expire()
    assert [(s.metric, s.firing) for s in cleared] == [(names.RED_P50, False)] and live.firing() == []
    now[0] = 700.0
    live.expire()
    assert live.watches == {}


def test_a_big_incident_does_not_blind_the_watch_to_the_next_one() -> None:
    rng = random.Random(5)
    w = SeriesWatch(WatchRule("latency", delta=20.0, ratio=2.0))
    for v in _noise(rng, 100, mean=25):
        w.update(v)
    for _ in range(20):
        w.update(2000.0)  # a hang: callers time out at 2 s
    for v in _noise(rng, 60, mean=25):
        w.update(v)
    assert not w.firing
    assert any(w.update(v).firing for v in (125.0, 126.0, 124.0))  # then a 100 ms latency fault


def test_a_service_cpu_step_across_a_deploy_opens_a_cpu_signal() -> None:
    """The cores-per-replica series is scored as the process metrics are: a step from 0.05 to 0.6
    cores per replica (a release that only burns CPU) fires a cpu signal that may open an incident."""
    store = SeriesStore(step_s=1, retention_s=300)
    live = LiveDetection(clock=lambda: 0.0)
    rng = random.Random(5)
    fired: list[Signal] = []
    for t in range(100):
        value = max(0.0, rng.gauss(0.05, 0.01)) if t < 80 else rng.gauss(0.6, 0.05)
        store.put(SERVICE_CPU_PER_REPLICA, SVC, float(t), value)
        fired += [s for s in live.poll_process_metrics(store) if s.firing]
    assert fired, "the CPU step was not seen"
    first = fired[0]
    assert first.service == "healthcare" and first.labels["kind"] == "cpu" and first.labels["opens"] == "true"
    assert first.at <= 83.0  # the second point past the floor
