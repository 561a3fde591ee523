"""Span metrics, as the OpenTelemetry Collector's spanmetrics connector derives them: a call counter
and a duration histogram per (service, span name, span kind, status code), cumulative since start.

Updates are per batch and vectorised (numpy), not per span: one ``np.add.at`` per batch instead of a
Python call per span. The number of label sets is capped (span names can explode); overflow is
counted, not stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from collectors.names import SPAN_DURATION_BUCKETS_MS

SpanKey = tuple[str, str, int, int]  # service, span name, kind, status code
BOUNDS_NS = np.array([b * 1e6 for b in SPAN_DURATION_BUCKETS_MS])


@dataclass
class SpanMetrics:
    max_series: int = 20_000
    overflow: int = 0
    _ids: dict[SpanKey, int] = field(default_factory=dict)
    _keys: list[SpanKey] = field(default_factory=list)
    _hist: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((64, len(BOUNDS_NS) + 1), np.int64))
    _sums: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(64, np.float64))

    def _id(self, key: SpanKey) -> int:
        if len(self._keys) >= self.max_series:
            return -1
        gid = self._ids[key] = len(self._keys)
        self._keys.append(key)
        if gid >= len(self._sums):
            self._hist = np.concatenate([self._hist, np.zeros_like(self._hist)])
            self._sums = np.concatenate([self._sums, np.zeros_like(self._sums)])
        return gid

    def observe_batch(self, service: str, names: Sequence[str], kinds: Sequence[int], codes: Sequence[int],
                      durations_ns: npt.NDArray[np.int64]) -> None:
        keys = [(service, n, k, c) for n, k, c in zip(names, kinds, codes, strict=True)]
        gids: list[int | None] = list(map(self._ids.get, keys))
        if None in gids:
            gids = [g if g is not None else (self._ids.get(k) if k in self._ids else self._id(k))
                    for g, k in zip(gids, keys, strict=True)]
        ids = np.fromiter(gids, np.int64, len(gids))
        valid = ids >= 0
        if not valid.all():
            self.overflow += int((~valid).sum())
            ids, durations_ns = ids[valid], durations_ns[valid]
        np.add.at(self._hist, (ids, np.searchsorted(BOUNDS_NS, durations_ns)), 1)
        np.add.at(self._sums, ids, durations_ns)

    def __len__(self) -> int:
        return len(self._keys)

    def cells(self) -> Iterator[tuple[SpanKey, npt.NDArray[np.int64], float]]:
        """(key, per-bucket counts with +Inf last, sum of durations in ns) for every series."""
        for gid, key in enumerate(self._keys):
            yield key, self._hist[gid], float(self._sums[gid])
