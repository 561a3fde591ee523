"""Report an anomaly at its onset: a score no higher than one already given in the last ``window``
points is halved, so an alarm that merely persists, or echoes in a second view a moment later, is
not reported again at every point (NAB counts each such point outside a window as a false
positive). A higher score still passes: a worsening anomaly is news, unless an alarm was already
given: past ``alarm`` every score is the same news, so once one was given in the window, a higher one
is not a new onset either (a burst that climbs over three points is one alarm, not three). On NAB
the ensemble's alarm level 0.6 took 73.4 / 64.0 / 78.5 to 74.2 / 65.6 / 79.1 (BENCHMARKS.md). Live
watches turn this off, since their ``need`` of ``of`` points must see an anomaly last
(:mod:`detectors.series_watch`)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

ALARM = 0.6  # a score past which a point is an alarm: the ensemble's onset rule and the live watches' gate


@dataclass(slots=True)
class OnsetDamper:
    window: int  # points; 0: off
    alarm: float = math.inf  # a score at or past this is an alarm, and no alarm is news after another
    _peaks: deque[tuple[int, float]] = field(default_factory=deque)  # decreasing maxima of recent scores
    _t: int = 0

    def damp(self, score: float) -> float:
        if self.window and self._peaks and (score if score < self.alarm else self.alarm) <= self._peaks[0][1]:
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
