"""Detector speed: points per second per core for the default detector on one series and on 1,000
interleaved series (a detector per series, points round-robin, as live scoring sees them), with
river's HalfSpaceTrees run in the same process on the same points as the baseline. Also memory per
series. Prints one JSON line last."""

from __future__ import annotations

import argparse
import json
import math
import pickle
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/...` from a clone

from detectors.base import Detector
from detectors.registry import REGISTRY, build
from detectors.synthetic import labelled_stream


def plain_hst() -> Detector:
    from river import anomaly

    model: Detector = anomaly.HalfSpaceTrees(seed=42)
    return model


def rate(make: Callable[[], Detector], values: list[float], series: int) -> float:
    """Points per CPU second scoring then learning each point, ``series`` detectors round-robin."""
    detectors = [make() for _ in range(series)]
    lo, hi = min(values), max(values)
    xs = [{"value": (v - lo) / (hi - lo)} for v in values]  # in [0, 1], as HalfSpaceTrees needs
    t0 = time.process_time()
    for i, x in enumerate(xs):
        d = detectors[i % series]
        d.score_one(x)
        d.learn_one(x)
    return len(xs) / (time.process_time() - t0)


def series_values(kind: str, points: int) -> list[float]:
    """The stream that ``--series`` names, ``points`` long."""
    if kind == "noisy-cycle":
        rng = random.Random(3)
        return [math.sin(i / 40) + rng.gauss(0, 0.3) for i in range(points)]
    base, _ = labelled_stream(3000)
    return (base * (points // len(base) + 1))[:points]


def memory_per_series(name: str, kind: str, count: int = 200, points: int = 3200) -> tuple[float, float]:
    """Traced bytes per detector once each has seen ``points`` points of the ``kind`` stream (past every
    buffer's fill; on the noisy cycle, with a period found and its residual view in use)."""
    values = series_values(kind, points)
    tracemalloc.start()
    detectors = [build(name) for _ in range(count)]
    for d in detectors:
        for v in values:
            d.score_one({"value": v})
            d.learn_one({"value": v})
    traced = tracemalloc.get_traced_memory()[0] / count
    tracemalloc.stop()
    return traced, len(pickle.dumps(detectors[0]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--points", type=int, default=200_000)
    p.add_argument("--detector", default="default", choices=sorted(REGISTRY))
    p.add_argument("--series", default="labelled", choices=("labelled", "noisy-cycle"),
                   help="labelled: the synthetic stream with injected anomalies, repeated every 3,000 points;"
                   " noisy-cycle: a sine of period about 251 points under noise 0.3 of its amplitude, the"
                   " slow case of the seasonal view (a period found and kept, residuals scored)")
    args = p.parse_args()

    def make() -> Detector:
        return build(args.detector)

    values = series_values(args.series, args.points)
    hst_points = values[: args.points // 4]
    single = rate(make, values, 1)
    many = rate(make, values, 1000)
    hst_single = rate(plain_hst, hst_points, 1)
    hst_many = rate(plain_hst, hst_points, 1000)
    mem, pickled = memory_per_series(args.detector, args.series)
    print(json.dumps({
        "bench": "detect", "detector": args.detector, "series": args.series, "points": args.points,
        "points_per_s": round(single), "points_per_s_1000_series": round(many),
        "hst_points_per_s": round(hst_single), "hst_points_per_s_1000_series": round(hst_many),
        "ratio_to_hst": round(single / hst_single, 2), "ratio_to_hst_1000_series": round(many / hst_many, 2),
        "memory_per_series_bytes": round(mem), "pickled_state_bytes": pickled,
    }))


if __name__ == "__main__":
    main()
