"""Prometheus rules generated from the OpenSLO files: ``promtool check rules``, ``promtool test
rules`` on the burn-rate alerts (multi-window: a short window that recovered silences the fast
page), every recording rule answering on a real Prometheus that scraped the platform, and bad SLO
files refused naming the file and field."""

from __future__ import annotations

import re
import subprocess
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.grafana import all_dashboards, to_json
from dashboards.prometheus_rules import ALERT, build_rules, prom_duration
from dashboards.queries import ACTIONS_APPLIED, SLO_ALERTS
from detectors.openslo import DEFAULT_DIR, load_slos
from healops.errors import DocumentError
from healops.harness import PlatformProcess, wait_until
from tests.servers import instant, prometheus, require_binary
from tests.test_dashboards import panel_exprs

CALLS = 'traces_span_metrics_calls_total{span_kind="SPAN_KIND_SERVER",service_name="%s",status_code="%s"}'


def test_windows_become_prometheus_durations() -> None:
    assert [prom_duration(s) for s in (3600, 300, 2.5, 30, 86400, 90)] == ["1h", "5m", "2500ms", "30s", "1d", "90s"]
    with pytest.raises(ValueError, match="positive"):
        prom_duration(0)


def test_promtool_accepts_the_generated_rules(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    path = build_rules([DEFAULT_DIR], tmp_path)
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    slos = load_slos([DEFAULT_DIR])
    # per SLO: a ratio per window (its alerts' and its budget period's), the objective, an alert per pair
    expected = sum(len({w for r in s.rules for w in r.windows_s} | {s.period_s}) + 1 + len(s.rules) for s in slos)
    assert f"SUCCESS: {expected} rules found" in done.stdout


def _expected_alerts(doc: dict[str, Any], slo: str, burn_rates: set[str]) -> list[dict[str, Any]]:
    out = []
    for group in doc["groups"]:
        for rule in group["rules"]:
            labels = rule.get("labels", {})
            if rule.get("alert") == ALERT and labels["slo"] == slo and labels["burn_rate"] in burn_rates:
                out.append({"exp_labels": {**rule["labels"], "alertname": ALERT},
                            "exp_annotations": rule["annotations"]})
    return out


def test_promtool_unit_tests_of_the_burn_rate_alerts(tmp_path: Path) -> None:
    """notification fails 10 % of its requests for 64 min (100x its 0.1 % budget); identity fails
    none. At 63 min every notification availability alert fires; at 70 min, errors stopped 6 min
    ago, the 14.4x page (1 h *and* 5 min) is silent because its short window recovered."""
    promtool = require_binary("promtool")
    path = build_rules([DEFAULT_DIR], tmp_path)
    doc = yaml.safe_load(path.read_text())
    tests = {
        "rule_files": [path.name],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": CALLS % ("notification", "STATUS_CODE_OK"), "values": "0+540x70"},
                {"series": CALLS % ("notification", "STATUS_CODE_ERROR"), "values": "0+60x64 3840+0x6"},
                {"series": CALLS % ("identity", "STATUS_CODE_OK"), "values": "0+600x70"},
            ],
            "alert_rule_test": [
                {"eval_time": "63m", "alertname": ALERT,
                 "exp_alerts": _expected_alerts(doc, "notification-availability", {"14.4x", "6x", "3x", "1x"})},
                {"eval_time": "70m", "alertname": ALERT,
                 "exp_alerts": _expected_alerts(doc, "notification-availability", {"6x", "3x", "1x"})},
            ],
            "promql_expr_test": [
                {"expr": 'slo:sli_error:ratio_rate5m{slo="notification-availability"}', "eval_time": "30m",
                 "exp_samples": [{"labels": 'slo:sli_error:ratio_rate5m{service="notification",'
                                            'slo="notification-availability"}', "value": 0.1}]},
                {"expr": 'slo:sli_error:ratio_rate5m{slo="identity-availability"}', "eval_time": "30m",
                 "exp_samples": [{"labels": 'slo:sli_error:ratio_rate5m{service="identity",'
                                            'slo="identity-availability"}', "value": 0}]},
            ],
        }],
    }
    assert len(tests["tests"][0]["alert_rule_test"][0]["exp_alerts"]) == 4  # type: ignore[index]
    test_file = tmp_path / "burn_rate_test.yaml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    done = subprocess.run([promtool, "test", "rules", str(test_file)], capture_output=True, text=True,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_a_latency_threshold_without_a_histogram_bucket_is_refused_naming_file_and_field(tmp_path: Path) -> None:
    shipped = (DEFAULT_DIR / "platform.yaml").read_text()
    bad = tmp_path / "slos.yaml"
    bad.write_text(shipped.replace("threshold_ms: 50", "threshold_ms: 37", 1))
    assert bad.read_text() != shipped
    with pytest.raises(DocumentError) as caught:
        build_rules([bad], tmp_path / "out")
    problem = str(caught.value.problems[0])
    assert str(bad) in problem and "threshold_ms" in problem and "37 ms is not a bucket bound" in problem
    assert not (tmp_path / "out").exists(), "nothing written"


def test_an_unknown_series_is_refused_naming_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "slos.yaml"
    bad.write_text((DEFAULT_DIR / "platform.yaml").read_text().replace("series: red.errors_per_s",
                                                                        "series: red.oops_per_s", 1))
    with pytest.raises(DocumentError) as caught:
        build_rules([bad], tmp_path / "out")
    problem = str(caught.value.problems[0])
    assert str(bad) in problem and "series" in problem
    assert re.search(r":\d+", problem), f"a line number: {problem}"


def answers(prom: str, query: str) -> bool:
    return bool(instant(prom, query))


def every_query_answers(plat: PlatformProcess, tmp_path: Path) -> None:
    """A real Prometheus scrapes ``plat`` (with load and a remediation engine, so healops' own series
    exist) and evaluates the generated rules (windows / 30: 5 m -> 10 s, so the shortest window
    holds several scrapes even of a service with little traffic); then every recording
    rule, every alert's join and every dashboard query returns data. Run by
    tests/test_platform_gameday.py on its platform (a platform costs CI half a minute)."""
    path = build_rules([DEFAULT_DIR], tmp_path / "rules", time_scale=30)
    doc = yaml.safe_load(path.read_text())
    records = [r for g in doc["groups"] for r in g["rules"] if "record" in r]
    alerts = [r for g in doc["groups"] for r in g["rules"] if "alert" in r]
    exprs = [e for dash in all_dashboards(load_slos([DEFAULT_DIR], 30)).values() for e in panel_exprs(to_json(dash))]
    target = plat.collector_url.removeprefix("http://")
    with prometheus(tmp_path, [target], rule_files=[path]) as prom:

        def missing() -> list[str]:
            return [f"{r['record']}{{slo={r['labels']['slo']}}}" for r in records
                    if not instant(prom, f'{r["record"]}{{slo="{r["labels"]["slo"]}"}}')]

        wait_until(lambda: not missing(), 60, 1.0, "every recording rule to have a value")
        # the alert expressions join the recorded series: with the threshold at 0 each one answers
        for alert in alerts:
            zero = re.sub(r">= \([^)]*\)", ">= 0", alert["expr"])
            wait_until(partial(answers, prom, zero), 10, 0.5, f"data for {zero}")
        quiet = [e for e in exprs if e in (ACTIONS_APPLIED, SLO_ALERTS)]  # data only when something happens
        assert len(quiet) == 2
        for expr in (e for e in exprs if e not in quiet):
            # healthcare has callers and callees, so every panel of the service dashboard has data
            query = expr.replace("$__rate_interval", "20s").replace("$service", "healthcare")
            wait_until(partial(answers, prom, query), 10, 0.5, f"data for the dashboard query {query}")
        for expr in quiet:  # they still parse and run
            instant(prom, expr.replace("$__rate_interval", "20s"))
