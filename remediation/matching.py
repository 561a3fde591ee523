"""Which runbook answers an incident, and on which service: pure functions of the incident, the
runbook and the executor's view, so every rule is tested without a platform."""

from __future__ import annotations

from fnmatch import fnmatchcase

from healops.events import Incident, Signal
from remediation.changes import ServiceView
from runbooks.model import Preconditions, Runbook, Trigger


def signal_fits(trigger: Trigger, signal: Signal) -> bool:
    return ((not trigger.sources or signal.source in trigger.sources)
            and (not trigger.kinds or signal.labels.get("kind", "") in trigger.kinds)
            and (not trigger.metrics or any(fnmatchcase(signal.metric, m) for m in trigger.metrics)))


def target(runbook: Runbook, incident: Incident, now: float) -> str | None:
    """The first service ranked within ``rootCauseRank`` that the trigger names and that has a
    signal fitting it, firing for at least ``forSeconds``; None when the runbook does not answer
    this incident (yet)."""
    trigger = runbook.spec.trigger
    if not runbook.severity_ok(incident.severity):
        return None
    for ranked in incident.ranking[: trigger.root_cause_rank]:
        service = ranked.service
        if not any(fnmatchcase(service, pattern) for pattern in trigger.services):
            continue
        if any(s.service == service and s.firing and s.at <= now - trigger.for_s and signal_fits(trigger, s)
               for s in incident.active.values()):
            return service
    return None


def unmet(pre: Preconditions, view: ServiceView, now: float) -> str | None:
    """Why the preconditions do not hold for the target now, or None when they do."""
    if pre.deployed_within_s is not None:
        changed = view.version_changed_at
        if view.previous_version is None or changed is None or now - changed > pre.deployed_within_s:
            return f"{view.name} has not had a new version in the last {pre.deployed_within_s:g}s"
    if pre.min_ready_replicas is not None and view.ready_replicas < pre.min_ready_replicas:
        return f"{view.name} has {view.ready_replicas} ready replicas, fewer than {pre.min_ready_replicas}"
    if pre.max_ready_replicas is not None and view.ready_replicas > pre.max_ready_replicas:
        return f"{view.name} has {view.ready_replicas} ready replicas, more than {pre.max_ready_replicas}"
    return None
