"""How far a point deviates from what the series was just doing: the default detector's view of
non-seasonal series (see :mod:`detectors.default`); streaming, causal, O(1) per point.

Three raw views of each point, each a z-like distance from what the series was doing:
- level: distance of the value from an exponentially weighted mean, in EW standard deviations;
- change: distance of the step (value minus previous) from its usual size;
- shift: distance of a short moving mean from the long one (catches level shifts that each single
  step hides).
The largest view goes through :class:`~detectors.likelihood.Likelihood`, which calibrates it to
[0, 1] against the series' own history, capped by :class:`~detectors.tail.TailCheck` where the
series' own tail says such raw scores are not rare (bursty counts, a spike that recurs daily). A
score that is no higher than one of the last ``onset_window`` is halved, so an anomaly is reported
at its onset rather than at every point it lasts (on NAB: 20.5 without the onset rule, 27.9 with it,
40.0 with the settings below; see BENCHMARKS.md).

An incident does not become the level: the level learns from winsorised deviations, so a 5x jump
moves it by about 1 % of the jump in a hundred points (half of it in four hundred). The
calibrators do learn the incident's raw scores, so on its own the view's score fades as a lasting
anomaly goes on; that is what NAB rewards (freezing them while the view alarms scored 72.3 against
73.4), and live watches stop the whole detector learning while they fire
(:mod:`detectors.series_watch`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from detectors.base import OnValues
from detectors.likelihood import Likelihood
from detectors.onset import OnsetDamper
from detectors.tail import TailCheck


@dataclass(slots=True)
class _Ew:
    """Exponentially weighted mean and variance, learnt from deviations clipped at ``clip`` standard
    deviations (winsorised): one huge value moves them a little, a persistent new level is learnt over
    a few hundred points as the variance widens a few per cent a step, not in a handful."""

    alpha: float
    clip: float = 4.0
    warmup: int = 30
    mean: float = 0.0
    var: float = 0.0
    n: int = 0

    # Hot path (every point of every series): comparisons instead of max()/min() calls, the same values.
    def z(self, x: float, floor: float) -> float:
        if self.n < 2:
            return 0.0
        sd = math.sqrt(self.var)
        return abs(x - self.mean) / (sd if sd >= floor else floor)

    def learn(self, x: float) -> None:
        n = self.n = self.n + 1
        inv = 1.0 / n
        a = self.alpha if self.alpha >= inv else inv
        d = x - self.mean
        if n > self.warmup:
            bound = self.clip * math.sqrt(self.var)
            if d > bound:
                d = bound
            elif d < -bound:
                d = -bound
        self.mean += a * d
        self.var = (1 - a) * (self.var + a * d * d)


@dataclass(slots=True)
class DeviationDetector(OnValues):
    level_alpha: float = 0.003
    change_alpha: float = 0.003
    short: int = 8
    onset_window: int = 200  # report an anomaly at its onset, damped while it merely persists (0: off)
    likelihood: Likelihood = field(default_factory=lambda: Likelihood(short_window=1))
    tail: TailCheck | None = field(default_factory=TailCheck)  # caps the score on bursty series (None: off)
    tail_power: float = 0.4  # the cap is the tail check's score to this power (BENCHMARKS.md: grid 0.33-0.60)
    _level: _Ew = field(init=False)
    _change: _Ew = field(init=False)
    _prev: float | None = None
    _window: deque[float] = field(default_factory=deque)
    _window_sum: float = 0.0
    _last_score: float = 0.0
    _pending: tuple[float, float] | None = None  # (value, raw) scored but not learnt yet
    _onset: OnsetDamper = field(init=False)

    def __post_init__(self) -> None:
        self._level = _Ew(self.level_alpha)
        self._change = _Ew(self.change_alpha)
        self._onset = OnsetDamper(self.onset_window)

    def _raw(self, v: float) -> float:
        scale = abs(self._level.mean) * 1e-3
        if scale < 1e-9:
            scale = 1e-9
        level = self._level.z(v, scale)
        change = self._change.z(v - self._prev, scale) if self._prev is not None else 0.0
        if len(self._window) >= self.short:
            short_mean = (self._window_sum - self._window[0] + v) / self.short
            shift = self._level.z(short_mean, scale) * math.sqrt(self.short)
        else:
            shift = 0.0
        worst = level if level >= change else change
        shift /= 2.0
        return math.log1p(worst if worst >= shift else shift)

    def score(self, v: float) -> float:
        raw = self._raw(v)
        score = self.likelihood.score(raw)
        if self.tail is not None:
            cap = self.tail.score(raw) ** self.tail_power
            if cap < score:
                score = cap
        self._pending = (v, raw)
        self._last_score = score
        return self._onset.damp(score)

    def learn(self, v: float) -> None:
        if self._pending is None or self._pending[0] != v:
            self.score(v)
        assert self._pending is not None
        _, raw = self._pending
        self._pending = None
        self.likelihood.learn(raw)
        if self.tail is not None:
            self.tail.learn(raw)
        self._onset.push(self._last_score)
        self._level.learn(v)
        if self._prev is not None:
            self._change.learn(v - self._prev)
        self._prev = v
        self._window.append(v)
        self._window_sum += v
        if len(self._window) > self.short:
            self._window_sum -= self._window.popleft()
