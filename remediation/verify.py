"""Did the change help? The runbook's verification conditions, evaluated on what detection knows
now; the engine asks until they hold together for ``holdSeconds`` or the deadline passes."""

from __future__ import annotations

from typing import Protocol

from healops.events import Incident
from remediation.changes import ServiceView
from runbooks.model import Verification


class HealthPort(Protocol):
    def burn_rates(self, service: str) -> list[float]:
        """The current (shortest-window) burn rate of each SLO of ``service``."""
        ...


def failing(v: Verification, incident: Incident | None, view: ServiceView, health: HealthPort) -> list[str]:
    """The conditions that do not hold now (empty: verified). ``incident`` None means resolved."""
    out: list[str] = []
    if v.signals_cleared and incident is not None:
        # the anomalies and replica health; burn-rate rules are budget accounting over long windows
        # (a 6x page remembers 3 min), and whether the SLO is met *now* is burnRateBelow's question
        firing = [s.key for s in incident.active.values()
                  if s.service == view.name and s.firing and s.source != "burn_rate"
                  and s.labels.get("opens", "true") == "true"]
        if firing:
            out.append(f"still firing: {', '.join(sorted(firing)[:3])}")
    if v.replicas_ready and (view.ready_replicas < view.desired_replicas or view.unhealthy):
        out.append(f"{view.ready_replicas} of {view.desired_replicas} replicas ready"
                   + (f", unhealthy: {', '.join(view.unhealthy)}" if view.unhealthy else ""))
    if v.burn_rate_below is not None:
        burns = health.burn_rates(view.name)
        worst = max(burns, default=0.0)
        if worst >= v.burn_rate_below:
            out.append(f"burn rate {worst:.1f}x, not below {v.burn_rate_below:g}x")
    return out
