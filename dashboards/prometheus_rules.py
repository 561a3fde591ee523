"""Prometheus rules from the OpenSLO files, Sloth-style: per SLO, a recording rule of its error
ratio over every window its alert policies use, and one multi-window burn-rate alert per policy
pair (the SRE workbook's: the budget burning at N x over a long window *and* a short one).

The SLIs name healops series; here they become PromQL over the span-metrics names the collector
exposes (the OpenTelemetry Collector's, so the same rules work on an OTel Collector's Prometheus).
The alerts carry ``service`` and ``severity`` labels, so Alertmanager can send them back to healops
(``POST /v1/alertmanager``), which opens an incident like its own burn-rate rules would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from collectors import names
from collectors.prometheus_source import SERVER
from dashboards import queries as q
from detectors.openslo import BurnRule, CompiledSlo, HealopsSeries, load_slos
from healops.errors import DocumentError, Problem

RECORD = "slo:sli_error:ratio_rate{window}"
OBJECTIVE = "slo:objective:ratio"
ALERT = "SloErrorBudgetBurn"
SEVERITY_LABEL = {"critical": "critical", "warning": "warning", "info": "info"}  # healops' own names
SLO_SEVERITY = {"critical": "page", "warning": "ticket", "info": "ticket"}


def prom_duration(seconds: float) -> str:
    """Seconds as a Prometheus duration: the largest unit that divides exactly (1h, 5m, 2500ms)."""
    ms = round(seconds * 1000)
    if ms <= 0:
        raise ValueError(f"a rule window must be positive, not {seconds} s")
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _selector(series: HealopsSeries, extra: str = "") -> str:
    sel = f'{SERVER},service_name="{series.service}"'
    return "{" + sel + (f",{extra}" if extra else "") + "}"


def rate_expr(series: HealopsSeries, window: str) -> str:
    """Events per second of a healops series over ``window``, in PromQL."""
    total = f"sum(rate({q.CALLS}{_selector(series)}[{window}]))"
    if series.series == names.RED_REQUESTS:
        return total
    if series.series == names.RED_ERRORS:
        return f"(sum(rate({q.CALLS}{_selector(series, q.ERROR)}[{window}])) or vector(0))"
    assert series.threshold_ms is not None  # red.slow_per_s (validated by the OpenSLO model)
    bucket = _selector(series, f'le="{float(series.threshold_ms)!r}"')  # the exposition's bucket label
    return f"({total} - sum(rate({q.BUCKETS}{bucket}[{window}])))"


def error_ratio_expr(slo: CompiledSlo, window: str) -> str:
    total = rate_expr(slo.total, window)
    if slo.bad is not None:
        return f"{rate_expr(slo.bad, window)} / {total}"
    assert slo.good is not None
    return f"1 - ({rate_expr(slo.good, window)} / {total})"


def burn_alert_expr(slo: CompiledSlo, rule: BurnRule, recorded: bool = True) -> str:
    """The rule's condition: the error ratio over every window at least ``threshold`` x the budget.
    ``recorded`` reads the recording rules; without, the ratios are computed inline (a Prometheus
    that does not load these rules, as the CI gate may query)."""
    factor = f"({rule.threshold:g} * {slo.budget:.6g})"

    def ratio(window: str) -> str:
        return f'{RECORD.format(window=window)}{{slo="{slo.name}"}}' if recorded \
            else f"({error_ratio_expr(slo, window)})"

    return " and ".join(f"{ratio(prom_duration(w))} >= {factor}" for w in rule.windows_s)


def check_mappable(slos: list[CompiledSlo], source: str) -> None:
    """Every SLI must have a PromQL twin: a latency threshold must be a bucket bound of the span
    duration histogram (no rule could count requests slower than 37 ms from buckets at 10 and 50)."""
    problems = []
    bounds = ", ".join(map(str, names.SPAN_DURATION_BUCKETS_MS))
    for slo in slos:
        for role, series in (("bad", slo.bad), ("good", slo.good), ("total", slo.total)):
            if series is not None and series.threshold_ms is not None \
                    and series.threshold_ms not in names.SPAN_DURATION_BUCKETS_MS:
                problems.append(Problem(source, None, f"SLO {slo.name}: indicator {role}.threshold_ms",
                                        f"{series.threshold_ms:g} ms is not a bucket bound of "
                                        f"{names.SPAN_DURATION} ({bounds})"))
    if problems:
        raise DocumentError(problems)


def rule_groups(slos: list[CompiledSlo], time_scale: float = 1.0) -> dict[str, Any]:
    """The rule file's document: a recording group and an alerting group per SLO."""
    groups = []
    for slo in slos:
        windows = sorted({w for rule in slo.rules for w in rule.windows_s} | {slo.period_s})  # + budget period
        labels = {"slo": slo.name, "service": slo.service}
        records = [{"record": RECORD.format(window=prom_duration(w)), "expr": error_ratio_expr(slo, prom_duration(w)),
                    "labels": dict(labels)} for w in windows]
        records.append({"record": OBJECTIVE, "expr": f"vector({slo.objective:g})", "labels": dict(labels)})
        alerts = []
        for rule in slo.rules:
            expr = burn_alert_expr(slo, rule)
            span = " and ".join(prom_duration(w * time_scale) for w in rule.windows_s)
            alerts.append({
                "alert": ALERT, "expr": expr,
                "labels": {**labels, "severity": SEVERITY_LABEL[rule.severity],
                           "slo_severity": SLO_SEVERITY[rule.severity], "burn_rate": f"{rule.threshold:g}x",
                           "healops_rule": rule.name},
                "annotations": {
                    "summary": f"{slo.service}: {slo.name} error budget burning at {rule.threshold:g}x or more",
                    "description": (f"The error ratio of {slo.name} is at least {rule.threshold:g} times its budget "
                                    f"({slo.budget:.4g}) over {span} (windows as in the OpenSLO file)."),
                }})
        groups.append({"name": f"slo-{slo.name}-recording", "rules": records})
        groups.append({"name": f"slo-{slo.name}-alerts", "rules": alerts})
    return {"groups": groups}


def build_rules(slo_paths: list[Path], out_dir: Path, time_scale: float = 1.0) -> Path:
    """Write ``healops-slo-rules.yaml`` into ``out_dir`` from the OpenSLO files; return its path.
    ``time_scale`` divides every window (a local platform runs its SLOs 120x faster)."""
    slos = load_slos(slo_paths, time_scale)
    check_mappable(slos, ", ".join(map(str, slo_paths)))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "healops-slo-rules.yaml"
    header = (f"# Generated by `healops rules build` from {', '.join(p.name for p in slo_paths)}"
              f"{f' (windows divided by {time_scale:g})' if time_scale != 1 else ''}. Do not edit.\n")
    path.write_text(header + yaml.safe_dump(rule_groups(slos, time_scale), sort_keys=False, width=200),
                    encoding="utf-8")
    return path
