"""The rails every change passes: kill switch, rate limits, cooldown and loop detection, checked
against the journal (so they hold across restarts). Blast radius and replica bounds are checked by
the actions themselves, where the numbers are known."""

from __future__ import annotations

from dataclasses import dataclass, field

from remediation.actions import Limits
from remediation.journal import Journal

KILL_SWITCH = "kill_switch"


@dataclass(frozen=True)
class SafetyPolicy:
    dry_run: bool = False  # plan and journal everything, change nothing
    # an incident's first ranking is made on a second or two of data, and a symptom (the gateway's
    # errors) can lead it; re-ranked every tick, it settles within seconds: act on the settled one
    act_after_s: float = 4.0
    per_service_limit: int = 3  # changes to one service ...
    per_service_window_s: float = 600.0  # ... within this long
    global_limit: int = 10
    global_window_s: float = 600.0
    loop_limit: int = 3  # remediations of one runbook on one service within loop_window_s: a loop
    loop_window_s: float = 1800.0
    limits: Limits = field(default_factory=Limits)


def kill_switch_on(journal: Journal) -> bool:
    return journal.setting(KILL_SWITCH) == "on"


def rate_limited(policy: SafetyPolicy, journal: Journal, service: str, now: float) -> str | None:
    """Why a new change to ``service`` must wait, or None."""
    if kill_switch_on(journal):
        return "the kill switch is on"
    n = journal.applied_since(now - policy.per_service_window_s, service)
    if n >= policy.per_service_limit:
        return (f"{service} already had {n} changes in {policy.per_service_window_s:g}s "
                f"(limit {policy.per_service_limit})")
    n = journal.applied_since(now - policy.global_window_s)
    if n >= policy.global_limit:
        return f"{n} changes platform-wide in {policy.global_window_s:g}s (limit {policy.global_limit})"
    return None


def cooling_down(journal: Journal, runbook: str, service: str, cooldown_s: float, now: float,
                 backoff_s: float | None = None) -> str | None:
    """Why ``runbook`` must leave ``service`` alone for now, or None.

    Flat: ``cooldown_s`` after its last change. With ``backoff_s`` (for changes that replace broken
    parts, where a second, unrelated fault minutes later must still be healed): ``backoff_s`` after one
    change within ``cooldown_s``, doubling with each further remediation that changed something (an
    attempt held or denied does not count), capped at ``cooldown_s``; the loop detector still stops
    a fault that keeps coming back."""
    last = journal.last_applied(service, runbook)
    if last is None:
        return None
    wait = cooldown_s
    if backoff_s is not None:
        recent = journal.changed_by_since(runbook, service, now - cooldown_s)
        wait = min(cooldown_s, backoff_s * 2 ** max(0, recent - 1))
    if now - last < wait:
        return f"{runbook} changed {service} {now - last:.0f}s ago (cooldown {wait:g}s)"
    return None


def looping(policy: SafetyPolicy, journal: Journal, runbook: str, service: str, now: float) -> str | None:
    n = journal.started_since(runbook, service, now - policy.loop_window_s)
    if n >= policy.loop_limit:
        return (f"{runbook} already ran {n} times on {service} in {policy.loop_window_s:g}s: "
                "a remediation loop, stopped for a person to look at")
    return None
