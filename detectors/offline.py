"""Score a recorded series offline (``healops detect FILE.csv``): users score exports from their own
systems with any registered detector. Rows keep file order (timestamps may repeat or go backwards,
as NAB's do); an empty or non-numeric cell is a gap, scored 0 and not learnt."""

from __future__ import annotations

import csv
from pathlib import Path

from detectors.registry import build


class CsvError(ValueError):
    """The CSV cannot be scored; the message names the file, line and column."""


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def score_csv(path: Path, out: Path, detector: str = "default", columns: list[str] | None = None,
              timestamp_column: str = "timestamp") -> dict[str, int]:
    """Write ``out``: the input's columns plus ``<column>_score`` for each scored column."""
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        if not header:
            raise CsvError(f"{path}:1: no header row")
        chosen = columns or [c for c in header if c != timestamp_column]
        missing = [c for c in chosen if c not in header]
        if missing:
            raise CsvError(f"{path}:1: no column {', '.join(map(repr, missing))}; columns: {', '.join(header)}")
        rows = list(reader)
    detectors = {c: build(detector) for c in chosen}
    gaps = dict.fromkeys(chosen, 0)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*header, *(f"{c}_score" for c in chosen)])
        writer.writeheader()
        for row in rows:
            for c in chosen:
                x = {c: _number(row.get(c) or "")}
                score = detectors[c].score_one(x)
                detectors[c].learn_one(x)
                gaps[c] += x[c] != x[c]
                row[f"{c}_score"] = f"{score:.6f}"
            writer.writerow(row)
    return {"rows": len(rows), **{f"{c}_gaps": n for c, n in gaps.items()}}
