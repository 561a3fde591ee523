"""A reimplementation of NAB's scorer (Lavin & Ahmad 2015; NAB v1.x ``sweeper.py``), checked against
the published results by a test.

Per file: each row gets a weighted "sweep score". Inside a label window it is the scaled sigmoid of
its position in the window (earlier detections score more, scaled so the window's start scores
tpWeight). Outside a window it is a false-positive penalty, fpWeight times the scaled sigmoid of its
distance past the previous window (-fpWeight before any window). Rows in the probationary period,
min(floor(0.15 n), 750), are not scored. At a threshold, every row with score >= threshold is a
detection: a window contributes its best detection (or -fnWeight if none), false positives add up.
The corpus-wide threshold is the exact optimum over every distinct score, as NAB's
``optimizeThreshold`` finds it; scores are normalised to 100 x (raw - null) / (perfect - null).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from detectors.nab_corpus import NabCorpus, NabFile, Profile

PROBATIONARY = -2  # window id of rows in the probationary period
OUTSIDE = -1  # window id of rows outside every window


def scaled_sigmoid(position: float) -> float:
    if position > 3.0:
        return -1.0  # far past a window: the full false-positive penalty
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probationary_length(rows: int, percent: float = 0.15) -> int:
    return int(min(math.floor(percent * rows), percent * 5000))


@dataclass(frozen=True)
class Row:
    score: float
    sweep: float
    window: int  # global window id, OUTSIDE or PROBATIONARY


def sweep_rows(file: NabFile, scores: Sequence[float], profile: Profile, first_window_id: int = 0) -> list[Row]:
    """NAB's ``calcSweepScore`` for one file; window ids start at ``first_window_id``."""
    assert len(scores) == len(file.timestamps), f"{file.key}: {len(scores)} scores for {len(file.timestamps)} rows"
    sweeps, labels = _sweeps(file, profile, first_window_id)
    return [Row(score, sweep, label) for score, sweep, label in zip(scores, sweeps, labels, strict=True)]


# The sweep scores and labels depend on the file and the profile, never on the detector's scores:
# computed once per (file, weights), they make scoring many detectors (or thresholds) cheap.
_SWEEPS: dict[tuple[str, int, float, float, int], tuple[list[float], list[int]]] = {}


def _sweeps(file: NabFile, profile: Profile, first_window_id: int) -> tuple[list[float], list[int]]:
    key = (file.key, len(file.timestamps), profile.tp_weight, profile.fp_weight, first_window_id)
    cached = _SWEEPS.get(key)
    if cached is None:
        cached = _SWEEPS[key] = _compute_sweeps(file, profile, first_window_id)
    return cached


def _compute_sweeps(file: NabFile, profile: Profile, first_window_id: int) -> tuple[list[float], list[int]]:
    timestamps = file.timestamps
    pending: list[tuple[datetime, datetime]] = list(file.windows)
    max_tp = scaled_sigmoid(-1.0)
    probation = probationary_length(len(timestamps))
    sweeps: list[float] = []
    labels: list[int] = []
    window_id = first_window_id - 1
    cur_right: int | None = None
    cur_width = 0.0
    prev_right: int | None = None
    prev_width = 0.0
    in_window = False
    for i, t in enumerate(timestamps):
        if pending and t == pending[0][0]:
            start, end = pending.pop(0)
            window_id += 1
            cur_right = timestamps.index(end)
            cur_width = float(cur_right - timestamps.index(start) + 1)
            in_window = True
        if in_window:
            assert cur_right is not None
            sweep = scaled_sigmoid(-(cur_right - i + 1) / cur_width) * profile.tp_weight / max_tp
        elif prev_right is None:
            sweep = -1.0 * profile.fp_weight
        else:
            sweep = scaled_sigmoid(abs(prev_right - i) / (prev_width - 1.0)) * profile.fp_weight
        sweeps.append(sweep)
        labels.append((window_id if in_window else OUTSIDE) if i >= probation else PROBATIONARY)
        if in_window and i == cur_right:
            prev_right, prev_width = cur_right, cur_width
            in_window, cur_right = False, None
    return sweeps, labels


@dataclass(frozen=True)
class ThresholdScore:
    threshold: float
    score: float
    tp: int
    fp: int
    fn: int
    tn: int


def row_gains(ranked: Sequence[Row], profile: Profile) -> list[float]:
    """What each row, highest score first, adds to the raw score once the threshold comes down to it:
    outside windows its sweep (a false positive's penalty); inside one, how much it raises the
    window's best detection so far (a window starts at ``-fn_weight``, a miss), since NAB counts only
    the earliest detection a window gets."""
    best: dict[int, float] = {}
    gains = []
    for r in ranked:
        if r.window == OUTSIDE:
            gains.append(r.sweep)
            continue
        before = best.get(r.window, -profile.fn_weight)
        if r.sweep > before:
            best[r.window] = r.sweep
            gains.append(r.sweep - before)
        else:
            gains.append(0.0)
    return gains


def scores_by_threshold(rows: list[Row], profile: Profile) -> list[ThresholdScore]:
    """NAB's ``calcScoreByThreshold``: the raw score at every distinct anomaly score, highest first;
    the entry for threshold t counts every row with score >= t as a detection."""
    scorable = sorted((r for r in rows if r.window != PROBATIONARY), key=lambda r: r.score, reverse=True)
    windows = {r.window for r in scorable if r.window != OUTSIDE}
    raw = -profile.fn_weight * len(windows)  # nothing detected: every window missed
    tn = sum(1 for r in scorable if r.window == OUTSIDE)
    fn = len(scorable) - tn
    tp = fp = 0
    out = []
    current = 1.1
    for r, gain in zip(scorable, row_gains(scorable, profile), strict=True):
        if r.score != current:
            out.append(ThresholdScore(current, raw, tp, fp, fn, tn))
            current = r.score
        if r.window == OUTSIDE:
            fp, tn = fp + 1, tn - 1
        else:
            tp, fn = tp + 1, fn - 1
        raw += gain
    out.append(ThresholdScore(current, raw, tp, fp, fn, tn))
    return out


def score_at(by_threshold: list[ThresholdScore], threshold: float) -> ThresholdScore:
    """NAB's ``scoreDataSet`` lookup: the exact threshold, else the lowest one above it."""
    previous = by_threshold[0]
    for s in by_threshold:
        if s.threshold == threshold:
            return s
        if s.threshold < threshold:
            return previous
        previous = s
    return previous


@dataclass(frozen=True)
class CorpusScore:
    profile: str
    threshold: float
    raw: float
    normalized: float


def _corpus_rows(corpus: NabCorpus, scores: Mapping[str, Sequence[float]], profile: Profile) -> list[Row]:
    rows: list[Row] = []
    next_id = 0
    for f in corpus.files:
        rows.extend(sweep_rows(f, scores[f.key], profile, next_id))
        next_id += len(f.windows)
    return rows


def normalize(raw: float, corpus: NabCorpus, profile: Profile) -> float:
    perfect = corpus.window_count * profile.tp_weight
    null = -corpus.window_count * profile.fn_weight
    return 100.0 * (raw - null) / (perfect - null)


def score_corpus(corpus: NabCorpus, scores: Mapping[str, Sequence[float]], profile: Profile,
                 threshold: float | None = None) -> CorpusScore:
    """Score at ``threshold``, or at the corpus-wide optimum when it is None."""
    table = scores_by_threshold(_corpus_rows(corpus, scores, profile), profile)
    chosen = max(table, key=lambda s: s.score) if threshold is None else score_at(table, threshold)
    return CorpusScore(profile.name, chosen.threshold, chosen.score, normalize(chosen.score, corpus, profile))
