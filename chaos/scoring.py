"""How one injected fault is scored: the definitions the fault harness (``bench/faults.py``) and
game days share, so their figures mean the same thing.

- **time to detect**: fault start until an incident opens (or a resolved one reopens) after it;
- **root cause**: the incident's ranking ``rank_after_s`` after it opened, as on-call first sees it;
- **time to recover**: fault start until the faulted service's SLOs burn below 1x over their
  shortest window with every replica ready and the fault gone, held ``RECOVERY_HOLD_S``; it counts
  only after a remediation of that incident whose desired-state commit names the incident;
- **budget spent**: bad events during the case over the error budget of the SLO's (scaled) period.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from chaos.control import ControlPlane
from detectors.burn_rate import current_burn_rates
from workloads.catalog import SERVICES

RECOVERY_HOLD_S = 3.0


def last_opened(incident: dict[str, Any]) -> float:
    """When an incident opened, or last reopened (the same culprit flapping)."""
    return max(float(incident["opened_at"]), float(incident.get("reopened_at") or 0.0))


def first_incident_since(cp: ControlPlane, t0: float) -> dict[str, Any] | None:
    new = [{**i, "opened_at": last_opened(i)} for i in cp.incidents() if last_opened(i) >= t0 - 0.5]
    return min(new, key=lambda i: i["opened_at"]) if new else None


def settle(cp: ControlPlane, timeout_s: float, quiet_s: float = 30.0) -> bool:
    """Wait until, for ``quiet_s`` on end, every SLO is evaluated (a control plane that just started
    keeps a grace period), no incident is active and no page-level burn rule fires: the next fault
    must start from a quiet platform, or its signals would join the last one's incident (a
    long-window page rule can fire again a few seconds after an incident resolved)."""
    deadline = time.time() + timeout_s
    quiet_since: float | None = None
    while time.time() < deadline:
        slos = cp.detection()["slos"]
        paging = [r for slo in slos for r in slo["rules"] if r["firing"] and r["severity"] == "critical"]
        cold = any(not r["burn"] for slo in slos for r in slo["rules"])
        if cold or paging or any(i["state"] != "resolved" for i in cp.incidents()):
            quiet_since = None
        else:
            quiet_since = quiet_since or time.time()
            if time.time() - quiet_since >= quiet_s:
                return True
        time.sleep(1.0)
    return False


def slo_met(detection: dict[str, Any], service: str, replicas: list[dict[str, Any]]) -> bool:
    """The service's SLOs burn below 1x over their shortest window and every replica is ready
    (``detection`` and ``replicas`` as the control plane reported them)."""
    burns = current_burn_rates(detection["slos"]).get(service, [])
    ready = [r["state"] == "ready" for r in replicas]
    return bool(burns) and max(burns) < 1.0 and bool(ready) and all(ready)


def fault_gone(kind: str, service: str, faulted: set[str], replicas: list[dict[str, Any]]) -> bool:
    """No replica that carried the fault serves any more. A bad deploy: the stable version is back.
    A surge (saturation) lasts: capacity was added, so more replicas are ready than it began with."""
    if kind == "saturation":
        ready: int = sum(r["state"] == "ready" for r in replicas)
        return ready > len(faulted)
    if kind == "bad_deploy":
        stable = SERVICES[service].stable if service in SERVICES else None
        return bool(replicas) and all(bool(r["version"] == stable) for r in replicas)
    return not faulted & {r["instance"] for r in replicas}


def budget_counts(detection: dict[str, Any], service: str) -> dict[str, tuple[float, float]]:
    """Per SLO of ``service``: (bad events, all events) counted so far."""
    return {s["slo"]: (float(s.get("bad_events", 0.0)), float(s.get("total_events", 0.0)))
            for s in detection["slos"] if s["service"] == service}


def budget_spent(detection: dict[str, Any], service: str, before: dict[str, tuple[float, float]],
                 span_s: float) -> float:
    """The largest share of an SLO's error budget (over its period) the case burned."""
    worst = 0.0
    for s in detection["slos"]:
        if s["service"] != service or s["slo"] not in before:
            continue
        bad0, total0 = before[s["slo"]]
        bad, total = float(s.get("bad_events", 0.0)) - bad0, float(s.get("total_events", 0.0)) - total0
        if total <= 0 or span_s <= 0:
            continue
        allowed = (1.0 - float(s["objective"])) * (total / span_s) * float(s["period_s"])
        worst = max(worst, bad / allowed if allowed > 0 else 0.0)
    return worst


@dataclass
class Sample:
    at: float
    burn: float  # the target's worst SLO burn over the shortest window
    ready: int


@dataclass
class CaseScore:
    """One fault, scored; times are seconds from the fault's start."""

    kind: str
    service: str
    started_at: float
    incident_id: str | None = None
    detected_s: float | None = None
    ranking: list[str] = field(default_factory=list)
    top1: bool = False
    top3: bool = False
    recovered_s: float | None = None
    remediations: list[str] = field(default_factory=list)
    wrong_target: int = 0
    escalated: bool = False
    budget_spent: float = 0.0
    samples: list[Sample] = field(default_factory=list)


@dataclass
class CaseWatch:
    """Follow one fault from injection: detection, the ranking, recovery and the target's burn.

    ``poll`` is called every half second by whoever drives the case (the harness, or a game day
    while Chaos Toolkit runs the experiment); ``finish`` collects what the engine did."""

    cp: ControlPlane
    score: CaseScore
    faulted: set[str]
    rank_after_s: float = 5.0
    healing: bool = True
    _ok_since: float | None = None
    _ranked: bool = False
    _budget0: dict[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def begin(cls, cp: ControlPlane, kind: str, service: str, rank_after_s: float = 5.0,
              healing: bool = True) -> CaseWatch:
        """Call just before injecting: remembers which replicas carry the fault and the budget so far."""
        faulted = {r["instance"] for r in cp.replicas(service)}
        watch = cls(cp, CaseScore(kind, service, time.time()), faulted, rank_after_s, healing)
        watch._budget0 = budget_counts(cp.detection(), service)
        return watch

    @property
    def done(self) -> bool:
        s = self.score
        return s.recovered_s is not None or (not self.healing and self._ranked)

    def poll(self) -> None:
        s = self.score
        now = time.time()
        det = self.cp.detection()
        burns = current_burn_rates(det["slos"]).get(s.service, [0.0])
        replicas = self.cp.replicas(s.service)  # one status read per poll serves the sample and recovery
        ready = sum(r["state"] == "ready" for r in replicas)
        s.samples.append(Sample(round(now - s.started_at, 2), max(burns), ready))
        if s.incident_id is None:
            found = first_incident_since(self.cp, s.started_at)
            if found is not None:
                s.incident_id = found["id"]
                s.detected_s = round(found["opened_at"] - s.started_at, 2)
        elif not self._ranked and now >= s.started_at + (s.detected_s or 0.0) + self.rank_after_s:
            inc = next((i for i in self.cp.incidents() if i["id"] == s.incident_id), None)
            if inc is not None:
                s.ranking = [r["service"] for r in inc["ranking"]]
                s.top1 = s.ranking[:1] == [s.service]
                s.top3 = s.service in s.ranking[:3]
            self._ranked = True
        if self.healing and s.incident_id is not None and s.recovered_s is None:
            self._check_recovery(det, replicas, now)

    def _check_recovery(self, det: dict[str, Any], replicas: list[dict[str, Any]], now: float) -> None:
        s = self.score
        mine = [a for a in self.cp.actions_since(s.started_at) if a["incident_id"] == s.incident_id]
        healed = (bool(mine) and self.cp.commit_names(str(s.incident_id))
                  and fault_gone(s.kind, s.service, self.faulted, replicas) and slo_met(det, s.service, replicas))
        if not healed:
            self._ok_since = None
            return
        self._ok_since = self._ok_since or now
        if now - self._ok_since >= RECOVERY_HOLD_S:
            s.recovered_s = round(self._ok_since - s.started_at, 2)

    def run(self, timeout_s: float, detect_timeout_s: float | None = None, interval_s: float = 0.5) -> CaseScore:
        """Poll until recovered (or, healing off, ranked), ``timeout_s`` from the fault's start, or
        ``detect_timeout_s`` with no incident."""
        while not self.done:
            elapsed = time.time() - self.score.started_at
            if elapsed >= timeout_s or (detect_timeout_s is not None and self.score.incident_id is None
                                        and elapsed >= detect_timeout_s):
                break
            self.poll()
            time.sleep(interval_s)
        return self.score

    def finish(self) -> CaseScore:
        s = self.score
        for a in self.cp.actions_since(s.started_at):
            s.remediations.append(f"{a['service']}: {a['summary']}")
            s.wrong_target += a["service"] != s.service
        s.escalated = any(d["kind"] == "escalated" for d in self.cp.journal() if d["at"] >= s.started_at)
        s.budget_spent = round(budget_spent(self.cp.detection(), s.service, self._budget0,
                                            time.time() - s.started_at), 4)
        return s
