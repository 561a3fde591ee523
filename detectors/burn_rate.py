"""Multi-window, multi-burn-rate SLO alerts (Google SRE workbook, ch. 5), evaluated on every step.

The burn rate over a window is the share of bad events divided by the error budget (1 - objective).
A rule fires while every one of its windows burns at least at its threshold: the long window makes
it significant, the short one makes it stop soon after the trouble does. Per SLO, per step, the bad
and total counts are kept as running sums, so any window is one subtraction.

Page rules (critical) may open an incident; ticket rules are kept as evidence and listed with the
SLO's status: a slow burn is a ticket for working hours, not a 3 a.m. page.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from collectors import names
from collectors.series_store import Labels
from detectors.openslo import BurnRule, CompiledSlo, HealopsSeries
from healops.events import Signal


def series_key(ref: HealopsSeries) -> tuple[str, Labels]:
    lbls = [("service", ref.service)]
    if ref.threshold_ms is not None:
        lbls.append(names.threshold_label(ref.threshold_ms))
    return ref.series, tuple(sorted(lbls))


@dataclass
class _SloState:
    slo: CompiledSlo
    capacity: int
    cum: deque[tuple[float, float]] = field(default_factory=deque)  # running (bad, total) sums, one per step
    firing: dict[str, bool] = field(default_factory=dict)
    fired: dict[str, int] = field(default_factory=dict)  # rule name -> times it started firing (a CI gate diffs it)
    burn: dict[str, list[float]] = field(default_factory=dict)  # rule name -> burn per window, last step
    served_steps: int = 0  # steps with traffic seen so far (the start-up grace counts these)
    bad_events: float = 0.0  # since the evaluator started counting: budget spent over any span is a difference
    total_events: float = 0.0
    counted_steps: int = 0

    def push(self, bad: float, total: float) -> None:
        self.bad_events += bad
        self.total_events += total
        self.counted_steps += 1
        last_bad, last_total = self.cum[-1] if self.cum else (0.0, 0.0)
        self.cum.append((last_bad + bad, last_total + total))
        if len(self.cum) > self.capacity + 1:
            self.cum.popleft()

    def burn_over(self, steps: int) -> float:
        """Burn rate over the last ``steps``; 0 until half the window has been observed (a control
        plane that just started must not page on the platform's first, cold requests)."""
        if len(self.cum) - 1 < max(1, steps // 2):
            return 0.0
        first = self.cum[max(0, len(self.cum) - 1 - steps)]
        bad, total = self.cum[-1][0] - first[0], self.cum[-1][1] - first[1]
        return (bad / total) / self.slo.budget if total > 0 else 0.0


@dataclass
class BurnRateEvaluator:
    """``startup_grace_s``: each SLO starts counting after its service has served this long, as a
    Kubernetes startup probe does: a platform's cold start on busy cores is slow by nature, and a
    page for it would open an incident that every real fault of the next minutes then joins."""

    slos: list[CompiledSlo]
    step_s: float = 1.0
    startup_grace_s: float = 0.0
    _states: list[_SloState] = field(default_factory=list)

    def __post_init__(self) -> None:
        for slo in self.slos:
            longest = max((w for r in slo.rules for w in r.windows_s), default=self.step_s)
            self._states.append(_SloState(slo, max(1, round(longest / self.step_s))))

    def thresholds_ms(self) -> set[float]:
        """Latency thresholds the SLOs count requests against (the collector must count them)."""
        refs = [r for s in self.slos for r in (s.bad, s.good, s.total) if r is not None]
        return {r.threshold_ms for r in refs if r.threshold_ms is not None}

    def on_step(self, t: float, written: dict[tuple[str, Labels], float]) -> list[Signal]:
        out: list[Signal] = []
        at = t + self.step_s
        for st in self._states:
            slo = st.slo
            total = written.get(series_key(slo.total), 0.0) * self.step_s
            if slo.bad is not None:
                bad = written.get(series_key(slo.bad), 0.0) * self.step_s
            else:
                assert slo.good is not None
                bad = max(0.0, total - written.get(series_key(slo.good), 0.0) * self.step_s)
            if st.served_steps * self.step_s < self.startup_grace_s:
                st.served_steps += total > 0
                continue
            st.push(bad, total)
            for rule in slo.rules:
                burns = [st.burn_over(max(1, round(w / self.step_s))) for w in rule.windows_s]
                st.burn[rule.name] = burns
                now_firing = all(b >= rule.threshold for b in burns)
                if now_firing != st.firing.get(rule.name, False):
                    st.firing[rule.name] = now_firing
                    st.fired[rule.name] = st.fired.get(rule.name, 0) + now_firing
                    out.append(self._signal(slo, rule, burns, now_firing, at))
        return out

    @staticmethod
    def _signal(slo: CompiledSlo, rule: BurnRule, burns: list[float], firing: bool, at: float) -> Signal:
        windows = " and ".join(f"{b:.1f}x over {w:g}s" for b, w in zip(burns, rule.windows_s, strict=True))
        verb = "burning" if firing else "no longer burning"
        return Signal(
            key=f"burn:{rule.name}", source="burn_rate", service=slo.service, at=at, firing=firing,
            severity=rule.severity, metric=slo.name, value=min(burns), baseline=rule.threshold,
            summary=f"SLO {slo.name} ({slo.objective:.3%}) {verb} its budget at >= {rule.threshold:g}x: {windows}",
            labels={"service": slo.service, "slo": slo.name, "rule": rule.name, "kind": "slo",
                    "opens": str(rule.severity == "critical").lower()})

    def status(self) -> list[dict[str, Any]]:
        """Every SLO with its rules' current burn rates and whether they fire (for the API and TUI)."""
        return [{"slo": st.slo.name, "service": st.slo.service, "objective": st.slo.objective,
                 "period_s": st.slo.period_s, "bad_events": st.bad_events, "total_events": st.total_events,
                 "counted_s": st.counted_steps * self.step_s,
                 "rules": [{"rule": r.name, "severity": r.severity, "threshold": r.threshold,
                            "windows_s": list(r.windows_s), "burn": st.burn.get(r.name, []),
                            "firing": st.firing.get(r.name, False), "fired": st.fired.get(r.name, 0)}
                           for r in st.slo.rules]}
                for st in self._states]


def current_burn_rates(slo_status: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Per service, each SLO's burn rate over its shortest window: how it burns *now*."""
    out: dict[str, list[float]] = {}
    for slo in slo_status:
        shortest: tuple[float, float] | None = None
        for rule in slo["rules"]:
            for window, burn in zip(rule["windows_s"], rule["burn"], strict=False):
                if shortest is None or window < shortest[0]:
                    shortest = (window, burn)
        if shortest is not None:
            out.setdefault(slo["service"], []).append(float(shortest[1]))
    return out
