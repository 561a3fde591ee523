"""Novelty of a value past everything the series has shown: a new all-time high or low.

Incidents on service and machine series very often show as a value the series has never reached (a
latency, a queue, a temperature); a deviation score misses the ones that build up slowly, because its
statistics follow the climb. The score is 0 inside the range seen so far and, past it, grows from
``floor`` towards 1 with the distance beyond the range, measured in units of the range's width
(``tau`` of a width: about 0.82). On NAB this view alone scored 57.0 standard, above the deviation
view's 43.0 (BENCHMARKS.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from detectors.base import OnValues


@dataclass(slots=True)
class RangeNovelty(OnValues):
    warmup: int = 150  # points before a new extreme means anything (the range must have formed)
    tau: float = 0.03
    floor: float = 0.5
    low: float = math.inf
    high: float = -math.inf
    n: int = 0

    def score(self, v: float) -> float:
        if self.n < self.warmup:
            return 0.0
        beyond = v - self.high if v > self.high else self.low - v
        if beyond <= 0.0:
            return 0.0
        width = self.high - self.low
        if width <= 0.0:
            return 1.0  # a flat series that moved at all
        return self.floor + (1.0 - self.floor) * -math.expm1(-beyond / (width * self.tau))

    def learn(self, v: float) -> None:
        self.n += 1
        if v < self.low:
            self.low = v
        if v > self.high:
            self.high = v
