"""Compare two detectors on NAB with a paired bootstrap over its files: each one's corpus score, the
5th-95th percentile of its score over resampled corpora, and the difference (mean, 5th-95th
percentile, share of corpora where A wins). See detectors/nab_bootstrap.py for why.

A and B are each a registered detector name (run here, as bench/nab.py does) or a folder of NAB-format
results, such as NAB's own results/numenta or DIR/NAME written by ``bench/nab.py --out DIR``.
Prints one line per profile, then one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/...` from a clone

from bench.nab import run_file
from detectors.nab_bootstrap import compare, read_results
from detectors.nab_corpus import DEFAULT_ROOT, NabCorpus
from detectors.registry import REGISTRY


def load(spec: str, corpus: NabCorpus) -> dict[str, list[float]]:
    if spec in REGISTRY:
        return {f.key: run_file(spec, f) for f in corpus.files}
    folder = Path(spec)
    if not folder.is_dir():
        raise SystemExit(f"{spec}: neither a registered detector ({', '.join(sorted(REGISTRY))}) nor a folder")
    return read_results(folder, corpus)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--nab", type=Path, default=DEFAULT_ROOT, help="NAB folder (data, labels, config)")
    args = p.parse_args()
    corpus = NabCorpus.load(args.nab)
    rows = compare(corpus, load(args.a, corpus), load(args.b, corpus), args.samples, args.seed)
    for r in rows:
        print(f"{r.profile}: A {r.a:.2f} (5-95 %: {r.a_low:.1f}-{r.a_high:.1f}), B {r.b:.2f}; "
              f"A - B {r.diff_mean:+.2f} (5-95 %: {r.diff_low:+.2f} to {r.diff_high:+.2f}), A higher in {r.a_wins:.0%}")
    print(json.dumps({"bench": "nab_compare", "a": args.a, "b": args.b, "samples": args.samples, "seed": args.seed,
                      "profiles": [r.to_json() for r in rows]}))


if __name__ == "__main__":
    main()
