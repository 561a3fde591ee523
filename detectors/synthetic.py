"""Seeded synthetic series with labelled anomalies (spikes, level shifts, drifts) for the conformance
suite: a detector must beat random on them."""

from __future__ import annotations

import math
import random


def labelled_stream(n: int = 3000, seed: int = 7) -> tuple[list[float], list[int]]:
    """A daily-ish seasonal series with noise and five injected anomalies; label 1 marks the first
    ten points of each anomaly (the part a detector should flag)."""
    rng = random.Random(seed)
    values, labels = [], [0] * n
    level = 0.0
    events = {600: "spike", 1100: "shift", 1600: "spike", 2100: "drift", 2600: "shift"}
    drift_until = -1
    for t in range(n):
        kind = events.get(t)
        if kind == "shift":
            level += 6.0
        elif kind == "drift":
            drift_until = t + 150
        if t < drift_until:
            level += 0.08
        v = 10 + level + 2 * math.sin(2 * math.pi * t / 288) + rng.gauss(0, 0.5)
        if kind == "spike":
            v += 12
        if kind is not None:
            for k in range(t, min(n, t + 10)):
                labels[k] = 1
        values.append(v)
    return values, labels


def auc(scores: list[float], labels: list[int]) -> float:
    """Area under the ROC curve (probability a labelled point outscores an unlabelled one)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = sorted(s for s, y in zip(scores, labels, strict=True) if not y)
    import bisect

    wins = 0.0
    for p in pos:
        lo, hi = bisect.bisect_left(neg, p), bisect.bisect_right(neg, p)
        wins += lo + 0.5 * (hi - lo)
    return wins / (len(pos) * len(neg))
