"""OpenSLO v1 documents: the shipped defaults, reference resolution, scaling, and errors that name
file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.openslo import DEFAULT_DIR, duration_s, load_slos
from healops.errors import DocumentError
from workloads.catalog import SERVICES


def test_defaults_cover_every_service_with_both_objectives() -> None:
    slos = load_slos([DEFAULT_DIR], time_scale=120)
    by_service: dict[str, set[float]] = {}
    for s in slos:
        by_service.setdefault(s.service, set()).add(s.objective)
    assert by_service == {name: {0.999, 0.99} for name in SERVICES}
    latency = next(s for s in slos if s.name == "identity-latency")
    assert latency.bad is not None and latency.bad.threshold_ms == 50


def test_policies_pair_into_multiwindow_rules_scaled_down() -> None:
    slo = next(s for s in load_slos([DEFAULT_DIR], time_scale=120) if s.name == "ml-availability")
    rules = {(r.severity, r.threshold): r.windows_s for r in slo.rules}
    assert rules == {("critical", 14.4): (30.0, 2.5), ("critical", 6.0): (180.0, 15.0),
                     ("warning", 3.0): (720.0, 60.0), ("warning", 1.0): (2160.0, 180.0)}


def test_duration_format() -> None:
    assert duration_s("5m") == 300 and duration_s("28d") == 28 * 86400
    with pytest.raises(ValueError, match="not a duration"):
        duration_s("5 minutes")


BAD = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
spec:
  service: checkout
  indicator:
    metadata: {name: checkout-errors}
    spec:
      ratioMetric:
        bad:
          metricSource: {type: healops, spec: {series: red.errors_per_s, service: checkout}}
        total:
          metricSource: {type: healops, spec: {series: red.requests_per_s, service: checkout}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives:
    - target: 1.5
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: page-fast}
spec:
  conditions:
    - kind: AlertCondition
      metadata: {name: fast}
      spec:
        severity: urgent
        condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h}
"""


def test_bad_documents_name_file_line_and_field(tmp_path: Path) -> None:
    f = tmp_path / "slos.yaml"
    f.write_text(BAD)
    with pytest.raises(DocumentError) as err:
        load_slos([f])
    where = {(p.line, p.field) for p in err.value.problems}
    assert (18, "spec.objectives[0].target") in where
    assert (28, "spec.conditions[0].spec.severity") in where
    assert all(p.file == str(f) for p in err.value.problems)


def test_dangling_policy_reference_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "slo.yaml"
    f.write_text(BAD.split("---")[0].replace("target: 1.5", "target: 0.99") + "  alertPolicies: [nope]\n")
    with pytest.raises(DocumentError, match="no AlertPolicy named 'nope'"):
        load_slos([f])


def test_up_refuses_a_bad_slo_file_before_starting_anything(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from healops.cli import app
    from healops.harness import free_port

    f = tmp_path / "slos.yaml"
    f.write_text(BAD)
    env = {"HEALOPS_SLO_PATHS": str(f), "HEALOPS_HOME": str(tmp_path / "home"),
           "HEALOPS_GATEWAY_PORT": str(free_port()), "HEALOPS_CONTROL_PORT": str(free_port()),
           "HEALOPS_OTLP_PORT": str(free_port())}
    result = CliRunner().invoke(app, ["up", "--headless"], env=env)
    assert result.exit_code == 2
    assert f"{f}:18: spec.objectives[0].target" in result.output
    assert not (tmp_path / "home" / "run").exists()
