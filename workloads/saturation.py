"""What a saturated replica does: it can serve only so many requests a second, queues the rest
for a while and sheds what would queue too long.

The model is a token bucket (sustained rate plus a short burst), the way a pod at its CPU limit or
a fixed worker pool behaves from the outside: below its capacity a replica answers at once, above it
the queue (and so latency, and requests in flight) grows until the bound. More replicas split the
load, which is why scaling out, and not a restart, is the fix.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class ArrivalMeter:
    """Requests per second this replica received over the last ``window_s`` (its own load, so a
    saturation fault can be stated relative to it and one experiment fits any service at any load)."""

    def __init__(self, window_s: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 max_kept: int = 200_000) -> None:
        self.window_s = window_s
        self._clock = clock
        self._born = clock()
        self._times: deque[float] = deque(maxlen=max_kept)
        self._lock = threading.Lock()

    def note(self) -> None:
        with self._lock:
            self._times.append(self._clock())

    def rate(self) -> float:
        now = self._clock()
        with self._lock:
            while self._times and self._times[0] < now - self.window_s:
                self._times.popleft()
            seen = len(self._times)
        span = min(self.window_s, max(now - self._born, 1e-3))
        return seen / span


class TokenQueue:
    """A FIFO line in front of a replica that serves ``capacity_rps`` with a burst of ``burst_s``
    seconds of capacity. ``admit`` says how long a request arriving now waits for its turn, or None
    when that wait would pass ``max_wait_s`` (the request is shed, not queued)."""

    def __init__(self, capacity_rps: float, burst_s: float, max_wait_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if capacity_rps <= 0:
            raise ValueError("capacity_rps must be positive")
        self.capacity_rps = capacity_rps
        self.max_wait_s = max_wait_s
        self._burst = max(1.0, capacity_rps * burst_s)
        self._clock = clock
        self._tokens = self._burst
        self._at = clock()
        self._lock = threading.Lock()

    def admit(self) -> float | None:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._at) * self.capacity_rps)
            self._at = now
            # tokens below zero are requests already waiting; this one waits behind them
            wait = max(0.0, (1.0 - self._tokens) / self.capacity_rps)
            if wait > self.max_wait_s:
                return None
            self._tokens -= 1.0
            return wait
