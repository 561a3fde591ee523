"""``healops slo check`` bringing the platform up itself, as the example CI workflow runs it: real
processes, load, the stock ``chaos run`` and the control plane's own SLO evaluator, on loopback.

1. A run with an error-rate experiment on identity and healing off fails, naming identity's
   availability SLO, and the platform is brought down either way. (A healthy run passing is
   tested in test_platform_detection.py, on its platform while its detectors warm up: a platform
   costs CI half a minute.)
2. Attached to a running healops (``--url``, the session's platform, which has no load): no data
   fails unless allowed; an experiment against a service that does not exist injects nothing.

The run is about a minute (start, 10 s warm-up, 25 s window, stop).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from healops.config import load_or_create_tokens
from healops.harness import PlatformProcess

EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "chaos" / "experiments"

pytestmark = pytest.mark.slow
RUN = ["--duration", "25", "--warmup", "10", "--rps", "10"]


def _gate(tmp: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, object], ET.Element]:
    home = tmp / "home"
    proc = subprocess.run([sys.executable, "-m", "healops.cli", "slo", "check", *RUN, "--home", str(home),
                           "--json", str(tmp / "slo.json"), "--junit", str(tmp / "slo.xml"), *extra],
                          capture_output=True, text=True, timeout=400, check=False)
    doc = json.loads((tmp / "slo.json").read_text())
    return proc, doc, ET.parse(tmp / "slo.xml").getroot()


def _no_platform_left(home: Path) -> bool:
    return not (home / "run" / "up.pid").exists()


def test_an_error_burst_with_healing_off_fails_naming_the_slo(tmp_path: Path) -> None:
    proc, doc, junit = _gate(tmp_path, "--healing", "off", "--experiment", str(EXPERIMENTS_DIR / "error-rate.json"),
                             "--target", "identity")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "identity-availability" in proc.stdout.split("FAIL:")[-1]
    slos = {s["slo"]: s for s in doc["slos"]}  # type: ignore[attr-defined]
    identity = slos["identity-availability"]
    assert not identity["passed"] and identity["bad"] > 0
    assert any(v.startswith("objective missed") for v in identity["violations"]), identity
    assert any(c.get("name") == "identity-availability" and c.find("failure") is not None
               for c in junit.iter("testcase"))
    assert any("experiment error-rate.json on identity" in n for n in doc["notes"])  # type: ignore[attr-defined]
    assert _no_platform_left(tmp_path / "home")


def _attach(platform: PlatformProcess, tmp: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp / "attached.json"
    proc = subprocess.run([sys.executable, "-m", "healops.cli", "slo", "check", "--url", platform.control_url,
                           "--token", load_or_create_tokens(platform.home).api, "--duration", "5", "--warmup", "0",
                           "--json", str(out), *extra], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "HEALOPS_HOME": str(platform.home)})
    return proc, out


def test_attached_to_a_running_healops_without_traffic_no_data_fails_unless_allowed(
        platform: PlatformProcess, tmp_path: Path) -> None:
    """The session platform runs without load: every SLO has no data in the window."""
    proc, out = _attach(platform, tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    assert len(doc["slos"]) == 18 and all(s["violations"][0].startswith("no data") for s in doc["slos"])
    proc, out = _attach(platform, tmp_path, "--allow-no-data")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(out.read_text())["source"].startswith(f"healops at {platform.control_url}")


def test_an_experiment_against_a_service_that_does_not_exist_injects_nothing(
        platform: PlatformProcess, tmp_path: Path) -> None:
    proc, out = _attach(platform, tmp_path, "--experiment", str(EXPERIMENTS_DIR / "error-rate.json"),
                        "--target", "no-such-service")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no service 'no-such-service'" in json.loads(out.read_text())["error"]
    assert not (tmp_path / "slo-check-journals").exists(), "chaos never ran"
