"""The fault harness's own bookkeeping (no platform): which cases a matrix holds, and scoring a
matrix that was run in parts, as ``bench/faults.py --combine`` does from the parts' ``--out`` files."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from bench.faults import DETECTION_KINDS, Case, cases
from workloads.catalog import SERVICES

ROOT = Path(__file__).resolve().parents[1]


def test_the_full_matrix_is_every_kind_into_every_service_that_can_take_it() -> None:
    matrix = cases(None)
    pairs = {(c.kind, c.service) for c in matrix}
    assert len(pairs) == len(matrix), "no case twice"
    for kind in DETECTION_KINDS:
        hit = {s for k, s in pairs if k == kind}
        able = {s for s in SERVICES if kind != "dependency_failure" or SERVICES[s].downstreams()}
        assert hit == able, kind
    assert all(c.params["target"] in SERVICES[c.service].downstreams()
               for c in matrix if c.kind == "dependency_failure")


def test_parts_of_a_matrix_are_scored_together(tmp_path: Path) -> None:
    def case(kind: str, service: str, detected: float | None, top1: bool, incidents: int = 1) -> Case:
        return Case(kind, service, {}, detected_s=detected, top1=top1, top3=top1 or detected is not None,
                    incidents=incidents)

    part1 = [case("crash", "gateway", 2.0, True), case("crash", "identity", 4.0, True)]
    part2 = [case("hang", "gateway", 6.0, False, 2), case("hang", "identity", None, False, 0)]
    files = []
    for i, part in enumerate((part1, part2)):
        files.append(tmp_path / f"part{i}.json")
        files[-1].write_text(json.dumps([asdict(c) for c in part]))
    out = subprocess.run([sys.executable, "bench/faults.py", "--combine", *map(str, files)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["cases"] == 4 and figures["detected"] == 3
    assert figures["mttd_p50_s"] == 4.0 and figures["rca_top1"] == 0.5 and figures["rca_top3"] == 0.75
    assert figures["incidents_per_fault"] == 1.0 and figures["false_incidents"] is None
    assert figures["by_kind"]["hang"]["detected"] == 1
