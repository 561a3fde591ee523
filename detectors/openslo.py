"""SLOs in the OpenSLO v1 format (``SLO``, ``SLI``, ``AlertPolicy``, ``AlertCondition``), validated
with file, line and field, and compiled into multi-window burn-rate rules.

OpenSLO v1 allows one condition (one ``lookbackWindow``) per AlertPolicy, so the Google SRE workbook's
two-window rule is written as two policies; the policies an SLO lists whose conditions share a
severity and a threshold form one rule that fires only when every window burns at that rate.
Metric sources of type ``healops`` name a series of the collectors' store:
``{series: red.errors_per_s, service: identity}``; a latency SLI counts requests slower than a
threshold with ``{series: red.slow_per_s, service: identity, threshold_ms: 50}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, field_validator, model_validator

from healops.documents import parse_yaml_documents
from healops.errors import DocumentError, Problem
from healops.events import Severity

SERIES = ("red.requests_per_s", "red.errors_per_s", "red.slow_per_s")
SEVERITIES: dict[str, Severity] = {"page": "critical", "critical": "critical", "ticket": "warning",
                                   "warning": "warning", "info": "info"}
_DURATION = re.compile(r"^(\d+)(s|m|h|d|w)$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


def duration_s(text: str) -> float:
    """OpenSLO durations: a whole number and one unit (s, m, h, d, w)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration like 5m, 1h or 28d")
    return float(int(m.group(1)) * _UNIT_S[m.group(2)])


def _exactly_one(a: object, b: object, a_name: str, b_name: str) -> None:
    if (a is None) == (b is None):
        raise ValueError(f"give exactly one of {a_name} and {b_name}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Metadata(_Model):
    name: str = Field(pattern=_NAME)
    display_name: str | None = Field(default=None, alias="displayName")
    labels: dict[str, str | list[str]] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class HealopsSeries(_Model):
    series: Literal["red.requests_per_s", "red.errors_per_s", "red.slow_per_s"]
    service: str = Field(min_length=1)
    threshold_ms: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _threshold_only_for_slow(self) -> HealopsSeries:
        if (self.series == "red.slow_per_s") != (self.threshold_ms is not None):
            raise ValueError("threshold_ms is required with red.slow_per_s and only with it")
        return self


class MetricSource(_Model):
    type: Literal["healops"]
    spec: HealopsSeries
    metric_source_ref: str | None = Field(default=None, alias="metricSourceRef")


class MetricRef(_Model):
    metric_source: MetricSource = Field(alias="metricSource")


class RatioMetric(_Model):
    counter: bool = True
    good: MetricRef | None = None
    bad: MetricRef | None = None
    total: MetricRef

    @model_validator(mode="after")
    def _good_or_bad(self) -> RatioMetric:
        _exactly_one(self.good, self.bad, "good", "bad")
        return self


class SliSpec(_Model):
    description: str = ""
    ratio_metric: RatioMetric = Field(alias="ratioMetric")


class InlineSli(_Model):
    metadata: Metadata
    spec: SliSpec


class Sli(_Model):
    api_version: Literal["openslo/v1"] = Field(alias="apiVersion")
    kind: Literal["SLI"]
    metadata: Metadata
    spec: SliSpec


class Condition(_Model):
    kind: Literal["burnrate"]
    op: Literal["gt", "gte"]
    threshold: float = Field(gt=0)
    lookback_window: str = Field(alias="lookbackWindow")
    alert_after: str = Field(default="0s", alias="alertAfter")

    @field_validator("lookback_window", "alert_after")
    @classmethod
    def _duration(cls, v: str) -> str:
        if v != "0s":
            duration_s(v)
        return v


class ConditionSpec(_Model):
    description: str = ""
    severity: str

    condition: Condition

    @field_validator("severity")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
        return v


class AlertConditionDoc(_Model):
    api_version: Literal["openslo/v1"] | None = Field(default=None, alias="apiVersion")
    kind: Literal["AlertCondition"]
    metadata: Metadata
    spec: ConditionSpec


class ConditionRef(_Model):
    condition_ref: str = Field(alias="conditionRef")


def _inline_or_ref(v: Any) -> str:
    """An inline AlertCondition or a reference to one (by name)."""
    is_ref = isinstance(v, ConditionRef) or (isinstance(v, dict) and "conditionRef" in v)
    return "ConditionRef" if is_ref else "AlertCondition"


InlineOrRef = Annotated[
    Annotated[AlertConditionDoc, Tag("AlertCondition")] | Annotated[ConditionRef, Tag("ConditionRef")],
    Discriminator(_inline_or_ref)]


class AlertPolicySpec(_Model):
    description: str = ""
    alert_when_no_data: bool = Field(default=False, alias="alertWhenNoData")
    alert_when_resolved: bool = Field(default=False, alias="alertWhenResolved")
    alert_when_breaching: bool = Field(default=True, alias="alertWhenBreaching")
    conditions: list[InlineOrRef] = Field(min_length=1, max_length=1)
    notification_targets: list[dict[str, Any]] = Field(default_factory=list, alias="notificationTargets")


class AlertPolicy(_Model):
    api_version: Literal["openslo/v1"] = Field(alias="apiVersion")
    kind: Literal["AlertPolicy"]
    metadata: Metadata
    spec: AlertPolicySpec


class TimeWindow(_Model):
    duration: str
    is_rolling: bool = Field(default=True, alias="isRolling")

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: str) -> str:
        duration_s(v)
        return v


class Objective(_Model):
    display_name: str = Field(default="", alias="displayName")
    target: float | None = Field(default=None, gt=0, lt=1)
    target_percent: float | None = Field(default=None, gt=0, lt=100, alias="targetPercent")

    @property
    def ratio(self) -> float:
        if self.target is not None:
            return self.target
        assert self.target_percent is not None
        return self.target_percent / 100

    @model_validator(mode="after")
    def _one_target(self) -> Objective:
        _exactly_one(self.target, self.target_percent, "target", "targetPercent")
        return self


class SloSpec(_Model):
    description: str = ""
    service: str = Field(min_length=1)
    indicator: InlineSli | None = None
    indicator_ref: str | None = Field(default=None, alias="indicatorRef")
    time_window: list[TimeWindow] = Field(alias="timeWindow", min_length=1, max_length=1)
    budgeting_method: Literal["Occurrences"] = Field(alias="budgetingMethod")
    objectives: list[Objective] = Field(min_length=1, max_length=1)
    alert_policies: list[str] = Field(default_factory=list, alias="alertPolicies")

    @model_validator(mode="after")
    def _one_indicator(self) -> SloSpec:
        _exactly_one(self.indicator, self.indicator_ref, "indicator", "indicatorRef")
        return self


class Slo(_Model):
    api_version: Literal["openslo/v1"] = Field(alias="apiVersion")
    kind: Literal["SLO"]
    metadata: Metadata
    spec: SloSpec


Document = Annotated[Slo | Sli | AlertPolicy | AlertConditionDoc, Field(discriminator="kind")]
DOCUMENTS: TypeAdapter[Document] = TypeAdapter(Document)


@dataclass(frozen=True)
class BurnRule:
    """Fires when the burn rate is at least ``threshold`` over every window (seconds, already scaled)."""

    name: str
    severity: Severity  # page -> critical, ticket -> warning
    threshold: float
    windows_s: tuple[float, ...]


@dataclass(frozen=True)
class CompiledSlo:
    name: str
    service: str
    objective: float
    bad: HealopsSeries | None  # bad events, or
    good: HealopsSeries | None  # good events
    total: HealopsSeries
    rules: tuple[BurnRule, ...]
    period_s: float = 30 * 86400.0  # the SLO's time window, scaled like the rules' windows

    @property
    def budget(self) -> float:
        return 1.0 - self.objective


def load_documents(paths: list[Path]) -> list[Document]:
    """Every OpenSLO document under ``paths`` (files, or folders of *.yaml / *.yml)."""
    files: list[Path] = []
    for p in paths:
        files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p])
    docs: list[Document] = []
    problems: list[Problem] = []
    for f in files:
        try:
            docs.extend(parse_yaml_documents(f.read_text(encoding="utf-8"), DOCUMENTS, str(f)))
        except DocumentError as exc:
            problems.extend(exc.problems)
        except OSError as exc:
            problems.append(Problem(str(f), None, "", f"cannot read: {exc.strerror}"))
    if problems:
        raise DocumentError(problems)
    return docs


def compile_slos(docs: list[Document], time_scale: float = 1.0, source: str = "<slos>") -> list[CompiledSlo]:
    """Resolve references and build burn-rate rules, windows divided by ``time_scale``."""
    if time_scale <= 0:
        raise ValueError("time_scale must be positive")
    slis = {d.metadata.name: d for d in docs if isinstance(d, Sli)}
    conditions = {d.metadata.name: d for d in docs if isinstance(d, AlertConditionDoc)}
    policies = {d.metadata.name: d for d in docs if isinstance(d, AlertPolicy)}
    problems: list[Problem] = []
    out: list[CompiledSlo] = []
    for slo in (d for d in docs if isinstance(d, Slo)):
        where = f"SLO {slo.metadata.name}"
        spec = slo.spec
        sli_spec = spec.indicator.spec if spec.indicator else None
        if sli_spec is None:
            ref = slis.get(spec.indicator_ref or "")
            if ref is None:
                problems.append(Problem(source, None, f"{where}: spec.indicatorRef",
                                        f"no SLI named {spec.indicator_ref!r}"))
                continue
            sli_spec = ref.spec
        groups: dict[tuple[Severity, float], list[float]] = {}
        for name in spec.alert_policies:
            policy = policies.get(name)
            if policy is None:
                problems.append(Problem(source, None, f"{where}: spec.alertPolicies", f"no AlertPolicy named {name!r}"))
                continue
            cond = policy.spec.conditions[0]
            if isinstance(cond, ConditionRef):
                found = conditions.get(cond.condition_ref)
                if found is None:
                    problems.append(Problem(source, None, f"AlertPolicy {name}: spec.conditions[0].conditionRef",
                                            f"no AlertCondition named {cond.condition_ref!r}"))
                    continue
                cond = found
            c = cond.spec.condition
            groups.setdefault((SEVERITIES[cond.spec.severity], c.threshold), []).append(
                duration_s(c.lookback_window) / time_scale)
        rules = tuple(BurnRule(f"{slo.metadata.name}/{sev}/{thr:g}x", sev, thr, tuple(sorted(ws, reverse=True)))
                      for (sev, thr), ws in sorted(groups.items(), key=lambda kv: -kv[0][1]))
        ratio = sli_spec.ratio_metric
        out.append(CompiledSlo(
            slo.metadata.name, spec.service, spec.objectives[0].ratio,
            ratio.bad.metric_source.spec if ratio.bad else None,
            ratio.good.metric_source.spec if ratio.good else None,
            ratio.total.metric_source.spec, rules, duration_s(spec.time_window[0].duration) / time_scale))
    if problems:
        raise DocumentError(problems)
    return out


def load_slos(paths: list[Path], time_scale: float = 1.0) -> list[CompiledSlo]:
    return compile_slos(load_documents(paths), time_scale, ", ".join(map(str, paths)))


DEFAULT_DIR = Path(__file__).parent / "slos"
