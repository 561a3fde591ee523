"""The seasonal view: when a series repeats itself (a daily cycle, a weekly one), score the change
from one period ago instead of the value, so the cycle's own rises and falls stop looking anomalous
and a missing or misplaced one starts to.

The period comes from the autocorrelation of the recent history (``capacity`` points), re-estimated
every ``every`` points: the first autocorrelation peak, past the first lag where it turns negative,
within 90 % of the highest peak (so a daily cycle wins over its weekly multiple) and at least
``min_acf``. Until a period is found the view scores nothing and the default detector uses its
deviation view instead. On NAB, using this view whenever a period was found took the ensemble from
61.1 to 65.1 standard (BENCHMARKS.md).
"""

from __future__ import annotations

import copy
from dataclasses import InitVar, dataclass, field

import numpy as np

from detectors.deviation import DeviationDetector
from detectors.recent import RecentValues


def find_period(values: np.ndarray, min_acf: float = 0.5) -> int:
    """The dominant period of ``values`` in points, or 0 when there is none worth using."""
    n = len(values)
    if n < 8:
        return 0
    centred = values - values.mean()
    spectrum = np.fft.rfft(centred, 2 * n)
    acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2)[:n]
    if acf[0] <= 0.0:
        return 0  # a constant series
    acf = acf / acf[0] * (n / (n - np.arange(n)))  # unbiased: each lag over its own overlap
    top = n // 3  # a period must repeat at least three times in the history
    negative = np.flatnonzero(acf[:top] < 0.0)
    if negative.size == 0:
        return 0  # a trend or a random walk: correlated at every lag, no cycle
    start = int(negative[0])
    seg = acf[start:top]
    if seg.size < 3:
        return 0
    inner = seg[1:-1]
    peaks = np.flatnonzero((inner >= seg[:-2]) & (inner >= seg[2:])) + 1
    if peaks.size == 0:
        return 0
    best = float(seg[peaks].max())
    if best < min_acf:
        return 0
    first = peaks[seg[peaks] >= 0.9 * best][0]
    return centre_of_peak(acf, int(first) + start)


def centre_of_peak(acf: np.ndarray, lag: int, sharp: float = 0.1) -> int:
    """The lag at the centre of the autocorrelation peak found at ``lag``.

    A smooth cycle's peak is broad, and under noise its highest lag wanders: a sine of period 251.3
    points under noise 0.3 of its amplitude was put at 238-251 (20 seeds of 3,000 points), and a
    period once found is kept (``keep_within``), so residuals were taken up to 5 % of a cycle off.
    Averaged over 5 % of the lag either side, the peak's centre is found: 251-252 on the same 20.
    A peak that stands ``sharp`` (a share of its height) above that average, as a spike train's
    does, is where it is found."""
    half = max(1, lag // 20)
    if lag - 3 * half < 1 or lag + 3 * half >= len(acf):
        return lag
    if acf[lag] - acf[lag - half: lag + half + 1].mean() > sharp * acf[lag]:
        return lag
    lo = lag - 2 * half
    box = np.ones(2 * half + 1) / (2 * half + 1)
    averaged = np.convolve(acf[lo - half: lag + 3 * half + 1], box, mode="valid")  # centred on lo .. lag + 2 half
    return lo + int(np.argmax(averaged))


@dataclass(slots=True)
class SeasonalResidual:
    """Scores ``v[t] - v[t - period]`` with a copy of ``template``, fresh at each new period and warmed
    on the history it has, so a period change does not open a blind spot."""

    template: DeviationDetector = field(default_factory=DeviationDetector)
    capacity: int = 3000
    every: int = 250
    min_points: int = 600
    min_acf: float = 0.5
    keep_within: float = 0.05  # a new estimate this close to the period in use (a share of it) keeps it
    period: int = 0
    inner: DeviationDetector | None = None
    n: int = 0
    shared: InitVar[RecentValues | None] = None  # another view's ring, which that view fills (the ensemble)
    recent: RecentValues = field(init=False)
    _owns_recent: bool = field(init=False)

    def __post_init__(self, shared: RecentValues | None) -> None:
        self._owns_recent = shared is None
        if shared is None:
            self.recent = RecentValues(self.capacity)
        else:
            self.recent, self.capacity = shared, shared.capacity

    def score(self, v: float) -> float:
        if self.inner is None:
            return 0.0
        before = self.recent.ago(self.period)
        return 0.0 if before is None else self.inner.score(v - before)

    def learn(self, v: float) -> None:
        """Learn ``v``; with a ring it does not own, after its owner has pushed ``v`` into it."""
        recent = self.recent
        if self._owns_recent:
            recent.push(v)
        if self.inner is not None:
            before = recent.ago(self.period + 1)  # ``v`` itself is the last value pushed
            if before is not None:
                self.inner.learn(v - before)
        self.n += 1
        if self.n >= self.min_points and self.n % self.every == 0:
            self._reestimate()

    def history(self) -> np.ndarray:
        """The kept values, oldest first."""
        return self.recent.oldest_first()

    def warmed(self) -> DeviationDetector:
        """A fresh copy of the template that has learnt the kept values themselves (not residuals): the
        default detector's deviation view, taking over when the cycle goes, starts from what the
        series did lately instead of from nothing."""
        return self._learnt(self.history())

    def _learnt(self, values: np.ndarray) -> DeviationDetector:
        detector = copy.deepcopy(self.template)
        for v in values.tolist():
            detector.learn(v)  # scores it first
        return detector

    def _reestimate(self) -> None:
        values = self.history()
        period = find_period(values, self.min_acf)
        if period == self.period:
            return
        if period and self.period and abs(period - self.period) <= self.keep_within * self.period:
            return  # a noisy cycle's peak moves a few lags between estimates, and each change replays history
        self.period = period
        self.inner = self._learnt(values[period:] - values[:-period]) if period else None
