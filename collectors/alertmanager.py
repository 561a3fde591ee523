"""Alertmanager webhook intake (payload version 4): alerts become incident evidence.

Alertmanager re-sends a group on every ``group_interval`` and ``repeat_interval``, so alerts are
deduplicated by ``fingerprint``: only a change of state (firing <-> resolved) is new evidence. An
alert's ``endsAt`` of ``0001-01-01T00:00:00Z`` means it is still open. The service an alert is
about comes from its ``service`` label (or ``job``, ``app``, ``namespace``, in that order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healops.errors import DocumentError, Problem
from healops.events import Severity, Signal

SERVICE_LABELS = ("service", "job", "app", "namespace")
_SEVERITY: dict[str, Severity] = {"critical": "critical", "page": "critical", "error": "critical",
                                  "warning": "warning", "ticket": "warning", "info": "info", "none": "info"}


class AmAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = Field(min_length=1)


class AmWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    version: Literal["4"]
    group_key: str = Field(alias="groupKey")
    status: Literal["firing", "resolved"]
    receiver: str
    alerts: list[AmAlert] = Field(max_length=10_000)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")


def parse_webhook(body: bytes, source: str = "alertmanager webhook") -> AmWebhook:
    """Validate a webhook body; a :class:`DocumentError` names each bad field."""
    try:
        return AmWebhook.model_validate_json(body)
    except ValidationError as exc:
        raise DocumentError([Problem(source, None, ".".join(str(p) for p in e["loc"]) or "<body>", e["msg"])
                             for e in exc.errors()]) from exc


def to_signal(alert: AmAlert, at: float) -> Signal:
    labels = alert.labels
    service = next((labels[k] for k in SERVICE_LABELS if labels.get(k)), "unknown")
    name = labels.get("alertname", "alert")
    summary = alert.annotations.get("summary") or alert.annotations.get("description") or name
    return Signal(key=f"alertmanager:{alert.fingerprint}", source="alertmanager", service=service, at=at,
                  firing=alert.status == "firing",
                  severity=_SEVERITY.get(labels.get("severity", "").lower(), "warning"),
                  metric=name, summary=f"Alertmanager: {name}: {summary}",
                  labels={**labels, "kind": "alert", "opens": "true", "fingerprint": alert.fingerprint})


@dataclass
class AlertmanagerIntake:
    """Turns webhooks into signals, once per state change of each fingerprint."""

    states: dict[str, str] = field(default_factory=dict)
    received: int = 0
    duplicates: int = 0

    def accept(self, hook: AmWebhook, at: float) -> list[Signal]:
        out = []
        for alert in hook.alerts:
            self.received += 1
            if self.states.get(alert.fingerprint) == alert.status:
                self.duplicates += 1
                continue
            if alert.status == "resolved" and alert.fingerprint not in self.states:
                self.duplicates += 1  # never seen firing: nothing to clear
                continue
            self.states[alert.fingerprint] = alert.status
            out.append(to_signal(alert, at))
        if len(self.states) > 100_000:  # bounded: forget resolved fingerprints first
            for fp in [fp for fp, st in self.states.items() if st == "resolved"]:
                del self.states[fp]
        return out
