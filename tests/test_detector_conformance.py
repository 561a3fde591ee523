"""One conformance suite for every registered detector (river's checks/ idea): a new detector is
tested for free. Each check is a function; the suite runs every check against every detector."""

from __future__ import annotations

import copy
import math
import pickle
from collections.abc import Callable

import pytest

from detectors.base import score_stream
from detectors.registry import REGISTRY, build
from detectors.synthetic import auc, labelled_stream

SLOW = {"pyod-iforest", "pyod-ecod"}  # pyod refits a model: shorter streams


def stream_len(name: str) -> int:
    return 600 if name in SLOW else 3000




def check_scores_before_learning(name: str) -> None:
    score = build(name).score_one({"value": 1.0})
    assert isinstance(score, float) and math.isfinite(score)


def check_scores_in_unit_interval(name: str) -> None:
    values, _ = labelled_stream(stream_len(name))
    assert all(0.0 <= s <= 1.0 for s in score_stream(build(name), values))


def check_does_not_mutate_input(name: str) -> None:
    d = build(name)
    for v in (1.0, 2.0, 3.0):
        x = {"value": v}
        before = dict(x)
        d.score_one(x)
        d.learn_one(x)
        assert x == before


def check_pickle_round_trip(name: str) -> None:
    values, _ = labelled_stream(stream_len(name))
    half = len(values) // 2
    d = build(name)
    score_stream(d, values[:half])
    clone = pickle.loads(pickle.dumps(d))  # noqa: S301 - our own bytes, round-tripped in memory
    assert score_stream(clone, values[half:]) == score_stream(copy.deepcopy(d), values[half:])


def check_bounded_memory(name: str) -> None:
    values, _ = labelled_stream(stream_len(name))
    d = build(name)
    score_stream(d, values)
    size_a = len(pickle.dumps(d))
    score_stream(d, values * 2)
    size_b = len(pickle.dumps(d))
    assert size_b < size_a * 1.2 + 4096, f"state grew from {size_a} to {size_b} bytes"


def check_beats_random_on_injected_anomalies(name: str) -> None:
    values, labels = labelled_stream(max(1200, stream_len(name)))  # the first anomalies start at 600
    scores = score_stream(build(name), values)
    warm = 300
    area = auc(scores[warm:], labels[warm:])
    assert area > 0.6, f"AUC {area:.3f}: not better than random (0.5)"


def check_non_finite_input_neither_crashes_nor_poisons(name: str) -> None:
    values, _ = labelled_stream(stream_len(name))
    clean, dirty = build(name), build(name)
    cut = len(values) // 2
    score_stream(clean, values[:cut])
    score_stream(dirty, values[:cut])
    for bad in (float("nan"), float("inf"), float("-inf")):
        assert dirty.score_one({"value": bad}) == 0.0
        dirty.learn_one({"value": bad})
    assert score_stream(dirty, values[cut:]) == pytest.approx(score_stream(clean, values[cut:]), abs=1e-9)


CHECKS: list[Callable[[str], None]] = [
    check_scores_before_learning, check_scores_in_unit_interval, check_does_not_mutate_input,
    check_pickle_round_trip, check_bounded_memory, check_beats_random_on_injected_anomalies,
    check_non_finite_input_neither_crashes_nor_poisons,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_conformance(name: str, check: Callable[[str], None]) -> None:
    check(name)
