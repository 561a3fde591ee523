"""``healops detect`` scores a recorded CSV offline, keeping file order through repeated and backwards
timestamps and gaps, and refuses a bad file naming it."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from typer.testing import CliRunner

from healops.cli import app


def write_series(path: Path) -> None:
    rng = random.Random(1)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "latency_ms", "errors"])
        for i in range(600):
            t = f"2026-11-27 00:{(i // 60) % 60:02d}:{i % 60:02d}"
            if i == 300:
                t = "2026-11-27 00:00:00"  # backwards
            latency = "" if i == 100 else ("nan" if i == 101 else f"{20 + rng.gauss(0, 1):.3f}")
            if i == 500:
                latency = "400"
            w.writerow([t, latency, rng.randint(0, 2)])
        w.writerow(["2026-11-27 00:09:59", "21", 1])  # repeated timestamp


def test_detect_scores_every_column_in_file_order(tmp_path: Path) -> None:
    src = tmp_path / "export.csv"
    write_series(src)
    result = CliRunner().invoke(app, ["detect", str(src)])
    assert result.exit_code == 0, result.output
    with (tmp_path / "export.scores.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 601
    assert rows[300]["timestamp"] == "2026-11-27 00:00:00", "file order kept"
    assert float(rows[100]["latency_ms_score"]) == 0.0 and float(rows[101]["latency_ms_score"]) == 0.0
    spike = float(rows[500]["latency_ms_score"])
    assert spike > 0.9 and spike == max(float(r["latency_ms_score"]) for r in rows)
    assert "errors_score" in rows[0]


def test_detect_refuses_an_unknown_column_naming_the_file(tmp_path: Path) -> None:
    src = tmp_path / "export.csv"
    write_series(src)
    result = CliRunner().invoke(app, ["detect", str(src), "--column", "p99"])
    assert result.exit_code == 2
    assert "export.csv:1" in result.output and "'p99'" in result.output
