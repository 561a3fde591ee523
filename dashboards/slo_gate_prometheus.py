"""The SLO gate against a Prometheus that scraped the services: the same PromQL as the generated
rules (:mod:`dashboards.prometheus_rules`), computed inline, so the gate needs no rules loaded and
agrees with what Prometheus would have alerted on.

Events over the window are the rate over the whole window times its length (``increase``); a
burn-rate rule fired if its multi-window condition returned a sample at any step of the window.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from dashboards.prometheus_rules import burn_alert_expr, prom_duration, rate_expr
from dashboards.slo_gate import FiredRule, SloWindow
from detectors.openslo import CompiledSlo, HealopsSeries
from healops.errors import HealopsError

MAX_POINTS = 300  # steps per rule over the window: enough to see a short window's burst


def step_for(window_s: float, shortest_rule_window_s: float) -> float:
    """A step no longer than half the shortest rule window (a burst that trips it is seen) and
    not so short that a long check window asks for thousands of points."""
    return max(1.0, min(shortest_rule_window_s / 2, max(window_s / MAX_POINTS, 1.0)))


def _scalar(result: list[dict[str, Any]]) -> float:
    """Sum of an instant vector (empty: 0). NaN (0/0) counts as 0 events."""
    total = 0.0
    for item in result:
        value = float(item["value"][1])
        total += value if math.isfinite(value) else 0.0
    return total


class PrometheusMeter:
    """Measure SLOs over ``[start, end]`` from a Prometheus (prometheus-api-client, synchronous)."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        from prometheus_api_client import PrometheusConnect
        from urllib3.util.retry import Retry

        self.url = url
        self.timeout = f"{round(timeout_s * 1000)}ms"
        # one quick retry (a Prometheus restarting, a 503), not the client's default of backing off for seconds:
        # a CI job should learn at once that its Prometheus URL is wrong
        retry = Retry(total=1, backoff_factor=0.5, status_forcelist=(502, 503, 504))
        self.prom = PrometheusConnect(url=url, disable_ssl=True, retry=retry, timeout=round(timeout_s))

    def _instant(self, query: str, at: float) -> float:
        return _scalar(self._call(lambda: self.prom.custom_query(query, params={"time": at, "timeout": self.timeout})))

    def _range(self, query: str, start: float, end: float, step_s: float) -> list[float]:
        result = self._call(lambda: self.prom.custom_query_range(
            query, start_time=datetime.fromtimestamp(start, UTC), end_time=datetime.fromtimestamp(end, UTC),
            step=f"{round(step_s * 1000)}ms", params={"timeout": self.timeout}))
        return [float(v) for item in result for _, v in item["values"] if math.isfinite(float(v))]

    def _call(self, fn: Any) -> list[dict[str, Any]]:
        try:
            result: list[dict[str, Any]] = fn()
        except Exception as exc:  # connection refused, HTTP 4xx/5xx, bad JSON: the gate cannot judge
            raise HealopsError(f"Prometheus at {self.url} did not answer: {exc}") from exc
        return result

    def events(self, series: HealopsSeries, window_s: float, end: float) -> float:
        window = prom_duration(window_s)
        return self._instant(f"{rate_expr(series, window)} * {window_s:g}", end)

    def measure(self, slo: CompiledSlo, start: float, end: float) -> SloWindow:
        window_s = float(round(end - start))
        if window_s < 1:
            raise HealopsError("the checked window must be at least one second")
        total = self.events(slo.total, window_s, end)
        if slo.bad is not None:
            bad = self.events(slo.bad, window_s, end)
        else:
            assert slo.good is not None
            bad = max(0.0, total - self.events(slo.good, window_s, end))
        fired = []
        for rule in slo.rules:
            step = step_for(window_s, min(rule.windows_s))
            ratios = self._range(burn_alert_expr(slo, rule, recorded=False), start, end, step)
            if ratios:  # the condition returns the first (longest) window's ratio where every window burns
                fired.append(FiredRule(rule.name, rule.severity, rule.threshold, max(ratios) / slo.budget))
        return SloWindow(slo.name, slo.service, slo.objective, total, min(bad, total), tuple(fired))
