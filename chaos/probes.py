"""Chaos Toolkit probes for healops: SLO, incident and remediation state from the control plane,
and the waits that let an experiment hand over to healops and score what it did.

``wait_for_detection`` and ``wait_for_recovery`` score the fault the same experiment injected, with
the fault harness's definitions (:mod:`chaos.scoring`); their output, kept in the Chaos Toolkit
journal, is what a game day's scorecard is made of.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import httpx

from chaos.cases import case_of, has_cases
from chaos.control import connect
from chaos.scoring import slo_met

Configuration = dict[str, Any] | None


def slos_met(service: str | None = None, configuration: Configuration = None) -> bool:
    """Every SLO of ``service`` (or of every service) burns below 1x now, every replica ready."""
    cp = connect(configuration)
    det = cp.detection()
    if service:
        return slo_met(det, service, cp.replicas(service))
    return all(slo_met(det, name, svc.get("replicas", [])) for name, svc in cp.services().items())


def active_incidents(service: str | None = None, configuration: Configuration = None) -> int:
    """Incidents not resolved (naming ``service`` among their services, when given)."""
    cp = connect(configuration)
    return sum(1 for i in cp.incidents()
               if i["state"] != "resolved" and (service is None or service in i.get("services", [])))


def quiet_before_fault(configuration: Configuration = None) -> bool:
    """Before this run injected anything: no incident is open (a fault injected into an open incident
    joins it, and could not be told apart). After the injection the open incident is the fault's
    own, so this holds: it gates the start, not the end."""
    if has_cases():
        return True
    return active_incidents(configuration=configuration) == 0


def remediation_state(configuration: Configuration = None) -> dict[str, Any]:
    """The engine's state (``GET /v1/remediation``): executor, dry run, kill switch, what it is
    doing; ``{"enabled": false}`` when the control plane runs with remediation off."""
    try:
        return {"enabled": True, **connect(configuration).remediation()}
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return {"enabled": False}
        raise


def healing_enabled(configuration: Configuration = None) -> bool:
    """Remediation runs (not off, not dry run) and the kill switch is not thrown."""
    state = remediation_state(configuration)
    return bool(state["enabled"] and not state.get("dry_run") and not state.get("kill_switch"))


def _score(service: str) -> dict[str, Any]:
    watch = case_of(service)
    out = asdict(watch.score)
    out["samples"] = [[s["at"], round(s["burn"], 3), s["ready"]] for s in out["samples"]]
    return out


def wait_for_detection(service: str, timeout_s: float = 30.0, rank_after_s: float = 5.0,
                       configuration: Configuration = None) -> dict[str, Any]:
    """Wait until healops opens an incident for the fault injected into ``service`` and ranks its
    root cause; the scored case (detected_s is None when nothing opened in ``timeout_s``)."""
    watch = case_of(service)
    watch.rank_after_s = rank_after_s
    watch.healing = False
    watch.run(timeout_s + rank_after_s + 1.0, detect_timeout_s=timeout_s)
    watch.finish()
    return _score(service)


def wait_for_recovery(service: str, timeout_s: float = 150.0, rank_after_s: float = 5.0,
                      configuration: Configuration = None) -> dict[str, Any]:
    """Wait until healops detects, remediates (a commit naming the incident) and the SLO holds
    again, or ``timeout_s`` from the fault's start; the scored case (recovered_s None if not)."""
    watch = case_of(service)
    watch.rank_after_s = rank_after_s
    watch.healing = True
    watch.run(timeout_s)
    time.sleep(2.0)  # a verification in flight settles before the journal is read
    watch.finish()
    return _score(service)


def wait_for_slos(service: str | None = None, timeout_s: float = 90.0, configuration: Configuration = None) -> bool:
    """Wait until :func:`slos_met` holds for 3 s; False after ``timeout_s``."""
    deadline = time.time() + timeout_s
    since: float | None = None
    while time.time() < deadline:
        if slos_met(service, configuration):
            since = since or time.time()
            if time.time() - since >= 3.0:
                return True
        else:
            since = None
        time.sleep(0.5)
    return False
