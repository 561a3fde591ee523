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
from dataclasses import dataclass, field

from detectors.base import OnValues
from detectors.recent import RecentValues
from detectors.sorted_recent import SortedRecent


def gap_score(share: float, cut: float, floor: float) -> float:
    """0 up to a gap of ``cut`` (a share of the range's width), past it ``floor`` rising towards 1 (a
    further ``cut``: about 0.82). The held-level view scores its gaps the same way."""
    if share <= cut:
        return 0.0
    return floor + (1.0 - floor) * -math.expm1(1.0 - share / cut)


@dataclass(slots=True)
class GapNovelty(OnValues):
    memory: int = 3000  # recent values kept (the tail check's and the seasonal view's memory too)
    warmup: int = 300  # values kept before a gap means anything (the series must have shown its levels)
    cut: float = 0.05  # a gap of at most this share of the range's width is no news
    floor: float = 0.5
    low: float = math.inf
    high: float = -math.inf
    kept: SortedRecent = field(init=False)

    def __post_init__(self) -> None:
        self.kept = SortedRecent(self.memory)

    @property
    def recent(self) -> RecentValues:
        """The recent values in arrival order (shared with the ensemble's seasonal view)."""
        return self.kept.recent

    def score(self, v: float) -> float:
        width = self.high - self.low
        if len(self.kept.ordered) < self.warmup or width <= 0.0:
            return 0.0
        return gap_score(self.kept.nearest(v) / width, self.cut, self.floor)

    def learn(self, v: float) -> None:
        self.kept.push(v)
        if v < self.low:
            self.low = v
        if v > self.high:
            self.high = v
