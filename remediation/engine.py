"""The remediation engine: match runbooks to incidents, act one step at a time, verify, revert
what did not help, escalate what is left.

State lives in the journal, not in memory: each :meth:`tick` reads the remediations in progress,
moves each one step (approve -> execute -> verify -> next or escalate) and writes it back, so a
restart (even SIGKILL) resumes where the journal says. An action's intent is journaled before the
executor is called; :meth:`recover` settles intents the crash left open by asking the executor.

``tick`` blocks (git, SQLite): the control plane runs it in a worker thread.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from healops.errors import HealopsError
from healops.events import Incident
from remediation.actions import ActionContext, ActionRefused
from remediation.changes import Applied, Executor, Intent
from remediation.journal import ActionRecord, Journal, Remediation
from remediation.journaled import run_journaled
from remediation.matching import target, unmet
from remediation.safety import (
    KILL_SWITCH,
    SafetyPolicy,
    cooling_down,
    kill_switch_on,
    looping,
    rate_limited,
)
from remediation.verify import HealthPort, failing
from runbooks.loader import LoadedRunbook
from runbooks.model import TARGET, Runbook

log = logging.getLogger("healops.remediation")
APPROVAL = "approval:"  # settings key prefix: approval:<remediation id> -> approved|rejected:<who>


class IncidentPort(Protocol):
    """What the engine may do to incidents: read the active ones and write to their timelines."""

    def active(self) -> list[Incident]: ...

    def note(self, incident_id: str, kind: str, detail: dict[str, Any]) -> None: ...

    def mitigating(self, incident_id: str, why: str) -> None: ...

    def escalate(self, incident_id: str, why: str) -> None: ...


def _new_id(prefix: str) -> str:
    return time.strftime(f"{prefix}-%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(3)


@dataclass
class RemediationEngine:
    runbooks: list[LoadedRunbook]
    executor: Executor
    journal: Journal
    incidents: IncidentPort
    health: HealthPort
    policy: SafetyPolicy = field(default_factory=SafetyPolicy)
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._by_name = {lr.runbook.name: lr.runbook for lr in self.runbooks}
        self._said: set[tuple[str, str, str]] = set()  # (incident, runbook, reason) already journaled
        self._waiting: dict[str, list[str]] = {}  # remediation id -> verification conditions not yet met

    # -- crash recovery -----------------------------------------------------------------------------
    def recover(self) -> None:
        """Settle what a crash left open: each intended action was applied once or not at all."""
        for what in self.executor.recover():
            self.journal.decide("", "", "", "recovered", what)
        active = {r.id: r for r in self.journal.remediations(active_only=True)}
        for rec in self.journal.actions(state="intended", limit=1000):
            applied = self.executor.find(rec.action_id)
            rem = active.get(rec.remediation_id)
            if applied is not None:
                self.journal.settle(rec.action_id, "applied", applied.summary, applied.ref, applied.revertible,
                                    applied.before)
                self.journal.decide(rec.incident_id, rec.runbook, rec.service, "recovered",
                                    f"applied before the crash: {applied.summary}", ref=applied.ref)
                rb = self._by_name.get(rec.runbook)
                if rem is not None and rec.reverts is None and rb is not None:  # verify it from now
                    rem.state, rem.action_id, rem.ok_since = "verifying", rec.action_id, None
                    rem.deadline = self.clock() + rb.spec.verify.within_s
                    self.journal.save_remediation(rem)
                continue
            self.journal.settle(rec.action_id, "aborted", rec.summary)
            self.journal.decide(rec.incident_id, rec.runbook, rec.service, "recovered",
                                "not applied before the crash; the step runs again", action=rec.action_id)
            if rem is not None and rec.reverts is None:
                rem.state, rem.action_id, rem.deadline = "pending", None, None
                self.journal.save_remediation(rem)
        self._rearm_verification()

    def _rearm_verification(self) -> None:
        """A step that was being verified when the engine died gets its whole verification window
        again from now: nobody watched while it was down, and a deadline that ran out unobserved
        would move on to the next step (restarting a service that had already recovered)."""
        now = self.clock()
        for rem in self.journal.remediations(active_only=True):
            rb = self._by_name.get(rem.runbook)
            if rem.state != "verifying" or rb is None or (rem.deadline or 0.0) >= now + rb.spec.verify.within_s:
                continue
            rem.deadline, rem.ok_since = now + rb.spec.verify.within_s, None
            self.journal.save_remediation(rem)
            self.journal.decide(rem.incident_id, rem.runbook, rem.service, "recovered",
                                f"verification of step {rem.step + 1} restarted after the control plane restarted")

    # -- the loop -----------------------------------------------------------------------------------
    def tick(self) -> None:
        now = self.clock()
        active = {inc.id: inc for inc in self.incidents.active()}
        busy: set[str] = set()
        for rem in self.journal.remediations(active_only=True):
            busy.add(rem.incident_id)
            rb = self._by_name.get(rem.runbook)
            if rb is None:
                self._finish(rem, "stopped", f"runbook {rem.runbook} is no longer loaded")
                continue
            try:
                self._advance(rem, rb, active.get(rem.incident_id), now)
            except HealopsError as exc:
                self._escalate(rem, f"remediation failed: {exc}")
        for inc in active.values():
            if inc.id not in busy and now - (inc.reopened_at or inc.opened_at) >= self.policy.act_after_s:
                self._consider(inc, now)

    def _advance(self, rem: Remediation, rb: Runbook, inc: Incident | None, now: float) -> None:
        if rem.state == "awaiting_approval":
            decision = self.journal.setting(APPROVAL + rem.id)
            if decision is None:
                return
            if decision.startswith("rejected"):
                self._finish(rem, "rejected", f"step {rb.spec.steps[rem.step].name} {decision}")
                return
            self.journal.decide(rem.incident_id, rem.runbook, rem.service, "approved", decision)
            self._execute(rem, rb, now, approved=True)
        elif rem.state == "pending":
            self._execute(rem, rb, now, approved=True)
        elif rem.state == "verifying":
            self._verify(rem, rb, inc, now)

    def _consider(self, inc: Incident, now: float) -> None:
        """Find the first runbook that answers ``inc`` and may act now, and start it."""
        earlier: dict[str, Remediation] = {}
        for r in self.journal.remediations(incident_id=inc.id, limit=1000):  # newest first: each runbook's latest
            earlier.setdefault(r.runbook, r)
        for lr in self.runbooks:
            rb = lr.runbook
            service = target(rb, inc, now)
            if service is None:
                continue
            prior = earlier.get(rb.name)
            if prior is not None and not (inc.reopened_at and inc.reopened_at > prior.updated_at):
                continue  # this runbook already had its go at this incident (and it did not reopen since)
            if prior is not None and prior.state in ("escalated", "rejected", "stopped"):
                continue  # a person owns it now
            why = (unmet(rb.spec.preconditions, self.executor.view(service), now)
                   or cooling_down(self.journal, rb.name, service, rb.spec.cooldown_s, now, rb.spec.backoff_s)
                   or rate_limited(self.policy, self.journal, service, now))
            if why is not None:
                self._skip(inc.id, rb.name, service, why)
                continue
            rem = Remediation(_new_id("rem"), inc.id, rb.name, service, 0, "pending", now, now)
            loop = looping(self.policy, self.journal, rb.name, service, now)
            self.journal.save_remediation(rem)
            self.journal.decide(inc.id, rb.name, service, "matched", f"{rb.name} answers {inc.id} on {service}",
                                file=lr.file)
            if loop is not None:
                self._escalate(rem, loop)
                return
            self._execute(rem, rb, now, approved=False)
            return

    def _skip(self, incident_id: str, runbook: str, service: str, why: str) -> None:
        key = (incident_id, runbook, why.split(" ")[0] + why[-20:])
        if key not in self._said:
            self._said.add(key)
            self.journal.decide(incident_id, runbook, service, "skipped", why)

    # -- one step -----------------------------------------------------------------------------------
    def _execute(self, rem: Remediation, rb: Runbook, now: float, approved: bool) -> None:
        step = rb.spec.steps[rem.step]
        if rb.spec.approval and not approved:
            rem.state = "awaiting_approval"
            self.journal.save_remediation(rem)
            self.journal.decide(rem.incident_id, rb.name, rem.service, "pending_approval",
                                f"step {step.name} ({step.action}) waits for approval", remediation=rem.id)
            self.incidents.note(rem.incident_id, "remediation", {"state": "awaiting_approval", "runbook": rb.name,
                                                                 "step": step.name, "remediation": rem.id})
            return
        blocked = rate_limited(self.policy, self.journal, rem.service, now)
        if blocked is not None:
            rem.state = "pending"  # retried every tick until the limit clears (or the incident ends)
            self.journal.save_remediation(rem)
            self._skip(rem.incident_id, rb.name, rem.service, blocked)
            return
        args = {k: (rem.service if v == TARGET else v) for k, v in step.args.items()}
        intent = Intent(_new_id("act"), rem.incident_id, rb.name, step.name,
                        f"Runbook {rb.name}, step {step.name}, for incident {rem.incident_id} on {rem.service}.")
        record = ActionRecord(intent.action_id, rem.id, rem.incident_id, rb.name, step.name, step.action, args,
                              rem.service, "intended", self.policy.dry_run, now)
        try:
            applied = run_journaled(self.journal, record, ActionContext(self.executor, intent, self.policy.limits),
                                    args, self.policy.dry_run)
        except ActionRefused as exc:
            self.journal.decide(rem.incident_id, rb.name, rem.service, "refused", str(exc), step=step.name)
            self._after_failure(rem, rb, None, str(exc))
            return
        self.journal.decide(rem.incident_id, rb.name, rem.service, "executed", applied.summary, step=step.name,
                            ref=applied.ref, dry_run=applied.dry_run)
        self.incidents.note(rem.incident_id, "remediation", {"state": "executed", "runbook": rb.name, "step": step.name,
                                                             "summary": applied.summary, "commit": applied.ref,
                                                             "dry_run": applied.dry_run})
        if applied.dry_run:
            self._finish(rem, "stopped", "dry run: nothing was changed, so there is nothing to verify")
            return
        self.incidents.mitigating(rem.incident_id, applied.summary)
        rem.state, rem.action_id, rem.ok_since = "verifying", intent.action_id, None
        rem.deadline = now + rb.spec.verify.within_s
        self.journal.save_remediation(rem)

    def _verify(self, rem: Remediation, rb: Runbook, inc: Incident | None, now: float) -> None:
        problems = failing(rb.spec.verify, inc, self.executor.view(rem.service), self.health)
        self._waiting[rem.id] = problems  # shown with the active remediations: why it is still verifying
        if not problems:
            rem.ok_since = rem.ok_since or now
            if now - rem.ok_since >= rb.spec.verify.hold_s:
                self._finish(rem, "verified", "every verification condition holds"
                             + ("" if inc is not None else " (incident resolved)"))
            else:
                self.journal.save_remediation(rem)
            return
        if rem.ok_since is not None:
            rem.ok_since = None
            self.journal.save_remediation(rem)
        if rem.deadline is not None and now > rem.deadline:
            self._after_failure(rem, rb, self.journal.action(rem.action_id) if rem.action_id else None,
                                f"not verified within {rb.spec.verify.within_s:g}s: {'; '.join(problems)}")

    def _after_failure(self, rem: Remediation, rb: Runbook, done: ActionRecord | None, why: str) -> None:
        step = rb.spec.steps[rem.step]
        self.journal.decide(rem.incident_id, rb.name, rem.service, "failed", why, step=step.name)
        if done is not None and done.ref:
            self.executor.record(done.ref, f"failed: {why}")
        if kill_switch_on(self.journal):
            self._escalate(rem, f"{why}; the kill switch is on, so nothing is reverted or tried next")
            return
        if ("revert" in step.on_failure and done is not None and done.revertible and done.ref and not done.dry_run
                and not self.journal.reverted(done.action_id)):
            self._revert(rem, done)
        if "next" in step.on_failure and rem.step + 1 < len(rb.spec.steps):
            rem.step += 1
            rem.state, rem.action_id, rem.deadline, rem.ok_since = "pending", None, None, None
            self.journal.save_remediation(rem)
            self._execute(rem, rb, self.clock(), approved=False)
            return
        self._escalate(rem, why)

    def _revert(self, rem: Remediation, done: ActionRecord) -> None:
        intent = Intent(_new_id("act"), rem.incident_id, rem.runbook, f"revert-{done.step}",
                        f"Verification failed for incident {rem.incident_id}: undo {done.summary!r}.")
        self.journal.intend(ActionRecord(intent.action_id, rem.id, rem.incident_id, rem.runbook, intent.step, "revert",
                                         {"action_id": done.action_id}, rem.service, "intended", False, self.clock(),
                                         reverts=done.action_id))
        applied = self.executor.revert(
            intent, Applied(done.action_id, done.summary, done.ref, done.revertible, before=done.before), False)
        self.journal.settle(intent.action_id, "applied", applied.summary, applied.ref, False)
        self.journal.decide(rem.incident_id, rem.runbook, rem.service, "reverted", applied.summary, ref=applied.ref)
        self.incidents.note(rem.incident_id, "remediation", {"state": "reverted", "summary": applied.summary,
                                                             "commit": applied.ref})

    def _escalate(self, rem: Remediation, why: str) -> None:
        self._finish(rem, "escalated", why)
        self.incidents.escalate(rem.incident_id, f"{rem.runbook} on {rem.service}: {why}")

    def _finish(self, rem: Remediation, state: str, why: str) -> None:
        rem.state = state  # type: ignore[assignment]
        self.journal.save_remediation(rem)
        self._waiting.pop(rem.id, None)
        done = self.journal.action(rem.action_id) if rem.action_id else None
        if done is not None and done.ref and state in ("verified", "escalated"):
            self.executor.record(done.ref, f"{state}: {why}")
        self.journal.decide(rem.incident_id, rem.runbook, rem.service, state, why, remediation=rem.id)
        if state != "escalated":
            self.incidents.note(rem.incident_id, "remediation", {"state": state, "runbook": rem.runbook, "why": why})

    # -- people -------------------------------------------------------------------------------------
    def decide_approval(self, remediation_id: str, approve: bool, who: str) -> Remediation:
        rem = next((r for r in self.journal.remediations(active_only=True) if r.id == remediation_id), None)
        if rem is None or rem.state != "awaiting_approval":
            raise KeyError(f"no remediation {remediation_id} waiting for approval")
        self.journal.set_setting(APPROVAL + remediation_id, f"{'approved' if approve else 'rejected'} by {who}")
        return rem

    def approval(self, remediation_id: str) -> str | None:
        """The decision recorded for a gated remediation ("approved by alice"), if any yet."""
        return self.journal.setting(APPROVAL + remediation_id)

    def set_kill_switch(self, on: bool, who: str) -> None:
        self.journal.set_setting(KILL_SWITCH, "on" if on else "off")
        self.journal.decide("", "", "", "kill_switch", f"{'on' if on else 'off'} by {who}")

    def status(self) -> dict[str, Any]:
        return {"executor": self.executor.name, "dry_run": self.policy.dry_run,
                "kill_switch": kill_switch_on(self.journal), "runbooks": [lr.runbook.name for lr in self.runbooks],
                "active": [{**r.to_json(), "waiting_for": self._waiting.get(r.id, []) if r.state == "verifying"
                            else []} for r in self.journal.remediations(active_only=True)]}
