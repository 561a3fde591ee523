"""bench/detect.py measures what its options say."""

from __future__ import annotations

from bench.detect import memory_per_series, series_values
from detectors.default import DefaultDetector


def test_detector_bench_measures_memory_on_the_series_it_was_asked_for() -> None:
    cycle = DefaultDetector()
    for v in series_values("noisy-cycle", 3200):
        cycle.learn(v)
    assert 240 <= cycle.seasonal.period <= 262  # the residual view is in use, as memory_per_series measures it
    labelled, _ = memory_per_series("default", "labelled", count=3)
    cyclic, _ = memory_per_series("default", "noisy-cycle", count=3)
    assert cyclic > labelled  # the seasonal view's own deviation detector is counted
