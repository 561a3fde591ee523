"""Watch one live series: a streaming score plus the practical test an on-call engineer would apply.

A statistically surprising point is not yet worth a page: p99 going from 31 to 38 ms at 3 requests a
second is surprising and harmless. A watch fires when the default detector's score is high *and* the
value has moved past a practical floor from its baseline (``delta`` absolute and ``ratio`` relative),
on ``need`` of the last ``of`` points (the score gates the first of them, the floor the rest); it
clears after ``hold`` points back inside the floor. The baseline is learnt only while the watch is
quiet, so an ongoing incident never becomes normal.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from detectors.default import DefaultDetector
from detectors.deviation import DeviationDetector
from detectors.held_level import HeldLevelNovelty
from detectors.likelihood import Likelihood
from detectors.onset import ALARM


@dataclass(frozen=True)
class WatchRule:
    """How one kind of series is judged. ``opens``: may open an incident (else evidence only)."""

    kind: str  # latency, errors, traffic, memory, cpu, saturation
    direction: Literal["up", "down"] = "up"
    delta: float = 0.0
    ratio: float = 1.0
    min_score: float = ALARM  # likelihood 0.6: a raw score about 4.5 sd above its usual
    need: int = 2
    of: int = 3
    hold: int = 5
    opens: bool = True
    baseline_alpha: float = 0.02
    warmup: int = 30  # points before the watch may fire (the baseline must mean something)
    rebaseline_after: int = 600  # points of firing after which the new level is taken as normal


def live_detector() -> DefaultDetector:
    """The default detector as a watch runs it: undamped, the ensemble, its deviation view and its
    held-level view alike (the watch's ``need`` of ``of`` must see an anomaly last), and the likelihood
    warm after 30 points, not 100 (a live series is scored from its first minute)."""
    deviation = DeviationDetector(onset_window=0, likelihood=Likelihood(short_window=1, warmup=30))
    return DefaultDetector(deviation, held=HeldLevelNovelty(onset_window=0), onset_window=0)


@dataclass
class Verdict:
    changed: bool  # fired or cleared on this point
    firing: bool
    score: float
    baseline: float


@dataclass
class SeriesWatch:
    rule: WatchRule
    detector: DefaultDetector = field(default_factory=live_detector)
    baseline: float | None = None
    firing: bool = False
    n: int = 0
    _recent: deque[bool] = field(default_factory=deque)
    _calm: int = 0
    _firing_for: int = 0
    last_score: float | None = None  # the latest point's score (the TUI's anomaly column)

    def beyond_floor(self, value: float) -> bool:
        if self.baseline is None:
            return False
        b = self.baseline
        if self.rule.direction == "up":
            return value - b >= self.rule.delta and value >= b * self.rule.ratio
        return b - value >= self.rule.delta and value * self.rule.ratio <= b

    def update(self, value: float) -> Verdict:
        """Score ``value``, learn it, and say whether the watch fired or cleared."""
        x = {"value": value}
        score = self.detector.score_one(x)
        self.last_score = score
        self.n += 1
        practical = self.beyond_floor(value)
        # the score gates the onset; while the move lasts, staying past the floor is enough (a young
        # detector's score fades within a point or two of a step change as it learns the new raw scores)
        onset = bool(self._recent) and self._recent[-1]
        hit = practical and (score >= self.rule.min_score or onset) and self.n > self.rule.warmup
        self._recent.append(hit)
        if len(self._recent) > self.rule.of:
            self._recent.popleft()
        changed = False
        if not self.firing:
            if sum(self._recent) >= self.rule.need:
                self.firing = changed = True
                self._calm = 0
        else:
            self._calm = 0 if practical else self._calm + 1
            if self._calm >= self.rule.hold:
                self.firing, changed = False, True
                self._recent.clear()
        if self.firing:
            self._firing_for += 1
            if self._firing_for >= self.rule.rebaseline_after:  # a lasting new level: accept it
                self.firing, changed, self._firing_for = False, True, 0
                self._recent.clear()
                self.baseline = value
        else:
            self._firing_for = 0
        # learn while warming up, and while quiet unless this point counts towards firing: neither
        # the baseline nor the detector may learn an incident as normal (after a 20 s hang at 2 s,
        # a detector that had learnt it would find the next 100 ms fault unsurprising); a slow drift
        # the detector does not find surprising is learnt as it comes
        if self.n <= self.rule.warmup or not (self.firing or hit):
            self.detector.learn_one(x)
            if self.baseline is None:
                self.baseline = value
            else:
                a = max(self.rule.baseline_alpha, 1.0 / self.n)
                self.baseline += a * (value - self.baseline)
        return Verdict(changed, self.firing, score, self.baseline if self.baseline is not None else value)
