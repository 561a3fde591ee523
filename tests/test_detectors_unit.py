"""Alert hysteresis, likelihood calibration, and the default detector's handling of incidents."""

from __future__ import annotations

import random

import pytest

from detectors.alerting import HysteresisAlert
from detectors.default import DefaultDetector
from detectors.likelihood import Likelihood


def test_hysteresis_opens_at_on_and_closes_after_hold_points_below_off() -> None:
    alert = HysteresisAlert(on=0.9, off=0.5, hold=3)
    seq = [0.2, 0.95, 0.6, 0.4, 0.7, 0.4, 0.4, 0.4, 0.8]
    assert [alert.update(s) for s in seq] == [False, True, True, True, True, True, True, False, False]
    with pytest.raises(ValueError):
        HysteresisAlert(on=0.5, off=0.9)


def test_likelihood_is_calibrated_across_scales() -> None:
    """Two series whose raw scores differ 10x in scale get the same likelihood for the same surprise."""
    rng = random.Random(3)
    small, large = Likelihood(short_window=1), Likelihood(short_window=1)  # as the default detector uses it
    for _ in range(2000):
        r = abs(rng.gauss(0, 1))
        small.learn(r)
        large.learn(r * 10)
    assert small.score(5.0) == pytest.approx(large.score(50.0), abs=0.02)
    assert large.score(50.0) > 0.5 > large.score(10.0)


def test_a_flat_series_does_not_flood_alerts_on_a_tiny_blip() -> None:
    """A zero-variance history must not make every small change look infinitely surprising."""
    flat = Likelihood(short_window=1)
    for _ in range(500):
        flat.learn(0.0)
    assert flat.score(0.01) < 0.05
    assert flat.score(2.0) > 0.9


def test_an_ongoing_incident_is_not_learnt_as_normal() -> None:
    rng = random.Random(5)
    d = DefaultDetector()
    for _ in range(1500):
        x = {"value": 100 + rng.gauss(0, 1)}
        d.score_one(x)
        d.learn_one(x)
    assert d.seasonal.period == 0  # no cycle, so the deviation view is the one learning
    mean_before = d.deviation._level.mean
    for _ in range(100):  # latency jumps 5x and stays there
        x = {"value": 500 + rng.gauss(0, 1)}
        d.score_one(x)
        d.learn_one(x)
    assert d.deviation._level.mean < mean_before + 0.2 * 400, "the level must not chase the incident"


def test_spike_scores_high_and_normal_points_low() -> None:
    rng = random.Random(9)
    d = DefaultDetector()
    normal = []
    for _ in range(2000):
        x = {"value": 50 + rng.gauss(0, 2)}
        normal.append(d.score_one(x))
        d.learn_one(x)
    spike = d.score_one({"value": 90.0})
    assert spike > 0.9
    assert sorted(normal[500:])[int(0.99 * 1500)] < spike
