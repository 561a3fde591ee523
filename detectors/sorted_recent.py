"""The last ``capacity`` values of a series twice: in arrival order (to know which value leaves) and
sorted (so the distance from a new value to the nearest kept one is a bisection, O(log n), and keeping
one more is a memmove of at most ``capacity`` doubles). The gap view keeps raw values this way, the
held-level view the series' recent means."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field

from detectors.recent import RecentValues


@dataclass(slots=True)
class SortedRecent:
    capacity: int = 3000
    recent: RecentValues = field(init=False)  # arrival order (the ensemble's seasonal view shares it)
    ordered: array[float] = field(default_factory=lambda: array("d"))  # read, never written, by users
    _at: tuple[float, int] | None = None  # the last value looked up and where it goes in ordered

    def __post_init__(self) -> None:
        self.recent = RecentValues(self.capacity)

    def nearest(self, v: float) -> float:
        """The distance from ``v`` to the nearest kept value (inf while none is kept)."""
        ordered = self.ordered
        size = len(ordered)
        i = bisect_left(ordered, v)
        self._at = (v, i)
        gap = ordered[i] - v if i < size else math.inf
        if i and v - ordered[i - 1] < gap:
            gap = v - ordered[i - 1]
        return gap

    def push(self, v: float) -> None:
        """Keep ``v``, forgetting the oldest value once full."""
        ordered = self.ordered
        at = self._at
        i = at[1] if at is not None and at[0] == v else bisect_left(ordered, v)  # looked up just before, as a rule
        self._at = None
        gone = self.recent.push(v)
        if gone is not None:
            j = bisect_left(ordered, gone)
            del ordered[j]
            if j < i:
                i -= 1
        ordered.insert(i, v)
