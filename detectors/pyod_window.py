"""pyod models as streaming detectors: pyod has no streaming API (PITFALLS.md), so the model is refit
every ``refit_every`` points on a sliding window of recent points, and each new point is scored by
the last fit only, never pooled into the statistics it is judged against (causal). Raw decision
scores are calibrated per series by :class:`~detectors.likelihood.Likelihood`.

Features per point: the value and its step from the previous value."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detectors.base import OnValues
from detectors.likelihood import Likelihood


@dataclass
class PyodWindow(OnValues):
    model_name: str = "ECOD"
    window: int = 500
    refit_every: int = 100
    min_fit: int = 100
    likelihood: Likelihood = field(default_factory=Likelihood)
    _rows: deque[tuple[float, float]] = field(default_factory=deque)
    _model: Any = None
    _since_fit: int = 0
    _prev: float | None = None

    def _features(self, v: float) -> tuple[float, float]:
        return (v, v - self._prev if self._prev is not None else 0.0)

    def _fit(self) -> None:
        from pyod.models.ecod import ECOD
        from pyod.models.iforest import IForest

        model = ECOD() if self.model_name == "ECOD" else IForest(n_estimators=25, random_state=42)
        model.fit(np.asarray(self._rows, dtype=float))
        self._model = model
        self._since_fit = 0

    def _raw(self, v: float) -> float:
        if self._model is None:
            return 0.0
        raw = float(self._model.decision_function(np.asarray([self._features(v)], dtype=float))[0])
        return raw if math.isfinite(raw) else 0.0

    def score(self, v: float) -> float:
        return self.likelihood.score(self._raw(v))

    def learn(self, v: float) -> None:
        self.likelihood.learn(self._raw(v))
        self._rows.append(self._features(v))
        if len(self._rows) > self.window:
            self._rows.popleft()
        self._prev = v
        self._since_fit += 1
        if len(self._rows) >= self.min_fit and (self._model is None or self._since_fit >= self.refit_every):
            self._fit()
