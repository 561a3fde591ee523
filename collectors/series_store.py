"""A bounded in-memory store of fixed-step series: what detectors, the TUI and the API read.

Each series is a ring of ``retention_s / step_s`` float32 slots (NaN where nothing arrived), so
memory per series is fixed. The number of series is capped: past the cap a new series is refused
and counted in ``dropped_series``, so a high-cardinality label cannot exhaust memory. A series with
no point inside the retention window is expired (:meth:`SeriesStore.expire`): every restarted or
replaced replica brings series under a new instance label, and without expiry a platform that
heals itself for long enough would fill the cap with the dead and refuse its live replicas.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, Labels]
_NAN = float("nan")


def labels(**kv: str) -> Labels:
    return tuple(sorted(kv.items()))


@dataclass
class _Ring:
    values: array[float]
    head: int  # step index of the newest slot


@dataclass
class SeriesStore:
    step_s: float = 1.0
    retention_s: float = 300.0
    max_series: int = 100_000
    dropped_series: int = 0
    too_old: int = 0
    expired_series: int = 0
    _series: dict[SeriesKey, _Ring] = field(default_factory=dict)

    @property
    def capacity(self) -> int:
        return max(1, int(self.retention_s / self.step_s))

    def __len__(self) -> int:
        return len(self._series)

    def step_of(self, t: float) -> int:
        return math.floor(t / self.step_s)

    def put(self, name: str, lbls: Labels, t: float, value: float) -> bool:
        """Set the value of the step containing ``t``; False if refused (cap, or older than retention)."""
        key = (name, lbls)
        ring = self._series.get(key)
        step = self.step_of(t)
        if ring is None:
            if len(self._series) >= self.max_series:
                self.dropped_series += 1
                return False
            ring = self._series[key] = _Ring(array("f", [_NAN]) * self.capacity, step)
        cap = len(ring.values)
        if step > ring.head:
            gap = min(step - ring.head, cap)
            for s in range(step - gap + 1, step + 1):
                ring.values[s % cap] = _NAN
            ring.head = step
        elif step <= ring.head - cap:
            self.too_old += 1
            return False
        ring.values[step % cap] = value
        return True

    def expire(self, now: float) -> int:
        """Drop every series whose newest point is older than the retention window before ``now``
        (nothing of it is readable as recent any more); returns how many were dropped."""
        oldest = self.step_of(now - self.retention_s)
        gone = [key for key, ring in self._series.items() if ring.head < oldest]
        for key in gone:
            del self._series[key]
        self.expired_series += len(gone)
        return len(gone)

    def __contains__(self, key: object) -> bool:
        return key in self._series

    def keys(self, name: str | None = None) -> Iterator[SeriesKey]:
        return (k for k in self._series if name is None or k[0] == name)

    def range(self, name: str, lbls: Labels, start: float, end: float) -> list[tuple[float, float]]:
        """``(t, value)`` for every step in [start, end] that holds a value, oldest first."""
        ring = self._series.get((name, lbls))
        if ring is None:
            return []
        cap = len(ring.values)
        first = max(self.step_of(start), ring.head - cap + 1)
        last = min(self.step_of(end), ring.head)
        out = []
        for s in range(first, last + 1):
            v = ring.values[s % cap]
            if not math.isnan(v):
                out.append((s * self.step_s, v))
        return out

    def latest(self, name: str, lbls: Labels) -> tuple[float, float] | None:
        ring = self._series.get((name, lbls))
        if ring is None:
            return None
        cap = len(ring.values)
        for s in range(ring.head, ring.head - cap, -1):
            v = ring.values[s % cap]
            if not math.isnan(v):
                return s * self.step_s, float(v)
        return None
