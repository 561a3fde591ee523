"""Every detector healops knows, by name: what ``bench/nab.py --detector``, ``healops detect`` and
the conformance suite iterate over. Heavy libraries load only when their detector is built."""

from __future__ import annotations

from collections.abc import Callable

from detectors.base import Detector


def _default() -> Detector:
    from detectors.default import DefaultDetector

    return DefaultDetector()


def _deviation() -> Detector:
    """The default detector's deviation view alone (the default before the ensemble): a baseline."""
    from detectors.deviation import DeviationDetector

    return DeviationDetector()


def _squash(x: dict[str, float]) -> dict[str, float]:
    """Standardised values into (0, 1): HalfSpaceTrees needs features in [0, 1], and behind an online
    MinMaxScaler a never-seen extreme lands in the edge leaf beside ordinary tail points and scores
    low (PITFALLS.md; the conformance suite measured AUC 0.47 that way)."""
    import math

    return {k: 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, v / 3.0)))) for k, v in x.items()}


def _hst() -> Detector:
    """river's HalfSpaceTrees behind a standardiser; a 50-point window (river's default of 250 scored
    AUC 0.40 on the conformance stream, worse than random; 50 scored 0.67)."""
    from river import anomaly, compose, preprocessing

    from detectors.base import Guarded

    return Guarded(compose.Pipeline(preprocessing.StandardScaler(), compose.FuncTransformer(_squash),
                                    anomaly.HalfSpaceTrees(seed=42, window_size=50, height=10)))


def _pyod(name: str) -> Callable[[], Detector]:
    def build() -> Detector:
        from detectors.pyod_window import PyodWindow

        return PyodWindow(name)

    return build


REGISTRY: dict[str, Callable[[], Detector]] = {
    "default": _default,
    "deviation": _deviation,
    "hst": _hst,
    "pyod-ecod": _pyod("ECOD"),
    "pyod-iforest": _pyod("IForest"),
}


def build(name: str) -> Detector:
    try:
        return REGISTRY[name]()
    except KeyError:
        raise KeyError(f"unknown detector {name!r}; known: {', '.join(REGISTRY)}") from None
