"""The peaks-over-threshold check that caps the deviation view on bursty series."""

from __future__ import annotations

import math
import random

from detectors.base import score_stream
from detectors.deviation import DeviationDetector
from detectors.likelihood import Likelihood
from detectors.tail import TailCheck


def test_it_learns_the_quantile_and_mean_excess_of_an_exponential_tail() -> None:
    rng = random.Random(7)
    tail = TailCheck()
    for _ in range(60_000):
        tail.learn(rng.expovariate(1.0))
    # an exponential(1): 98th percentile ln(50) = 3.91, mean excess over any threshold 1
    assert abs(tail._u - math.log(50)) < 0.3
    assert abs(tail._excess - 1.0) < 0.2
    # so a raw score 3 mean excesses past the quantile has probability 0.02 * e^-3 = 1e-3
    expected = math.log(0.02 * math.exp(-3.0)) / math.log(1e-10)
    assert abs(tail.score(tail._u + 3.0 * tail._excess) - expected) < 1e-6  # up to the 1e-10 floor inside the log


def test_no_cap_during_warm_up_and_nothing_at_or_below_the_quantile() -> None:
    tail = TailCheck(warmup=10)
    assert tail.score(5.0) == 1.0
    for _ in range(10):
        tail.learn(1.0)
    assert tail.score(tail._u) == 0.0
    assert tail.score(tail._u + 10.0) > 0.0


def _bursty(n: int, seed: int) -> list[float]:
    """A count series with a heavy-tailed burst every few hundred points, as tweet volumes have."""
    rng = random.Random(seed)
    return [50.0 + rng.gauss(0.0, 5.0) + (rng.paretovariate(1.5) * 40.0 if rng.random() < 0.004 else 0.0)
            for _ in range(n)]


def test_recurring_bursts_score_lower_with_the_check_and_a_burst_past_all_of_them_still_alarms() -> None:
    values = _bursty(20_000, seed=3)
    biggest = max(values)
    values += [50.0] * 50 + [biggest * 5.0]
    with_check = score_stream(DeviationDetector(onset_window=0), values)
    gaussian_only = score_stream(
        DeviationDetector(onset_window=0, tail=None, likelihood=Likelihood(short_window=1)), values)
    bursts = [i for i in range(5_000, 20_000) if values[i] > 100.0]
    assert len(bursts) > 20
    alarms_with = sum(with_check[i] >= 0.6 for i in bursts)
    alarms_without = sum(gaussian_only[i] >= 0.6 for i in bursts)
    assert alarms_without > len(bursts) // 2  # the Gaussian calls most ordinary bursts one in a million
    assert alarms_with < alarms_without / 2
    assert with_check[-1] >= 0.6  # five times the largest burst yet
