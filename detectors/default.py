"""The default detector for service series (latency percentiles, error ratio, request rate, CPU,
memory) and for NAB: streaming, causal, no per-series tuning.

Five views, each measured on NAB (BENCHMARKS.md), the score being the highest of:
- :class:`~detectors.range_novelty.RangeNovelty`: a value past the series' whole range so far;
- :class:`~detectors.gap_novelty.GapNovelty`: a value far from every value of the last few thousand
  points, mid-range too (a level the series has not been at lately);
- :class:`~detectors.held_level.HeldLevelNovelty`: the mean of the last 64 values far from every such
  mean of the last few thousand points (a level the series visited lately but did not hold; on NAB
  it took 74.2 / 65.6 / 79.1 to 76.5 / 67.5 / 81.5);
- :class:`~detectors.seasonal.SeasonalResidual` when the series has a cycle: the change from one
  period ago, so the cycle itself is not an anomaly and a broken one is;
- otherwise :class:`~detectors.deviation.DeviationDetector`: the distance from the recent level, step
  size and short mean, calibrated by the anomaly likelihood.
The deviation view rests while a cycle is in use and is warmed on the seasonal view's history (up to
3,000 points) when the cycle goes: learning both cost a noisy cycle about a third of its speed, and
the NAB figures are the same either way (BENCHMARKS.md). The range does widen to take in an
incident's values (a range that refused them would alarm forever after a lasting new level), so a
second like incident is left to the other views; live scoring does not learn points while a watch
fires (:mod:`detectors.series_watch`).

The ensemble reports onsets (:class:`~detectors.onset.OnsetDamper` over ``onset_window`` points): one
event often crosses in one view and echoes in another a point or two later, or sets a few new
extremes in a row; on NAB that took 70.3 / 61.0 / 76.4 to 71.9 / 63.3 / 77.5, and treating every
score past ``alarm`` as the same news (no new onset after an alarm, however much higher) took
73.4 / 64.0 / 78.5 to 74.2 / 65.6 / 79.1 (BENCHMARKS.md). Live watches turn it off and judge
persistence themselves.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from detectors.base import OnValues
from detectors.deviation import DeviationDetector
from detectors.gap_novelty import GapNovelty
from detectors.held_level import HeldLevelNovelty
from detectors.onset import ALARM, OnsetDamper
from detectors.range_novelty import RangeNovelty
from detectors.seasonal import SeasonalResidual


@dataclass(slots=True)
class DefaultDetector(OnValues):
    deviation: DeviationDetector = field(default_factory=DeviationDetector)
    novelty: RangeNovelty = field(default_factory=RangeNovelty)
    gap: GapNovelty = field(default_factory=GapNovelty)
    held: HeldLevelNovelty = field(default_factory=HeldLevelNovelty)
    onset_window: int = 30  # points an alarm is not repeated unless it grows (0: off, as live watches run it)
    alarm: float = ALARM  # an alarm, after which nothing in the onset window is news (the watches' gate too)
    seasonal: SeasonalResidual = field(init=False)  # scores residuals with a fresh copy of ``deviation``
    _onset: OnsetDamper = field(init=False)
    _last: tuple[float, float] | None = None  # the last scored value and its undamped score (onsets only)

    def __post_init__(self) -> None:
        # one ring of recent values for both views that keep one (the gap view fills it)
        self.seasonal = SeasonalResidual(template=copy.deepcopy(self.deviation), shared=self.gap.recent)
        self._onset = OnsetDamper(self.onset_window, self.alarm)

    def score(self, v: float) -> float:
        view = self.seasonal.score(v) if self.seasonal.period else self.deviation.score(v)
        novelty = self.novelty.score(v)
        if novelty > view:
            view = novelty
        gap = self.gap.score(v)
        if gap > view:
            view = gap
        held = self.held.score(v)
        if held > view:
            view = held
        if not self.onset_window:
            return view  # live watches: nothing to damp, nothing to remember
        self._last = (v, view)
        return self._onset.damp(view)

    def learn(self, v: float) -> None:
        if self.onset_window:
            if self._last is None or self._last[0] != v:
                self.score(v)
            assert self._last is not None
            self._onset.push(self._last[1])
        self._last = None
        cyclic = self.seasonal.period != 0
        if not cyclic:
            self.deviation.learn(v)  # rests while the cycle is scored (see the module's docstring)
        self.gap.learn(v)  # first: it pushes ``v`` into the ring the seasonal view reads
        self.seasonal.learn(v)
        if cyclic and not self.seasonal.period:
            self.deviation = self.seasonal.warmed()  # the cycle went: take over, warm
        self.novelty.learn(v)
        self.held.learn(v)
