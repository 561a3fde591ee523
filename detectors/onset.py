"""Report an anomaly at its onset: a score no higher than one already given in the last ``window``
points is halved, so an alarm that merely persists, or echoes in a second view a moment later, is
not reported again at every point (NAB counts each such point outside a window as a false
positive). A higher score still passes: a worsening anomaly is news. Live watches turn this off,
since their ``need`` of ``of`` points must see an anomaly last (:mod:`detectors.series_watch`)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class OnsetDamper:
    window: int  # points; 0: off
    _peaks: deque[tuple[int, float]] = field(default_factory=deque)  # decreasing maxima of recent scores
    _t: int = 0

    def damp(self, score: float) -> float:
        if self.window and self._peaks and score <= self._peaks[0][1]:
            return score * 0.5  # still anomalous, but already reported: not a new onset
        return score

    def push(self, score: float) -> None:
        """Remember the undamped score of the point just learnt (sliding-window maximum, O(1) amortised)."""
        if not self.window:
            return
        t = self._t = self._t + 1
        peaks = self._peaks
        while peaks and peaks[-1][1] <= score:
            peaks.pop()
        peaks.append((t, score))
        if peaks[0][0] <= t - self.window:
            peaks.popleft()
