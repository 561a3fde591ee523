"""The detector contract: river's ``learn_one(x)`` / ``score_one(x) -> float`` (higher is more
anomalous), so river's anomaly detectors plug in unchanged. ``x`` is a dict of features; a univariate
series is ``{"value": v}``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

Features = dict[str, float]


@runtime_checkable
class Detector(Protocol):
    def learn_one(self, x: Features) -> None: ...

    def score_one(self, x: Features) -> float: ...


def value_of(x: Features) -> float | None:
    """The value of a univariate point, or None when it is missing, NaN or infinite (not data)."""
    for v in x.values():
        return float(v) if isinstance(v, int | float) and math.isfinite(v) else None
    return None


class OnValues:
    """A univariate detector written on floats (``score(v)``, ``learn(v)``) gets river's dict contract
    from this mixin: a missing or non-finite value scores 0 and is never learnt."""

    __slots__ = ()  # so a slotted detector built on it stays without a per-instance dict

    def score(self, v: float) -> float:
        raise NotImplementedError

    def learn(self, v: float) -> None:
        raise NotImplementedError

    def score_one(self, x: Features) -> float:
        v = value_of(x)
        return 0.0 if v is None else self.score(v)

    def learn_one(self, x: Features) -> None:
        v = value_of(x)
        if v is not None:
            self.learn(v)


def score_stream(detector: Detector, values: Iterable[float], name: str = "value") -> list[float]:
    """Score each point, then learn it: how a streaming, causal detector sees a series."""
    scores = []
    for v in values:
        x = {name: v}
        scores.append(float(detector.score_one(x)))
        detector.learn_one(x)
    return scores


def finite(x: Features) -> bool:
    """NaN or infinite values are not data: they are scored 0 and never learnt."""
    return all(isinstance(v, int | float) and math.isfinite(v) for v in x.values())


class Guarded:
    """Wraps a detector that has no guard of its own (river's): non-finite input scores 0 and is
    never learnt, so one NaN cannot poison its state."""

    def __init__(self, inner: Detector) -> None:
        self.inner = inner

    def learn_one(self, x: Features) -> None:
        if finite(x):
            self.inner.learn_one(x)

    def score_one(self, x: Features) -> float:
        return float(self.inner.score_one(x)) if finite(x) else 0.0
