"""Novelty of a value far from every value the series took lately: a level the series has not been
at, inside its range as well as past it.

Range novelty sees only new extremes, and the deviation view's statistics call a mid-range value
ordinary. Yet a CPU that sits at 10 % with daily spikes to 150 % and one morning holds 60 %, or a
travel time between its usual bands, is in a place the series has not been. This view keeps the last
``memory`` values sorted and scores the distance from the value to the nearest of them, in units of
the width of the series' whole range: 0 up to ``cut`` of a width, past it ``floor`` rising towards 1
(a further ``cut`` of a width: about 0.82). A value that stays is its own neighbour from the next
point on, so a new level is reported at its onset. On NAB, adding this view to the ensemble took
68.8 / 60.1 / 74.3 to 70.3 / 61.0 / 76.4 (standard / low FP / low FN; BENCHMARKS.md).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field

from detectors.base import OnValues
from detectors.recent import RecentValues


@dataclass(slots=True)
class GapNovelty(OnValues):
    memory: int = 3000  # recent values kept (the tail check's and the seasonal view's memory too)
    warmup: int = 300  # values kept before a gap means anything (the series must have shown its levels)
    cut: float = 0.05  # a gap of at most this share of the range's width is no news
    floor: float = 0.5
    low: float = math.inf
    high: float = -math.inf
    recent: RecentValues = field(init=False)  # the same values in arrival order (shared in the ensemble)
    _sorted: array[float] = field(default_factory=lambda: array("d"))
    _at: tuple[float, int] | None = None  # the last scored value and where it goes in _sorted

    def __post_init__(self) -> None:
        self.recent = RecentValues(self.memory)

    def score(self, v: float) -> float:
        ordered = self._sorted
        size = len(ordered)
        width = self.high - self.low
        if size < self.warmup or width <= 0.0:
            return 0.0
        i = bisect_left(ordered, v)
        self._at = (v, i)
        gap = ordered[i] - v if i < size else math.inf
        if i and v - ordered[i - 1] < gap:
            gap = v - ordered[i - 1]
        share = gap / width
        if share <= self.cut:
            return 0.0
        return self.floor + (1.0 - self.floor) * -math.expm1(1.0 - share / self.cut)

    def learn(self, v: float) -> None:
        ordered = self._sorted
        at = self._at
        i = at[1] if at is not None and at[0] == v else bisect_left(ordered, v)  # scored just before, as a rule
        self._at = None
        gone = self.recent.push(v)
        if gone is not None:
            j = bisect_left(ordered, gone)
            del ordered[j]
            if j < i:
                i -= 1
        ordered.insert(i, v)
        if v < self.low:
            self.low = v
        if v > self.high:
            self.high = v
