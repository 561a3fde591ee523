"""Run a registered detector over the whole NAB corpus and score it with healops' reimplementation of
NAB's scorer (checked against the published results by tests/test_nab_scorer.py).

Streaming and causal: each point is scored, then learnt; one detector instance per file, one
configuration for the corpus; labels are used only by the scorer and its corpus-wide threshold.
Writes NAB-format results to DIR/NAME/<category>/NAME_<file>.csv and prints one JSON line last.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/...` from a clone

from detectors.base import score_stream
from detectors.nab_corpus import DEFAULT_ROOT, NabCorpus, NabFile
from detectors.nab_scorer import score_corpus
from detectors.registry import REGISTRY, build


def run_file(name: str, f: NabFile) -> list[float]:
    return [min(1.0, max(0.0, s)) for s in score_stream(build(name), f.values)]


def write_results(out: Path, name: str, f: NabFile, scores: list[float]) -> None:
    path = out / name / f.category / f"{name}_{f.name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    inside = [any(a <= t <= b for a, b in f.windows) for t in f.timestamps]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value", "anomaly_score", "label"])
        for t, v, s, lab in zip(f.timestamps, f.values, scores, inside, strict=True):
            w.writerow([t.strftime("%Y-%m-%d %H:%M:%S"), repr(v), f"{s:.6f}", int(lab)])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--detector", default="default", choices=sorted(REGISTRY))
    p.add_argument("--out", type=Path, default=Path("nab-results"))
    p.add_argument("--nab", type=Path, default=DEFAULT_ROOT, help="NAB folder (data, labels, config)")
    args = p.parse_args()
    corpus = NabCorpus.load(args.nab)
    t0 = time.process_time()
    scores = {}
    for f in corpus.files:
        scores[f.key] = run_file(args.detector, f)
        write_results(args.out, args.detector, f, scores[f.key])
    cpu = time.process_time() - t0
    points = sum(len(f.values) for f in corpus.files)
    result = {"bench": "nab", "detector": args.detector, "files": len(corpus.files), "points": points,
              "cpu_s": round(cpu, 1)}
    for profile in corpus.profiles.values():
        s = score_corpus(corpus, scores, profile)
        result[profile.name] = round(s.normalized, 2)
        result[f"{profile.name}_threshold"] = round(s.threshold, 6)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
