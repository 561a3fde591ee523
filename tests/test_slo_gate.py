"""The CI SLO gate (``healops slo check``): the verdict rules, its outputs (table, JUnit XML, JSON),
and the Prometheus source against a real Prometheus (Debian package) loaded with history written by
``promtool tsdb create-blocks-from openmetrics``: a healthy stretch and an error burst on identity,
so a window that already happened can be judged in seconds. The platform source (the gate bringing
the platform up itself) is tested in ``test_platform_slo_gate.py``.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from collectors import names
from dashboards.slo_gate import FiredRule, GateResult, Judging, SloWindow, judge, junit_xml, summary, table_rows
from dashboards.slo_gate_platform import _Watch
from detectors.burn_rate import BurnRateEvaluator, series_key
from detectors.openslo import DEFAULT_DIR, load_slos
from healops.cli import app
from healops.errors import HealopsError
from healops.harness import free_port
from tests.servers import prometheus, require_binary

STEP_S = 30
HISTORY_S = 5 * 3600
RPS = 10.0
BURST_ERROR_RATIO = 0.3
BURST_S = 360
END = (int(time.time()) // 3600) * 3600 - 600  # history ends 10+ min ago, on a fixed grid
BURST_START = END - 75 * 60  # inside [END - 2h, END - 1h]; the hour before it is clean


# -- the verdict -----------------------------------------------------------------------------------
def window(total: float, bad: float, *fired: FiredRule, objective: float = 0.999) -> SloWindow:
    return SloWindow("identity-availability", "identity", objective, total, bad, tuple(fired))


PAGE = FiredRule("identity-availability/critical/14.4x", "critical", 14.4, 30.0)
TICKET = FiredRule("identity-availability/warning/1x", "warning", 1.0, None)


def test_inside_the_budget_passes_and_a_significant_miss_is_named() -> None:
    assert judge(window(100_000, 100)).passed  # exactly the budget
    missed = judge(window(100_000, 140))  # 40 % over it, out of 100 000: p ~ 1e-4
    assert not missed.passed and missed.violations[0].startswith("objective missed: 99.860% good against 99.900%")


def test_a_miss_too_small_to_tell_passes_with_a_note_unless_confidence_is_zero() -> None:
    one_in_fifty = SloWindow("workflow-latency", "workflow", 0.99, 50, 1, ())
    verdict = judge(one_in_fifty)  # 98 %, but a service meeting 99 % shows this 40 % of the time
    assert verdict.passed and verdict.p_value == pytest.approx(1 - 0.99**50)
    assert verdict.notes[0].startswith("below the objective but not significantly at 95%")
    assert not judge(one_in_fifty, Judging(confidence=0.0)).passed
    assert not judge(SloWindow("identity-availability", "identity", 0.999, 200, 20, ())).passed  # a burst: p ~ 0


def test_a_page_rule_that_fired_fails_even_inside_the_budget_and_tickets_only_when_asked() -> None:
    assert "budget burned too fast: page rule" in judge(window(10_000, 1, PAGE)).violations[0]
    assert judge(window(10_000, 1, TICKET)).passed
    assert not judge(window(10_000, 1, TICKET), Judging(fail_on="ticket")).passed
    assert judge(window(10_000, 1, PAGE), Judging(fail_on="none")).passed


def test_no_traffic_fails_unless_allowed() -> None:
    assert judge(window(0, 0)).violations[0].startswith("no data")
    assert judge(window(0, 0), Judging(allow_no_data=True)).passed


@given(total=st.integers(1, 10**6), bad_share=st.floats(0, 1), objective=st.sampled_from([0.9, 0.99, 0.999]),
       confidence=st.sampled_from([0.0, 0.9, 0.99]))
def test_a_miss_fails_exactly_when_over_budget_and_significant(total: int, bad_share: float, objective: float,
                                                                confidence: float) -> None:
    bad = round(total * bad_share)
    verdict = judge(window(total, bad, objective=objective), Judging(confidence=confidence))
    p = verdict.p_value
    assert p is not None and 0.0 <= p <= 1.0
    assert verdict.passed == (bad / total <= 1 - objective or p >= 1 - confidence)
    if bad / total > 2 * (1 - objective) and total * (1 - objective) >= 100:  # plenty of data, twice the budget
        assert not verdict.passed


def test_outputs_name_the_violated_slo() -> None:
    result = GateResult("test", 100.0, 160.0, [judge(window(1000, 0)), judge(
        SloWindow("gateway-latency", "api-gateway", 0.99, 1000, 50, (PAGE,)))])  # 5 %: p ~ 1e-16
    assert result.exit_code == 1 and not result.passed
    doc = summary(result)
    assert [s["passed"] for s in doc["slos"]] == [True, False] and doc["window"]["seconds"] == 60.0
    suite = ET.fromstring(junit_xml(result)).find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["gateway-latency"]
    assert [row[-1] for row in table_rows(result)[1:]] == ["ok", "FAIL"]
    assert GateResult("test", 0, 0, error="no Prometheus").exit_code == 2
    assert GateResult("test", 0, 0).exit_code == 2  # nothing judged is never a pass


# -- against a real Prometheus with history ----------------------------------------------------------
def _openmetrics() -> str:
    """Span metrics of every SLO'd service every STEP_S over HISTORY_S: all requests fast (under
    10 ms) and fine, except identity answers BURST_ERROR_RATIO errors for BURST_S."""
    services = sorted({s.service for s in load_slos([DEFAULT_DIR])})
    server = 'span_kind="SPAN_KIND_SERVER"'
    calls: list[str] = []
    buckets: list[str] = []
    start = END - HISTORY_S
    for svc in services:
        ok = err = 0.0
        for t in range(start, END + 1, STEP_S):
            lo, hi = max(t - STEP_S, BURST_START), min(t, BURST_START + BURST_S)
            bursting = max(0, hi - lo) if svc == "identity" else 0
            new = RPS * STEP_S
            new_err = RPS * bursting * BURST_ERROR_RATIO
            ok, err = ok + new - new_err, err + new_err
            for code, value in (("STATUS_CODE_UNSET", ok), ("STATUS_CODE_ERROR", err)):
                calls.append(f'{names.SPAN_CALLS}_total{{service_name="{svc}",{server},status_code="{code}"}} '
                             f"{value:g} {t}")
            for le in [*map(float, names.SPAN_DURATION_BUCKETS_MS), float("inf")]:
                bound = "+Inf" if le == float("inf") else repr(le)
                value = ok + err if le >= 10 else 0.0  # every request takes 5-10 ms
                buckets.append(f'{names.SPAN_DURATION}_bucket{{service_name="{svc}",{server},le="{bound}"}} '
                               f"{value:g} {t}")
    return "\n".join([f"# TYPE {names.SPAN_CALLS} counter", *calls,
                      f"# TYPE {names.SPAN_DURATION} histogram", *buckets, "# EOF", ""])


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("prom-history")
    promtool = require_binary("promtool")
    (tmp / "history.om").write_text(_openmetrics())
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(tmp / "history.om"), str(tmp / "tsdb")],
                   check=True, capture_output=True, timeout=120)
    with prometheus(tmp, scrape_targets=[]) as url:
        yield url


def _check(url: str, end: int, tmp: Path, *extra: str) -> tuple[int, str, dict[str, object]]:
    out = tmp / f"gate-{end}.json"
    res = CliRunner().invoke(app, ["slo", "check", "--prometheus", url, "--window", "1h", "--end", str(end),
                                   "--json", str(out), "--junit", str(tmp / f"gate-{end}.xml"), *extra])
    return res.exit_code, res.output, json.loads(out.read_text())


@pytest.mark.slow
def test_a_healthy_hour_passes(history: str, tmp_path: Path) -> None:
    code, output, doc = _check(history, BURST_START - 600, tmp_path)
    assert code == 0, output
    assert "PASS: every SLO held" in output
    slos = doc["slos"]
    assert isinstance(slos, list) and len(slos) == 18 and all(s["passed"] for s in slos)
    identity = next(s for s in slos if s["slo"] == "identity-availability")
    assert identity["total"] == pytest.approx(RPS * 3600, rel=0.05) and identity["bad"] == 0


@pytest.mark.slow
def test_the_hour_with_an_error_burst_fails_naming_the_slo(history: str, tmp_path: Path) -> None:
    code, output, doc = _check(history, BURST_START + BURST_S + 600, tmp_path)
    assert code == 1, output
    assert "FAIL: identity-availability" in output
    slos = {s["slo"]: s for s in doc["slos"]}  # type: ignore[attr-defined]
    bad = slos["identity-availability"]
    assert bad["bad"] == pytest.approx(RPS * BURST_S * BURST_ERROR_RATIO, rel=0.1)
    assert any(v.startswith("objective missed") for v in bad["violations"])
    assert any("page rule identity-availability/critical/14.4x fired" in v for v in bad["violations"]), bad
    assert [name for name, s in slos.items() if not s["passed"]] == ["identity-availability"]
    cases = ET.parse(tmp_path / f"gate-{BURST_START + BURST_S + 600}.xml").getroot().iter("testcase")
    assert [c.get("name") for c in cases if c.find("failure") is not None] == ["identity-availability"]


@pytest.mark.slow
def test_a_window_without_data_fails_unless_allowed(history: str, tmp_path: Path) -> None:
    before = END - HISTORY_S - 7200
    code, output, doc = _check(history, before, tmp_path)
    assert code == 1 and "api-gateway-availability: no data" in output
    assert all(s["violations"][0].startswith("no data") for s in doc["slos"])  # type: ignore[attr-defined]
    code, output, _ = _check(history, before, tmp_path, "--allow-no-data")
    assert code == 0, output


def test_an_unreachable_prometheus_is_an_error_not_a_pass(tmp_path: Path) -> None:
    code, output, doc = _check(f"http://127.0.0.1:{free_port()}", END, tmp_path)
    assert code == 2 and "did not answer" in output and doc["error"]


def test_a_bad_slo_file_is_refused_naming_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad-slo.yaml"
    text = (DEFAULT_DIR / "platform.yaml").read_text().replace("series: red.errors_per_s", "series: red.errrors", 1)
    bad.write_text(text.replace("target: 0.999", "target: 1.5", 1))
    res = CliRunner().invoke(app, ["slo", "check", "--slo", str(bad), "--prometheus", "http://127.0.0.1:9"])
    assert res.exit_code == 1
    field = r"spec\.indicator\.spec\.ratioMetric\.bad\.metricSource\.spec\.series"
    assert re.search(rf"{re.escape(str(bad))}:\d+: {field}: ", res.output), res.output
    assert re.search(rf"{re.escape(str(bad))}:\d+: spec\.objectives\[0\]\.target: ", res.output), res.output


# -- the example CI workflow -----------------------------------------------------------------------
WORKFLOW = Path(__file__).resolve().parents[1] / "dashboards" / "ci" / "github-slo-gate.yml"


def _parse(argv: list[str]) -> dict[str, Any]:
    """Parse a command line as the installed CLI would, without running it (typer's own click)."""
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("healops", argv)
    args = [*getattr(ctx, "_protected_args", []), *ctx.args]
    while hasattr(command, "resolve_command"):  # a group: descend into the named subcommand
        name, command, args = command.resolve_command(ctx, args)
        ctx = command.make_context(name, args, parent=ctx)
        args = [*getattr(ctx, "_protected_args", []), *ctx.args]
    return dict(ctx.params)


def test_the_example_workflow_uses_the_gate_as_the_cli_defines_it() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    runs = [step["run"] for job in doc["jobs"].values() for step in job["steps"] if "run" in step]
    gates = [shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "http://prometheus.example:9090", r))
             for r in runs if r.startswith("healops ")]
    assert len(gates) == 2
    parsed = [_parse(g[1:]) for g in gates]
    assert parsed[0]["prometheus"] is None and parsed[0]["duration"] == 120.0 and parsed[0]["junit"]
    assert parsed[1]["prometheus"] == "http://prometheus.example:9090" and parsed[1]["window"] == "1h"
    with pytest.raises(Exception, match="No such option"):
        _parse(["slo", "check", "--durashun", "120"])  # the parse does check option names


# -- the platform source's arithmetic, on the control plane's own evaluator ----------------------------
def test_a_window_on_the_evaluator_counts_its_events_and_a_burst_between_two_polls() -> None:
    slos = [s for s in load_slos([DEFAULT_DIR], 120) if s.service == "identity"]
    evaluator = BurnRateEvaluator(slos)
    availability = next(s for s in slos if s.name == "identity-availability")
    assert availability.bad is not None
    total, bad = series_key(availability.total), series_key(availability.bad)
    for t in range(100):
        evaluator.on_step(float(t), {total: 10.0, bad: 0.0})
    watch = _Watch({s["slo"]: s for s in evaluator.status()})
    for t in range(100, 110):  # half the requests fail for 10 s, over before the gate polls again
        evaluator.on_step(float(t), {total: 10.0, bad: 5.0})
    for t in range(110, 200):
        evaluator.on_step(float(t), {total: 10.0, bad: 0.0})
    last = evaluator.status()
    assert not any(r["firing"] for s in last for r in s["rules"]), "nothing fires at the second poll"
    windows = {w.slo: w for w in watch.windows(last)}
    hit = windows["identity-availability"]
    assert (hit.total, hit.bad) == (1000.0, 50.0)
    assert [f.severity for f in hit.fired].count("critical") >= 1, hit.fired  # seen through the fired counter
    assert not judge(hit).passed and judge(windows["identity-latency"]).passed
    restarted = BurnRateEvaluator(slos)
    restarted.on_step(0.0, {total: 10.0, bad: 0.0})
    with pytest.raises(HealopsError, match="restarted during the window"):
        watch.windows(restarted.status())
