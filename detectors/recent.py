"""The last ``capacity`` values of a series in arrival order, in one array.

The gap view needs them to know which value leaves its sorted copy, the seasonal view to look one
period back and to re-estimate the period. The default detector runs both on the same series, so it
gives them one ring instead of two (3,000 doubles, 23 KiB a series); alone, each view keeps its own.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np


@dataclass(slots=True)
class RecentValues:
    capacity: int = 3000
    _values: array[float] = field(default_factory=lambda: array("d"))
    _head: int = 0  # the oldest value once full, where the next one goes

    def __len__(self) -> int:
        return len(self._values)

    def push(self, v: float) -> float | None:
        """Keep ``v``; return the value it pushed out, None while the ring fills."""
        values = self._values
        if len(values) < self.capacity:
            values.append(v)
            return None
        gone = values[self._head]
        values[self._head] = v
        self._head = (self._head + 1) % self.capacity
        return gone

    def ago(self, lag: int) -> float | None:
        """The value pushed ``lag`` pushes ago (1: the last one), None when it is not kept."""
        values = self._values
        size = len(values)
        if lag < 1 or lag > size:
            return None
        return values[(self._head - lag) % size] if size == self.capacity else values[size - lag]

    def oldest_first(self) -> np.ndarray:
        """A copy of the values, oldest first."""
        buf = np.frombuffer(self._values, dtype=np.float64)
        return np.concatenate((buf[self._head:], buf[: self._head])) if self._head else buf.copy()
