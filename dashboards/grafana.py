"""The four healops dashboards as code (grafana-foundation-sdk, pinned to the Grafana 11.6 build),
and the file-provisioning documents that load them into a Grafana with a Prometheus data source.

- ``healops-overview``: RED per service and the service graph's edges.
- ``healops-service``: one service (the ``service`` variable): RED, operations, callers and callees.
- ``healops-slo``: error ratios, burn rates, budget left and the firing burn-rate alerts.
- ``healops-self-healing``: incidents, remediations (applied actions as annotations), time to
  detect and to recover, the kill switch.

Every panel queries the data source chosen by the ``datasource`` variable, so one JSON works
against any Prometheus that scrapes the collector and loads ``healops rules build``'s rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders import prometheus as gp
from grafana_foundation_sdk.builders import stat as gs
from grafana_foundation_sdk.builders import table as gt
from grafana_foundation_sdk.builders import timeseries as gts
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

from dashboards import queries as q
from dashboards.prometheus_rules import prom_duration
from detectors.openslo import CompiledSlo

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
TAGS = ["healops"]
SLO_WINDOWS_SHOWN = 2  # the shortest windows on the SLO dashboard's ratio and burn panels


def _query(expr: str, legend: str, instant: bool = False) -> gp.Dataquery:
    query = gp.Dataquery().expr(expr).legend_format(legend).datasource(DATASOURCE)
    return query.instant() if instant else query


def _series(title: str, unit: str, *targets: gp.Dataquery, width: int = 12, height: int = 8) -> gts.Panel:
    panel = gts.Panel().title(title).unit(unit).datasource(DATASOURCE).span(width).height(height)
    for target in targets:
        panel = panel.with_target(target)
    return panel


def _stat(title: str, unit: str, target: gp.Dataquery, width: int = 6) -> gs.Panel:
    return gs.Panel().title(title).unit(unit).datasource(DATASOURCE).span(width).height(4).with_target(target)


def _table(title: str, *targets: gp.Dataquery, width: int = 24) -> gt.Panel:
    panel = gt.Panel().title(title).datasource(DATASOURCE).span(width).height(8)
    for target in targets:
        panel = panel.with_target(target)
    return panel


def _base(uid: str, title: str, description: str) -> gd.Dashboard:
    return (gd.Dashboard(title).uid(uid).description(description).tags(TAGS).refresh("10s").time("now-30m", "now")
            .timezone("browser").with_variable(gd.DatasourceVariable("datasource").label("Prometheus")
                                               .type("prometheus")))


def overview() -> gd.Dashboard:
    return (_base("healops-overview", "healops: platform overview", "RED per service and the service graph")
            .with_row(gd.Row("Services"))
            .with_panel(_series("Requests per second", "reqps", _query(q.requests(), "{{service_name}}")))
            .with_panel(_series("Error ratio", "percentunit", _query(q.error_ratio(), "{{service_name}}")))
            .with_panel(_series("p99 latency", "ms", _query(q.latency(0.99), "{{service_name}}"), width=24))
            .with_row(gd.Row("Service graph"))
            .with_panel(_table("Edges: caller -> callee",
                               _query(q.edge_requests(), "{{client}} -> {{server}}", instant=True),
                               _query(q.edge_error_ratio(), "{{client}} -> {{server}} errors", instant=True),
                               _query(q.edge_p99(), "{{client}} -> {{server}} p99", instant=True)))
            .with_panel(_series("Edge requests per second", "reqps",
                                _query(q.edge_requests(), "{{client}} -> {{server}}"), width=24)))


def service() -> gd.Dashboard:
    variable = (gd.QueryVariable("service").label("Service").datasource(DATASOURCE)
                .query(f"label_values({q.CALLS}, service_name)").refresh(VariableRefresh.ON_TIME_RANGE_CHANGED))
    return (_base("healops-service", "healops: service", "One service: RED, operations, callers and callees")
            .with_variable(variable)
            .with_row(gd.Row("$service"))
            .with_panel(_series("Requests per second", "reqps", _query(q.requests(q.SERVICE), "{{service_name}}"),
                                width=8))
            .with_panel(_series("Error ratio", "percentunit", _query(q.error_ratio(q.SERVICE), "{{service_name}}"),
                                width=8))
            .with_panel(_series("Latency", "ms", _query(q.latency(0.5, q.SERVICE), "p50"),
                                _query(q.latency(0.95, q.SERVICE), "p95"), _query(q.latency(0.99, q.SERVICE), "p99"),
                                width=8))
            .with_panel(_series("Operations", "reqps", _query(q.by_operation(q.SERVICE), "{{span_name}}")))
            .with_panel(_series("Calls to its dependencies", "reqps",
                                _query(q.edge_requests('client=~"$service"'), "-> {{server}}")))
            .with_panel(_series("Calls from its callers", "reqps",
                                _query(q.edge_requests('server=~"$service"'), "{{client}} ->"), width=24)))


def slo(slos: list[CompiledSlo]) -> gd.Dashboard:
    windows = sorted({w for s in slos for r in s.rules for w in r.windows_s})[:SLO_WINDOWS_SHOWN]
    period = prom_duration(max((s.period_s for s in slos), default=86400.0))
    dash = _base("healops-slo", "healops: SLOs", "Error ratios, burn rates and budget left, from the OpenSLO rules")
    dash = dash.with_row(gd.Row("Error budget"))
    dash = dash.with_panel(_series(f"Budget left over {period}", "percentunit",
                                   _query(q.slo_budget_left(period), "{{slo}}"), width=24))
    for w in windows:
        d = prom_duration(w)
        dash = dash.with_panel(_series(f"Error ratio over {d}", "percentunit", _query(q.slo_error_ratio(d), "{{slo}}")))
        dash = dash.with_panel(_series(f"Burn rate over {d}", "x", _query(q.slo_burn(d), "{{slo}}")))
    return dash.with_row(gd.Row("Alerts")).with_panel(
        _table("Burn-rate alerts firing", _query(q.SLO_ALERTS, "{{slo}} {{burn_rate}}", instant=True)))


def self_healing() -> gd.Dashboard:
    applied = (gd.AnnotationQuery().name("Remediation actions applied").datasource(DATASOURCE).enable(True)
               .icon_color("orange").expr(q.ACTIONS_APPLIED))
    return (_base("healops-self-healing", "healops: self-healing",
                  "Incidents, remediations, time to detect and recover, the kill switch")
            .annotation(applied)
            .with_row(gd.Row("Now"))
            .with_panel(_stat("Active incidents", "none", _query(f"sum({q.INCIDENTS_ACTIVE})", "active")))
            .with_panel(_stat("Self-healing paused", "bool", _query(q.KILL_SWITCH, "kill switch")))
            .with_panel(_stat("Time to recover p50", "s", _query(q.recover_quantile(0.5), "p50")))
            .with_panel(_stat("Detection lag p90", "s", _query(q.detect_quantile(0.9), "p90")))
            .with_row(gd.Row("Over time"))
            .with_panel(_series("Active incidents by severity", "none", _query(q.INCIDENTS_ACTIVE, "{{severity}}")))
            .with_panel(_series("Incidents by state", "none", _query(q.INCIDENTS_BY_STATE, "{{state}}")))
            .with_panel(_series("Remediation actions", "none", _query(q.ACTIONS, "{{runbook}} {{state}}")))
            .with_panel(_series("Remediations by outcome", "none", _query(q.REMEDIATIONS, "{{runbook}} {{state}}")))
            .with_panel(_series("Time to recover", "s", _query(q.recover_quantile(0.5), "p50"),
                                _query(q.recover_quantile(0.9), "p90")))
            .with_panel(_series("Detection lag", "s", _query(q.detect_quantile(0.5), "p50"),
                                _query(q.detect_quantile(0.9), "p90"))))


def all_dashboards(slos: list[CompiledSlo]) -> dict[str, gd.Dashboard]:
    return {"overview": overview(), "service": service(), "slo": slo(slos), "self-healing": self_healing()}


def to_json(dash: gd.Dashboard) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(dash.build(), cls=JSONEncoder, sort_keys=True))
    return doc


def provisioning(dashboards_dir: Path, prometheus_url: str) -> dict[str, dict[str, Any]]:
    """Grafana's file-provisioning documents: the data source and the dashboard provider."""
    return {
        "datasources/healops.yaml": {"apiVersion": 1, "datasources": [{
            "name": "healops Prometheus", "type": "prometheus", "uid": "healops-prometheus", "access": "proxy",
            "url": prometheus_url, "isDefault": False, "editable": True}]},
        "dashboards/healops.yaml": {"apiVersion": 1, "providers": [{
            "name": "healops", "folder": "healops", "type": "file", "disableDeletion": False,
            "updateIntervalSeconds": 30, "allowUiUpdates": True,
            "options": {"path": str(dashboards_dir), "foldersFromFilesStructure": False}}]},
    }


def build_dashboards(slos: list[CompiledSlo], out: Path, prometheus_url: str = "http://127.0.0.1:9090") -> list[Path]:
    """Write ``out/dashboards/*.json`` and ``out/provisioning/...``; return the files written."""
    written = []
    dash_dir = out / "dashboards"
    dash_dir.mkdir(parents=True, exist_ok=True)
    for name, dash in all_dashboards(slos).items():
        path = dash_dir / f"healops-{name}.json"
        path.write_text(json.dumps(to_json(dash), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    for rel, doc in provisioning(dash_dir.resolve(), prometheus_url).items():
        path = out / "provisioning" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written
