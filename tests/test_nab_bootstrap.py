"""The NAB bootstrap scores a resampled corpus exactly as the scorer scores a corpus, and its
comparison says what it should about detectors whose order is known."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bench.nab import write_results
from detectors.nab_bootstrap import best_normalized, compare, file_gains, read_results
from detectors.nab_corpus import NabCorpus
from detectors.nab_scorer import score_corpus


def test_the_whole_corpus_scores_as_the_scorer_scores_it(nab_corpus: NabCorpus, nab_root: Path) -> None:
    for detector in ("numenta", "windowedGaussian"):
        scores = read_results(nab_root / "results" / detector, nab_corpus)
        for profile in nab_corpus.profiles.values():
            parts = [file_gains(f, scores[f.key], profile) for f in nab_corpus.files]
            expected = score_corpus(nab_corpus, scores, profile).normalized
            assert best_normalized(parts, profile) == pytest.approx(expected, abs=1e-9), (detector, profile.name)


def test_a_detector_against_itself_differs_by_nothing(nab_corpus: NabCorpus, nab_root: Path) -> None:
    scores = read_results(nab_root / "results" / "numenta", nab_corpus)
    for row in compare(nab_corpus, scores, scores, samples=20):
        assert row.diff_mean == 0.0 and row.diff_low == 0.0 and row.diff_high == 0.0
        assert row.a_wins == 0.0


def test_the_published_order_holds_on_most_resampled_corpora(nab_corpus: NabCorpus, nab_root: Path) -> None:
    """HTM beats windowedGaussian by 30 points on NAB (70.1 to 39.6): no resample should reverse that."""
    htm = read_results(nab_root / "results" / "numenta", nab_corpus)
    gaussian = read_results(nab_root / "results" / "windowedGaussian", nab_corpus)
    rows = compare(nab_corpus, htm, gaussian, samples=50)
    standard = next(r for r in rows if r.profile == "standard")
    assert standard.a == pytest.approx(70.10, abs=0.2) and standard.b == pytest.approx(39.65, abs=0.5)
    assert standard.a_wins == 1.0 and standard.diff_low > 10.0
    assert standard.a_low < standard.a < standard.a_high


def test_files_without_a_window_cannot_be_normalised(nab_corpus: NabCorpus) -> None:
    quiet = [f for f in nab_corpus.files if not f.windows]
    profile = nab_corpus.profiles["standard"]
    with pytest.raises(ValueError, match="no labelled window"):
        best_normalized([file_gains(f, [0.0] * len(f.values), profile) for f in quiet], profile)


def test_results_written_by_bench_nab_read_back(nab_corpus: NabCorpus, tmp_path: Path) -> None:
    f = nab_corpus.files[0]
    scores = [round(i / len(f.values), 6) for i in range(len(f.values))]
    write_results(tmp_path, "mine", f, scores)
    single = replace(nab_corpus, files=[f])
    assert read_results(tmp_path / "mine", single)[f.key] == scores


def test_a_results_file_of_the_wrong_length_is_named(nab_corpus: NabCorpus, tmp_path: Path) -> None:
    f = nab_corpus.files[0]
    write_results(tmp_path, "short", f, [0.0] * len(f.values))
    path = tmp_path / "short" / f.category / f"short_{f.name}"
    path.write_text("\n".join(path.read_text().splitlines()[:-5]) + "\n")
    with pytest.raises(ValueError, match=f"short_{f.name}"):
        read_results(tmp_path / "short", replace(nab_corpus, files=[f]))
