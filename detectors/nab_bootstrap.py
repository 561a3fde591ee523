"""How sure a NAB difference is: the corpus score of two detectors on resampled corpora.

NAB is 58 files, and a few of them move the corpus score by points (one Twitter file's false
positives, one missed window), so a difference of one or two points between detectors can be a
property of this corpus rather than of the detectors. Resampling the files with replacement (a
paired bootstrap: both detectors on the same resampled corpus, each with its own corpus-wide
threshold search, as NAB does) shows how far the scores and their difference move on corpora like
NAB; that is what a re-measurement on other data can expect, not a guarantee.

The threshold search is NAB's (:func:`~detectors.nab_scorer.scores_by_threshold`) reorganised so
a resample costs one sort: a row's contribution to the raw score once the threshold reaches it
(:func:`~detectors.nab_scorer.row_gains`) depends only on the rows of its own file, so it is
computed once per file.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detectors.nab_corpus import NabCorpus, NabFile, Profile
from detectors.nab_scorer import PROBATIONARY, row_gains, sweep_rows


@dataclass(frozen=True)
class FileGains:
    """One file's scorable rows, highest score first, and what each adds to the raw score."""

    scores: np.ndarray
    gains: np.ndarray
    windows: int


def file_gains(file: NabFile, scores: Sequence[float], profile: Profile) -> FileGains:
    rows = sorted((r for r in sweep_rows(file, scores, profile) if r.window != PROBATIONARY),
                  key=lambda r: r.score, reverse=True)
    return FileGains(np.array([r.score for r in rows]), np.array(row_gains(rows, profile)), len(file.windows))


def best_normalized(parts: Sequence[FileGains], profile: Profile) -> float:
    """The normalised score of these files as one corpus at its best threshold (NAB's search)."""
    scores = np.concatenate([p.scores for p in parts])
    gains = np.concatenate([p.gains for p in parts])
    windows = sum(p.windows for p in parts)
    if not windows:
        raise ValueError("no labelled window in these files: NAB's normalisation is undefined")
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    running = np.cumsum(gains[order])
    ends = np.append(np.flatnonzero(np.diff(ranked)), len(ranked) - 1)  # last row of each distinct score
    null = -windows * profile.fn_weight
    raw = null + max(0.0, float(running[ends].max()))  # 0: a threshold above every score, no detection
    return 100.0 * (raw - null) / (windows * profile.tp_weight - null)


@dataclass(frozen=True)
class Comparison:
    profile: str
    a: float  # on the corpus itself
    b: float
    a_low: float  # 5th and 95th percentiles over the resampled corpora
    a_high: float
    diff_mean: float
    diff_low: float
    diff_high: float
    a_wins: float  # share of resampled corpora where a scores higher

    def to_json(self) -> dict[str, float | str]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def compare(corpus: NabCorpus, a: Mapping[str, Sequence[float]], b: Mapping[str, Sequence[float]],
            samples: int = 1000, seed: int = 7) -> list[Comparison]:
    rng = np.random.default_rng(seed)
    n = len(corpus.files)
    draws = [rng.integers(0, n, n) for _ in range(samples)]
    out = []
    for profile in corpus.profiles.values():
        ga = [file_gains(f, a[f.key], profile) for f in corpus.files]
        gb = [file_gains(f, b[f.key], profile) for f in corpus.files]
        sa = np.array([best_normalized([ga[i] for i in d], profile) for d in draws])
        sb = np.array([best_normalized([gb[i] for i in d], profile) for d in draws])
        diff = sa - sb
        out.append(Comparison(profile.name, best_normalized(ga, profile), best_normalized(gb, profile),
                              float(np.percentile(sa, 5)), float(np.percentile(sa, 95)), float(diff.mean()),
                              float(np.percentile(diff, 5)), float(np.percentile(diff, 95)),
                              float(np.mean(diff > 0))))
    return out


def read_results(folder: Path, corpus: NabCorpus) -> dict[str, list[float]]:
    """Scores from NAB-format results: ``folder/<category>/<name>_<file>``, ``name`` being the folder's
    own name (NAB's ``results/numenta`` and what ``bench/nab.py --out DIR`` writes as ``DIR/NAME``)."""
    out = {}
    for f in corpus.files:
        path = folder / f.category / f"{folder.name}_{f.name}"
        with path.open(newline="") as fh:
            out[f.key] = [float(row["anomaly_score"]) for row in csv.DictReader(fh)]
        if len(out[f.key]) != len(f.values):
            raise ValueError(f"{path}: {len(out[f.key])} scores for {len(f.values)} rows of the series")
    return out
