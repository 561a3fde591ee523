"""A game day's verdict and report: what passes and fails, and the four files a run writes.
The scores here are shaped as the experiments' wait probes write them (chaos.scoring.CaseScore)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from chaos.gameday import ExperimentResult, GameDayResult, judge, not_run
from chaos.gameday_model import Entry
from chaos.report import write_progress, write_report


def score(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": "crash", "service": "notification", "started_at": 1000.0,
                            "incident_id": "inc-1", "detected_s": 0.8, "ranking": ["notification", "api-gateway"],
                            "top1": True, "top3": True, "recovered_s": 14.2,
                            "remediations": ["notification: restart notification"], "wrong_target": 0,
                            "escalated": False, "budget_spent": 0.0031,
                            "samples": [[0.5 * i, 20.0 if 2 < i < 25 else 0.2, 1 if 2 < i < 20 else 2]
                                        for i in range(60)]}
    base.update(over)
    return base


def entry(**expect: Any) -> Entry:
    return Entry.model_validate({"experiment": "crash.json", "target": "notification", "expect": expect})


def test_a_healed_fault_passes() -> None:
    assert judge(entry(recoverWithinSeconds=60), "completed", False, score()) == []


def test_each_expectation_fails_with_its_reason() -> None:
    assert judge(entry(recoverWithinSeconds=60), "completed", False, score(recovered_s=None)) == [
        "not recovered by a remediation"]
    assert judge(entry(recoverWithinSeconds=10), "completed", False, score()) == [
        "recovered after 14.2s (limit 10s)"]
    assert "root cause ranked" in judge(entry(), "completed", False, score(top1=False))[0]
    assert judge(entry(), "completed", False, score(detected_s=None)) == ["no incident opened"]
    assert judge(entry(maxBudgetSpent=0.001), "completed", False, score()) == [
        "spent 0.3% of the error budget (limit 0.1%)"]
    assert judge(entry(), "completed", False, score(wrong_target=1)) == ["1 remediation(s) of another service"]


def test_a_deviated_or_failed_run_fails_even_with_good_numbers() -> None:
    assert judge(entry(), "completed", True, score()) == ["steady state not met after the method (SLOs)"]
    assert judge(entry(), "failed", False, {})[-1].startswith("no score")


def test_detection_only_experiment_needs_no_recovery() -> None:
    assert judge(entry(), "completed", False, score(recovered_s=None, remediations=[])) == []


def result(tmp_path: Path) -> GameDayResult:
    good = ExperimentResult("01-crash", "A crashed service is restarted", "crash.json", "notification", "crash",
                            "completed", False, True, [], score(), str(tmp_path / "j1.json"), 31.0, 0)
    bad = ExperimentResult("02-hang", "A hung service is restarted", "hang.json", "analytics", "hang", "completed",
                           True, False, ["not recovered by a remediation"],
                           score(kind="hang", service="analytics", recovered_s=None, remediations=[]),
                           str(tmp_path / "j2.json"), 60.0, 1)
    return GameDayResult("two", "gd.yaml", 1000.0, 1100.0, [good, bad], {"cleared": {"analytics": 2}})


def test_report_files_agree_with_the_verdict(tmp_path: Path) -> None:
    res = result(tmp_path)
    assert not res.passed
    files = write_report(res, tmp_path / "out")
    card = json.loads(files["scorecard"].read_text())
    assert card["passed"] is False
    assert [(e["experiment"], e["passed"], e["recovered_s"]) for e in card["experiments"]] == [
        ("01-crash", True, 14.2), ("02-hang", False, None)]
    suite = ET.parse(files["junit"]).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    failures = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failures == ["02-hang on analytics"]
    md = files["markdown"].read_text()
    assert "FAILED" in md and "| 01-crash | notification | 0.8 s | yes | 14.2 s |" in md
    assert "**FAIL**: not recovered by a remediation" in md
    html = files["html"].read_text()
    assert html.count("data:image/png;base64,") == 2, "one plot per experiment with samples"


def test_a_passing_game_day_says_so(tmp_path: Path) -> None:
    res = result(tmp_path)
    res.experiments = res.experiments[:1]
    files = write_report(res, tmp_path / "out")
    assert json.loads(files["scorecard"].read_text())["passed"] is True
    assert ET.parse(files["junit"]).getroot().find("testsuite").get("failures") == "0"  # type: ignore[union-attr]


def test_an_experiment_that_never_started_fails_with_its_reason(tmp_path: Path) -> None:
    experiment = Path(__file__).resolve().parents[1] / "chaos" / "experiments" / "crash.json"
    never = not_run(entry(), experiment, 1, "platform not quiet after 120s (an incident still active)")
    assert not never.passed and never.status == "not run" and never.kind == "crash"
    res = GameDayResult("busy", "gd.yaml", 1000.0, 1120.0, [never])
    files = write_report(res, tmp_path / "out")
    card = json.loads(files["scorecard"].read_text())
    assert card["passed"] is False and card["experiments"][0]["detected_s"] is None
    md = files["markdown"].read_text()
    assert "**FAIL**: platform not quiet after 120s" in md and "none (no experiment ran)" in md
    suite = ET.parse(files["junit"]).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


def test_progress_fills_the_scorecard_in_as_experiments_end(tmp_path: Path) -> None:
    res = result(tmp_path)
    write_progress(tmp_path / "out", 0, 2, "01-crash: waiting for a quiet platform")
    assert json.loads((tmp_path / "out" / "progress.json").read_text())["what"].startswith("01-crash")
    assert not (tmp_path / "out" / "scorecard.json").exists()
    res.experiments = res.experiments[:1]
    write_progress(tmp_path / "out", 1, 2, "", res)
    card = json.loads((tmp_path / "out" / "scorecard.json").read_text())
    assert card["running"] is True and [e["experiment"] for e in card["experiments"]] == ["01-crash"]
    assert not list((tmp_path / "out").glob(".*.tmp")), "written by rename, never half a file"
