"""A second opinion on how rare a raw score is, from the series' own tail (peaks over threshold).

:class:`~detectors.likelihood.Likelihood` models raw scores as Gaussian, which is overconfident on
bursty series (tweet and request counts, spiky CPU): there a z of 6 turns up every few hundred
points, yet the Gaussian calls it one in a billion. This check tracks a high quantile ``u`` of the raw
scores (stochastic approximation) and the mean excess over it, and models the tail past ``u`` as
exponential (the generalised Pareto with shape 0, as in SPOT, Siffer et al. 2017): a raw score ``r``
past ``u`` has probability ``(1 - q) * exp(-(r - u) / mean_excess)``. It is reported on the
likelihood's log scale (1 at a one-in-ten-billion tail). On NAB, capping the deviation view's score at
the square root of this one took the default detector from 65.1 / 51.3 / 71.6 to 67.5 / 58.2 / 73.7
(standard / low FP / low FN; BENCHMARKS.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from detectors.likelihood import log_scale


@dataclass(slots=True)
class TailCheck:
    quantile: float = 0.98
    step: float = 0.01  # how fast the quantile estimate moves, in units of the mean excess
    excess_alpha: float = 0.003  # ~330 exceedances of memory for the mean excess
    warmup: int = 100
    _u: float = 0.0
    _excess: float = 0.1
    _n: int = 0

    def score(self, raw: float) -> float:
        """How rare ``raw`` is under the exponential tail, on [0, 1]: 0 at or below the quantile, 1
        (no opinion, so no cap) during the warm-up."""
        if self._n < self.warmup:
            return 1.0
        if raw <= self._u:
            return 0.0
        return log_scale((1.0 - self.quantile) * math.exp(-(raw - self._u) / max(self._excess, 1e-3)))

    def learn(self, raw: float) -> None:
        self._n += 1
        above = raw > self._u
        self._u += self.step * ((1.0 if above else 0.0) - (1.0 - self.quantile)) * max(self._excess, 0.05)
        if raw > self._u:
            self._excess += self.excess_alpha * ((raw - self._u) - self._excess)
