"""The NAB scorer is faithful: re-scoring the published raw results at the published thresholds
reproduces NAB's final_results.json (to 0.01 on every profile), and the scorer's building blocks
behave as the NAB paper defines them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detectors.nab_bootstrap import read_results
from detectors.nab_corpus import NabCorpus
from detectors.nab_scorer import probationary_length, scaled_sigmoid, score_corpus


@pytest.mark.parametrize("detector", ["numenta", "relativeEntropy", "windowedGaussian"])
def test_rescoring_published_results_reproduces_the_scoreboard(nab_corpus: NabCorpus, nab_root: Path,
                                                                detector: str) -> None:
    thresholds = json.loads((nab_root / "config" / "thresholds.json").read_text())
    final = json.loads((nab_root / "results" / "final_results.json").read_text())
    scores = read_results(nab_root / "results" / detector, nab_corpus)
    for name, profile in nab_corpus.profiles.items():
        got = score_corpus(nab_corpus, scores, profile, thresholds[detector][name]["threshold"]).normalized
        assert got == pytest.approx(final[detector][name], abs=0.01), (detector, name)


def test_null_and_perfect_detectors_normalise_to_0_and_100(nab_corpus: NabCorpus) -> None:
    null = {f.key: [0.5] * len(f.values) for f in nab_corpus.files}
    perfect = {f.key: [1.0 if any(a == t for a, _ in f.windows) else 0.0 for t in f.timestamps]
               for f in nab_corpus.files}
    for profile in nab_corpus.profiles.values():
        assert score_corpus(nab_corpus, null, profile, 0.6).normalized == pytest.approx(0.0)
        assert score_corpus(nab_corpus, perfect, profile).normalized == pytest.approx(100.0, abs=0.5)


def test_optimised_threshold_is_at_least_as_good_as_the_published_one(nab_corpus: NabCorpus, nab_root: Path) -> None:
    thresholds = json.loads((nab_root / "config" / "thresholds.json").read_text())
    scores = read_results(nab_root / "results" / "numenta", nab_corpus)
    profile = nab_corpus.profiles["standard"]
    best = score_corpus(nab_corpus, scores, profile)
    fixed = score_corpus(nab_corpus, scores, profile, thresholds["numenta"]["standard"]["threshold"])
    assert best.raw >= fixed.raw


def test_sigmoid_and_probation_follow_the_paper() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.9866, abs=1e-4)  # window start: near full credit
    assert scaled_sigmoid(0.0) == 0.0  # window end: no credit
    assert scaled_sigmoid(3.5) == -1.0  # far past a window: full false-positive penalty
    assert probationary_length(1000) == 150 and probationary_length(100_000) == 750
