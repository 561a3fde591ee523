"""RED series (rate, errors, duration percentiles) per service and per edge, in fixed steps.

Requests are bucketed by when they ended (event time), not when their spans arrived: exporters batch,
so arrival time would smear a spike across seconds. A step closes ``lateness_s`` after it ends; a span
that arrives later is counted in ``late`` and left out of the series (it is still in the cumulative
span metrics). Percentiles are exact over at most ``max_samples`` durations a step (reservoir beyond); so are the
counts of requests slower than each latency-SLI threshold (``red.slow_per_s``).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from collectors import names
from collectors.series_store import Labels, SeriesStore

StepListener = Callable[[float, dict[tuple[str, Labels], float]], None]


@dataclass
class _Cell:
    count: int = 0
    errors: int = 0
    seen: int = 0
    durations_ms: list[float] = field(default_factory=list)


def quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile of an already sorted list."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class RedAccumulator:
    store: SeriesStore
    lateness_s: float = 2.0
    max_samples: int = 10_000
    late: int = 0
    listeners: list[StepListener] = field(default_factory=list)
    slow_thresholds_ms: tuple[float, ...] = ()  # per step, requests slower than each (latency SLIs)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    _services: dict[tuple[Any, ...], _Cell] = field(default_factory=dict)  # (step, service)
    _edges: dict[tuple[Any, ...], _Cell] = field(default_factory=dict)  # (step, client, server)
    _closed_before: int = -(2**62)

    def add_server_batch(self, service: str, ends_ns: npt.NDArray[np.int64], durations_ns: npt.NDArray[np.int64],
                         failed: npt.NDArray[np.bool_]) -> None:
        self._add_batch(self._services, (service,), ends_ns, durations_ns, failed)

    def _add_batch(self, cells: dict[tuple[Any, ...], _Cell], key: tuple[str, ...], ends_ns: npt.NDArray[np.int64],
                   durations_ns: npt.NDArray[np.int64], failed: npt.NDArray[np.bool_]) -> None:
        """Group by step with numpy (a batch covers one or two steps), then extend each step's cell."""
        if not len(ends_ns):
            return
        steps = ends_ns // int(self.store.step_s * 1e9)
        for step in np.unique(steps).tolist():
            mask = steps == step
            if step < self._closed_before:
                self.late += int(mask.sum())
                continue
            cell = cells.get((step, *key))
            if cell is None:
                cell = cells[(step, *key)] = _Cell()
            self._extend(cell, (durations_ns[mask] / 1e6).tolist(), int(failed[mask].sum()))

    def _extend(self, cell: _Cell, durations: list[float], errors: int) -> None:
        cell.count += len(durations)
        cell.errors += errors
        room = max(0, self.max_samples - len(cell.durations_ms))
        cell.durations_ms.extend(durations[:room])
        cell.seen += min(room, len(durations))
        for d in durations[room:]:
            cell.seen += 1
            self._reservoir(cell, d)

    def _reservoir(self, cell: _Cell, duration_ms: float) -> None:
        j = self.rng.randrange(cell.seen)
        if j < self.max_samples:
            cell.durations_ms[j] = duration_ms

    def add_edge_batch(self, keys: list[tuple[str, str]], eids: npt.NDArray[np.int64], client_ns: npt.NDArray[np.int64],
                       failed: npt.NDArray[np.bool_], ends_ns: npt.NDArray[np.int64]) -> None:
        """Completed edges of a batch, grouped by (step, edge) with one sort and split."""
        if not len(eids):
            return
        steps = ends_ns // int(self.store.step_s * 1e9)
        order = np.lexsort((eids, steps))
        steps, eids, client_ns, failed = steps[order], eids[order], client_ns[order], failed[order]
        cuts = np.flatnonzero((np.diff(steps) != 0) | (np.diff(eids) != 0)) + 1
        starts = [0, *cuts.tolist()]
        stops = [*cuts.tolist(), len(eids)]
        durations = (client_ns / 1e6).tolist()
        fails = np.add.reduceat(failed.astype(np.int64), starts).tolist()
        step_l, eid_l = steps[starts].tolist(), eids[starts].tolist()
        for a, b, step, eid, nfail in zip(starts, stops, step_l, eid_l, fails, strict=True):
            if step < self._closed_before:
                self.late += b - a
                continue
            cell = self._edges.get((step, *keys[eid]))
            if cell is None:
                cell = self._edges[(step, *keys[eid])] = _Cell()
            self._extend(cell, durations[a:b], nfail)

    def close_until(self, now_s: float) -> int:
        """Close every step that ended at least ``lateness_s`` before ``now_s``; return how many."""
        limit = math.floor((now_s - self.lateness_s) / self.store.step_s)
        steps = sorted({k[0] for k in self._services if k[0] < limit} | {k[0] for k in self._edges if k[0] < limit})
        for step in steps:
            self._close(step)
        self._closed_before = max(self._closed_before, limit)
        return len(steps)

    def _close(self, step: int) -> None:
        t = step * self.store.step_s
        per_s = 1.0 / self.store.step_s
        written: dict[tuple[str, Labels], float] = {}

        def put(name: str, lbls: Labels, value: float) -> None:
            if self.store.put(name, lbls, t, value):
                written[(name, lbls)] = value

        for key in [k for k in self._services if k[0] == step]:
            cell = self._services.pop(key)
            lbls = (("service", key[1]),)
            self._write(put, lbls, cell, per_s, names.RED_REQUESTS, names.RED_ERRORS, names.RED_ERROR_RATIO)
            d = sorted(cell.durations_ms)
            put(names.RED_P50, lbls, quantile(d, 0.50))
            put(names.RED_P95, lbls, quantile(d, 0.95))
            put(names.RED_P99, lbls, quantile(d, 0.99))
            for threshold in self.slow_thresholds_ms:
                slow = len(d) - bisect.bisect_right(d, threshold)
                put(names.RED_SLOW, (*lbls, names.threshold_label(threshold)), slow / len(d) * cell.count * per_s)
        for ekey in [k for k in self._edges if k[0] == step]:
            cell = self._edges.pop(ekey)
            elbls = (("client", ekey[1]), ("server", ekey[2]))
            self._write(put, elbls, cell, per_s, names.EDGE_REQUESTS, None, names.EDGE_ERROR_RATIO)
            put(names.EDGE_P99, elbls, quantile(sorted(cell.durations_ms), 0.99))
        for listener in self.listeners:
            listener(t, written)

    @staticmethod
    def _write(put: Callable[[str, Labels, float], None], lbls: Labels, cell: _Cell, per_s: float,
               requests: str, errors: str | None, ratio: str) -> None:
        put(requests, lbls, cell.count * per_s)
        if errors is not None:
            put(errors, lbls, cell.errors * per_s)
        put(ratio, lbls, cell.errors / cell.count)
