"""The peaks-over-threshold check that caps the deviation view on bursty series."""

from __future__ import annotations

import math
import random

from detectors.base import score_stream
from detectors.deviation import DeviationDetector
from detectors.likelihood import Likelihood
from detectors.series_watch import WatchRule
from detectors.tail import TailCheck


def test_it_learns_the_quantile_and_mean_excess_of_an_exponential_tail() -> None:
    rng = random.Random(7)
    tail = TailCheck(horizon=0)  # the fitted tail alone, no episodes
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


def _cron(days: int, seed: int, period: int = 288, height: float = 1.5) -> list[float]:
    """CPU at 0.12 with noise, and a job that spikes it to ``height`` once a day, at the same height."""
    rng = random.Random(seed)
    return [(height + rng.gauss(0.0, 0.03)) if i % period == period // 2 else 0.12 + rng.gauss(0.0, 0.02)
            for i in range(days * period)]


def test_a_spike_that_recurs_at_the_same_height_stops_alarming_and_a_higher_one_still_does() -> None:
    values = _cron(12, seed=5)
    values[-20] = 4.5  # three times the daily spike, late in the twelfth day
    detector = DeviationDetector(onset_window=0)
    scores = score_stream(detector, values)
    daily = [scores[i] for i in range(144, len(values), 288)]
    assert min(daily[:3]) >= 0.6  # the first days: nothing like it yet, so it is news
    # under the live watches' gate and NAB's chosen threshold (0.604): by now it is the job, not an incident
    assert max(daily[-4:]) < WatchRule("latency").min_score
    assert scores[-20] >= 0.6
    fitted_only = score_stream(DeviationDetector(onset_window=0, tail=TailCheck(horizon=0)), values)
    # the fitted tail alone never learns it: the many small exceedances set its scale
    assert min(fitted_only[i] for i in range(144 + 288 * 8, len(values), 288)) >= 0.6


def test_a_run_of_exceedances_is_one_episode_and_the_memory_is_bounded() -> None:
    tail = TailCheck(warmup=10, horizon=600)
    for _ in range(50):
        tail.learn(0.0)
    for raw in (5.0, 7.0, 6.0):  # consecutive points past the quantile: one episode, its peak 7
        tail.learn(raw)
    assert list(tail._episodes)[-1][1] == 7.0 and len(tail._episodes) == 1
    rng = random.Random(1)
    for _ in range(20_000):
        tail.learn(rng.expovariate(1.0))
    assert 0 < len(tail._episodes) <= 600 // (tail.merge + 1) + 1
    assert all(t > tail._n - 600 for t, _ in tail._episodes)
