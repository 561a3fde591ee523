"""The CI SLO gate's verdict: what a window of traffic did to each SLO, judged the same way whichever
source measured it (a Prometheus over a past window, or a platform the gate ran itself).

An SLO fails the gate when its objective is missed over the window (more bad events than the
budget allows) and the miss is significant, or when one of its burn-rate rules of a failing
severity fired during the window (the budget burned too fast, even if the window as a whole stayed
inside it). An SLO with no traffic fails too, unless allowed: in CI, no data nearly always means
nothing was measured.

Why significance: a CI window is short. One slow request in 50 is 98 % against a 99 % objective,
and it says nothing: a service that meets 99 % exactly shows one or more bad requests in 50 four
times in ten. A miss counts when a one-sided binomial test rejects "the service meets its objective"
at ``confidence`` (the chance of that many bad events or more, if the true bad share were exactly
the budget, is below 1 - confidence). With thousands of events this is the plain comparison;
``confidence`` 0 is the plain comparison always.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FailOn = Literal["page", "ticket", "none"]
FAILING_SEVERITIES: dict[str, frozenset[str]] = {
    "page": frozenset({"critical"}), "ticket": frozenset({"critical", "warning"}), "none": frozenset()}
SEVERITY_NAME = {"critical": "page", "warning": "ticket", "info": "ticket"}


@dataclass(frozen=True)
class FiredRule:
    """A burn-rate rule that fired during the window."""

    rule: str
    severity: str  # healops' severity: critical (a page) or warning (a ticket)
    threshold: float
    max_burn: float | None = None  # the highest burn rate seen while it fired, when the source knows


@dataclass(frozen=True)
class SloWindow:
    """One SLO over the checked window: events counted and the rules that fired."""

    slo: str
    service: str
    objective: float
    total: float
    bad: float
    fired: tuple[FiredRule, ...] = ()

    @property
    def error_ratio(self) -> float | None:
        return self.bad / self.total if self.total > 0 else None

    @property
    def burn(self) -> float | None:
        """The window's average burn rate: 1.0 spends the budget exactly as fast as the SLO allows."""
        ratio = self.error_ratio
        return None if ratio is None else ratio / (1.0 - self.objective)


@dataclass(frozen=True)
class Verdict:
    window: SloWindow
    violations: tuple[str, ...]
    p_value: float | None = None  # of the objective's binomial test; None without traffic
    notes: tuple[str, ...] = ()  # e.g. a miss too small to be significant

    @property
    def passed(self) -> bool:
        return not self.violations


@dataclass
class GateResult:
    source: str  # what was measured, in words
    started_at: float
    ended_at: float
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. what the chaos experiment did
    error: str | None = None  # the gate could not judge (exit 2, never a pass)

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.verdicts) and all(v.passed for v in self.verdicts)

    @property
    def exit_code(self) -> int:
        return 2 if self.error is not None or not self.verdicts else (0 if self.passed else 1)


def miss_p_value(bad: float, total: float, objective: float) -> float:
    """P(X >= bad) for X ~ Binomial(total, 1 - objective): how likely this many bad events are from a
    service exactly meeting its objective. Counts from Prometheus are extrapolated: rounded here."""
    from scipy.stats import binom

    k, n = round(bad), max(round(total), 1)
    return 1.0 if k <= 0 else float(binom.sf(k - 1, n, 1.0 - objective))


@dataclass(frozen=True)
class Judging:
    """How strict the gate is: which burn-rate rules fail it, whether no traffic may pass, and the
    confidence a miss of the objective must reach."""

    fail_on: FailOn = "page"
    allow_no_data: bool = False
    confidence: float = 0.95


def judge(w: SloWindow, how: Judging | None = None) -> Verdict:
    how = how or Judging()
    reasons: list[str] = []
    notes: list[str] = []
    ratio = w.error_ratio
    p_value = None if ratio is None else miss_p_value(w.bad, w.total, w.objective)
    if ratio is None:
        if not how.allow_no_data:
            reasons.append("no data: no request counted in the window (is the service running and scraped?)")
    elif ratio > 1.0 - w.objective:
        missed = f"{1 - ratio:.3%} good against {w.objective:.3%} ({w.bad:.0f} bad of {w.total:.0f}, p = {p_value:.2g})"
        if p_value is not None and p_value < 1.0 - how.confidence:
            reasons.append(f"objective missed: {missed}")
        else:
            notes.append(f"below the objective but not significantly at {how.confidence:.0%}: {missed}")
    failing = FAILING_SEVERITIES[how.fail_on]
    for f in w.fired:
        if f.severity in failing:
            peak = f" (peak {f.max_burn:.1f}x)" if f.max_burn is not None else ""
            reasons.append(f"budget burned too fast: {SEVERITY_NAME.get(f.severity, f.severity)} rule "
                           f"{f.rule} fired at >= {f.threshold:g}x{peak}")
    return Verdict(w, tuple(reasons), p_value, tuple(notes))


def summary(result: GateResult) -> dict[str, Any]:
    """The JSON summary: one object, stable keys, for CI scripts to read."""
    return {
        "passed": result.passed, "exit_code": result.exit_code, "source": result.source,
        "window": {"start": result.started_at, "end": result.ended_at,
                   "seconds": round(result.ended_at - result.started_at, 1)},
        "error": result.error, "notes": list(result.notes),
        "slos": [{"slo": v.window.slo, "service": v.window.service, "objective": v.window.objective,
                  "total": v.window.total, "bad": v.window.bad, "error_ratio": v.window.error_ratio,
                  "burn": v.window.burn, "p_value": v.p_value, "fired": [asdict(f) for f in v.window.fired],
                  "passed": v.passed, "violations": list(v.violations), "notes": list(v.notes)}
                 for v in result.verdicts],
    }


def junit_xml(result: GateResult) -> str:
    """One test case per SLO (CI shows the violated ones by name); a gate error is an error case."""
    seconds = f"{max(0.0, result.ended_at - result.started_at):.1f}"
    suite = ET.Element("testsuite", name="healops.slo", tests=str(len(result.verdicts) + bool(result.error)),
                       failures=str(sum(not v.passed for v in result.verdicts)),
                       errors="1" if result.error else "0", time=seconds)
    for v in result.verdicts:
        case = ET.SubElement(suite, "testcase", classname=f"healops.slo.{v.window.service}", name=v.window.slo,
                             time=seconds)
        if not v.passed:
            failure = ET.SubElement(case, "failure", message="; ".join(v.violations))
            failure.text = json.dumps(summary(GateResult(result.source, result.started_at, result.ended_at,
                                                         [v]))["slos"][0], indent=1)
    if result.error:
        case = ET.SubElement(suite, "testcase", classname="healops.slo", name="slo gate")
        ET.SubElement(case, "error", message=result.error)
    out = ET.SubElement(suite, "system-out")
    out.text = "\n".join([result.source, *result.notes])
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def table_rows(result: GateResult) -> list[list[str]]:
    """The printed table's rows (header first): one SLO per row (why one failed is printed below)."""
    rows = [["SLO", "service", "objective", "good", "bad / total", "burn", "rules fired", "verdict"]]
    for v in result.verdicts:
        w = v.window
        good = "-" if w.error_ratio is None else f"{1 - w.error_ratio:.3%}"
        burn = "-" if w.burn is None else f"{w.burn:.2f}x"
        fired = ", ".join(f"{SEVERITY_NAME.get(f.severity, f.severity)} {f.threshold:g}x" for f in w.fired) or "-"
        rows.append([w.slo, w.service, f"{w.objective:.3%}", good, f"{w.bad:.0f} / {w.total:.0f}", burn, fired,
                     "ok" if v.passed else "FAIL"])
    return rows
