"""Anomaly likelihood: turns any raw score stream into a calibrated [0, 1] score on the same scale for
every series (one threshold must serve all of them).

The idea is HTM's (Ahmad et al. 2017): model the recent distribution of raw scores as a Gaussian
(exponentially weighted mean and variance), average the last few raw scores, and report how far in
the tail that average sits: log(Q(z)) / log(1e-10), so a one-in-ten-billion tail scores 1. A series
that is always noisy gets high raw scores all the time, and so low likelihoods; only a change in how
anomalous it is scores near 1.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

_EPS = 1e-10
_LOG_EPS = math.log(_EPS)


def log_scale(tail: float) -> float:
    """A tail probability on HTM's log-likelihood scale: 1 at one in ten billion (or rarer), 0 at 1.
    Resolution where it matters (tails of 1e-3 to 1e-10) instead of every strong anomaly rounding to
    exactly 1.0; shared by every calibrator so their scores compare."""
    score = math.log(tail + _EPS) / _LOG_EPS
    return score if score < 1.0 else 1.0


@dataclass(slots=True)
class Likelihood:
    long_alpha: float = 0.002  # ~500-point memory of the raw-score distribution
    short_window: int = 5
    min_std: float = 0.05
    warmup: int = 100
    _mean: float = 0.0
    _var: float = 0.0
    _n: int = 0
    _recent: deque[float] = field(default_factory=deque)
    _recent_sum: float = 0.0

    def score(self, raw: float) -> float:
        """The likelihood of ``raw`` joining the recent raw scores; changes nothing."""
        if self._n < self.warmup:
            return 0.0
        full = len(self._recent) >= self.short_window
        total = self._recent_sum + raw - (self._recent[0] if full else 0.0)
        avg = total / (len(self._recent) + (0 if full else 1))
        sd = math.sqrt(self._var)
        z = (avg - self._mean) / (sd if sd >= self.min_std else self.min_std)
        return log_scale(0.5 * math.erfc(z / math.sqrt(2.0)))  # P(a normal draw exceeds z)

    def learn(self, raw: float) -> None:
        self._recent.append(raw)
        self._recent_sum += raw
        if len(self._recent) > self.short_window:
            self._recent_sum -= self._recent.popleft()
        self._n += 1
        inv = 1.0 / self._n
        a = self.long_alpha if self.long_alpha >= inv else inv
        delta = raw - self._mean
        self._mean += a * delta
        self._var = (1 - a) * (self._var + a * delta * delta)
