"""Dashboards as code: the JSON is the Grafana 11.6 schema (it round-trips through the
grafana-foundation-sdk's own model types) and is pinned by a snapshot; the provisioning files are
Grafana's shapes; `healops dashboards build` writes them all. Grafana itself cannot run here; that
every query returns data on a real Prometheus is in tests/test_prometheus_rules.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel
from syrupy.assertion import SnapshotAssertion

from dashboards.grafana import all_dashboards, to_json
from detectors.openslo import DEFAULT_DIR, load_slos


def panel_exprs(doc: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard: panel targets and annotation queries."""
    exprs = [t["expr"] for p in doc.get("panels", []) for t in p.get("targets", []) if "expr" in t]
    exprs += [a["expr"] for a in doc.get("annotations", {}).get("list", []) if a.get("expr")]
    return exprs


def test_each_dashboard_round_trips_through_the_sdk_types_and_matches_its_snapshot(
        snapshot: SnapshotAssertion) -> None:
    dashboards = all_dashboards(load_slos([DEFAULT_DIR]))
    assert set(dashboards) == {"overview", "service", "slo", "self-healing"}
    for name, dash in dashboards.items():
        doc = to_json(dash)
        again = json.loads(json.dumps(DashboardModel.from_json(doc), cls=JSONEncoder, sort_keys=True))
        assert again == doc, f"{name}: not the schema's shape"
        assert doc["uid"] == f"healops-{name}" and "healops" in doc["tags"]
        assert panel_exprs(doc), f"{name}: no query"
        assert all(t["datasource"]["uid"] == "${datasource}"
                   for p in doc["panels"] for t in p.get("targets", [])), f"{name}: a query without the variable"
        assert doc == snapshot(name=name)


def test_the_service_dashboard_is_templated_by_service() -> None:
    doc = to_json(all_dashboards(load_slos([DEFAULT_DIR]))["service"])
    variables = {v["name"]: v for v in doc["templating"]["list"]}
    assert variables["service"]["query"] == "label_values(traces_span_metrics_calls_total, service_name)"
    assert variables["datasource"]["query"] == "prometheus"
    assert all('"$service"' in e or "$service" in e for e in panel_exprs(doc))


def test_build_writes_dashboards_and_grafana_provisioning(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "healops.cli", "dashboards", "build", "--out", str(tmp_path),
                           "--prometheus-url", "http://127.0.0.1:9999"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in (tmp_path / "dashboards").glob("*.json"))
    assert names == ["healops-overview.json", "healops-self-healing.json", "healops-service.json",
                     "healops-slo.json"]
    source = yaml.safe_load((tmp_path / "provisioning" / "datasources" / "healops.yaml").read_text())
    assert source["apiVersion"] == 1 and source["datasources"][0]["type"] == "prometheus"
    assert source["datasources"][0]["url"] == "http://127.0.0.1:9999"
    provider = yaml.safe_load((tmp_path / "provisioning" / "dashboards" / "healops.yaml").read_text())
    assert provider["providers"][0]["type"] == "file"
    assert Path(provider["providers"][0]["options"]["path"]) == (tmp_path / "dashboards").resolve()


def test_a_bad_slo_file_is_refused_naming_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "slos.yaml"
    bad.write_text((DEFAULT_DIR / "platform.yaml").read_text().replace("target: 0.999", "target: 1.5", 1))
    done = subprocess.run([sys.executable, "-m", "healops.cli", "dashboards", "build", "--out",
                           str(tmp_path / "out"), "--slo", str(bad)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 1
    assert str(bad) in done.stderr and "target" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()
