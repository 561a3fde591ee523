"""A second opinion on how rare a raw score is, from the series' own tail (peaks over threshold).

:class:`~detectors.likelihood.Likelihood` models raw scores as Gaussian, which is overconfident on
bursty series (tweet and request counts, spiky CPU): there a z of 6 turns up every few hundred
points, yet the Gaussian calls it one in a billion. This check tracks a high quantile ``u`` of the raw
scores (stochastic approximation) and the mean excess over it, and models the tail past ``u`` as
exponential (the generalised Pareto with shape 0, as in SPOT, Siffer et al. 2017): a raw score ``r``
past ``u`` has probability ``(1 - q) * exp(-(r - u) / mean_excess)``.

A fitted tail is dominated by the many small exceedances, so a spike that comes back at the same
height every day (a cron job, a nightly backup) still looks one in a million under it. The check
therefore also counts the recent *episodes* past ``u`` (runs of exceedances, each kept as its peak)
whose peak came within ``near`` of ``r``, and takes the larger of the two probabilities: after
``repeats`` earlier like episodes (a real incident may well recur once or twice), each further one
makes ``r`` less rare. The score is on the likelihood's log scale (1 at a one-in-ten-billion tail). On
NAB, capping the deviation view at the square root of this score took the default detector from
65.1 / 51.3 / 71.6 to 67.5 / 58.2 / 73.7 with the fitted tail alone, and to 68.8 / 60.1 / 74.3 with
the episodes (standard / low FP / low FN; BENCHMARKS.md). In the four-view ensemble the cap is the
score to the power 0.4 (``DeviationDetector.tail_power``): 71.9 / 63.3 / 77.5 -> 73.4 / 64.0 / 78.5.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from detectors.likelihood import log_scale


@dataclass(slots=True)
class TailCheck:
    quantile: float = 0.98
    step: float = 0.01  # how fast the quantile estimate moves, in units of the mean excess
    excess_alpha: float = 0.003  # ~330 exceedances of memory for the mean excess
    warmup: int = 100
    horizon: int = 3000  # points an episode is remembered (<= horizon / (merge + 1) of them; 0: fitted tail only)
    repeats: int = 2  # like episodes forgiven before they make a raw score common
    near: float = 0.2  # an episode is like ``r`` when its peak reaches r - near (raw scores are log1p(z))
    merge: int = 5  # exceedances at most this many points apart are one episode
    _u: float = 0.0
    _excess: float = 0.1
    _n: int = 0
    _episodes: deque[tuple[int, float]] = field(default_factory=deque)  # (last point, peak raw)

    def score(self, raw: float) -> float:
        """How rare ``raw`` is under the fitted tail and the recent episodes, on [0, 1]: 0 at or below
        the quantile, 1 (no opinion, so no cap) during the warm-up."""
        if self._n < self.warmup:
            return 1.0
        if raw <= self._u:
            return 0.0
        excess = self._excess if self._excess >= 1e-3 else 1e-3
        tail = (1.0 - self.quantile) * math.exp(-(raw - self._u) / excess)
        like = -self.repeats
        floor = raw - self.near
        for _, peak in self._episodes:
            if peak >= floor:
                like += 1
        if like > 0:
            seen = like / (self._n if self._n < self.horizon else self.horizon)
            if seen > tail:
                tail = seen
        return log_scale(tail)

    # Hot path (every point of every series): comparisons instead of max() calls, the same values.
    def learn(self, raw: float) -> None:
        n = self._n + 1
        episodes = self._episodes
        if raw > self._u and self._n >= self.warmup:
            if episodes and n - episodes[-1][0] <= self.merge:
                peak = episodes[-1][1]
                episodes[-1] = (n, raw if raw > peak else peak)
            else:
                episodes.append((n, raw))
        while episodes and episodes[0][0] <= n - self.horizon:
            episodes.popleft()
        self._n = n
        above = raw > self._u
        scale = self._excess if self._excess >= 0.05 else 0.05
        self._u += self.step * ((1.0 if above else 0.0) - (1.0 - self.quantile)) * scale
        if raw > self._u:
            self._excess += self.excess_alpha * ((raw - self._u) - self._excess)
