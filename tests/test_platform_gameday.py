"""Game days end to end: ``healops gameday run`` drives the stock ``chaos`` CLI against a real
platform (real processes, HTTP on loopback, remediation on) and scores what healops did. A game day
with healing disabled fails with a clear scorecard and still leaves no fault behind; one naming a
service that does not exist fails before anything is injected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from healops.harness import PlatformProcess, wait_until
from tests.test_prometheus_rules import every_query_answers

pytestmark = pytest.mark.slow
EXPERIMENTS = Path(__file__).resolve().parents[1] / "chaos" / "experiments"


# Each fault-injecting test gets its own platform: after a fault the page-level burn rule remembers
# it for minutes, and a game day rightly waits for a quiet platform before it injects the next one.
# A fresh platform (about 20 s, then the SLO start-up grace, 30 s here: the game day waits for every
# SLO to be evaluated) is quicker than that wait.
GRACE = {"HEALOPS_SLO_STARTUP_GRACE_S": "30"}


@pytest.fixture
def healing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    plat = PlatformProcess(tmp_path_factory.mktemp("gameday") / "home", rps=10, replicas=2, remediation="on",
                           env=GRACE).start()
    yield plat
    plat.stop()


@pytest.fixture(scope="module")
def paused(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    """Remediation on, the kill switch on: detection works, no runbook acts."""
    plat = PlatformProcess(tmp_path_factory.mktemp("paused") / "home", rps=10, replicas=2, remediation="on",
                           env=GRACE).start()
    switch = f"{plat.control_url}/v1/remediation/kill-switch"
    assert httpx.post(switch, json={"on": True, "by": "test"}, headers=plat.api_headers).status_code == 200
    yield plat
    plat.stop()


def gameday(tmp_path: Path, name: str, entries: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"apiVersion: healops.dev/v1\nkind: GameDay\nmetadata: {{name: {name}}}\n"
                    f"spec:\n  settleSeconds: 10\n  settleTimeoutSeconds: 120\n  experiments:\n{entries}")
    return path


def run(plat: PlatformProcess, file: Path, report: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEALOPS_HOME": str(plat.home), "HEALOPS_CONTROL_PORT": str(plat.control_port)}
    return subprocess.run([sys.executable, "-m", "healops.cli", "gameday", "run", str(file), "--report", str(report)],
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def no_faults_anywhere(plat: PlatformProcess) -> bool:
    for svc in plat.status()["services"].values():
        for r in svc["replicas"]:
            if r["state"] == "ready":
                faults = httpx.get(f"http://127.0.0.1:{r['port']}/admin/faults", headers=plat.admin_headers).json()
                if [f for f in faults["faults"] if f["source"] == "injected"]:
                    return False
    return True


def test_game_day_heals_and_scores_with_the_stock_chaos_cli(healing: PlatformProcess, tmp_path: Path) -> None:
    # one fault a runbook heals: a fault left unhealed (latency) keeps its incident open for minutes
    # and the next test's game day would wait for it (the detection-only verdict has a unit test)
    file = gameday(tmp_path, "heal-and-detect", (
        f"    - experiment: {EXPERIMENTS / 'crash.json'}\n      target: identity\n"
        "      expect: {recoverWithinSeconds: 90}\n"))
    report = tmp_path / "report"
    done = run(healing, file, report)
    assert done.returncode == 0, done.stdout + done.stderr
    card = json.loads((report / "scorecard.json").read_text())
    [crash] = card["experiments"]
    assert crash["passed"] and crash["recovered_s"] is not None and crash["detected_s"] < 30
    assert any(r.startswith("identity:") for r in crash["remediations"])
    journals = sorted((report / "journals").glob("*.json"))
    assert [json.loads(j.read_text())["status"] for j in journals] == ["completed"]
    assert {"report.md", "report.html", "junit.xml"} <= {p.name for p in report.iterdir()}
    log = httpx.get(f"{healing.control_url}/v1/desired-state/log", headers=healing.api_headers).json()
    incident = json.loads(journals[0].read_text())["run"][1]["output"]["incident_id"]
    assert any(f"Healops-Incident: {incident}" in c["body"] for c in log), "recovery is a commit naming the incident"
    assert no_faults_anywhere(healing)


def test_game_day_with_healing_disabled_fails_clearly_and_clears_every_fault(
        paused: PlatformProcess, tmp_path: Path) -> None:
    file = gameday(tmp_path, "no-healing", (
        f"    - experiment: {EXPERIMENTS / 'crash.json'}\n      target: notification\n"
        "      vars: {recovery_timeout_s: 15}\n      expect: {recoverWithinSeconds: 60}\n"))
    report = tmp_path / "report"
    done = run(paused, file, report)
    assert done.returncode == 1, done.stdout + done.stderr
    [exp] = json.loads((report / "scorecard.json").read_text())["experiments"]
    assert not exp["passed"] and "not recovered by a remediation" in exp["reasons"], exp["reasons"]
    assert exp["detected_s"] is not None, "detection still works with healing off"
    assert exp["remediations"] == []
    assert "FAIL" in (report / "report.md").read_text()
    # the rollback restored the platform: the crashed service runs again, no fault is left
    wait_until(paused.all_ready, 90, 0.5, "every service ready after the rollback")
    assert no_faults_anywhere(paused)


def test_unknown_target_fails_before_anything_is_injected(paused: PlatformProcess, tmp_path: Path) -> None:
    file = gameday(tmp_path, "nowhere", f"    - experiment: {EXPERIMENTS / 'crash.json'}\n      target: billing\n")
    report = tmp_path / "report"
    done = run(paused, file, report)
    assert done.returncode == 2
    assert "spec.experiments[0].target: no service 'billing'" in done.stderr
    assert not (report / "journals").exists(), "no experiment may start"


def test_schedule_goes_to_the_control_plane_and_a_bad_file_is_refused(paused: PlatformProcess,
                                                                       tmp_path: Path) -> None:
    env = {**os.environ, "HEALOPS_HOME": str(paused.home), "HEALOPS_CONTROL_PORT": str(paused.control_port)}
    shipped = Path(__file__).resolve().parents[1] / "chaos" / "gamedays" / "every-fault-kind.yaml"
    done = subprocess.run([sys.executable, "-m", "healops.cli", "gameday", "schedule", str(shipped)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "scheduled every-fault-kind (0 10 * * 3)" in done.stdout
    listing = httpx.get(f"{paused.control_url}/v1/gamedays", headers=paused.api_headers).json()
    assert [s["name"] for s in listing["schedules"]] == ["every-fault-kind"] and listing["runs"] == []
    bad = gameday(tmp_path, "unscheduled", f"    - experiment: {EXPERIMENTS / 'crash.json'}\n      target: identity\n")
    resp = httpx.post(f"{paused.control_url}/v1/gamedays", json={"file": str(bad)}, headers=paused.api_headers)
    assert resp.status_code == 400 and "spec.schedule" in resp.text
    assert httpx.delete(f"{paused.control_url}/v1/gamedays/every-fault-kind",
                        headers=paused.api_headers).status_code == 200


def test_every_rule_and_dashboard_query_answers_on_a_real_prometheus_scraping_this_platform(
        paused: PlatformProcess, tmp_path: Path) -> None:
    """Here because this platform has load and a remediation engine (healops' own series exist)
    and is already up; the check itself is in tests/test_prometheus_rules.py."""
    every_query_answers(paused, tmp_path)
