"""The PromQL behind the dashboards, from the metric-name constants the collectors emit
(:mod:`collectors.names`) and the rule names :mod:`dashboards.prometheus_rules` records, so a
renamed metric breaks the build, not a panel at 3 a.m."""

from __future__ import annotations

from collectors import names
from collectors.prometheus_source import SERVER

CALLS = f"{names.SPAN_CALLS}_total"
BUCKETS = f"{names.SPAN_DURATION}_bucket"
ERROR = 'status_code="STATUS_CODE_ERROR"'
RATE = "$__rate_interval"
SERVICE = 'service_name=~"$service"'


def requests(where: str = "") -> str:
    sel = ",".join(filter(None, (SERVER, where)))
    return f"sum by (service_name) (rate({CALLS}{{{sel}}}[{RATE}]))"


def error_ratio(where: str = "") -> str:
    sel = ",".join(filter(None, (SERVER, where)))
    errors = f"sum by (service_name) (rate({CALLS}{{{sel},{ERROR}}}[{RATE}]))"
    return f"({errors} or {requests(where)} * 0) / {requests(where)}"


def latency(q: float, where: str = "") -> str:
    sel = ",".join(filter(None, (SERVER, where)))
    return f"histogram_quantile({q}, sum by (service_name, le) (rate({BUCKETS}{{{sel}}}[{RATE}])))"


def by_operation(where: str) -> str:
    return f"sum by (span_name) (rate({CALLS}{{{SERVER},{where}}}[{RATE}]))"


def edge_requests(where: str = "") -> str:
    sel = f"{{{where}}}" if where else ""
    return f"sum by (client, server) (rate({names.GRAPH_REQUESTS}_total{sel}[{RATE}]))"


def edge_error_ratio(where: str = "") -> str:
    sel = f"{{{where}}}" if where else ""
    failed = f"sum by (client, server) (rate({names.GRAPH_FAILED}_total{sel}[{RATE}]))"
    return f"({failed} or {edge_requests(where)} * 0) / {edge_requests(where)}"


def edge_p99(where: str = "") -> str:
    sel = f"{{{where}}}" if where else ""
    return (f"histogram_quantile(0.99, sum by (client, server, le) "
            f"(rate({names.GRAPH_SERVER_SECONDS}_bucket{sel}[{RATE}])))")


# SLOs (recorded by the generated Prometheus rules)
def slo_error_ratio(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"


def slo_burn(window: str) -> str:
    return f"{slo_error_ratio(window)} / on (slo) group_left () (1 - slo:objective:ratio)"


def slo_budget_left(period: str) -> str:
    return f"1 - {slo_error_ratio(period)} / on (slo) group_left () (1 - slo:objective:ratio)"


SLO_ALERTS = 'ALERTS{alertname="SloErrorBudgetBurn", alertstate="firing"}'

# the self-healing loop (healops.controlplane.loop_metrics)
INCIDENTS_ACTIVE = "sum by (severity) (healops_incidents_active)"
INCIDENTS_BY_STATE = "sum by (state) (healops_incidents_total)"
ACTIONS = f"sum by (runbook, state) (increase(healops_remediation_actions_total[{RATE}]))"
REMEDIATIONS = "sum by (runbook, state) (healops_remediations_total)"
KILL_SWITCH = "max(healops_remediation_kill_switch)"
ACTIONS_APPLIED = 'sum(changes(healops_remediation_actions_total{state="applied"}[1m])) > 0'


def recover_quantile(q: float) -> str:
    return f"histogram_quantile({q}, sum by (le) (healops_incident_duration_seconds_bucket))"


def detect_quantile(q: float) -> str:
    return f"histogram_quantile({q}, sum by (le) (healops_incident_detection_lag_seconds_bucket))"
