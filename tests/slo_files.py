"""SLO files for platform tests."""

from __future__ import annotations

from pathlib import Path

from detectors.openslo import DEFAULT_DIR


def relaxed_latency_slos(folder: Path) -> Path:
    """The shipped SLOs with every latency threshold at 100 ms instead of 50. On this shared two-core
    machine the gateway's share of requests over 50 ms sits near the 1 % budget (7 of 400 in one
    healthy run), so whether a healthy run meets the shipped latency SLO is a coin toss: that is the
    machine, not what a test of a healthy run is about."""
    shipped = (DEFAULT_DIR / "platform.yaml").read_text()
    assert shipped.count("threshold_ms: 50") == 9, "one latency SLO per service"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "platform-100ms.yaml"
    path.write_text(shipped.replace("threshold_ms: 50", "threshold_ms: 100"))
    return path
